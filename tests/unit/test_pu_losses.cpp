// PU-Net / PU-GAN repulsion and uniform losses (CPU): against naive float64 loops that follow
// the TF code line by line, gradcheck on tie-free inputs, errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <vector>

#include "ops/pu_losses.h"
#include "test_util.h"

using namespace pg;

namespace {

using Cloud = std::vector<double>;  // [N, 3] of one batch element

double sq(const double* a, const double* b) {
  return (a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]);
}

// pointnet2 / TF query_ball_point for one query (padding with the first hit, 0 when none).
std::vector<int64_t> naive_ball(const double* q, const double* ref, int64_t N, double radius, int64_t S) {
  std::vector<int64_t> idx(static_cast<size_t>(S), 0);
  int64_t c = 0;
  for (int64_t j = 0; j < N && c < S; ++j) {
    if (sq(q, ref + j * 3) < radius * radius) {
      if (c == 0) std::fill(idx.begin(), idx.end(), j);
      idx[c++] = j;
    }
  }
  return idx;
}

double naive_repulsion(const Tensor& pred, const RepulsionOptions& o, double h) {
  const int64_t B = pred.size(0), N = pred.size(1), S = o.nsample, K = o.num_neighbors;
  const auto v = pred.to_vector<double>();
  double total = 0.0;
  for (int64_t b = 0; b < B; ++b) {
    const double* pc = v.data() + b * N * 3;
    for (int64_t i = 0; i < N; ++i) {
      const auto idx = naive_ball(pc + i * 3, pc, N, o.radius, S);
      std::vector<double> d2;
      for (int64_t s = 0; s < S; ++s) d2.push_back(sq(pc + idx[s] * 3, pc + i * 3));
      std::sort(d2.begin(), d2.end());
      for (int64_t k = 1; k <= K; ++k) {
        if (o.variant == RepulsionVariant::PUGAN) {
          total += std::max(0.0, h - d2[k]);
        } else {
          const double dc = std::max(d2[k], 1e-12);
          total += o.radius - std::sqrt(dc) * std::exp(-dc / (h * h));
        }
      }
    }
  }
  return total / static_cast<double>(B * N * K);
}

// Vanilla FPS from index 0 (lowest index on ties), float64.
std::vector<int64_t> naive_fps(const double* pc, int64_t N, int64_t m) {
  std::vector<double> field(static_cast<size_t>(N), 1e300);
  std::vector<int64_t> out{0};
  while (static_cast<int64_t>(out.size()) < m) {
    const int64_t last = out.back();
    int64_t best = 0;
    for (int64_t i = 0; i < N; ++i) {
      field[i] = std::min(field[i], sq(pc + i * 3, pc + last * 3));
      if (field[i] > field[best]) best = i;
    }
    out.push_back(best);
  }
  return out;
}

double naive_uniform(const Tensor& pred, const UniformOptions& o) {
  const int64_t B = pred.size(0), N = pred.size(1);
  const int64_t P = static_cast<int64_t>(N * o.seed_fraction);
  const auto v = pred.to_vector<double>();
  double loss = 0.0;
  for (double p : o.percentages) {
    const int64_t S = static_cast<int64_t>(N * p);
    const double r = std::sqrt(p * o.radius);
    const double expect = std::sqrt(std::numbers::pi * o.radius * o.radius * p / S);
    double acc = 0.0;
    for (int64_t b = 0; b < B; ++b) {
      const double* pc = v.data() + b * N * 3;
      for (int64_t seed : naive_fps(pc, N, P)) {
        const auto idx = naive_ball(pc + seed * 3, pc, N, r, S);
        for (int64_t s = 0; s < S; ++s) {
          std::vector<double> d2;
          for (int64_t t = 0; t < S; ++t) d2.push_back(sq(pc + idx[s] * 3, pc + idx[t] * 3));
          std::sort(d2.begin(), d2.end());
          const double d = std::sqrt(std::fabs(d2[1] + 1e-8));
          acc += (d - expect) * (d - expect) / (expect + 1e-8);
        }
      }
    }
    loss += acc / static_cast<double>(B * P * S) * (100 * p) * (100 * p);
  }
  return loss / static_cast<double>(o.percentages.size());
}

// N points uniform on the unit disk (z = small noise): the density PU-GAN's constants assume
// (about N·p points in a ball of radius √p).
Tensor disk_cloud(int64_t B, int64_t N, uint64_t seed) {
  const auto u = test::uniform({B, N, 3}, 0, 1, seed, TensorOptions(DType::f64)).to_vector<double>();
  std::vector<double> v;
  for (int64_t i = 0; i < B * N; ++i) {
    const double r = std::sqrt(u[i * 3]), t = 2 * std::numbers::pi * u[i * 3 + 1];
    v.insert(v.end(), {r * std::cos(t), r * std::sin(t), 0.01 * (u[i * 3 + 2] - 0.5)});
  }
  return from_vector(v, {B, N, 3});
}

}  // namespace

TEST_CASE("repulsion_loss (PU-GAN and PU-Net) against the naive TF loop", "[pu]") {
  // Sparse enough that some balls hold fewer than 5 points (the padded duplicates count).
  for (double extent : {0.15, 0.4}) {
    const Tensor pred = test::uniform({2, 64, 3}, 0, extent, 7, TensorOptions(DType::f64));
    for (RepulsionVariant var : {RepulsionVariant::PUGAN, RepulsionVariant::PUNet}) {
      RepulsionOptions o;
      o.variant = var;
      const double h = var == RepulsionVariant::PUGAN ? 0.001 : 0.03;
      const Tensor l = repulsion_loss(pred, o);
      REQUIRE(l.dim() == 0);
      REQUIRE(l.dtype() == DType::f64);
      INFO("extent " << extent << " variant " << int(var));
      REQUIRE(l.item<double>() == Approx(naive_repulsion(pred, o, h)).epsilon(1e-12));
      // float32 agrees to float rounding
      REQUIRE(repulsion_loss(pred.to(DType::f32), o).item<double>() ==
              Approx(naive_repulsion(pred, o, h)).epsilon(1e-4).margin(1e-9));
    }
    RepulsionOptions o;
    o.h = 0.004;
    o.nsample = 8;
    o.num_neighbors = 2;
    REQUIRE(repulsion_loss(pred, o).item<double>() == Approx(naive_repulsion(pred, o, 0.004)).epsilon(1e-12));
  }
  // Isolated points: every neighbour is a padded copy of the point itself → d² = 0 → loss h.
  const Tensor far =
      tensor({0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2}, {1, 6, 3}, TensorOptions(DType::f64));
  REQUIRE(repulsion_loss(far).item<double>() == Approx(0.001).epsilon(1e-12));
}

TEST_CASE("repulsion_loss gradcheck (tie-free inputs)", "[pu][gradcheck]") {
  autograd::GradcheckOptions go;
  go.eps = 1e-7;
  go.atol = 1e-8;
  go.rtol = 1e-4;
  // Distances ~0.03: the hinge (h = 0.001 → d = 0.0316) is active for some pairs, inactive for others.
  Tensor pred = test::leaf64({2, 12, 3}, 0, 0.09, 5);
  for (RepulsionVariant var : {RepulsionVariant::PUGAN, RepulsionVariant::PUNet}) {
    RepulsionOptions o;
    o.variant = var;
    o.nsample = 8;
    test::check_grad([&](const std::vector<Tensor>& x) { return repulsion_loss(x[0], o); }, {pred}, go);
  }
  // the gradient is non-zero (some hinges are active)
  Tensor l = repulsion_loss(pred);
  REQUIRE(l.item<double>() > 0.0);
  autograd::backward(l);
  REQUIRE(test::max_abs_diff(pred.grad(), zeros_like(pred)) > 0.0);
}

TEST_CASE("uniform_loss against the naive TF loop", "[pu]") {
  SECTION("PU-GAN defaults, N = 1000 (nsample 4..12, 50 seeds)") {
    const Tensor pred = disk_cloud(2, 1000, 9);
    const Tensor l = uniform_loss(pred);
    REQUIRE(l.dim() == 0);
    REQUIRE(l.item<double>() == Approx(naive_uniform(pred, UniformOptions{})).epsilon(1e-10));
    REQUIRE(uniform_loss(pred.to(DType::f32)).item<double>() ==
            Approx(naive_uniform(pred, UniformOptions{})).epsilon(1e-3));
  }
  SECTION("custom percentages and radius on a small cloud") {
    const Tensor pred = test::uniform({3, 60, 3}, -0.5, 0.5, 10, TensorOptions(DType::f64));
    UniformOptions o;
    o.percentages = {0.05, 0.1, 0.2};
    o.radius = 0.5;
    o.seed_fraction = 0.1;
    REQUIRE(uniform_loss(pred, o).item<double>() == Approx(naive_uniform(pred, o)).epsilon(1e-10));
  }
}

TEST_CASE("uniform_loss gradcheck (fixed seeds and balls)", "[pu][gradcheck]") {
  autograd::GradcheckOptions go;
  go.eps = 1e-7;
  go.atol = 1e-7;
  go.rtol = 1e-4;
  Tensor pred = test::leaf64({2, 40, 3}, -0.5, 0.5, 13);
  UniformOptions o;
  o.percentages = {0.1, 0.2};
  o.radius = 0.4;
  o.seed_fraction = 0.1;
  test::check_grad([&](const std::vector<Tensor>& x) { return uniform_loss(x[0], o); }, {pred}, go);
}

TEST_CASE("pu losses: errors", "[pu]") {
  const Tensor pred = test::uniform({1, 100, 3}, -1, 1, 3);
  REQUIRE_THROWS_WITH(uniform_loss(pred), Catch::Contains("uniform_loss") && Catch::Contains("< 2"));
  UniformOptions o;
  o.percentages = {};
  REQUIRE_THROWS_WITH(uniform_loss(pred, o), Catch::Contains("percentages"));
  o.percentages = {1.5};
  REQUIRE_THROWS_WITH(uniform_loss(pred, o), Catch::Contains("1.5"));
  o.percentages = {0.1};
  o.seed_fraction = 0.001;
  REQUIRE_THROWS_WITH(uniform_loss(pred, o), Catch::Contains("seed"));
  RepulsionOptions r;
  r.nsample = 4;
  REQUIRE_THROWS_WITH(repulsion_loss(pred, r), Catch::Contains("nsample"));
  r = {};
  r.radius = -1;
  REQUIRE_THROWS_WITH(repulsion_loss(pred, r), Catch::Contains("radius"));
  REQUIRE_THROWS_WITH(repulsion_loss(test::uniform({1, 100, 2}, -1, 1, 3)), Catch::Contains("repulsion_loss"));
  REQUIRE_THROWS_WITH(repulsion_loss(empty({1, 0, 3})), Catch::Contains("empty cloud"));
}
