// Tape semantics: accumulation, no-grad, deep chains, freed tapes, in-place detection.
#include <catch2/catch.hpp>
#include <cmath>

#include "autograd/node.h"
#include "test_util.h"

using namespace pg;

TEST_CASE("a tensor used twice accumulates its gradient", "[autograd]") {
  Tensor x = tensor({1.0, 2.0, 3.0}, DType::f64);
  x.requires_grad_();
  Tensor y = sum(x * x + x * 3.0);  // dy/dx = 2x + 3
  y.backward();
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{5.0, 7.0, 9.0});
  // A second, independent graph accumulates into .grad.
  sum(x * 2.0).backward();
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{7.0, 9.0, 11.0});
  x.zero_grad();
  REQUIRE_FALSE(x.grad().defined());
}

TEST_CASE("a non-leaf used twice sums both gradient paths before propagating", "[autograd]") {
  // h = x * w is an interior node read by two consumers; its gradient must be the SUM of both
  // paths before it reaches x and w (an engine that runs h's backward once per consumer, or
  // keeps only the last path, gives a different value).
  Tensor x = tensor({1.0, -2.0, 3.0}, DType::f64).requires_grad_(true);
  Tensor w = tensor({0.5, 4.0, -1.0}, DType::f64).requires_grad_(true);
  Tensor h = x * w;                       // non-leaf
  Tensor y = sum(h * h) + sum(h * 3.0);   // dy/dh = 2h + 3
  y.backward();
  // h = {0.5, -8, -3}; dy/dh = {4, -13, -3}; dy/dx = dy/dh * w; dy/dw = dy/dh * x
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{2.0, -52.0, 3.0});
  REQUIRE(w.grad().to_vector<double>() == std::vector<double>{4.0, 26.0, -9.0});
  // The same non-leaf feeding one op twice (both operands of a mul) and a view of itself.
  Tensor a = tensor({2.0, -1.0}, DType::f64).requires_grad_(true);
  Tensor e = exp(a);                                 // non-leaf
  Tensor z = sum(e * e) + sum(e.reshape({2, 1}));    // dz/de = 2e + 1
  z.backward();
  const auto ga = a.grad().to_vector<double>();
  for (int i = 0; i < 2; ++i) {
    const double ei = std::exp(i == 0 ? 2.0 : -1.0);
    REQUIRE(ga[i] == Approx((2.0 * ei + 1.0) * ei).epsilon(1e-14));
  }
}

TEST_CASE("views share one gradient path into the base", "[autograd][views]") {
  Tensor x = tensor({1, 2, 3, 4, 5, 6}, DType::f64).reshape({2, 3}).detach();
  x.requires_grad_();
  Tensor y = sum(x.select(0, 1)) * 2.0 + sum(x.t().slice(0, 0, 1));  // 2 * row 1 + column 0
  y.backward();
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{1, 0, 0, 3, 2, 2});
}

TEST_CASE("no-grad regions record nothing", "[autograd]") {
  Tensor x = ones({3}, DType::f64);
  x.requires_grad_();
  Tensor y;
  {
    NoGradGuard guard;
    y = x * 2.0;
  }
  REQUIRE_FALSE(y.requires_grad());
  REQUIRE(y.grad_fn() == nullptr);
  Tensor z = x * 2.0;
  REQUIRE(z.requires_grad());
  REQUIRE(z.grad_fn() != nullptr);
  REQUIRE(z.grad_fn()->name() == "mul");
  Tensor d = z.detach();
  REQUIRE_FALSE(d.requires_grad());
  REQUIRE(d.storage() == z.storage());
  REQUIRE_THROWS_WITH(sum(d).backward(), Catch::Contains("does not require grad"));
}

TEST_CASE("a 10^6-node chain runs backward without stack overflow", "[autograd][slow]") {
  Tensor x = ones({1}, DType::f64);
  x.requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 1000000; ++i) y = (i % 2 == 0) ? y.unsqueeze(0) : y.squeeze(0);
  REQUIRE(y.shape() == Shape{1});
  y.backward();
  REQUIRE(x.grad().item() == 1.0);
  y = Tensor();  // destroying the chain must not recurse either
}

TEST_CASE("backward through a freed tape raises, retain_graph allows it", "[autograd][errors]") {
  Tensor x = tensor({0.5, 1.5}, DType::f64);
  x.requires_grad_();
  Tensor y = sum(exp(x));
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();  // second pass allowed because the first retained the graph
  const auto g = x.grad().to_vector<double>();
  REQUIRE(g[0] == Approx(2.0 * std::exp(0.5)));
  REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("backward through the graph a second time"));
}

TEST_CASE("backward of a non-scalar needs an explicit gradient", "[autograd][errors]") {
  Tensor x = ones({2, 2}, DType::f64);
  x.requires_grad_();
  Tensor y = x * 3.0;
  REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("only for a tensor with one element"));
  REQUIRE_THROWS_WITH(y.backward(ones({3}, DType::f64)), Catch::Contains("shape"));
  y.backward(full({2, 2}, 2.0, DType::f64));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{6, 6, 6, 6});
}

TEST_CASE("modifying a saved tensor in place is detected", "[autograd][errors]") {
  Tensor x = tensor({1.0, 2.0}, DType::f64);
  x.requires_grad_();
  Tensor e = exp(x);  // exp saves its output
  Tensor y = sum(e * 2.0);
  {
    NoGradGuard g;
    e.fill_(0.0);  // not differentiable in place; bumps the version
  }
  REQUIRE_THROWS_WITH(y.backward(), Catch::Contains("modified by an in-place operation"));
}

TEST_CASE("in-place ops on tensors requiring grad are rejected in grad mode", "[autograd][errors]") {
  Tensor x = ones({2}, DType::f64);
  x.requires_grad_();
  REQUIRE_THROWS_WITH(x.fill_(3.0), Catch::Contains("in-place"));
  {
    NoGradGuard g;
    x.fill_(3.0);
  }
  REQUIRE(x.to_vector<double>() == std::vector<double>{3.0, 3.0});
}

TEST_CASE("only floating leaves can require grad", "[autograd][errors]") {
  Tensor i = ones({2}, DType::i64);
  REQUIRE_THROWS_WITH(i.requires_grad_(), Catch::Contains("only floating tensors"));
}

TEST_CASE("gradcheck reports a wrong gradient", "[autograd][gradcheck]") {
  // exp(x) recorded with a deliberately wrong backward (2 * g) must fail and name the element.
  auto wrong = [](const std::vector<Tensor>& in) {
    Tensor x = in[0];
    Tensor out;
    {
      NoGradGuard g;
      out = exp(x);
    }
    autograd::record("wrong_exp", {x}, {out}, {out},
                     [](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                       return std::vector<Tensor>{g[0] * ctx.saved[0] * 2.0};
                     });
    return out;
  };
  Tensor x = test::leaf64({5}, -1, 1, 7);
  auto r = autograd::gradcheck(wrong, {x});
  REQUIRE_FALSE(r.ok);
  REQUIRE(r.worst_input == 0);
  REQUIRE(r.worst_index >= 0);
  REQUIRE_THAT(r.message, Catch::Contains("FAILED"));
  auto good = [](const std::vector<Tensor>& in) { return exp(in[0]); };
  auto r2 = autograd::gradcheck(good, {x});
  INFO(r2.message);
  REQUIRE(r2.ok);
  REQUIRE(r2.checked == 5);
}

TEST_CASE("gradcheck of views", "[autograd][gradcheck][views]") {
  Tensor x = test::leaf64({3, 4}, -1, 1, 11);
  test::check_grad([](const std::vector<Tensor>& in) { return in[0].t().slice(0, 1, 4, 2).reshape({-1}); }, {x});
  test::check_grad([](const std::vector<Tensor>& in) { return in[0].select(1, 2).unsqueeze(1).expand({3, 5}); }, {x});
  test::check_grad([](const std::vector<Tensor>& in) { return in[0].permute({1, 0}).contiguous().flatten(); }, {x});
  test::check_grad([](const std::vector<Tensor>& in) { return in[0].to(DType::f32).to(DType::f64) * 1.0; }, {x},
                   {1e-3, 1e-4, 1e-3});
  test::check_grad([](const std::vector<Tensor>& in) { return in[0].clone().squeeze().view({2, 6}); }, {x});
}
