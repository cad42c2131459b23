// nn building blocks: Module registration/traversal/placement, Linear and its initialisations,
// init functions, BatchNorm1d train/eval semantics, SharedMLP, Dropout.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "models/nn/nn.h"
#include "ops/nn.h"
#include "ops/ops.h"
#include "ops/pointnet.h"
#include "test_util.h"

namespace {

using namespace pg;
using pg::test::require_close;
using pg::test::uniform;

// A two-level model: own parameter + buffer, two children, one nested grandchild.
struct Toy : nn::Module {
  Tensor scale;
  Tensor counter;
  std::shared_ptr<nn::Linear> fc1;
  std::shared_ptr<nn::BatchNorm1d> bn;
  std::shared_ptr<nn::SharedMLP> head;
  Toy() : nn::Module("Toy") {
    scale = register_parameter("scale", ones({1}));
    counter = register_buffer("counter", zeros({}, TensorOptions(DType::i64)));
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(3, 4));
    bn = register_module("bn", std::make_shared<nn::BatchNorm1d>(4));
    head = register_module("head", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{4, 5, 2}));
  }
};

std::vector<std::string> names(const nn::NamedTensors& l) {
  std::vector<std::string> out;
  for (const auto& [n, t] : l) out.push_back(n);
  return out;
}

using pg::test::error_of;

}  // namespace

TEST_CASE("Module: hierarchical names in registration order", "[module]") {
  auto m = std::make_shared<Toy>();
  const std::vector<std::string> params = names(m->named_parameters());
  const std::vector<std::string> expected_params = {
      "scale",          "fc1.weight",         "fc1.bias",         "bn.weight",
      "bn.bias",        "head.0.conv.weight", "head.0.conv.bias", "head.0.bn.weight",
      "head.0.bn.bias", "head.1.conv.weight", "head.1.conv.bias", "head.1.bn.weight",
      "head.1.bn.bias"};
  REQUIRE(params == expected_params);
  const std::vector<std::string> bufs = names(m->named_buffers());
  const std::vector<std::string> expected_bufs = {"counter",
                                                  "bn.running_mean",
                                                  "bn.running_var",
                                                  "head.0.bn.running_mean",
                                                  "head.0.bn.running_var",
                                                  "head.1.bn.running_mean",
                                                  "head.1.bn.running_var"};
  REQUIRE(bufs == expected_bufs);
  // state_dict: per module its parameters, then its buffers, then the children.
  const auto sd = names(m->state_dict());
  REQUIRE(sd.size() == params.size() + bufs.size());
  REQUIRE(sd[0] == "scale");
  REQUIRE(sd[1] == "counter");
  REQUIRE(sd[2] == "fc1.weight");
  REQUIRE(sd[4] == "bn.weight");
  REQUIRE(sd[6] == "bn.running_mean");
  REQUIRE(m->is_parameter_name("bn.bias"));
  REQUIRE_FALSE(m->is_parameter_name("bn.running_var"));
  // Own-only listings.
  REQUIRE(names(m->named_parameters(false)) == std::vector<std::string>{"scale"});
  REQUIRE(m->named_children().size() == 3);
  const auto mods = m->named_modules();
  REQUIRE(mods.size() == 10);  // Toy, fc1, bn, head, head.0{,.conv,.bn}, head.1{,.conv,.bn}
  REQUIRE(mods[0].first.empty());
  REQUIRE(mods[3].first == "head");
  REQUIRE(mods[4].first == "head.0");
  REQUIRE(mods[5].first == "head.0.conv");
  // The handles are the module's members (identity, not copies).
  REQUIRE(m->named_parameters()[1].second.same(m->fc1->weight));
  REQUIRE(m->child("fc1").get() == m->fc1.get());
  REQUIRE_THROWS_WITH(m->child("nope"), Catch::Contains("fc1, bn, head"));
}

TEST_CASE("Module: registration errors", "[module]") {
  nn::Module m("M");
  m.register_parameter("w", zeros({2}));
  REQUIRE_THROWS_WITH(m.register_parameter("w", zeros({2})), Catch::Contains("already registered"));
  REQUIRE_THROWS_WITH(m.register_buffer("w", zeros({2})), Catch::Contains("already registered"));
  REQUIRE_THROWS_WITH(m.register_parameter("a.b", zeros({2})), Catch::Contains("must not contain '.'"));
  REQUIRE_THROWS_WITH(m.register_parameter("", zeros({2})), Catch::Contains("empty name"));
  REQUIRE_THROWS_WITH(m.register_parameter("i", zeros({2}, TensorOptions(DType::i64))),
                      Catch::Contains("requires grad"));
  Tensor leaf = ones({2}).requires_grad_(true);
  Tensor nonleaf = mul(leaf, 2.0);
  REQUIRE_THROWS_WITH(m.register_parameter("n", nonleaf), Catch::Contains("leaf"));
  REQUIRE_THROWS_WITH(m.register_buffer("b", leaf), Catch::Contains("must not require grad"));
  // Frozen parameters: registered without requires_grad, still counted and listed.
  m.register_parameter("frozen", zeros({3}), false);
  REQUIRE(m.num_parameters() == 5);
  REQUIRE(m.num_parameters(true) == 2);
  REQUIRE(m.trainable_parameters().size() == 1);
}

TEST_CASE("Module: train/eval, counting, zero_grad, requires_grad_", "[module]") {
  auto m = std::make_shared<Toy>();
  REQUIRE(m->is_training());
  m->eval();
  REQUIRE_FALSE(m->is_training());
  REQUIRE_FALSE(m->fc1->is_training());
  REQUIRE_FALSE(m->head->layer(1)->bn->is_training());
  m->train();
  REQUIRE(m->head->layer(1)->bn->is_training());
  // 1 + (3·4 + 4) + (4 + 4) + (4·5 + 5 + 5 + 5) + (5·2 + 2 + 2 + 2)
  REQUIRE(m->num_parameters() == 1 + 16 + 8 + 35 + 16);
  REQUIRE(m->summary().find("head.1.conv: Linear weight[2, 5] bias[2] [12 params]") != std::string::npos);
  REQUIRE(m->summary().find("total parameters: 76") != std::string::npos);

  Tensor x = uniform({2, 3}, -1, 1, 1);
  Tensor loss = sum(m->fc1->forward(x));
  loss.backward();
  REQUIRE(m->fc1->weight.grad().defined());
  m->zero_grad();
  REQUIRE_FALSE(m->fc1->weight.grad().defined());
  m->requires_grad_(false);
  REQUIRE(m->num_parameters(true) == 0);
  m->requires_grad_(true);
  REQUIRE(m->num_parameters(true) == 76);
}

TEST_CASE("Module: to(dtype) converts in place and keeps identity", "[module]") {
  nn::Linear lin(3, 2);
  Tensor w = lin.weight;  // an outside handle (e.g. held by an optimizer)
  const auto before = w.to_vector<double>();
  Tensor x = uniform({4, 3}, -1, 1, 2);
  sum(lin.forward(x)).backward();
  REQUIRE(w.grad().dtype() == DType::f32);
  lin.to(DType::f64);
  REQUIRE(w.same(lin.weight));
  REQUIRE(w.dtype() == DType::f64);
  REQUIRE(lin.bias.dtype() == DType::f64);
  REQUIRE(w.is_leaf());
  REQUIRE(w.requires_grad());
  REQUIRE(w.grad().dtype() == DType::f64);
  const auto after = w.to_vector<double>();
  for (size_t i = 0; i < before.size(); ++i) REQUIRE(after[i] == before[i]);  // f32 → f64 is exact
  REQUIRE(lin.device() == Device::cpu());
  // Still trainable after the move.
  lin.zero_grad();
  sum(lin.forward(x.to(DType::f64))).backward();
  REQUIRE(w.grad().defined());
  REQUIRE_THROWS_AS(lin.to(DType::i32), pg::Error);
  // Integer buffers keep their dtype.
  Toy toy;
  toy.to(DType::f64);
  REQUIRE(toy.counter.dtype() == DType::i64);
  REQUIRE(toy.bn->running_var.dtype() == DType::f64);
#if !PG_WITH_CUDA
  REQUIRE_THROWS_AS(lin.to(Device::cuda(0)), pg::Error);
#endif
}

TEST_CASE("Module: load_state_dict copies values and lists every mismatch", "[module]") {
  auto a = std::make_shared<Toy>();
  auto b = std::make_shared<Toy>();
  b->load_state_dict(a->state_dict());
  const auto sa = a->state_dict(), sb = b->state_dict();
  for (size_t i = 0; i < sa.size(); ++i) {
    INFO(sa[i].first);
    REQUIRE(sa[i].second.to_vector<double>() == sb[i].second.to_vector<double>());
    REQUIRE_FALSE(sa[i].second.same(sb[i].second));
  }
  // A broken state: one missing, one unexpected, two wrong shapes — all named in one error.
  nn::NamedTensors bad;
  for (const auto& [n, t] : sa) {
    if (n == "fc1.bias") continue;
    if (n == "bn.weight") {
      bad.emplace_back(n, zeros({5}));
    } else if (n == "head.1.conv.weight") {
      bad.emplace_back(n, zeros({2, 5, 1}));
    } else {
      bad.emplace_back(n, t);
    }
  }
  bad.emplace_back("extra.thing", zeros({1}));
  const std::string msg = error_of([&] { b->load_state_dict(bad); });
  REQUIRE(msg.find("missing: fc1.bias") != std::string::npos);
  REQUIRE(msg.find("unexpected: extra.thing") != std::string::npos);
  REQUIRE(msg.find("shape mismatch: bn.weight (expected [4], got [5])") != std::string::npos);
  REQUIRE(msg.find("shape mismatch: head.1.conv.weight") != std::string::npos);
  REQUIRE(msg.find("4 problems") != std::string::npos);
  // Non-strict ignores missing/unexpected names but not shapes.
  REQUIRE(b->state_dict_problems(bad, false).size() == 2);
}

TEST_CASE("init: fans, gains, bounds and seeding", "[module]") {
  REQUIRE(nn::init::fans(zeros({8, 3})) == std::pair<int64_t, int64_t>{3, 8});
  REQUIRE(nn::init::fans(zeros({8, 3, 5})) == std::pair<int64_t, int64_t>{15, 40});
  REQUIRE_THROWS_AS(nn::init::fans(zeros({8})), pg::Error);
  REQUIRE(nn::init::calculate_gain(nn::init::Nonlinearity::relu) == Approx(std::sqrt(2.0)));
  REQUIRE(nn::init::calculate_gain(nn::init::Nonlinearity::leaky_relu, std::sqrt(5.0)) == Approx(std::sqrt(1.0 / 3.0)));
  REQUIRE(nn::init::calculate_gain(nn::init::Nonlinearity::tanh) == Approx(5.0 / 3.0));

  // PyTorch default: U(±1/√in) for weight and bias.
  Generator g(7);
  nn::Linear lin(256, 512, {true, nn::LinearInit::pytorch, {}, &g});
  const double bound = 1.0 / 16.0;
  auto check_uniform = [](const Tensor& t, double b) {
    const auto v = t.to_vector<double>();
    double mx = 0, mean = 0, sq = 0;
    for (double x : v) {
      mx = std::max(mx, std::fabs(x));
      mean += x;
      sq += x * x;
    }
    mean /= static_cast<double>(v.size());
    sq /= static_cast<double>(v.size());
    REQUIRE(mx <= b);
    REQUIRE(mx > 0.95 * b);
    REQUIRE(std::fabs(mean) < 0.05 * b);
    // var of U(-b, b) is b²/3; the estimate's relative std is 0.9/√n: allow 4 sigma.
    REQUIRE(sq == Approx(b * b / 3.0).epsilon(3.6 / std::sqrt(static_cast<double>(v.size()))));
  };
  check_uniform(lin.weight, bound);
  check_uniform(lin.bias, bound);

  // Xavier (TF PointNet): U(±√(6/(in+out))), zero bias.
  nn::Linear xl(256, 512, {true, nn::LinearInit::xavier, {}, &g});
  check_uniform(xl.weight, std::sqrt(6.0 / 768.0));
  REQUIRE(max(abs(xl.bias)).item<double>() == 0.0);

  nn::Linear zl(4, 9, {true, nn::LinearInit::zeros});
  REQUIRE(max(abs(zl.weight)).item<double>() == 0.0);

  // Same seed → same weights; different seed → different weights.
  Generator g1(3), g2(3), g3(4);
  nn::Linear a(5, 6, {true, nn::LinearInit::pytorch, {}, &g1});
  nn::Linear b(5, 6, {true, nn::LinearInit::pytorch, {}, &g2});
  nn::Linear c(5, 6, {true, nn::LinearInit::pytorch, {}, &g3});
  REQUIRE(a.weight.to_vector<float>() == b.weight.to_vector<float>());
  REQUIRE(a.weight.to_vector<float>() != c.weight.to_vector<float>());

  // kaiming_normal_ (relu, fan_in): std = √2/√fan_in.
  Tensor w = empty({400, 200});
  nn::init::kaiming_normal_(w, 0.0, nn::init::FanMode::fan_in, nn::init::Nonlinearity::relu, &g);
  const double var = mean(square(w)).item<double>();
  REQUIRE(var == Approx(2.0 / 200.0).epsilon(0.05));
  Tensor e = empty({2, 3});
  nn::init::eye_(e);
  REQUIRE(e.to_vector<float>() == std::vector<float>{1, 0, 0, 0, 1, 0});
  // Initialisation bumps the version (autograd sees the in-place change).
  const uint64_t v0 = e.version();
  nn::init::zeros_(e);
  REQUIRE(e.version() > v0);
}

TEST_CASE("Linear: forward is x·Wᵀ + b over the last dim", "[module]") {
  nn::Linear lin(2, 3);
  {
    NoGradGuard ng;
    lin.weight.copy_(tensor({1, 2, 3, 4, 5, 6}, {3, 2}));
    lin.bias.copy_(tensor({0.5, -0.5, 1}));
  }
  Tensor x = tensor({1, -1, 2, 0.5, 0, 1, 3, 3}, {2, 2, 2});  // [B=2, N=2, C=2]
  Tensor y = lin.forward(x);
  REQUIRE(y.shape() == Shape{2, 2, 3});
  // row (1, -1): (1-2, 3-4, 5-6) + b = (-0.5, -1.5, 0)
  require_close(y.select(0, 0).select(0, 0), tensor({-0.5, -1.5, 0.0}), 1e-6);
  // row (3, 3): (9, 21, 33) + b
  require_close(y.select(0, 1).select(0, 1), tensor({9.5, 20.5, 34.0}), 1e-5);
  REQUIRE_THROWS_WITH(lin.forward(zeros({4, 3})), Catch::Contains("Linear: expected input [..., 2]"));
  nn::Linear nb(2, 3, {false});
  REQUIRE_FALSE(nb.bias.defined());
  REQUIRE(nb.num_parameters() == 6);
}

TEST_CASE("BatchNorm1d: training statistics, running update, eval", "[module]") {
  nn::BatchNorm1d bn(2, {1e-5, 0.1});
  // [B=2, N=2, C=2]: channel 0 values {1, 2, 3, 4}, channel 1 values {10, 10, 20, 20}.
  Tensor x = tensor({1, 10, 2, 10, 3, 20, 4, 20}, {2, 2, 2});
  Tensor y = bn.forward(x);
  REQUIRE(y.shape() == x.shape());
  // Channel 0: mean 2.5, biased var 1.25 → (1 - 2.5)/sqrt(1.25 + 1e-5).
  const auto yv = y.to_vector<double>();
  REQUIRE(yv[0] == Approx(-1.5 / std::sqrt(1.25 + 1e-5)).epsilon(1e-5));
  REQUIRE(yv[1] == Approx(-5.0 / std::sqrt(25.0 + 1e-5)).epsilon(1e-5));
  // Running stats: 0.9·0 + 0.1·mean; 0.9·1 + 0.1·unbiased var (var·R/(R−1), R = 4).
  require_close(bn.running_mean, tensor({0.25, 1.5}), 1e-6);
  require_close(bn.running_var, tensor({0.9 + 0.1 * 1.25 * 4.0 / 3.0, 0.9 + 0.1 * 25.0 * 4.0 / 3.0}), 1e-5);
  // Momentum can be scheduled.
  bn.set_momentum(0.5);
  bn.forward(x);
  require_close(bn.running_mean, tensor({0.5 * 0.25 + 0.5 * 2.5, 0.5 * 1.5 + 0.5 * 15.0}), 1e-5);
  REQUIRE_THROWS_AS(bn.set_momentum(1.5), pg::Error);
  // Eval: running statistics, no update.
  bn.eval();
  const auto rm = bn.running_mean.to_vector<double>();
  const auto rv = bn.running_var.to_vector<double>();
  Tensor ye = bn.forward(tensor({3, 7}, {1, 2}));
  REQUIRE(ye.to_vector<double>()[0] == Approx((3 - rm[0]) / std::sqrt(rv[0] + 1e-5)).epsilon(1e-5));
  REQUIRE(ye.to_vector<double>()[1] == Approx((7 - rm[1]) / std::sqrt(rv[1] + 1e-5)).epsilon(1e-5));
  REQUIRE(bn.running_mean.to_vector<double>() == rm);
  // Affine parameters are trainable; names follow PyTorch.
  REQUIRE(names(bn.named_parameters()) == std::vector<std::string>{"weight", "bias"});
  REQUIRE(names(bn.named_buffers()) == std::vector<std::string>{"running_mean", "running_var"});
  nn::BatchNorm1d plain(3, {1e-3, 0.01, false, false});
  REQUIRE(plain.num_parameters() == 0);
  REQUIRE(plain.named_buffers().empty());
  REQUIRE(plain.forward(uniform({4, 3}, -1, 1, 5)).shape() == Shape{4, 3});
  REQUIRE_THROWS_WITH(bn.forward(zeros({4, 3})), Catch::Contains("BatchNorm1d: expected input [..., 2]"));
}

TEST_CASE("SharedMLP: fused layers equal the composed ops; names; options", "[module]") {
  Generator g(11);
  nn::SharedMLPConfig cfg;
  cfg.gen = &g;
  nn::SharedMLP mlp({3, 8, 4}, cfg);
  REQUIRE(mlp.num_layers() == 2);
  Tensor x = uniform({2, 16, 3}, -1, 1, 9);
  // Reference with the separate ops on a twin with identical weights (its own running stats).
  nn::SharedMLP twin({3, 8, 4}, cfg);
  twin.load_state_dict(mlp.state_dict());
  Tensor y = mlp.forward(x);
  REQUIRE(y.shape() == Shape{2, 16, 4});
  Tensor h = x;
  for (size_t i = 0; i < 2; ++i) {
    const auto& l = twin.layer(i);
    h = relu(batch_norm(linear(h, l->conv->weight, l->conv->bias), l->bn->weight, l->bn->bias, l->bn->running_mean,
                        l->bn->running_var, true, 0.1, 1e-5));
  }
  require_close(y, h, 1e-4, 1e-4);
  // Both updated their running statistics the same way.
  require_close(mlp.layer(0)->bn->running_mean, twin.layer(0)->bn->running_mean, 1e-5, 1e-5);
  // Last layer without BN and activation (a logits layer).
  cfg.last_batch_norm = false;
  cfg.last_activation = false;
  nn::SharedMLP head({4, 6, 5}, cfg);
  REQUIRE(head.layer(0)->bn != nullptr);
  REQUIRE(head.layer(1)->bn == nullptr);
  REQUIRE(head.layer(1)->activation == Activation::none);
  REQUIRE(names(head.named_parameters()) == std::vector<std::string>{"0.conv.weight", "0.conv.bias", "0.bn.weight",
                                                                     "0.bn.bias", "1.conv.weight", "1.conv.bias"});
  Tensor z = head.forward(uniform({7, 4}, -1, 1, 3));
  REQUIRE(z.shape() == Shape{7, 5});
  REQUIRE(min(z).item<double>() < 0.0);  // no ReLU on the last layer
  head.set_bn_momentum(0.25);
  REQUIRE(head.layer(0)->bn->momentum() == 0.25);
  // Gradients reach every parameter (the conv bias under training BN gets an exact zero).
  sum(square(mlp.forward(x))).backward();
  for (const auto& [n, p] : mlp.named_parameters()) {
    INFO(n);
    REQUIRE(p.grad().defined());
  }
  REQUIRE(max(abs(mlp.layer(0)->conv->bias.grad())).item<double>() == 0.0);
  REQUIRE(max(abs(mlp.layer(0)->conv->weight.grad())).item<double>() > 0.0);
  REQUIRE_THROWS_AS(nn::SharedMLP(std::vector<int64_t>{3}), pg::Error);
}

TEST_CASE("Dropout: identity in eval, seeded masks in training", "[module]") {
  Generator g(5);
  nn::Dropout d(0.3, &g);
  Tensor x = ones({100, 100});
  Tensor y = d.forward(x);
  const auto v = y.to_vector<double>();
  int64_t zeros_n = 0;
  for (double e : v) {
    if (e == 0.0) {
      ++zeros_n;
    } else {
      REQUIRE(e == Approx(1.0 / 0.7));
    }
  }
  REQUIRE(static_cast<double>(zeros_n) / 1e4 == Approx(0.3).margin(0.03));
  // Re-seeding reproduces the mask.
  g.manual_seed(5);
  REQUIRE(d.forward(x).to_vector<double>() == v);
  d.eval();
  REQUIRE(d.forward(x).same(x));
  REQUIRE_THROWS_AS(nn::Dropout(1.5), pg::Error);
}
