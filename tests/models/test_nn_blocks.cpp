// Sequential, ModuleList, activation modules, the MLP factories (PyTorch state names, SELU with
// LeCun-normal init) and frozen children of modules.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "models/nn/activation.h"
#include "models/nn/batchnorm.h"
#include "models/nn/dropout.h"
#include "models/nn/linear.h"
#include "models/nn/mlp.h"
#include "models/nn/optim.h"
#include "models/nn/sequential.h"
#include "ops/ops.h"
#include "test_util.h"

using namespace pg;

namespace {

std::vector<std::string> names(const nn::NamedTensors& l) {
  std::vector<std::string> out;
  for (const auto& [n, t] : l) out.push_back(n);
  return out;
}

// Sample mean and standard deviation of a tensor's values.
std::pair<double, double> mean_std(const Tensor& t) {
  const auto v = t.to_vector<double>();
  double s = 0, s2 = 0;
  for (double x : v) s += x;
  const double m = s / static_cast<double>(v.size());
  for (double x : v) s2 += (x - m) * (x - m);
  return {m, std::sqrt(s2 / static_cast<double>(v.size()))};
}

}  // namespace

TEST_CASE("Sequential: chains modules, PyTorch names, typed access", "[nn_blocks][module]") {
  Generator g(1);
  auto seq = std::make_shared<nn::Sequential>();
  auto l0 = seq->push_back(std::make_shared<nn::Linear>(3, 5, nn::LinearOptions{true, nn::LinearInit::pytorch, {}, &g}));
  seq->push_back(std::make_shared<nn::ReLU>());
  auto inner = std::make_shared<nn::Sequential>();
  inner->push_back(std::make_shared<nn::Linear>(5, 2, nn::LinearOptions{true, nn::LinearInit::pytorch, {}, &g}));
  inner->push_back(std::make_shared<nn::Tanh>());
  seq->push_back(inner);
  CHECK(seq->size() == 3);
  CHECK(names(seq->state_dict()) == std::vector<std::string>{"0.weight", "0.bias", "2.0.weight", "2.0.bias"});
  const Tensor x = test::uniform({4, 3}, -1, 1, 2);
  const auto l1 = inner->at<nn::Linear>(0);
  test::require_close(seq->forward(x), tanh(linear(relu(linear(x, l0->weight, l0->bias)), l1->weight, l1->bias)), 0.0);
  CHECK(seq->at<nn::Linear>(0) == l0);
  CHECK_THROWS_WITH(seq->at<nn::BatchNorm1d>(0), Catch::Contains("child 0 is a Linear"));
  CHECK_THROWS_WITH((*seq)[3], Catch::Contains("index 3 is out of range (3 children)"));
  CHECK_THROWS_AS(seq->push_back(std::shared_ptr<nn::ReLU>()), pg::Error);
  // An empty Sequential is the identity.
  nn::Sequential empty_seq;
  test::require_close(empty_seq.forward(x), x, 0.0);
  // Gradients flow through every child.
  sum(square(seq->forward(x))).backward();
  for (const auto& [n, p] : seq->named_parameters()) {
    INFO(n);
    CHECK(p.grad().defined());
  }
}

TEST_CASE("ModuleList: numbered children of any kind", "[nn_blocks][module]") {
  nn::ModuleList list;
  list.push_back(std::make_shared<nn::Linear>(2, 3));
  list.push_back(std::make_shared<nn::BatchNorm1d>(3));
  list.push_back(std::make_shared<nn::Dropout>(0.5));
  CHECK(list.size() == 3);
  CHECK(names(list.state_dict()) ==
        std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"});
  CHECK(list.at<nn::BatchNorm1d>(1)->num_features() == 3);
  CHECK_THROWS_WITH(list.at<nn::Linear>(2), Catch::Contains("child 2 is a Dropout"));
  int count = 0;
  for (const auto& m : list) count += m != nullptr;
  CHECK(count == 3);
}

TEST_CASE("activations: modules equal the ops; names parse; errors", "[nn_blocks][module]") {
  const Tensor x = from_vector(std::vector<double>{-2.0, -0.5, 0.0, 0.3, 4.0}, {5});
  struct Case {
    std::string name;
    Tensor expected;
  };
  const std::vector<Case> cases = {{"identity", x},         {"none", x},
                                   {"relu", relu(x)},       {"leaky_relu", leaky_relu(x, 0.2)},
                                   {"selu", selu(x)},       {"tanh", tanh(x)},
                                   {"sigmoid", sigmoid(x)}, {"linear", x}};
  for (const Case& c : cases) {
    INFO(c.name);
    const nn::ActivationSpec spec = nn::parse_activation(c.name, 0.2);
    test::require_close(nn::make_activation(spec)->forward(x), c.expected, 0.0);
    test::require_close(nn::activate(x, spec), c.expected, 0.0);
    CHECK(nn::make_activation(spec)->state_dict().empty());
  }
  CHECK(nn::LeakyReLU(0.3).forward(x).to_vector<double>()[0] == Approx(-0.6));
  CHECK(nn::fused_activation(nn::parse_activation("selu")) == Activation::selu);
  CHECK_FALSE(nn::fused_activation(nn::parse_activation("tanh")).has_value());
  CHECK_THROWS_WITH(nn::parse_activation("gelu"), Catch::Contains("unknown name 'gelu'") && Catch::Contains("sigmoid"));
  CHECK_THROWS_AS(nn::LeakyReLU(NAN), pg::Error);
}

TEST_CASE("make_mlp: PyTorch nn.Sequential layout and names", "[nn_blocks][module]") {
  Generator g(3);
  nn::MLPOptions o;
  o.batch_norm = true;
  o.dropout = 0.25;
  o.gen = &g;
  auto mlp = nn::make_mlp({3, 8, 6, 2}, o);
  // Linear, BN, ReLU, Dropout per hidden layer; the output layer is a plain Linear.
  std::vector<std::string> types;
  for (const auto& [n, c] : mlp->named_children()) types.push_back(c->type_name());
  CHECK(types == std::vector<std::string>{"Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear", "BatchNorm1d", "ReLU",
                                          "Dropout", "Linear"});
  CHECK(names(mlp->state_dict()) ==
        std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                 "4.weight", "4.bias", "5.weight", "5.bias", "5.running_mean", "5.running_var",
                                 "8.weight", "8.bias"});
  mlp->eval();
  const Tensor x = test::uniform({5, 3}, -1, 1, 4);
  Tensor h = x;
  for (size_t i : {0, 4}) {
    auto lin = mlp->at<nn::Linear>(i);
    auto bn = mlp->at<nn::BatchNorm1d>(i + 1);
    h = relu(batch_norm(linear(h, lin->weight, lin->bias), bn->weight, bn->bias, bn->running_mean, bn->running_var,
                        false, 0.1, 1e-5));
  }
  h = linear(h, mlp->at<nn::Linear>(8)->weight, mlp->at<nn::Linear>(8)->bias);
  test::require_close(mlp->forward(x), h, 1e-6, 1e-6);
  // last_activation / last_batch_norm extend the output layer; no dropout after it.
  o.last_activation = true;
  o.last_batch_norm = true;
  auto full = nn::make_mlp({3, 4}, o);
  std::vector<std::string> t2;
  for (const auto& [n, c] : full->named_children()) t2.push_back(c->type_name());
  CHECK(t2 == std::vector<std::string>{"Linear", "BatchNorm1d", "ReLU"});
  CHECK_THROWS_WITH(nn::make_mlp({3}), Catch::Contains("at least two widths"));
  CHECK_THROWS_WITH(nn::make_mlp({3, 0, 2}), Catch::Contains("width 1 is 0"));
  o.dropout = 1.0;
  CHECK_THROWS_WITH(nn::make_mlp({3, 2}, o), Catch::Contains("dropout"));
}

TEST_CASE("make_shared_mlp: fused layers, tanh after the fused op, dropout inside the layer", "[nn_blocks][module]") {
  Generator g(5);
  nn::MLPOptions o;
  o.activation = "tanh";
  o.batch_norm = true;
  o.dropout = 0.5;
  o.gen = &g;
  auto mlp = nn::make_shared_mlp({3, 6, 4}, o);
  CHECK(names(mlp->state_dict()) == std::vector<std::string>{"0.conv.weight", "0.conv.bias", "0.bn.weight",
                                                             "0.bn.bias", "0.bn.running_mean", "0.bn.running_var",
                                                             "1.conv.weight", "1.conv.bias"});
  CHECK(mlp->layer(0)->drop != nullptr);
  CHECK(mlp->layer(1)->drop == nullptr);
  CHECK(mlp->layer(0)->activation == Activation::none);
  CHECK(mlp->layer(0)->post_activation == nn::ActivationKind::tanh);
  CHECK(mlp->layer(1)->post_activation == nn::ActivationKind::identity);
  mlp->eval();
  const Tensor x = test::uniform({2, 7, 3}, -1, 1, 6);
  const auto& l0 = mlp->layer(0);
  const auto& l1 = mlp->layer(1);
  Tensor h = tanh(batch_norm(linear(x, l0->conv->weight, l0->conv->bias), l0->bn->weight, l0->bn->bias,
                             l0->bn->running_mean, l0->bn->running_var, false, 0.1, 1e-5));
  h = linear(h, l1->conv->weight, l1->conv->bias);
  test::require_close(mlp->forward(x), h, 1e-6, 1e-6);
  // In training, dropout zeroes about half of the hidden features.
  mlp->train();
  const Tensor y = mlp->layer(0)->forward(x);
  const auto yv = y.to_vector<float>();
  int zeros_count = 0;
  for (float v : yv) zeros_count += v == 0.0f;
  CHECK(zeros_count > static_cast<int>(yv.size()) / 4);
  CHECK(zeros_count < static_cast<int>(yv.size()) * 3 / 4);
  // relu fuses into the epilogue.
  o.activation = "relu";
  o.dropout = 0.0;
  auto fused = nn::make_shared_mlp({3, 4, 4}, o);
  CHECK(fused->layer(0)->activation == Activation::relu);
  CHECK(fused->layer(0)->post_activation == nn::ActivationKind::identity);
}

TEST_CASE("SELU MLPs get LeCun-normal init and stay self-normalising", "[nn_blocks][module]") {
  Generator g(7);
  nn::MLPOptions o;
  o.activation = "selu";
  o.gen = &g;
  CHECK(nn::mlp_init(o) == nn::LinearInit::lecun_normal);
  auto net = nn::make_mlp({256, 256, 256, 256, 256, 256, 256, 256, 256}, o);
  const auto first = net->at<nn::Linear>(0);
  const auto [wm, ws] = mean_std(first->weight);
  CHECK(std::fabs(wm) < 0.003);
  CHECK(ws == Approx(1.0 / 16.0).epsilon(0.02));  // 1/sqrt(256), 65,536 samples
  CHECK(mean_std(first->bias).second == 0.0);
  CHECK(mean_std(first->bias).first == 0.0);
  // N(0, 1) inputs keep mean ≈ 0 and variance ≈ 1 through 8 SELU layers (the fixed point).
  Generator gx(8);
  const Tensor x = randn({512, 256}, TensorOptions(), &gx);
  NoGradGuard ng;
  Tensor h = x;
  for (size_t i = 0; i < net->size() - 1; i += 2) {
    h = net->at<nn::SELU>(i + 1)->forward(net->at<nn::Linear>(i)->forward(h));
  }
  const auto [hm, hs] = mean_std(h);
  CHECK(std::fabs(hm) < 0.1);
  CHECK(hs == Approx(1.0).margin(0.1));
  // The PyTorch default init (U(±1/√fan_in), variance 1/(3·fan_in)) collapses the signal instead.
  o.init = nn::LinearInit::pytorch;
  Generator g2(7);
  o.gen = &g2;
  auto plain = nn::make_mlp({256, 256, 256, 256, 256, 256, 256, 256, 256}, o);
  h = x;
  for (size_t i = 0; i < plain->size() - 1; i += 2) {
    h = plain->at<nn::SELU>(i + 1)->forward(plain->at<nn::Linear>(i)->forward(h));
  }
  CHECK(mean_std(h).second < 0.5);
}

namespace {

struct Parent : nn::Module {
  std::shared_ptr<nn::Linear> head;
  std::shared_ptr<nn::Sequential> task;
  explicit Parent(Generator* g) : nn::Module("Parent") {
    head = register_module("head", std::make_shared<nn::Linear>(3, 3, nn::LinearOptions{true, nn::LinearInit::pytorch, {}, g}));
    nn::MLPOptions o;
    o.batch_norm = true;
    o.dropout = 0.5;
    o.gen = g;
    task = register_frozen("task", nn::make_mlp({3, 4, 2}, o), "task.h5");
  }
};

}  // namespace

TEST_CASE("frozen children: no grad, eval mode, not in the state, moved along", "[nn_blocks][module][frozen]") {
  Generator g(9);
  Parent p(&g);
  CHECK(names(p.state_dict()) == std::vector<std::string>{"head.weight", "head.bias"});
  CHECK(names(p.named_parameters()) == std::vector<std::string>{"head.weight", "head.bias"});
  CHECK(p.trainable_parameters().size() == 2);
  CHECK(p.num_parameters() == 12);
  for (const auto& [n, t] : p.task->named_parameters()) CHECK_FALSE(t.requires_grad());
  CHECK_FALSE(p.task->is_training());
  p.train();
  CHECK(p.is_training());
  CHECK(p.head->is_training());
  CHECK_FALSE(p.task->is_training());
  CHECK_FALSE(p.task->at<nn::Dropout>(3)->is_training());
  p.requires_grad_(true);
  for (const auto& t : p.task->parameters()) CHECK_FALSE(t.requires_grad());
  const auto frozen = p.frozen_children();
  REQUIRE(frozen.size() == 1);
  CHECK(frozen[0].name == "task");
  CHECK(frozen[0].source == "task.h5");
  CHECK(p.summary().find("task: Sequential (frozen, from task.h5") != std::string::npos);
  // named_modules lists it unless asked not to.
  CHECK(p.named_modules().size() == 2 + 1 + p.task->size());
  CHECK(p.named_modules(false).size() == 2);
  // Frozen BN keeps its running statistics in a forward of the training parent.
  const Tensor mean_before = p.task->at<nn::BatchNorm1d>(1)->running_mean.clone();
  const Tensor y = p.task->forward(p.head->forward(test::uniform({6, 3}, -1, 1, 3)));
  test::require_close(p.task->at<nn::BatchNorm1d>(1)->running_mean, mean_before, 0.0);
  // Deterministic in eval mode (no dropout).
  test::require_close(p.task->forward(p.head->forward(test::uniform({6, 3}, -1, 1, 3))), y, 0.0);
  // A fingerprint changes with any value.
  const uint64_t f0 = nn::state_fingerprint(p.task->state_dict());
  CHECK(nn::state_fingerprint(p.task->state_dict()) == f0);
  {
    NoGradGuard ng;
    p.task->at<nn::Linear>(0)->bias.copy_(add(p.task->at<nn::Linear>(0)->bias, 1e-6));
  }
  CHECK(nn::state_fingerprint(p.task->state_dict()) != f0);
  // to(dtype) converts the frozen child too.
  p.to(DType::f64);
  CHECK(p.task->at<nn::Linear>(0)->weight.dtype() == DType::f64);
  CHECK(p.head->weight.dtype() == DType::f64);
}
