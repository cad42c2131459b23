// affine_coupling / affine_coupling_inverse: values and gradients against the same math composed
// from public ops (sigmoid, exp, mul, add, sum) in float64 and float32, exact inversion, the
// log-det against log|det J| of a numerical Jacobian, a multi-chunk sample (the CPU kernel cuts
// samples into 16384-element chunks), and every error of the contract. The op's own float64
// gradcheck / float32 / CUDA parity checks are registry entries (tests/registry/entries/coupling.cpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "autograd/engine.h"
#include "ops/affine_coupling.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "jacobian_util.h"
#include "test_util.h"

using namespace pg;
using pg::test::leaf64;
using pg::test::max_abs_diff;
using pg::test::uniform;

namespace {

// The unfused composition: the reference the fused op must match.
AffineCouplingResult reference(const Tensor& x, const Tensor& sr, const Tensor& t, double c) {
  const Tensor s = mul(sub(mul(sigmoid(sr), 2.0), 1.0), c);
  std::vector<int64_t> dims;
  for (int64_t d = 1; d < x.dim(); ++d) dims.push_back(d);
  return {add(mul(x, exp(s)), t), sum(s, dims)};
}

}  // namespace

TEST_CASE("affine_coupling matches the composed ops: values and all gradients (float64)", "[coupling]") {
  for (double c : {1.0, 0.3, 2.5}) {
    INFO("clamp " << c);
    const Tensor x = leaf64({3, 11, 4}, -2, 2, 1), sr = leaf64({3, 11, 4}, -4, 4, 2), t = leaf64({3, 11, 4}, -1, 1, 3);
    const Tensor vy = uniform({3, 11, 4}, -1, 1, 4, TensorOptions(DType::f64));
    const Tensor vl = uniform({3}, -1, 1, 5, TensorOptions(DType::f64));
    const AffineCouplingResult r = affine_coupling(x, sr, t, c);
    const AffineCouplingResult e = reference(x, sr, t, c);
    REQUIRE(max_abs_diff(r.y, e.y) < 1e-13);
    REQUIRE(max_abs_diff(r.logdet, e.logdet) < 1e-13);
    auto grads = [&](const AffineCouplingResult& o) {
      x.zero_grad();
      sr.zero_grad();
      t.zero_grad();
      add(sum(mul(o.y, vy)), sum(mul(o.logdet, vl))).backward();
      return std::vector<Tensor>{x.grad(), sr.grad(), t.grad()};
    };
    const auto gr = grads(r), ge = grads(e);
    for (size_t k = 0; k < 3; ++k) {
      INFO("gradient of input " << k);
      REQUIRE(max_abs_diff(gr[k], ge[k]) < 1e-12);
    }
  }
}

TEST_CASE("affine_coupling_inverse undoes the forward and its gradients match the composed ops", "[coupling]") {
  const Tensor x = uniform({2, 9, 5}, -3, 3, 10, TensorOptions(DType::f64));
  const Tensor sr = leaf64({2, 9, 5}, -6, 6, 11), t = leaf64({2, 9, 5}, -1, 1, 12);
  Tensor y = affine_coupling(x, sr, t, 1.7).y.detach();
  y.requires_grad_(true);
  const Tensor xr = affine_coupling_inverse(y, sr, t, 1.7);
  REQUIRE(max_abs_diff(xr, x) < 1e-14);
  // The composed inverse (y − t)·exp(−s).
  const Tensor s = mul(sub(mul(sigmoid(sr), 2.0), 1.0), 1.7);
  const Tensor xe = mul(sub(y, t), exp(neg(s)));
  const Tensor v = uniform({2, 9, 5}, -1, 1, 13, TensorOptions(DType::f64));
  sum(mul(xr, v)).backward();
  const std::vector<Tensor> gr{y.grad(), sr.grad(), t.grad()};
  y.zero_grad();
  sr.zero_grad();
  t.zero_grad();
  sum(mul(xe, v)).backward();
  const std::vector<Tensor> ge{y.grad(), sr.grad(), t.grad()};
  for (size_t k = 0; k < 3; ++k) {
    INFO("gradient of input " << k);
    REQUIRE(max_abs_diff(gr[k], ge[k]) < 1e-12);
  }
}

TEST_CASE("affine_coupling float32: vectorised CPU path against float64, multi-chunk samples", "[coupling]") {
  // M = 3·7000 = 21000 elements per sample: two chunks, the second partial, and a tail that is not
  // a multiple of the 8-lane log-det accumulators.
  const Shape sh{2, 7000, 3};
  const Tensor x = uniform(sh, -2, 2, 20, TensorOptions(DType::f64));
  const Tensor sr = uniform(sh, -5, 5, 21, TensorOptions(DType::f64));
  const Tensor t = uniform(sh, -1, 1, 22, TensorOptions(DType::f64));
  const AffineCouplingResult r64 = affine_coupling(x, sr, t);
  const AffineCouplingResult e = reference(x, sr, t, 1.0);
  REQUIRE(max_abs_diff(r64.logdet, e.logdet) < 1e-9);
  const TensorOptions f32(DType::f32);
  const AffineCouplingResult r32 = affine_coupling(x.to(f32.dtype), sr.to(f32.dtype), t.to(f32.dtype));
  REQUIRE(r32.y.dtype() == DType::f32);
  REQUIRE(max_abs_diff(r32.y, r64.y) < 1e-5);
  REQUIRE(max_abs_diff(r32.logdet, r64.logdet) < 1e-3);  // a sum of 21000 float32 scales
  const Tensor back = affine_coupling_inverse(r32.y, sr.to(f32.dtype), t.to(f32.dtype));
  REQUIRE(max_abs_diff(back, x) < 1e-5);
}

TEST_CASE("affine_coupling log-det equals log|det J| of a numerical Jacobian", "[coupling]") {
  // Tiny case: one sample, x2 [1, 2, 2]; ŝ and t depend on x through a fixed linear map of
  // another, untouched half, so ∂y/∂x2 is diagonal and log|det J| = Σ s exactly. The numerical
  // Jacobian is built column by column by central differences of the op itself.
  const Shape sh{1, 2, 2};
  const Tensor x = uniform(sh, -1, 1, 30, TensorOptions(DType::f64));
  const Tensor sr = uniform(sh, -2, 2, 31, TensorOptions(DType::f64));
  const Tensor t = uniform(sh, -1, 1, 32, TensorOptions(DType::f64));
  const int64_t n = x.numel();
  const std::vector<double> jac = test::numerical_jacobian(
      [&](const std::vector<double>& v) { return affine_coupling(from_vector(v, sh), sr, t).y.to_vector<double>(); },
      x.to_vector<double>());
  const double logdet = test::log_abs_det(jac, n);
  const double got = affine_coupling(x, sr, t).logdet.to_vector<double>()[0];
  REQUIRE(std::fabs(got - logdet) < 1e-8);
  REQUIRE(std::fabs(got) > 1e-3);  // a non-trivial log-det (the check could not pass by accident at 0)
}

TEST_CASE("affine_coupling: log-det gradient alone reaches s_raw (g_y = 0)", "[coupling]") {
  const Tensor x = leaf64({2, 3, 2}, -1, 1, 40), sr = leaf64({2, 3, 2}, -2, 2, 41), t = leaf64({2, 3, 2}, -1, 1, 42);
  const AffineCouplingResult r = affine_coupling(x, sr, t, 0.8);
  sum(mul(r.logdet, from_vector(std::vector<double>{2.0, -1.0}, {2}))).backward();
  // ∂(Σ w_b logdet_b)/∂ŝ = w_b · 2c σ(1 − σ); nothing reaches x2 or t.
  const auto s = sr.detach().to_vector<double>(), gs = sr.grad().to_vector<double>();
  for (size_t i = 0; i < s.size(); ++i) {
    const double sg = 1.0 / (1.0 + std::exp(-s[i]));
    const double w = i < 6 ? 2.0 : -1.0;
    REQUIRE(std::fabs(gs[i] - w * 1.6 * sg * (1 - sg)) < 1e-14);
  }
  REQUIRE(max_abs_diff(x.grad(), zeros({2, 3, 2}, TensorOptions(DType::f64))) == 0.0);
  REQUIRE(max_abs_diff(t.grad(), zeros({2, 3, 2}, TensorOptions(DType::f64))) == 0.0);
}

TEST_CASE("affine_coupling errors name the op and the offending value", "[coupling]") {
  const TensorOptions f64(DType::f64);
  const Tensor a = zeros({2, 3, 4}, f64);
  auto throws_with = [](auto fn, const std::string& what) {
    try {
      fn();
    } catch (const Error& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(what) != std::string::npos);
      return;
    }
    FAIL("no error, expected one containing '" << what << "'");
  };
  throws_with([&] { affine_coupling(a, zeros({2, 3, 5}, f64), a); }, "affine_coupling");
  throws_with([&] { affine_coupling(a, zeros({2, 3, 5}, f64), a); }, "[2, 3, 5]");
  throws_with([&] { affine_coupling(a, a, zeros({2, 4, 4}, f64)); }, "[2, 4, 4]");
  throws_with([&] { affine_coupling(zeros({4}, f64), zeros({4}, f64), zeros({4}, f64)); }, "rank >= 2");
  throws_with([&] { affine_coupling(a, a.to(DType::f32), a); }, "affine_coupling");
  throws_with([&] { affine_coupling(zeros({2, 3, 4}, TensorOptions(DType::i64)), a, a); }, "affine_coupling");
  throws_with([&] { affine_coupling(zeros({2, 0, 4}, f64), zeros({2, 0, 4}, f64), zeros({2, 0, 4}, f64)); }, "empty");
  throws_with([&] { affine_coupling(a, a, a, 0.0); }, "clamp");
  throws_with([&] { affine_coupling(a, a, a, std::numeric_limits<double>::infinity()); }, "clamp");
  throws_with([&] { affine_coupling_inverse(a, a, a, -1.0); }, "affine_coupling_inverse");
  throws_with([&] { affine_coupling_inverse(a, zeros({2, 3}, f64), a); }, "affine_coupling_inverse");
}
