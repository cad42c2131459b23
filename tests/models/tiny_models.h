// Small registered models and a data set for the trainer and registry tests:
//   TinyData     items {"x": [4] float32, "y": [] int64}, 3 classes around separated centres.
//   TinyNet      "test_tiny": MLP 4 → hidden → 3 with BN and dropout (its own generator).
//   TinySampler  "test_sampler": a trainable 4×4 Linear in front of a FROZEN TinyNet loaded
//                from the checkpoint named by its config key "task".
#pragma once

#include <memory>
#include <string>

#include "datasets/dataset.h"
#include "datasets/host_rng.h"
#include "models/nn/mlp.h"
#include "models/nn/model_config.h"
#include "models/zoo/registry.h"
#include "ops/ops.h"

namespace pg::test {

class TinyData : public datasets::Dataset {
 public:
  explicit TinyData(int64_t n, uint64_t seed = 1) : n_(n), seed_(seed) {}
  int64_t size() const override { return n_; }
  datasets::Example get(int64_t i) const override {
    PG_CHECK(i >= 0 && i < n_, "TinyData: item ", i, " out of range");
    datasets::HostRng rng(seed_, {static_cast<uint64_t>(i)});
    const int64_t cls = i % 3;
    std::vector<float> x(4);
    for (int d = 0; d < 4; ++d) x[static_cast<size_t>(d)] = static_cast<float>((d == cls ? 2.0 : 0.0) + 0.5 * rng.normal());
    return {{"x", from_vector(x, {4})}, {"y", from_vector(std::vector<int64_t>{cls}, {})}};
  }
  std::string describe() const override { return "TinyData (" + std::to_string(n_) + " items)"; }

 private:
  int64_t n_;
  uint64_t seed_;
};

class TinyNet : public nn::Model {
 public:
  explicit TinyNet(int64_t hidden = 16, double dropout = 0.3, uint64_t init_seed = 1)
      : nn::Model("TinyNet"), gen(init_seed), hidden_(hidden), dropout_(dropout) {
    nn::MLPOptions o;
    o.activation = "selu";
    o.batch_norm = true;
    o.dropout = dropout;
    o.gen = &gen;
    mlp = register_module("mlp", nn::make_mlp({4, hidden, hidden, 3}, o));
  }
  Tensor forward(const Tensor& x) const { return mlp->forward(x); }
  nn::ModelConfig model_config() const override {
    nn::ModelConfig c("test_tiny");
    c.set_int("hidden", hidden_);
    c.set_double("dropout", dropout_);
    return c;
  }

  Generator gen;  // initialisation and dropout
  std::shared_ptr<nn::Sequential> mlp;

 private:
  int64_t hidden_;
  double dropout_;
};

class TinySampler : public nn::Model {
 public:
  explicit TinySampler(const std::string& task_path) : nn::Model("TinySampler"), task_path_(task_path) {
    Generator g(5);
    adapter = register_module("adapter", std::make_shared<nn::Linear>(4, 4, nn::LinearOptions{true, nn::LinearInit::pytorch, {}, &g}));
    task = register_frozen("task", models::load_model_as<TinyNet>(task_path, Device::cpu(), "test_tiny"), task_path);
  }
  Tensor forward(const Tensor& x) const { return task->forward(adapter->forward(x)); }
  nn::ModelConfig model_config() const override {
    nn::ModelConfig c("test_sampler");
    c.set("task", task_path_);
    return c;
  }

  std::shared_ptr<nn::Linear> adapter;
  std::shared_ptr<TinyNet> task;

 private:
  std::string task_path_;
};

// Registers the two test models once per process.
inline void register_tiny_models() {
  if (!models::is_registered("test_tiny")) {
    models::register_model("test_tiny", [](const nn::ModelConfig& c) -> std::shared_ptr<nn::Model> {
      return std::make_shared<TinyNet>(c.get_int("hidden"), c.get_double("dropout"));
    });
  }
  if (!models::is_registered("test_sampler")) {
    models::register_model("test_sampler", [](const nn::ModelConfig& c) -> std::shared_ptr<nn::Model> {
      return std::make_shared<TinySampler>(c.get("task"));
    });
  }
}

}  // namespace pg::test
