// PCAE and PCRNet (models/zoo/pcae.h, pcrnet.h): shapes, parameter counts against hand counts,
// losses against naive loops, rotation conventions, training, and registry round trips.
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>

#include "datasets/ds_test_util.h"
#include "datasets/registration.h"
#include "models/nn/optim.h"
#include "models/zoo/pcae.h"
#include "models/zoo/pcrnet.h"
#include "sampler_test_util.h"

using namespace pg;
using models::PCAE;
using models::PCRNet;

TEST_CASE("PCAE: shapes and parameter count", "[pcae][models]") {
  Generator g(1);
  models::PCAEConfig cfg;
  cfg.points = 64;
  cfg.gen = &g;
  PCAE ae(cfg);
  // encoder: conv weights + biases, BN γ and β; decoder: FC weights + biases.
  const int64_t enc = (3 * 64 + 64) + (64 * 128 + 128) + (128 * 128 + 128) + (128 * 256 + 256) + (256 * 128 + 128) +
                      2 * (64 + 128 + 128 + 256 + 128);
  const int64_t dec = (128 * 256 + 256) + (256 * 256 + 256) + (256 * 192 + 192);
  CHECK(ae.num_parameters() == enc + dec);
  const Tensor x = test::uniform({3, 50, 3}, -1, 1, 2);
  CHECK(ae.encode(x).shape() == Shape{3, 128});
  CHECK(ae.forward(x).shape() == Shape{3, 64, 3});
  ae.eval();
  CHECK(ae.forward(slice(x, 1, 0, 7)).shape() == Shape{3, 64, 3});  // any input size
  CHECK_THROWS_WITH(ae.forward(test::uniform({2, 5, 2}, -1, 1, 3)), Catch::Contains("PCAE"));
}

TEST_CASE("PCAE: loss is the summed two-way mean Chamfer of a naive loop", "[pcae][models]") {
  const Tensor a = test::uniform({2, 9, 3}, -1, 1, 4, DType::f64), b = test::uniform({2, 13, 3}, -1, 1, 5, DType::f64);
  double want = 0.0;
  for (int64_t s = 0; s < 2; ++s) {
    const auto ca = test::cloud_at(a, s), cb = test::cloud_at(b, s);
    double fa = 0.0, fb = 0.0;
    for (size_t i = 0; i < 9; ++i) fa += test::naive_nn2(ca, i, cb);
    for (size_t j = 0; j < 13; ++j) fb += test::naive_nn2(cb, j, ca);
    want += (fa / 9 + fb / 13) / 2;
  }
  CHECK(PCAE::loss(a, b).item_double() == Approx(want).epsilon(1e-12));
  const auto per = PCAE::loss(a, b, true).to_vector<double>();
  CHECK((per[0] + per[1]) / 2 == Approx(want).epsilon(1e-12));
}

TEST_CASE("PCAE: training lowers the Chamfer distance of a small batch", "[pcae][models]") {
  Generator g(3);
  models::PCAEConfig cfg;
  cfg.points = 32;
  cfg.gen = &g;
  PCAE ae(cfg);
  const Tensor x = test::uniform({4, 32, 3}, -1, 1, 6);
  nn::Adam opt(ae.trainable_parameters(), {1e-3});
  const double before = PCAE::loss(ae.forward(x), x).item_double();
  double after = before;
  for (int i = 0; i < 60; ++i) {
    opt.zero_grad();
    const Tensor l = PCAE::loss(ae.forward(x), x);
    l.backward();
    opt.step();
    after = l.item_double();
  }
  CHECK(after < 0.5 * before);
}

TEST_CASE("PCRNet: quaternion rotation matches the data's convention", "[pcrnet][models]") {
  datasets::HostRng rng(11, {});
  for (int i = 0; i < 5; ++i) {
    const datasets::RigidMotion mo = datasets::draw_rigid_motion(rng, {90.0, 0.0});
    const Tensor q = from_vector(std::vector<double>(mo.quaternion.begin(), mo.quaternion.end()), {1, 4});
    const std::vector<double> r = models::quaternion_rotation(q).to_vector<double>();
    for (size_t k = 0; k < 9; ++k) CHECK(r[k] == Approx(mo.rotation[k]).margin(1e-12));
  }
}

TEST_CASE("PCRNet: shapes, unit quaternions and parameter count", "[pcrnet][models]") {
  Generator g(2);
  models::PCRNetConfig cfg;
  cfg.gen = &g;
  PCRNet net(cfg);
  const int64_t enc = (3 * 64 + 64) + 2 * (64 * 64 + 64) + (64 * 128 + 128) + (128 * 1024 + 1024);
  const int64_t head = (2048 * 1024 + 1024) + (1024 * 1024 + 1024) + (1024 * 512 + 512) + (512 * 512 + 512) +
                       (512 * 256 + 256) + (256 * 7 + 7);
  CHECK(net.num_parameters() == enc + head);
  const models::PCRNetOutput out =
      net.forward(test::uniform({3, 40, 3}, -1, 1, 3), test::uniform({3, 17, 3}, -1, 1, 4));
  CHECK(out.quaternion.shape() == Shape{3, 4});
  CHECK(out.translation.shape() == Shape{3, 3});
  CHECK(out.rotation.shape() == Shape{3, 3, 3});
  const auto q = out.quaternion.to_vector<float>();
  for (int b = 0; b < 3; ++b) {
    const double n =
        q[4 * b] * q[4 * b] + q[4 * b + 1] * q[4 * b + 1] + q[4 * b + 2] * q[4 * b + 2] + q[4 * b + 3] * q[4 * b + 3];
    CHECK(n == Approx(1.0).epsilon(1e-5));
  }
  CHECK_THROWS_WITH(net.forward(test::uniform({3, 40, 3}, -1, 1, 3), test::uniform({2, 17, 3}, -1, 1, 4)),
                    Catch::Contains("batch sizes differ"));
}

TEST_CASE("PCRNet: loss terms on hand cases", "[pcrnet][models]") {
  const double th = 0.7;
  // Estimate: identity; truth: rotation by th about x. ‖I·Rᵀ − I‖²_F = 4 (1 − cos th).
  models::PCRNetOutput out;
  out.quaternion = tensor({1, 0, 0, 0, 1, 0, 0, 0}, {2, 4}, DType::f64);
  out.translation = zeros({2, 3}, DType::f64);
  out.rotation = models::quaternion_rotation(out.quaternion);
  const Tensor truth = tensor({std::cos(th / 2), std::sin(th / 2), 0, 0, 1, 0, 0, 0}, {2, 4}, DType::f64);
  // Batch mean: pair 0 has the error, pair 1 none.
  CHECK(PCRNet::rotation_loss(out, truth).item_double() == Approx(4 * (1 - std::cos(th)) / 2).epsilon(1e-12));
  // A perfect estimate aligns the template onto the source exactly: Chamfer 0.
  const Tensor tmpl = test::uniform({2, 12, 3}, -1, 1, 8, DType::f64);
  models::PCRNetOutput exact;
  exact.quaternion = truth;
  exact.translation = zeros({2, 3}, DType::f64);
  exact.rotation = models::quaternion_rotation(truth);
  const Tensor src = bmm(tmpl, transpose(exact.rotation, 1, 2));
  CHECK(PCRNet::alignment_loss(exact, tmpl, src).item_double() == Approx(0.0).margin(1e-24));
  CHECK(PCRNet::rotation_loss(exact, truth).item_double() == Approx(0.0).margin(1e-24));
  CHECK(PCRNet::alignment_loss(out, tmpl, src).item_double() > 1e-3);
}

TEST_CASE("PCRNet: rotation error in degrees, sign invariant, clamped", "[pcrnet][models]") {
  const double th = 30.0 * std::numbers::pi / 180.0;
  const Tensor a = tensor({1, 0, 0, 0, 1, 0, 0, 0, 0.6, 0.8, 0, 0}, {3, 4}, DType::f64);
  const Tensor b = tensor({std::cos(th / 2), 0, std::sin(th / 2), 0, -1, 0, 0, 0, 0.6, 0.8, 0, 0}, {3, 4}, DType::f64);
  const std::vector<double> e = models::rotation_error_degrees(a, b);
  CHECK(e[0] == Approx(30.0).epsilon(1e-9));
  CHECK(e[1] == Approx(0.0).margin(1e-9));  // q and −q: the same rotation
  CHECK(std::isfinite(e[2]));               // 2c² − 1 may round past 1: clamped, not NaN
  CHECK(e[2] == Approx(0.0).margin(1e-5));
}

TEST_CASE("PCAE and PCRNet: registry round trip gives identical outputs", "[pcae][pcrnet][models][checkpoint]") {
  test::TempDir dir("pg_tasknets");
  Generator g(5);
  models::PCAEConfig ac;
  ac.points = 16;
  ac.gen = &g;
  PCAE ae(ac);
  ae.eval();
  models::PCRNetConfig rc;
  rc.gen = &g;
  PCRNet pcr(rc);
  pcr.eval();
  test::save_model(dir.file("ae.h5"), ae);
  test::save_model(dir.file("pcr.h5"), pcr);
  const Tensor x = test::uniform({2, 20, 3}, -1, 1, 9);
  auto ae2 = models::load_model_as<PCAE>(dir.file("ae.h5"), Device::cpu(), "pcae");
  test::require_close(ae2->forward(x), ae.forward(x), 0.0);
  CHECK(ae2->config().points == 16);
  auto pcr2 = models::load_model_as<PCRNet>(dir.file("pcr.h5"), Device::cpu(), "pcrnet");
  test::require_close(pcr2->forward(x, x).quaternion, pcr.forward(x, x).quaternion, 0.0);
  CHECK_THROWS_WITH(models::load_model(dir.file("ae.h5"), Device::cpu(), "pcrnet"),
                    Catch::Contains("holds model 'pcae'") && Catch::Contains("expected 'pcrnet'"));
}
