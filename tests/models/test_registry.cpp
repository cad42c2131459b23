// Model configuration (key = value), checkpoint attributes, and the model registry: rebuilding
// any registered model from a file alone and naming wrong models and configs.
#include <catch2/catch.hpp>

#include <string>

#include "datasets/ds_test_util.h"
#include "models/nn/checkpoint.h"
#include "models/tiny_models.h"
#include "models/train/classifier_trainer.h"
#include "models/zoo/pointnet.h"
#include "models/zoo/registry.h"
#include "test_util.h"

using namespace pg;

TEST_CASE("ModelConfig: typed values, round trips, differences, errors", "[registry]") {
  nn::ModelConfig c("pcae");
  c.set("variant", "big").set_int("points", 2048).set_double("dropout", 0.3).set_bool("bn", true);
  CHECK(c.get("variant") == "big");
  CHECK(c.get_int("points") == 2048);
  CHECK(c.get_double("dropout") == 0.3);
  CHECK(c.get("dropout") == "0.3");  // shortest round-trip form
  CHECK(c.get_bool("bn"));
  CHECK(nn::ModelConfig("x").set_double("eps", 1e-5).get("eps") == "1e-05");
  CHECK(c.describe() == "pcae (bn=true, dropout=0.3, points=2048, variant=big)");
  CHECK_THROWS_WITH(c.get("width"), Catch::Contains("'pcae': no value for 'width' (keys: bn, dropout, points, variant)"));
  CHECK_THROWS_WITH(c.get_int("variant"), Catch::Contains("'variant' = 'big' is not an integer"));
  CHECK_THROWS_WITH(c.get_double("variant"), Catch::Contains("is not a number"));
  CHECK_THROWS_WITH(c.get_bool("points"), Catch::Contains("is not a boolean"));
  CHECK_THROWS_AS(c.set("bad key", "1"), pg::Error);
  CHECK_THROWS_AS(c.set("k=v", "1"), pg::Error);
  CHECK(c.get_or("width", "64") == "64");

  const auto attrs = c.to_attributes();
  CHECK(attrs.at("model") == "pcae");
  CHECK(attrs.at("model.points") == "2048");
  auto back = nn::ModelConfig::from_attributes(attrs);
  REQUIRE(back);
  CHECK(back->describe() == c.describe());
  CHECK_FALSE(nn::ModelConfig::from_attributes({{"train.seed", "1"}}));

  auto legacy = nn::ModelConfig::from_legacy_string("model=pointnet variant=full dropout=0.29999999999999999 seed=3");
  REQUIRE(legacy);
  CHECK(legacy->name() == "pointnet");
  CHECK(legacy->get("variant") == "full");
  CHECK_FALSE(nn::ModelConfig::from_legacy_string("variant=full"));

  // Differences: per key of the expected config; numbers compare by value.
  nn::ModelConfig want("pointnet");
  want.set("variant", "vanilla").set_double("dropout", 0.3).set_int("num_classes", 40);
  const auto diff = legacy->differences_from(want);
  REQUIRE(diff.size() == 2);
  CHECK(diff[0] == "num_classes missing (expected 40)");
  CHECK(diff[1] == "variant=full (expected vanilla)");
}

TEST_CASE("checkpoint attributes are stored and read back", "[registry][checkpoint]") {
  test::TempDir dir("pg_registry_attr");
  nn::Linear lin(2, 3);
  nn::CheckpointMeta meta;
  meta.config = "free text";
  meta.attributes = {{"model", "linear"}, {"model.width", "3"}, {"note", ""}, {"path", "/a b/c.h5"}};
  nn::save_checkpoint(dir.file("a.h5"), lin, nullptr, meta);
  const nn::CheckpointData d = nn::read_checkpoint(dir.file("a.h5"));
  CHECK(d.meta.config == "free text");
  CHECK(d.meta.attributes == meta.attributes);
  meta.attributes[""] = "x";
  CHECK_THROWS_AS(nn::save_checkpoint(dir.file("b.h5"), lin, nullptr, meta), pg::Error);
}

TEST_CASE("registry: PointNet is rebuilt from its checkpoint alone; wrong models are named", "[registry][pointnet]") {
  test::register_tiny_models();
  test::TempDir dir("pg_registry");
  CHECK(models::is_registered("pointnet"));
  CHECK(models::registered_models().count("pointnet") == 1);
  for (models::PointNetVariant v : {models::PointNetVariant::vanilla, models::PointNetVariant::full}) {
    Generator g(4);
    models::PointNetConfig cfg;
    cfg.variant = v;
    cfg.num_classes = 5;
    cfg.dropout = 0.4;
    cfg.init = nn::LinearInit::pytorch;
    cfg.gen = &g;
    models::PointNet net(cfg);
    net.eval();
    const std::string path = dir.file(std::string("pn_") + models::pointnet_variant_name(v) + ".h5");
    nn::CheckpointMeta meta;
    meta.attributes = models::checkpoint_attributes(net);
    nn::save_checkpoint(path, net, nullptr, meta);
    std::shared_ptr<nn::Model> any = models::load_model(path);
    auto pn = std::dynamic_pointer_cast<models::PointNet>(any);
    REQUIRE(pn != nullptr);
    CHECK(pn->config().variant == v);
    CHECK(pn->config().num_classes == 5);
    CHECK(pn->config().dropout == 0.4);
    CHECK(pn->config().init == nn::LinearInit::pytorch);
    CHECK_FALSE(pn->is_training());
    const Tensor x = test::uniform({3, 50, 3}, -1, 1, 5);
    test::require_close(pn->forward(x).logits, net.forward(x).logits, 0.0);
    CHECK(train::load_pointnet_checkpoint(path, Device::cpu())->config().variant == v);
  }
  // A checkpoint of another model, loaded as a PointNet, names both.
  test::TinyNet tiny(8, 0.1);
  nn::CheckpointMeta tm;
  tm.attributes = models::checkpoint_attributes(tiny);
  nn::save_checkpoint(dir.file("tiny.h5"), tiny, nullptr, tm);
  CHECK_THROWS_WITH(train::load_pointnet_checkpoint(dir.file("tiny.h5"), Device::cpu()),
                    Catch::Contains("holds model 'test_tiny' (dropout=0.1, hidden=8), expected 'pointnet'"));
  // ... while load_model builds it as what it is.
  CHECK(std::dynamic_pointer_cast<test::TinyNet>(models::load_model(dir.file("tiny.h5"))) != nullptr);
  // Config mismatches name every differing key.
  models::PointNetConfig full;
  full.variant = models::PointNetVariant::full;
  CHECK_THROWS_WITH(models::check_model_config("run/last.h5", models::pointnet_model_config(full),
                                               models::pointnet_model_config(models::PointNetConfig{})),
                    Catch::Contains("checkpoint 'run/last.h5' holds model 'pointnet' with variant=full (expected vanilla)"));
  // A legacy checkpoint (config string only) still loads.
  {
    Generator g(6);
    models::PointNetConfig cfg;
    cfg.num_classes = 3;
    cfg.gen = &g;
    models::PointNet net(cfg);
    nn::CheckpointMeta meta;
    meta.config = models::pointnet_config_string(cfg) + " data=/x epochs=3";
    nn::save_checkpoint(dir.file("legacy.h5"), net, nullptr, meta);
    CHECK(train::load_pointnet_checkpoint(dir.file("legacy.h5"), Device::cpu())->config().num_classes == 3);
  }
  // Files without any model config, unknown models, duplicate registrations.
  nn::Linear lin(2, 2);
  nn::save_checkpoint(dir.file("plain.h5"), lin);
  CHECK_THROWS_WITH(models::load_model(dir.file("plain.h5")), Catch::Contains("holds no model configuration"));
  nn::CheckpointMeta unknown;
  unknown.attributes = {{"model", "pointnet++"}};
  nn::save_checkpoint(dir.file("unknown.h5"), lin, nullptr, unknown);
  CHECK_THROWS_WITH(models::load_model(dir.file("unknown.h5")),
                    Catch::Contains("no model named 'pointnet++'") && Catch::Contains("pointnet, ") &&
                        Catch::Contains("test_sampler"));  // the registered names, listed
  CHECK_THROWS_WITH(models::register_model("pointnet", models::pointnet_factory()), Catch::Contains("already registered"));
  CHECK_THROWS_AS(models::checkpoint_attributes(lin), pg::Error);
  // A config whose state does not fit the file (a hand-edited num_classes) is reported, not loaded.
  {
    Generator g(7);
    models::PointNetConfig cfg;
    cfg.num_classes = 4;
    cfg.gen = &g;
    models::PointNet net(cfg);
    nn::CheckpointMeta meta;
    meta.attributes = models::checkpoint_attributes(net);
    meta.attributes["model.num_classes"] = "6";
    nn::save_checkpoint(dir.file("edited.h5"), net, nullptr, meta);
    CHECK_THROWS_WITH(models::load_model(dir.file("edited.h5")),
                      Catch::Contains("does not match the pointnet") && Catch::Contains("fc3.weight"));
  }
}
