// Invertible modules: AffineCouplingBlock and InvertibleSequence (models/nn/invertible.h,
// coupling_block.h). Inversion through a whole stack (float32 1e-6, float64 1e-12), the stack's
// log-det against log|det J| of a numerical Jacobian, gradcheck through the stack, reversible-mode
// gradients equal to the stored-activation gradients, the memory held by the tape flat in depth
// in reversible mode (and growing without it), autograd::grad, and the modules' errors.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/engine.h"
#include "autograd/grad.h"
#include "autograd/gradcheck.h"
#include "models/nn/coupling_block.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "flow_test_util.h"
#include "jacobian_util.h"
#include "test_util.h"

using namespace pg;
using pg::test::max_abs_diff;
using pg::test::uniform;

namespace {

std::shared_ptr<nn::InvertibleSequence> flow(int64_t C, int64_t K, DType dt, uint64_t seed, double clamp = 1.0) {
  Generator gen(seed);
  nn::CouplingBlockOptions o;
  o.hidden = {16, 16};
  o.clamp = clamp;
  o.tensor = TensorOptions(dt);
  o.gen = &gen;
  return nn::make_coupling_flow(C, K, o);
}

using pg::test::flow_probe;

}  // namespace

TEST_CASE("coupling flow: inverse(forward(x)) = x through a whole stack", "[coupling][invertible]") {
  for (DType dt : {DType::f32, DType::f64}) {
    for (int64_t C : {2, 3, 6}) {
      INFO("dtype " << dtype_name(dt) << " C " << C);
      auto f = flow(C, 8, dt, 100 + C, 2.0);
      const Tensor x = uniform({3, 50, C}, -2, 2, 1, TensorOptions(dt));
      NoGradGuard ng;
      const nn::FlowResult r = f->forward(x);
      REQUIRE(max_abs_diff(r.y, x) > 0.1);  // the stack does transform x
      const Tensor back = f->inverse(r.y);
      REQUIRE(max_abs_diff(back, x) < (dt == DType::f32 ? 1e-6 : 1e-12));
      // Every channel is transformed by some block (alternating halves): each moved.
      const Tensor d = max(abs(sub(r.y, x)), 1);
      REQUIRE(min(d).item<double>() > 1e-3);
    }
  }
}

TEST_CASE("coupling flow: log-det of the stack equals log|det J| of a numerical Jacobian", "[coupling][invertible]") {
  // One sample of 2 points × 3 channels: J is 6×6 and dense (blocks condition on each other).
  auto f = flow(3, 3, DType::f64, 7, 1.5);
  const Shape sh{1, 2, 3};
  const Tensor x = uniform(sh, -1, 1, 2, TensorOptions(DType::f64));
  NoGradGuard ng;
  const int64_t n = 6;
  const std::vector<double> jac = test::numerical_jacobian(
      [&](const std::vector<double>& v) { return f->forward(from_vector(v, sh)).y.to_vector<double>(); },
      x.to_vector<double>());
  int64_t offdiag = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) offdiag += (i != j && std::fabs(jac[i * n + j]) > 1e-6);
  REQUIRE(offdiag > 0);  // not a diagonal map: the determinant is a real test of the coupling structure
  const double logdet = test::log_abs_det(jac, n);
  const double got = f->forward(x).logdet.to_vector<double>()[0];
  REQUIRE(std::fabs(got - logdet) < 1e-7);
  REQUIRE(std::fabs(got) > 1e-2);
}

TEST_CASE("coupling flow: gradcheck through the stack w.r.t. x, stored and reversible", "[coupling][invertible]") {
  // Parameter gradients are checked against the stored mode in the next test (the stored mode is
  // a composition of registry-gradchecked ops).
  for (bool rev : {false, true}) {
    INFO("reversible " << rev);
    auto f = flow(4, 3, DType::f64, 11);
    f->set_reversible(rev);
    const Tensor x = pg::test::leaf64({2, 3, 4}, -1, 1, 3);
    pg::test::check_grad([&](const std::vector<Tensor>& v) { return flow_probe(f->forward(v[0]), 5); }, {x});
  }
}

TEST_CASE("coupling flow: reversible gradients equal the stored-activation gradients", "[coupling][invertible]") {
  for (DType dt : {DType::f64, DType::f32}) {
    INFO("dtype " << dtype_name(dt));
    auto f = flow(5, 6, dt, 21);
    Tensor x = uniform({2, 40, 5}, -1.5, 1.5, 4, TensorOptions(dt));
    x.requires_grad_(true);
    REQUIRE(pg::test::require_reversible_grads_match(*f, x, 6) > 3);
  }
}

TEST_CASE("coupling flow: reversible mode keeps the tape's memory flat in depth", "[coupling][invertible]") {
  const Tensor x = uniform({2, 256, 6}, -1, 1, 8, TensorOptions(DType::f32));
  auto held = [&](int64_t K, bool rev) {
    auto f = flow(6, K, DType::f32, 31);
    f->set_reversible(rev);
    const nn::FlowResult r = f->forward(x);
    const autograd::GraphStats st = autograd::graph_stats({r.y, r.logdet});
    // The graph is usable: backward runs and reaches the first block's parameters.
    flow_probe(r, 9).backward();
    REQUIRE(f->parameters().front().grad().defined());
    return st.saved_bytes;
  };
  const int64_t rev2 = held(2, true), rev8 = held(8, true);
  const int64_t st2 = held(2, false), st8 = held(8, false);
  INFO("saved bytes: reversible K=2 " << rev2 << ", K=8 " << rev8 << "; stored K=2 " << st2 << ", K=8 " << st8);
  REQUIRE(rev2 > 0);
  REQUIRE(rev8 == rev2);                        // flat in the number of blocks
  REQUIRE(st8 > 3 * st2);                       // the stored mode grows with depth ...
  REQUIRE(rev8 * 4 < st8);                      // ... and holds far more at K = 8
}

TEST_CASE("autograd::grad returns gradients without touching .grad", "[coupling][autograd]") {
  const Tensor a = pg::test::leaf64({3}, -1, 1, 50), b = pg::test::leaf64({3}, -1, 1, 51);
  const Tensor y = sum(mul(mul(a, a), b));
  const auto g = autograd::grad({y}, {Tensor()}, {a});
  REQUIRE(g.size() == 1);
  pg::test::require_close(g[0], mul(mul(a, b), 2.0).detach(), 1e-15);
  REQUIRE_FALSE(a.grad().defined());
  REQUIRE_FALSE(b.grad().defined());  // an unlisted leaf receives nothing
  const Tensor c = pg::test::leaf64({3}, -1, 1, 52);
  const auto g2 = autograd::grad({sum(mul(a, 3.0))}, {Tensor()}, {a, c});
  REQUIRE(g2[0].defined());
  REQUIRE_FALSE(g2[1].defined());  // not reached
  REQUIRE_THROWS_WITH(autograd::grad({sum(mul(a, 3.0))}, {Tensor()}, {mul(a, 2.0)}),
                      Catch::Contains("must be a leaf"));
}

TEST_CASE("coupling block errors", "[coupling][invertible]") {
  REQUIRE_THROWS_WITH(nn::AffineCouplingBlock(1), Catch::Contains("at least 2 channels"));
  nn::CouplingBlockOptions o;
  o.clamp = 0.0;
  REQUIRE_THROWS_WITH(nn::AffineCouplingBlock(4, o), Catch::Contains("clamp"));
  nn::AffineCouplingBlock blk(4);
  REQUIRE_THROWS_WITH(blk.forward(zeros({2, 5, 3})), Catch::Contains("[B, N, 4]") && Catch::Contains("[2, 5, 3]"));
  REQUIRE_THROWS_WITH(blk.inverse(zeros({5, 4})), Catch::Contains("AffineCouplingBlock.inverse"));
  nn::InvertibleSequence seq;
  REQUIRE_THROWS_WITH(seq.push_back(std::shared_ptr<nn::AffineCouplingBlock>()), Catch::Contains("null block"));
}
