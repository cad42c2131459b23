#include "models/nn/activation.h"

#include <cmath>

#include "core/error.h"
#include "ops/elementwise.h"

namespace pg::nn {

const char* activation_kind_name(ActivationKind k) {
  switch (k) {
    case ActivationKind::identity:
      return "identity";
    case ActivationKind::relu:
      return "relu";
    case ActivationKind::leaky_relu:
      return "leaky_relu";
    case ActivationKind::selu:
      return "selu";
    case ActivationKind::tanh:
      return "tanh";
    case ActivationKind::sigmoid:
      return "sigmoid";
  }
  return "?";
}

ActivationSpec parse_activation(const std::string& name, double negative_slope) {
  PG_CHECK(std::isfinite(negative_slope), "activation: leaky_relu slope must be finite, got ", negative_slope);
  ActivationSpec s;
  s.negative_slope = negative_slope;
  if (name == "none" || name == "linear") {
    s.kind = ActivationKind::identity;
    return s;
  }
  for (ActivationKind k : {ActivationKind::identity, ActivationKind::relu, ActivationKind::leaky_relu,
                           ActivationKind::selu, ActivationKind::tanh, ActivationKind::sigmoid}) {
    if (name == activation_kind_name(k)) {
      s.kind = k;
      return s;
    }
  }
  PG_FAIL("activation: unknown name '", name, "' (expected identity, relu, leaky_relu, selu, tanh or sigmoid)");
}

Tensor activate(const Tensor& x, const ActivationSpec& spec) {
  switch (spec.kind) {
    case ActivationKind::identity:
      return x;
    case ActivationKind::relu:
      return relu(x);
    case ActivationKind::leaky_relu:
      return leaky_relu(x, spec.negative_slope);
    case ActivationKind::selu:
      return selu(x);
    case ActivationKind::tanh:
      return tanh(x);
    case ActivationKind::sigmoid:
      return sigmoid(x);
  }
  PG_FAIL("activation: invalid kind");
}

std::optional<Activation> fused_activation(const ActivationSpec& spec) {
  switch (spec.kind) {
    case ActivationKind::identity:
      return Activation::none;
    case ActivationKind::relu:
      return Activation::relu;
    case ActivationKind::leaky_relu:
      return Activation::leaky_relu;
    case ActivationKind::selu:
      return Activation::selu;
    case ActivationKind::tanh:
    case ActivationKind::sigmoid:
      return std::nullopt;
  }
  return std::nullopt;
}

Tensor ReLU::forward(const Tensor& x) const { return relu(x); }

LeakyReLU::LeakyReLU(double negative_slope) : ActivationModule("LeakyReLU"), slope_(negative_slope) {
  PG_CHECK(std::isfinite(negative_slope), "LeakyReLU: negative_slope must be finite, got ", negative_slope);
}

Tensor LeakyReLU::forward(const Tensor& x) const { return leaky_relu(x, slope_); }

Tensor SELU::forward(const Tensor& x) const { return selu(x); }

Tensor Tanh::forward(const Tensor& x) const { return tanh(x); }

Tensor Sigmoid::forward(const Tensor& x) const { return sigmoid(x); }

std::shared_ptr<ActivationModule> make_activation(const ActivationSpec& spec) {
  switch (spec.kind) {
    case ActivationKind::identity:
      return std::make_shared<Identity>();
    case ActivationKind::relu:
      return std::make_shared<ReLU>();
    case ActivationKind::leaky_relu:
      return std::make_shared<LeakyReLU>(spec.negative_slope);
    case ActivationKind::selu:
      return std::make_shared<SELU>();
    case ActivationKind::tanh:
      return std::make_shared<Tanh>();
    case ActivationKind::sigmoid:
      return std::make_shared<Sigmoid>();
  }
  PG_FAIL("make_activation: invalid kind");
}

}  // namespace pg::nn
