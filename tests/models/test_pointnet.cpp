// PointNet classifier: architecture, T-Net identity start, regulariser, overfitting, checkpoints.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <string>

#include "datasets/ds_test_util.h"
#include "models/nn/checkpoint.h"
#include "models/nn/optim.h"
#include "models/zoo/pointnet.h"
#include "ops/ops.h"
#include "test_util.h"

using namespace pg;
using models::PointNet;
using models::PointNetConfig;
using models::PointNetVariant;

namespace {

PointNetConfig small_config(PointNetVariant v, int64_t classes, Generator* gen) {
  PointNetConfig c;
  c.variant = v;
  c.num_classes = classes;
  c.gen = gen;
  return c;
}

// Eight clouds from four easily told apart families (two of each), with labels 0..3.
void eight_clouds(int64_t n, Tensor& points, Tensor& labels) {
  Generator g(7);
  std::vector<float> pts;
  std::vector<int64_t> lab;
  const Tensor u = rand({8, n, 3}, TensorOptions(DType::f32), &g);
  const std::vector<float> r = u.to_vector<float>();
  for (int64_t s = 0; s < 8; ++s) {
    const int64_t cls = s % 4;
    lab.push_back(cls);
    for (int64_t i = 0; i < n; ++i) {
      const float a = r[(s * n + i) * 3], b = r[(s * n + i) * 3 + 1], c = r[(s * n + i) * 3 + 2];
      float x, y, z;
      if (cls == 0) {  // a thin rod along x
        x = 2 * a - 1, y = 0.05f * b, z = 0.05f * c;
      } else if (cls == 1) {  // a sphere surface
        const float th = 6.2831853f * a, ph = std::acos(2 * b - 1);
        x = std::sin(ph) * std::cos(th), y = std::sin(ph) * std::sin(th), z = std::cos(ph);
      } else if (cls == 2) {  // a flat square in the xz plane
        x = 2 * a - 1, y = 0.02f * b, z = 2 * c - 1;
      } else {  // a small cube volume
        x = 0.4f * a, y = 0.4f * b, z = 0.4f * c;
      }
      pts.insert(pts.end(), {x, y, z});
    }
  }
  points = from_vector(pts, {8, n, 3});
  labels = from_vector(lab, {8});
}

}  // namespace

TEST_CASE("PointNet: output shapes and parameter counts of both variants", "[pointnet][models]") {
  Generator g(1);
  PointNet vanilla(small_config(PointNetVariant::vanilla, 40, &g));
  PointNet full(small_config(PointNetVariant::full, 40, &g));
  const Tensor x = test::uniform({2, 64, 3}, -1, 1, 3);
  const models::PointNetOutput ov = vanilla.forward(x);
  CHECK(ov.logits.shape() == Shape{2, 40});
  CHECK(ov.global_feature.shape() == Shape{2, 1024});
  CHECK_FALSE(ov.feature_transform.defined());
  const models::PointNetOutput of = full.forward(x);
  CHECK(of.logits.shape() == Shape{2, 40});
  CHECK(of.input_transform.shape() == Shape{2, 3, 3});
  CHECK(of.feature_transform.shape() == Shape{2, 64, 64});
  // Counted by hand from METHODS.md §3.1 (conv/FC weights + biases + BN γ/β).
  auto layer = [](int64_t i, int64_t o, bool bn) { return i * o + o + (bn ? 2 * o : 0); };
  const int64_t head = layer(1024, 512, true) + layer(512, 256, true) + layer(256, 40, false);
  const int64_t vanilla_expected = layer(3, 64, true) + layer(64, 64, true) + layer(64, 64, true) +
                                   layer(64, 128, true) + layer(128, 1024, true) + head;
  CHECK(vanilla.num_parameters() == vanilla_expected);
  auto tnet = [&](int64_t k) {
    return layer(k, 64, true) + layer(64, 128, true) + layer(128, 1024, true) + layer(1024, 512, true) +
           layer(512, 256, true) + layer(256, k * k, false);
  };
  const int64_t full_expected = tnet(3) + layer(3, 64, true) + layer(64, 64, true) + tnet(64) + layer(64, 64, true) +
                                layer(64, 128, true) + layer(128, 1024, true) + head;
  CHECK(full.num_parameters() == full_expected);
}

TEST_CASE("PointNet: T-Nets start as the identity and the regulariser is TF's l2_loss", "[pointnet][models]") {
  Generator g(2);
  PointNet full(small_config(PointNetVariant::full, 5, &g));
  const Tensor x = test::uniform({3, 32, 3}, -1, 1, 4);
  const models::PointNetOutput out = full.forward(x);
  std::vector<float> eye3(9, 0.f);
  for (int i = 0; i < 3; ++i) eye3[i * 4] = 1.f;
  for (int64_t b = 0; b < 3; ++b) test::require_close(select(out.input_transform, 0, b), from_vector(eye3, {3, 3}), 0.0);
  CHECK(full.transform_regularizer(out).item_double() == 0.0);

  // Perturb the feature T-Net's last bias: A = I + D, reg = w·½·Σ_b ||A Aᵀ − I||².
  {
    NoGradGuard ng;
    full.feature_tnet->transform->bias.copy_(test::uniform({64 * 64}, -0.1, 0.1, 5));
  }
  const models::PointNetOutput out2 = full.forward(x);
  const std::vector<float> a = out2.feature_transform.to_vector<float>();
  double expected = 0.0;
  for (int64_t b = 0; b < 3; ++b) {
    for (int i = 0; i < 64; ++i) {
      for (int j = 0; j < 64; ++j) {
        double s = 0.0;
        for (int k = 0; k < 64; ++k) s += double(a[b * 4096 + i * 64 + k]) * double(a[b * 4096 + j * 64 + k]);
        const double d = s - (i == j ? 1.0 : 0.0);
        expected += d * d;
      }
    }
  }
  expected *= 0.5 * 0.001;
  CHECK(full.transform_regularizer(out2).item_double() == Approx(expected).epsilon(1e-4));
  const Tensor labels = from_vector(std::vector<int64_t>{0, 1, 4}, {3});
  CHECK(full.loss(out2, labels).item_double() ==
        Approx(cross_entropy(out2.logits, labels).item_double() + expected).epsilon(1e-4));
}

TEST_CASE("PointNet: eval mode is deterministic, training mode applies dropout", "[pointnet][models]") {
  Generator g(3);
  PointNet net(small_config(PointNetVariant::vanilla, 10, &g));
  const Tensor x = test::uniform({4, 48, 3}, -1, 1, 6);
  net.eval();
  test::require_close(net(x), net(x), 0.0);
  net.train();
  NoGradGuard ng;
  CHECK(test::max_abs_diff(net(x), net(x)) > 0.0);  // fresh dropout masks
}

TEST_CASE("PointNet: rejects bad input with clear errors", "[pointnet][models][errors]") {
  Generator g(4);
  PointNet net(small_config(PointNetVariant::vanilla, 10, &g));
  CHECK_THROWS_WITH(net(zeros({2, 16, 4})), Catch::Contains("expected points [B, N, 3]"));
  CHECK_THROWS_WITH(net(zeros({16, 3})), Catch::Contains("expected points [B, N, 3]"));
  CHECK_THROWS_WITH(net(zeros({1, 16, 3})), Catch::Contains("at least 2 shapes"));
  net.eval();
  CHECK(net(zeros({1, 16, 3})).shape() == Shape{1, 10});  // a single shape is fine in eval mode
  PointNetConfig bad;
  bad.num_classes = 1;
  CHECK_THROWS_WITH(PointNet(bad), Catch::Contains("num_classes"));
  CHECK_THROWS_WITH(models::parse_pointnet_variant("huge"), Catch::Contains("unknown variant"));
}

TEST_CASE("PointNet: overfits 8 clouds to 100% within 200 steps (both variants)", "[pointnet][models][slow]") {
  Tensor points, labels;
  eight_clouds(128, points, labels);
  for (PointNetVariant v : {PointNetVariant::vanilla, PointNetVariant::full}) {
    DYNAMIC_SECTION("variant " << models::pointnet_variant_name(v)) {
      Generator g(11);
      PointNetConfig cfg = small_config(v, 4, &g);
      cfg.dropout = 0.0;  // memorising needs no regularisation noise
      PointNet net(cfg);
      nn::Adam opt(net.trainable_parameters(), {0.001});
      int64_t steps_to_perfect = -1;
      double last_loss = 0.0;
      for (int64_t step = 1; step <= 200 && steps_to_perfect < 0; ++step) {
        net.train();
        const models::PointNetOutput out = net.forward(points);
        const Tensor loss = net.loss(out, labels);
        opt.zero_grad();
        loss.backward();
        opt.step();
        last_loss = loss.item_double();
        if (step % 10 == 0) {
          net.eval();
          NoGradGuard ng;
          const Tensor pred = argmax(net(points), 1);
          if (eq(pred, labels).to(DType::i64).to_vector<int64_t>() == std::vector<int64_t>(8, 1)) steps_to_perfect = step;
        }
      }
      INFO("last training loss " << last_loss);
      CHECK(steps_to_perfect > 0);
      CHECK(steps_to_perfect <= 200);
    }
  }
}

TEST_CASE("PointNet: save -> load gives identical logits and a matching config string", "[pointnet][models][checkpoint]") {
  test::TempDir dir("pg_pointnet");
  for (PointNetVariant v : {PointNetVariant::vanilla, PointNetVariant::full}) {
    Generator g(21);
    PointNetConfig cfg = small_config(v, 7, &g);
    PointNet a(cfg);
    const Tensor x = test::uniform({4, 40, 3}, -1, 1, 9);
    {  // one training step so that BN running statistics and weights differ from the init
      nn::Adam opt(a.trainable_parameters(), {0.01});
      const Tensor loss = a.loss(a.forward(x), from_vector(std::vector<int64_t>{0, 1, 2, 3}, {4}));
      loss.backward();
      opt.step();
    }
    a.eval();
    const std::string path = dir.file(std::string("pn_") + models::pointnet_variant_name(v) + ".h5");
    nn::CheckpointMeta meta;
    meta.epoch = 3;
    meta.config = models::pointnet_config_string(cfg);
    nn::save_checkpoint(path, a, nullptr, meta);

    const nn::CheckpointData data = nn::read_checkpoint(path);
    const PointNetConfig back = models::parse_pointnet_config_string(data.meta.config);
    CHECK(back.variant == v);
    CHECK(back.num_classes == 7);
    Generator g2(999);  // a different initialisation, overwritten by the load
    PointNetConfig cfg2 = back;
    cfg2.gen = &g2;
    PointNet b(cfg2);
    nn::load_checkpoint(path, b);
    b.eval();
    test::require_close(a(x), b(x), 0.0);

    // A model of the other variant cannot load it, and the error names the problems.
    PointNetConfig other = cfg2;
    other.variant = v == PointNetVariant::full ? PointNetVariant::vanilla : PointNetVariant::full;
    PointNet c(other);
    CHECK_THROWS_WITH(nn::load_checkpoint(path, c), Catch::Contains("missing") || Catch::Contains("unexpected"));
  }
  CHECK_THROWS_WITH(models::parse_pointnet_config_string("model=pcae"), Catch::Contains("does not describe a PointNet"));
}
