// gradcheck (float64, CPU) of soft_projection (projected, weights and sigma; w.r.t. query,
// points and the temperature t, with and without the min_sigma floor, hard mode) and of
// attention_pool (output and weights; w.r.t. features, query and coords; 2-D and 3-D queries).
// Random clouds in [-1, 1] with k < N: the kNN gaps are far above the finite-difference step,
// so no neighbour selection changes under perturbation, and t² stays away from min_sigma.
#include <catch2/catch.hpp>

#include "ops/attention_pool.h"
#include "ops/soft_projection.h"
#include "test_util.h"

using namespace pg;

namespace {

autograd::GradcheckOptions opts() {
  autograd::GradcheckOptions o;
  o.eps = 1e-6;
  o.atol = 1e-6;
  o.rtol = 1e-5;
  return o;
}

Tensor temperature(double v) {
  Tensor t = scalar_tensor(v, TensorOptions(DType::f64));
  t.requires_grad_(true);
  return t;
}

}  // namespace

TEST_CASE("gradcheck soft_projection w.r.t. query, points and t", "[sampling][gradcheck]") {
  struct Case {
    int64_t B, M, N, k;
    double t, min_sigma;
  };
  for (const Case c : {Case{2, 4, 12, 5, 0.6, 0.0}, Case{1, 6, 10, 3, 0.35, 1e-2}, Case{2, 3, 8, 8, 0.9, 0.0},
                       Case{1, 5, 9, 4, 0.05, 1e-2}}) {
    INFO("B " << c.B << " M " << c.M << " N " << c.N << " k " << c.k << " t " << c.t << " floor " << c.min_sigma);
    Tensor q = test::leaf64({c.B, c.M, 3}, -1, 1, 1 + c.M);
    Tensor p = test::leaf64({c.B, c.N, 3}, -1, 1, 2 + c.N);
    Tensor t = temperature(c.t);
    SoftProjectionOptions so;
    so.k = c.k;
    so.min_sigma = c.min_sigma;
    test::check_grad([&](const std::vector<Tensor>& x) { return soft_projection(x[0], x[1], x[2], so).projected; },
                     {q, p, t}, opts());
    test::check_grad([&](const std::vector<Tensor>& x) { return soft_projection(x[0], x[1], x[2], so).weights; },
                     {q, p, t}, opts());
    // All three outputs at once (sigma is the projection loss term).
    test::check_grad(
        [&](const std::vector<Tensor>& x) {
          const SoftProjectionResult r = soft_projection(x[0], x[1], x[2], so);
          return cat({r.projected.flatten(), r.weights.flatten(), r.sigma.reshape({1})}, 0);
        },
        {q, p, t}, opts());
  }
}

TEST_CASE("gradcheck soft_projection in hard mode and with a [1] temperature", "[sampling][gradcheck]") {
  Tensor q = test::leaf64({2, 5, 3}, -1, 1, 11);
  Tensor p = test::leaf64({2, 9, 3}, -1, 1, 12);
  Tensor t = temperature(0.4);
  SoftProjectionOptions hard;
  hard.k = 4;
  hard.hard = true;
  test::check_grad(
      [&](const std::vector<Tensor>& x) {
        const SoftProjectionResult r = soft_projection(x[0], x[1], x[2], hard);
        return cat({r.projected.flatten(), r.sigma.reshape({1})}, 0);
      },
      {q, p, t}, opts());
  Tensor t1 = full({1}, 0.45, TensorOptions(DType::f64));
  t1.requires_grad_(true);
  SoftProjectionOptions so;
  so.k = 6;
  test::check_grad([&](const std::vector<Tensor>& x) { return soft_projection(x[0], x[1], x[2], so).projected; },
                   {q, p, t1}, opts());
}

TEST_CASE("gradcheck attention_pool w.r.t. features, query and coords", "[sampling][gradcheck]") {
  struct Case {
    int64_t B, T, N, C, D;
    bool q2d;
  };
  for (const Case c : {Case{2, 3, 7, 4, 3, false}, Case{1, 1, 9, 33, 3, true}, Case{2, 2, 5, 6, 5, false}}) {
    INFO("B " << c.B << " T " << c.T << " N " << c.N << " C " << c.C << " D " << c.D);
    Tensor f = test::leaf64({c.B, c.N, c.C}, -1, 1, 21);
    Tensor q = c.q2d ? test::leaf64({c.B, c.C}, -1, 1, 22) : test::leaf64({c.B, c.T, c.C}, -1, 1, 22);
    Tensor x = test::leaf64({c.B, c.N, c.D}, -1, 1, 23);
    test::check_grad([](const std::vector<Tensor>& v) { return attention_pool(v[0], v[1], v[2]).output; }, {f, q, x},
                     opts());
    test::check_grad([](const std::vector<Tensor>& v) { return attention_pool(v[0], v[1], v[2]).weights; }, {f, q, x},
                     opts());
  }
}
