// Optimizers against hand-computed values (PyTorch's formulas worked out step by step for a
// 2-element parameter and fixed gradients; the same numbers come out of torch.optim 1.13 in
// float64), state round trips, schedules and gradient clipping.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/nn/nn.h"
#include "ops/ops.h"
#include "test_util.h"

namespace {

using namespace pg;

// Fixed gradients for three steps of a parameter starting at p0.
const std::vector<double> kP0 = {1.0, -2.0};
const std::vector<std::vector<double>> kGrads = {{0.5, -1.0}, {0.2, 0.3}, {-0.4, 0.1}};

using MakeOpt = std::function<std::unique_ptr<nn::Optimizer>(std::vector<Tensor>)>;

// Runs three steps and checks the parameter after each against `expected`.
void run_three_steps(const MakeOpt& make, const std::vector<std::vector<double>>& expected, DType dt, double tol) {
  Tensor p = from_vector(kP0, {2}).to(dt);
  p.requires_grad_(true);
  auto opt = make({p});
  for (size_t s = 0; s < 3; ++s) {
    p.set_grad(from_vector(kGrads[s], {2}).to(dt));
    const uint64_t v = p.version();
    opt->step();
    REQUIRE(p.version() > v);
    const auto got = p.to_vector<double>();
    INFO("step " << s + 1);
    REQUIRE(got[0] == Approx(expected[s][0]).margin(tol));
    REQUIRE(got[1] == Approx(expected[s][1]).margin(tol));
  }
  REQUIRE(opt->step_count() == 3);
  REQUIRE(p.is_leaf());
  REQUIRE(p.requires_grad());
}

nn::SGDOptions sgd(double lr, double mom, double damp, double wd, bool nesterov) {
  return {lr, mom, damp, wd, nesterov};
}
nn::AdamOptions adam(double lr, double b1, double b2, double eps, double wd, bool ams) {
  return {lr, b1, b2, eps, wd, ams};
}

using pg::test::error_of;

}  // namespace

TEST_CASE("SGD: plain, momentum + weight decay, nesterov, dampening (hand-computed)", "[optim]") {
  for (DType dt : {DType::f64, DType::f32}) {
    const double tol = dt == DType::f64 ? 1e-12 : 2e-6;
    // p ← p − lr·g
    run_three_steps([](auto ps) { return std::make_unique<nn::SGD>(ps, sgd(0.1, 0, 0, 0, false)); },
                    {{0.95, -1.9}, {0.93, -1.93}, {0.97, -1.94}}, dt, tol);
    // d = g + 0.01·p; b = d (step 1), b = 0.9·b + d; p ← p − 0.1·b
    // step 1: d = (0.51, −1.02) → p = (0.949, −1.898)
    // step 2: d = (0.20949, 0.28102), b = (0.66849, −0.63698) → p = (0.882151, −1.834302)
    run_three_steps([](auto ps) { return std::make_unique<nn::SGD>(ps, sgd(0.1, 0.9, 0, 0.01, false)); },
                    {{0.949, -1.898}, {0.882151, -1.834302}, {0.861104749, -1.785139498}}, dt, tol);
    // nesterov: p ← p − lr·(d + μ·b)
    run_three_steps([](auto ps) { return std::make_unique<nn::SGD>(ps, sgd(0.1, 0.9, 0, 0, true)); },
                    {{0.905, -1.81}, {0.8265, -1.786}, {0.84985, -1.7564}}, dt, tol);
    // dampening 0.5 applies from the second step on: b = 0.9·b + 0.5·g
    run_three_steps([](auto ps) { return std::make_unique<nn::SGD>(ps, sgd(0.1, 0.9, 0.5, 0, false)); },
                    {{0.95, -1.9}, {0.895, -1.825}, {0.8655, -1.7625}}, dt, tol);
  }
}

TEST_CASE("Adam / AdamW / AMSGrad (hand-computed, bias correction, eps outside the sqrt)", "[optim]") {
  for (DType dt : {DType::f64, DType::f32}) {
    const double tol = dt == DType::f64 ? 1e-12 : 2e-6;
    // Step 1 with bias correction: m̂ = g, v̂ = g² → p ← p − lr·g/(|g| + ε) = p − 0.1·sign(g)
    // (up to ε: 0.1·0.5/(0.5 + 1e-8) = 0.099999998).
    run_three_steps([](auto ps) { return std::make_unique<nn::Adam>(ps, adam(0.1, 0.9, 0.999, 1e-8, 0, false)); },
                    {{0.900000002, -1.900000001},
                     {0.8101424839029282, -1.8572151424292265},
                     {0.7925145982082051, -1.830389924788512}},
                    dt, tol);
    // Adam's weight decay is L2 added to the gradient: g + 0.1·p.
    run_three_steps([](auto ps) { return std::make_unique<nn::Adam>(ps, adam(0.1, 0.9, 0.999, 1e-8, 0.1, false)); },
                    {{0.9000000016666666, -1.9000000008333333},
                     {0.8072814605072346, -1.8400703555381717},
                     {0.7702771947721945, -1.7894099287030216}},
                    dt, tol);
    // AdamW decays the parameter first: p ← p·(1 − lr·λ) = 0.99·p, then the Adam step.
    run_three_steps([](auto ps) { return std::make_unique<nn::AdamW>(ps, adam(0.1, 0.9, 0.999, 1e-8, 0.1, false)); },
                    {{0.890000002, -1.880000001},
                     {0.7912424838829282, -1.8184151424192265},
                     {0.7657021733493758, -1.7734057733543198}},
                    dt, tol);
    // AMSGrad with β2 = 0.99 keeps the running max of v.
    run_three_steps([](auto ps) { return std::make_unique<nn::Adam>(ps, adam(0.1, 0.9, 0.99, 1e-8, 0, true)); },
                    {{0.900000002, -1.900000001},
                     {0.8099948524284917, -1.8571340657121498},
                     {0.7923510972443201, -1.8302089835914892}},
                    dt, tol);
  }
}

TEST_CASE("Adam: large parameters match a scalar reference (multi-threaded CPU path)", "[optim]") {
  const int64_t n = 100003;  // above the parallel grain, odd size
  Tensor p = test::uniform({n}, -1, 1, 1, TensorOptions(DType::f64));
  p.requires_grad_(true);
  std::vector<double> ref = p.to_vector<double>(), m(n, 0.0), v(n, 0.0);
  nn::AdamW opt({p}, adam(0.01, 0.8, 0.95, 1e-6, 0.05, false));
  for (int s = 1; s <= 3; ++s) {
    Tensor g = test::uniform({n}, -2, 2, 10 + s, TensorOptions(DType::f64));
    p.set_grad(g);
    opt.step();
    const auto gv = g.to_vector<double>();
    const double bc1 = 1 - std::pow(0.8, s), bc2 = 1 - std::pow(0.95, s);
    for (int64_t i = 0; i < n; ++i) {
      ref[i] *= 1 - 0.01 * 0.05;
      m[i] = m[i] + 0.2 * (gv[i] - m[i]);
      v[i] = 0.95 * v[i] + 0.05 * gv[i] * gv[i];
      ref[i] -= (0.01 / bc1) * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + 1e-6);
    }
  }
  test::require_close(p, from_vector(ref, {n}), 1e-12);
}

TEST_CASE("Optimizer: parameters without a gradient are skipped (state and step count)", "[optim]") {
  Tensor a = from_vector(kP0, {2});
  Tensor b = from_vector(kP0, {2});
  a.requires_grad_(true);
  b.requires_grad_(true);
  nn::Adam opt({a, b}, adam(0.1, 0.9, 0.999, 1e-8, 0, false));
  a.set_grad(from_vector(kGrads[0], {2}));
  opt.step();
  REQUIRE(b.to_vector<double>() == std::vector<double>{1.0, -2.0});
  auto st = opt.state();
  REQUIRE(st.size() == 3);  // 0.step, 0.exp_avg, 0.exp_avg_sq
  REQUIRE(st[0].first == "0.step");
  // b's first update (optimizer step 2) still uses bias correction t = 1: a full lr-sized move.
  a.zero_grad();
  b.set_grad(from_vector(kGrads[0], {2}));
  opt.step();
  REQUIRE(b.to_vector<double>()[0] == Approx(0.900000002).margin(1e-6));
  REQUIRE(b.to_vector<double>()[1] == Approx(-1.900000001).margin(1e-6));
  REQUIRE(a.to_vector<double>()[0] == Approx(0.900000002).margin(1e-6));  // unchanged at step 2
  REQUIRE(opt.step_count() == 2);
  st = opt.state();
  REQUIRE(st.size() == 6);
  REQUIRE(st[3].first == "1.step");
  REQUIRE(st[3].second.item_int() == 1);
  // zero_grad drops every gradient.
  opt.zero_grad();
  REQUIRE_FALSE(b.grad().defined());
}

TEST_CASE("Optimizer: state round trip continues identically; mismatches listed", "[optim]") {
  auto make_param = [] {
    Tensor p = test::uniform({3, 4}, -1, 1, 42);
    p.requires_grad_(true);
    return p;
  };
  Tensor p1 = make_param(), p2 = make_param(), bias1 = zeros({4}), bias2 = zeros({4});
  bias1.requires_grad_(true);
  bias2.requires_grad_(true);
  nn::Adam o1({p1, bias1}, adam(0.05, 0.9, 0.99, 1e-8, 0.01, true));
  for (int s = 0; s < 2; ++s) {
    p1.set_grad(test::uniform({3, 4}, -1, 1, 100 + s));
    bias1.set_grad(test::uniform({4}, -1, 1, 200 + s));
    o1.step();
  }
  // Copy values and optimizer state into the second pair.
  {
    NoGradGuard ng;
    p2.copy_(p1);
    bias2.copy_(bias1);
  }
  nn::Adam o2({p2, bias2}, adam(0.05, 0.9, 0.99, 1e-8, 0.01, true));
  o2.load_state(o1.state());
  for (int s = 2; s < 4; ++s) {
    Tensor g = test::uniform({3, 4}, -1, 1, 100 + s), gb = test::uniform({4}, -1, 1, 200 + s);
    p1.set_grad(g);
    p2.set_grad(g);
    bias1.set_grad(gb);
    bias2.set_grad(gb);
    o1.step();
    o2.step();
  }
  REQUIRE(p1.to_vector<float>() == p2.to_vector<float>());
  REQUIRE(bias1.to_vector<float>() == bias2.to_vector<float>());

  // Every problem in one error.
  nn::NamedTensors bad = o1.state();
  bad.erase(bad.begin() + 2);                         // 0.exp_avg_sq missing
  bad[1].second = zeros({4, 3});                      // 0.exp_avg wrong shape
  bad.emplace_back("7.exp_avg", zeros({1}));          // index out of range
  bad.emplace_back("1.momentum_buffer", zeros({4}));  // not an Adam state
  bad.emplace_back("garbage", zeros({1}));
  const std::string msg = error_of([&] { o2.load_state(bad); });
  REQUIRE(msg.find("missing: 0.exp_avg_sq") != std::string::npos);
  REQUIRE(msg.find("shape mismatch: 0.exp_avg (expected [3, 4], got [4, 3])") != std::string::npos);
  REQUIRE(msg.find("7.exp_avg") != std::string::npos);
  REQUIRE(msg.find("1.momentum_buffer") != std::string::npos);
  REQUIRE(msg.find("unexpected: garbage") != std::string::npos);
  // The hyperparameters are reported by name.
  bool found_lr = false;
  for (const auto& [k, v] : o1.hyperparameters()) found_lr |= (k == "lr" && v == 0.05);
  REQUIRE(found_lr);
}

TEST_CASE("Optimizer: argument validation", "[optim]") {
  Tensor p = zeros({2});
  p.requires_grad_(true);
  REQUIRE_THROWS_WITH(nn::SGD({p}, sgd(0.1, 0, 0, 0, true)), Catch::Contains("nesterov"));
  REQUIRE_THROWS_WITH(nn::SGD({p}, sgd(-0.1, 0, 0, 0, false)), Catch::Contains("lr"));
  REQUIRE_THROWS_WITH(nn::Adam({p}, adam(0.1, 1.0, 0.999, 1e-8, 0, false)), Catch::Contains("beta1"));
  REQUIRE_THROWS_WITH(nn::Adam({p, p}), Catch::Contains("more than once"));
  REQUIRE_THROWS_WITH(nn::Adam(std::vector<Tensor>{}), Catch::Contains("empty parameter list"));
  Tensor m = zeros({3, 4});
  REQUIRE_THROWS_WITH(nn::Adam({m.t()}), Catch::Contains("not contiguous"));
  REQUIRE_THROWS_WITH(nn::Adam({zeros({2}, TensorOptions(DType::i64))}), Catch::Contains("int64"));
  nn::SGD s({p}, sgd(0.1, 0.9, 0, 0, false));
  s.set_lr(0.5);
  REQUIRE(s.lr() == 0.5);
  REQUIRE_THROWS_AS(s.set_lr(-1), pg::Error);
  REQUIRE_THROWS_AS(s.set_hyperparameter("nope", 1.0), pg::Error);
}

TEST_CASE("Optimizer: trains a small regression", "[optim]") {
  Generator g(1);
  nn::Linear lin(4, 1, {true, nn::LinearInit::pytorch, {}, &g});
  Tensor x = test::uniform({64, 4}, -1, 1, 3);
  Tensor w_true = tensor({0.5, -1, 2, 0.25}, {4, 1});
  Tensor y = add(matmul(x, w_true), 0.3);
  nn::Adam opt(lin.parameters(), adam(0.05, 0.9, 0.999, 1e-8, 0, false));
  double first = 0, last = 0;
  for (int it = 0; it < 300; ++it) {
    opt.zero_grad();
    Tensor loss = mean(square(sub(lin.forward(x), y)));
    if (it == 0) first = loss.item<double>();
    last = loss.item<double>();
    loss.backward();
    opt.step();
  }
  REQUIRE(last < 1e-4 * first);
}

TEST_CASE("Schedules: step, exponential (staircase), cosine, clipped minimum, PointNet TF", "[optim]") {
  nn::StepDecay step(0.01, 20, 0.7);
  REQUIRE(step.value(0) == 0.01);
  REQUIRE(step.value(19) == 0.01);
  REQUIRE(step.value(20) == Approx(0.007));
  REQUIRE(step.value(45) == Approx(0.01 * 0.49));
  nn::ExponentialDecay smooth(1.0, 0.5, 10, false);
  REQUIRE(smooth.value(5) == Approx(std::sqrt(0.5)));
  nn::ExponentialDecay stair(1.0, 0.5, 10, true);
  REQUIRE(stair.value(5) == 1.0);
  REQUIRE(stair.value(10) == 0.5);
  nn::ExponentialDecay per_epoch(0.1, 0.9);
  REQUIRE(per_epoch.value(3) == Approx(0.1 * 0.729));
  nn::ExponentialDecay clipped(1.0, 0.1, 1, true, 1e-3);
  REQUIRE(clipped.value(2) == Approx(0.01));
  REQUIRE(clipped.value(5) == 1e-3);
  nn::CosineAnnealing cos(1.0, 10, 0.1);
  REQUIRE(cos.value(0) == Approx(1.0));
  REQUIRE(cos.value(5) == Approx(0.55));
  REQUIRE(cos.value(10) == Approx(0.1));
  REQUIRE(cos.value(50) == Approx(0.1));
  // TF PointNet: lr 0.001 × 0.7 every 200k samples, floor 1e-5; BN momentum 0.5 × 0.5, ≥ 0.01.
  auto lr = nn::pointnet_tf_lr();
  REQUIRE(lr->value(0) == Approx(0.001));
  REQUIRE(lr->value(199999) == Approx(0.001));
  REQUIRE(lr->value(200000) == Approx(0.0007));
  REQUIRE(lr->value(200000 * 5) == Approx(0.001 * std::pow(0.7, 5)));
  REQUIRE(lr->value(200000 * 20) == 1e-5);  // 0.001·0.7^20 < 1e-5: clipped
  REQUIRE(lr->value(200000 * 100) == 1e-5);
  auto bnm = nn::pointnet_tf_bn_momentum();
  REQUIRE(bnm->value(0) == 0.5);  // TF decay 0.5
  REQUIRE(bnm->value(400000) == Approx(0.125));
  REQUIRE(bnm->value(200000 * 7) == 0.01);  // TF decay clipped at 0.99
  // apply() sets the optimizer's lr.
  Tensor p = zeros({1});
  p.requires_grad_(true);
  nn::SGD opt({p});
  REQUIRE(step.apply(opt, 40) == Approx(0.0049));
  REQUIRE(opt.lr() == Approx(0.0049));
  REQUIRE_THROWS_AS(step.value(-1), pg::Error);
  REQUIRE_THROWS_AS(nn::StepDecay(0.1, 0, 0.5), pg::Error);
}

TEST_CASE("clip_grad_norm_ / clip_grad_value_", "[optim]") {
  Tensor a = zeros({2}), b = zeros({1}), c = zeros({3});
  for (Tensor* t : {&a, &b, &c}) t->requires_grad_(true);
  auto set = [&] {
    a.set_grad(tensor({3, 4}));
    b.set_grad(tensor({12}));
    c.zero_grad();  // no gradient: ignored
  };
  set();
  // ‖(3, 4, 12)‖ = 13
  REQUIRE(nn::grad_norm({a, b, c}) == Approx(13.0));
  const double total = nn::clip_grad_norm_({a, b, c}, 6.5);
  REQUIRE(total == Approx(13.0));
  const double coef = 6.5 / (13.0 + 1e-6);
  test::require_close(a.grad(), tensor({3 * coef, 4 * coef}), 1e-6);
  test::require_close(b.grad(), tensor({12 * coef}), 1e-6);
  REQUIRE_FALSE(c.grad().defined());
  // Below the threshold nothing changes.
  set();
  REQUIRE(nn::clip_grad_norm_({a, b}, 100.0) == Approx(13.0));
  REQUIRE(a.grad().to_vector<float>() == std::vector<float>{3, 4});
  // Max norm and 1-norm.
  set();
  REQUIRE(nn::clip_grad_norm_({a, b}, 6.0, INFINITY) == Approx(12.0));
  test::require_close(b.grad(), tensor({6.0}), 1e-5);
  set();
  REQUIRE(nn::grad_norm({a, b}, 1.0) == Approx(19.0));
  REQUIRE(nn::grad_norm({a, b}, 3.0) == Approx(std::cbrt(27.0 + 64.0 + 1728.0)));
  // Value clipping.
  a.set_grad(tensor({-3, 0.5}));
  nn::clip_grad_value_({a}, 1.0);
  REQUIRE(a.grad().to_vector<float>() == std::vector<float>{-1.0f, 0.5f});
  // Non-finite norms.
  a.set_grad(tensor({NAN, 1}));
  REQUIRE_THROWS_WITH(nn::clip_grad_norm_({a}, 1.0, 2.0, true), Catch::Contains("non-finite"));
  REQUIRE(std::isnan(nn::clip_grad_norm_({a}, 1.0)));
  REQUIRE_THROWS_AS(nn::clip_grad_norm_({a}, -1.0), pg::Error);
  // Non-contiguous gradients are handled (replaced by a contiguous copy).
  Tensor m = zeros({2, 3});
  m.requires_grad_(true);
  m.set_grad(tensor({1, 2, 3, 4, 5, 6}, {3, 2}).t());
  nn::clip_grad_value_({m}, 2.5);
  REQUIRE(m.grad().to_vector<float>() == std::vector<float>{1, 2.5, 2.5, 2, 2.5, 2.5});
}
