// Chamfer and Hausdorff (CPU): oracle agreement for every reduction/direction, path equality,
// bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/chamfer.h"
#include "reference/naive_geometry.h"
#include "test_util.h"

using namespace pg;

namespace {

Tensor cloud(int64_t B, int64_t N, uint64_t seed, DType dt = DType::f64) {
  return test::uniform({B, N, 3}, -1.0, 1.0, seed, TensorOptions(dt));
}

}  // namespace

TEST_CASE("chamfer float64 matches the oracle for every reduction and direction", "[chamfer]") {
  const int64_t B = 3, N = 150, M = 1100;
  Tensor a = cloud(B, N, 1), b = cloud(B, M, 2);
  const ref::ChamferOut o = ref::chamfer(a.to_vector<double>(), b.to_vector<double>(), B, N, M);
  for (ChamferImpl impl : {ChamferImpl::Auto, ChamferImpl::Generic}) {
    ChamferOptions opt;
    opt.impl = impl;
    ChamferResult r = chamfer(a, b, opt);
    REQUIRE(r.loss.dim() == 0);
    REQUIRE(r.dist_a.shape() == Shape{B, N});
    REQUIRE(r.dist_b.shape() == Shape{B, M});
    REQUIRE(r.dist_a.to_vector<double>() == o.dist_a);
    REQUIRE(r.dist_b.to_vector<double>() == o.dist_b);
    REQUIRE(r.idx_a.to_vector<int64_t>() == o.idx_a);
    REQUIRE(r.idx_b.to_vector<int64_t>() == o.idx_b);
    REQUIRE(r.loss.item() == Approx(o.loss_mean).epsilon(1e-13));

    opt.reduction = ChamferReduction::sum;
    REQUIRE(chamfer(a, b, opt).loss.item() == Approx(o.loss_sum).epsilon(1e-13));
    opt.reduction = ChamferReduction::none;
    r = chamfer(a, b, opt);
    REQUIRE(r.loss.shape() == Shape{B});
    test::require_close(r.loss, from_vector(o.loss_none, {B}), 0.0, 1e-13);

    opt.reduction = ChamferReduction::mean;
    opt.direction = ChamferDirection::a_to_b;
    r = chamfer(a, b, opt);
    REQUIRE_FALSE(r.dist_b.defined());
    REQUIRE_FALSE(r.idx_b.defined());
    double sa = 0;
    for (double d : o.dist_a) sa += d;
    REQUIRE(r.loss.item() == Approx(sa / (B * N)).epsilon(1e-13));
    opt.direction = ChamferDirection::b_to_a;
    r = chamfer(a, b, opt);
    REQUIRE_FALSE(r.dist_a.defined());
    REQUIRE(r.idx_b.to_vector<int64_t>() == o.idx_b);
    double sb = 0;
    for (double d : o.dist_b) sb += d;
    REQUIRE(r.loss.item() == Approx(sb / (B * M)).epsilon(1e-13));
  }
}

TEST_CASE("chamfer float32 agrees with the float64 oracle", "[chamfer]") {
  const int64_t B = 2, N = 2048, M = 1000;
  Tensor a = cloud(B, N, 3, DType::f32), b = cloud(B, M, 4, DType::f32);
  const ref::ChamferOut o = ref::chamfer(a.to_vector<double>(), b.to_vector<double>(), B, N, M);
  const ChamferResult r = chamfer(a, b);
  REQUIRE(r.loss.dtype() == DType::f32);
  REQUIRE(r.loss.item() == Approx(o.loss_mean).epsilon(1e-5));
  test::require_close(r.dist_a, from_vector(o.dist_a, {B, N}), 1e-6, 1e-5);
  test::require_close(r.dist_b, from_vector(o.dist_b, {B, M}), 1e-6, 1e-5);
  ChamferOptions g;
  g.impl = ChamferImpl::Generic;
  const ChamferResult rg = chamfer(a, b, g);
  REQUIRE(rg.idx_a.to_vector<int64_t>() == r.idx_a.to_vector<int64_t>());
  REQUIRE(rg.dist_b.to_vector<float>() == r.dist_b.to_vector<float>());
}

TEST_CASE("hausdorff matches the oracle (squared, Euclidean, max, sum, directions)", "[chamfer]") {
  const int64_t B = 4, N = 90, M = 130;
  Tensor a = cloud(B, N, 5), b = cloud(B, M, 6);
  const auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  for (bool squared : {true, false}) {
    for (bool sum : {false, true}) {
      const std::vector<double> h = ref::hausdorff(av, bv, B, N, M, squared, sum);
      HausdorffOptions opt;
      opt.squared = squared;
      opt.combine = sum ? HausdorffCombine::sum : HausdorffCombine::max;
      opt.reduction = ChamferReduction::none;
      test::require_close(hausdorff(a, b, opt), from_vector(h, {B}), 0.0, 1e-14);
      double mean = 0, total = 0;
      for (double x : h) total += x;
      mean = total / B;
      opt.reduction = ChamferReduction::mean;
      REQUIRE(hausdorff(a, b, opt).item() == Approx(mean).epsilon(1e-14));
      opt.reduction = ChamferReduction::sum;
      REQUIRE(hausdorff(a, b, opt).item() == Approx(total).epsilon(1e-14));
    }
  }
  // One direction = max over a of the NN distance to b.
  const ref::ChamferOut o = ref::chamfer(av, bv, B, N, M);
  HausdorffOptions d;
  d.direction = ChamferDirection::a_to_b;
  d.reduction = ChamferReduction::none;
  const auto h = hausdorff(a, b, d).to_vector<double>();
  for (int64_t bb = 0; bb < B; ++bb) {
    double m = 0;
    for (int64_t i = 0; i < N; ++i) m = std::max(m, o.dist_a[bb * N + i]);
    REQUIRE(h[bb] == m);
  }
}

TEST_CASE("chamfer of a cloud with itself is zero with identity indices", "[chamfer]") {
  Tensor a = cloud(2, 77, 9, DType::f32);
  const ChamferResult r = chamfer(a, a);
  REQUIRE(r.loss.item() == 0.0);
  const auto ix = r.idx_a.to_vector<int64_t>();
  for (int64_t i = 0; i < 154; ++i) REQUIRE(ix[i] == i % 77);
}

TEST_CASE("chamfer and hausdorff reject bad input with clear errors", "[chamfer][errors]") {
  using Catch::Contains;
  Tensor a = cloud(2, 5, 1), b = cloud(2, 7, 2);
  REQUIRE_THROWS_WITH(chamfer(a, cloud(3, 7, 2)), Contains("chamfer") && Contains("batch sizes differ"));
  REQUIRE_THROWS_WITH(chamfer(a, empty({2, 0, 3}, DType::f64)), Contains("chamfer") && Contains("b is an empty cloud"));
  REQUIRE_THROWS_WITH(chamfer(a, b.to(DType::f32)), Contains("chamfer") && Contains("float32"));
  REQUIRE_THROWS_WITH(hausdorff(zeros({5, 3}, DType::f64), b), Contains("hausdorff") && Contains("[5, 3]"));
  std::vector<double> v = a.to_vector<double>();
  v[4] = std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_WITH(chamfer(from_vector(v, {2, 5, 3}), b), Contains("chamfer") && Contains("a contains NaN or Inf"));
  REQUIRE_THROWS_WITH(hausdorff(from_vector(v, {2, 5, 3}), b), Contains("hausdorff") && Contains("NaN or Inf"));
}
