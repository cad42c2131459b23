// Activations as modules (for Sequential and the MLP factories), and the name → activation map
// the factories and model configs use.
//
//   name          function (ops/elementwise.h)                  module
//   "identity"    x  (also accepted: "none", "linear")          Identity
//   "relu"        max(x, 0)                                     ReLU
//   "leaky_relu"  x ≥ 0 ? x : slope·x   (slope default 0.01)    LeakyReLU
//   "selu"        PyTorch's SELU constants                      SELU
//   "tanh"        tanh(x)                                       Tanh
//   "sigmoid"     1 / (1 + e^−x)                                Sigmoid
//
// Every activation module derives from ActivationModule (a virtual Tensor forward(x)), has no
// parameters or buffers and keeps the input's shape, dtype and device. The fused shared-MLP
// epilogue (ops/pointnet.h) implements identity, relu, leaky_relu and selu; fused_activation()
// maps a spec to it (nullopt for tanh and sigmoid, which run as a separate elementwise op).
// Unknown names and non-finite slopes raise pg::Error listing the valid names.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "models/nn/module.h"
#include "ops/pointnet.h"

namespace pg::nn {

enum class ActivationKind : uint8_t { identity, relu, leaky_relu, selu, tanh, sigmoid };

struct ActivationSpec {
  ActivationKind kind = ActivationKind::relu;
  double negative_slope = 0.01;  // leaky_relu only
};

const char* activation_kind_name(ActivationKind k);
ActivationSpec parse_activation(const std::string& name, double negative_slope = 0.01);
// The activation applied to a tensor (a differentiable elementwise op; identity returns x).
Tensor activate(const Tensor& x, const ActivationSpec& spec);
// The fused-epilogue equivalent, when there is one.
std::optional<Activation> fused_activation(const ActivationSpec& spec);

class ActivationModule : public Module {
 public:
  explicit ActivationModule(std::string type_name) : Module(std::move(type_name)) {}
  virtual Tensor forward(const Tensor& x) const = 0;
  Tensor operator()(const Tensor& x) const { return forward(x); }
};

class Identity : public ActivationModule {
 public:
  Identity() : ActivationModule("Identity") {}
  Tensor forward(const Tensor& x) const override { return x; }
};

class ReLU : public ActivationModule {
 public:
  ReLU() : ActivationModule("ReLU") {}
  Tensor forward(const Tensor& x) const override;
};

class LeakyReLU : public ActivationModule {
 public:
  explicit LeakyReLU(double negative_slope = 0.01);
  Tensor forward(const Tensor& x) const override;
  double negative_slope() const { return slope_; }

 private:
  double slope_;
};

class SELU : public ActivationModule {
 public:
  SELU() : ActivationModule("SELU") {}
  Tensor forward(const Tensor& x) const override;
};

class Tanh : public ActivationModule {
 public:
  Tanh() : ActivationModule("Tanh") {}
  Tensor forward(const Tensor& x) const override;
};

class Sigmoid : public ActivationModule {
 public:
  Sigmoid() : ActivationModule("Sigmoid") {}
  Tensor forward(const Tensor& x) const override;
};

std::shared_ptr<ActivationModule> make_activation(const ActivationSpec& spec);

}  // namespace pg::nn
