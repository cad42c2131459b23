// pg eval model: any registered model rebuilt from a checkpoint written by pg train.
#include <catch2/catch.hpp>

#include <string>

#include "cli_test_util.h"
#include "datasets/ds_test_util.h"

using namespace pg;

TEST_CASE("pg eval model: describes a checkpoint from its stored configuration", "[cli][registry][slow]") {
  test::TempDir dir("pg_cli_model");
  const std::string data = dir.file("data"), run = dir.file("run");
  REQUIRE(test::run_pg({"datagen", "--out", data, "--classes", "3", "--train-per-class", "4", "--test-per-class", "2",
                        "--points", "64"})
              .exit_code == 0);
  const auto tr = test::run_pg({"train", "pointnet", "--data", data, "--out", run, "--epochs", "1", "--batch-size",
                                "4", "--points", "32", "--variant", "full", "--threads", "1"});
  INFO(tr.all());
  REQUIRE(tr.exit_code == 0);
  const auto ev = test::run_pg({"eval", "model", "--checkpoint", run + "/last.h5", "--layers"});
  INFO(ev.all());
  REQUIRE(ev.exit_code == 0);
  CHECK(ev.out.find("model pointnet (") != std::string::npos);
  CHECK(ev.out.find("num_classes=3") != std::string::npos);
  CHECK(ev.out.find("variant=full") != std::string::npos);
  CHECK(ev.out.find("epoch 1,") != std::string::npos);
  CHECK(ev.out.find("samples_seen = 12") != std::string::npos);
  CHECK(ev.out.find("feature_tnet: TNet") != std::string::npos);  // --layers
  const auto missing = test::run_pg({"eval", "model", "--checkpoint", dir.file("none.h5")});
  CHECK(missing.exit_code != 0);
  CHECK(missing.err.find("checkpoint not found") != std::string::npos);
  const auto not_ckpt = test::run_pg({"eval", "model", "--checkpoint", data + "/shape_names.txt"});
  CHECK(not_ckpt.exit_code != 0);
}
