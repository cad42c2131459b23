// Shared MLP: a stack of fused per-point layers over channels-last input [..., C] (point
// features [B, N, C] or feature vectors [B, C]). Each layer is ONE op (ops/pointnet.h
// shared_mlp): a GEMM with a per-channel fused epilogue
//     y = act(BN(x · Wᵀ + b))          (BN and act optional per layer)
// which is PointNet's "1×1 conv + BN + ReLU" (and equally its "FC + BN + ReLU" head layers).
//
// SharedMLP(widths = {c0, c1, ..., cL}) has L layers c_{i-1} → c_i, children "0", "1", ...;
// each layer (SharedMLPLayer) has children "conv" (a Linear: weight [c_i, c_{i-1}], bias) and,
// with batch_norm, "bn" (a BatchNorm1d). State names: "0.conv.weight", "0.conv.bias",
// "0.bn.weight", "0.bn.bias", "0.bn.running_mean", "0.bn.running_var", "1.conv.weight", ...
// (With BN in training the conv bias has no effect and receives an exactly zero gradient; it is
// kept so that checkpoints and initial distributions match PyTorch's Conv1d + BatchNorm1d.)
// Activations the fused epilogue lacks (tanh, sigmoid) run as one elementwise op after it
// (`post_activation`); optional dropout after every layer but the last is a parameterless child
// "drop" of the layer, so state names do not depend on it. See models/nn/mlp.h for factories
// that take an activation name.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/nn/activation.h"
#include "models/nn/batchnorm.h"
#include "models/nn/dropout.h"
#include "models/nn/linear.h"
#include "models/nn/module.h"
#include "ops/pointnet.h"

namespace pg::nn {

struct SharedMLPConfig {
  bool batch_norm = true;
  Activation activation = Activation::relu;
  double negative_slope = 0.01;  // leaky_relu
  // Whether the LAST layer also gets BN / the activation (PointNet: yes; a logits layer: no).
  bool last_batch_norm = true;
  bool last_activation = true;
  // Applied after the fused op (for tanh / sigmoid; keep `activation` = none then). Follows
  // last_activation like `activation`.
  ActivationKind post_activation = ActivationKind::identity;
  // Dropout probability after every layer except the last (0 = none), drawn from `gen`.
  double dropout = 0.0;
  bool bias = true;
  LinearInit init = LinearInit::pytorch;
  double bn_eps = 1e-5;
  double bn_momentum = 0.1;
  TensorOptions tensor = {};
  Generator* gen = nullptr;  // initialisation (and dropout) draws
  PointnetImpl impl = PointnetImpl::Auto;
};

class SharedMLPLayer : public Module {
 public:
  SharedMLPLayer(int64_t in, int64_t out, bool batch_norm, Activation act, const SharedMLPConfig& cfg,
                 ActivationKind post = ActivationKind::identity, double dropout = 0.0);
  // x [..., in] → [..., out]: one fused op (+ the post activation and dropout when set).
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }

  std::shared_ptr<Linear> conv;
  std::shared_ptr<BatchNorm1d> bn;  // null without batch norm
  std::shared_ptr<Dropout> drop;    // null without dropout
  Activation activation;
  ActivationKind post_activation;
  double negative_slope;
  PointnetImpl impl;
};

class SharedMLP : public Module {
 public:
  SharedMLP(const std::vector<int64_t>& widths, SharedMLPConfig cfg = {});
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }

  size_t num_layers() const { return layers_.size(); }
  const std::shared_ptr<SharedMLPLayer>& layer(size_t i) const { return layers_.at(i); }
  // Sets the momentum of every BatchNorm of the stack (BN decay schedules).
  void set_bn_momentum(double m);

 private:
  std::vector<std::shared_ptr<SharedMLPLayer>> layers_;
};

}  // namespace pg::nn
