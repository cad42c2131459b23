// MLP factories: a stack of layers from a list of widths {c0, c1, ..., cL} (L layers
// c_{i-1} → c_i), an activation name (models/nn/activation.h) and BN / dropout options.
//
// make_mlp → Sequential in PyTorch's flat nn.Sequential layout: per layer
//     Linear, [BatchNorm1d], activation, [Dropout]
// each a numbered child, so state names are exactly PyTorch's ("0.weight", "0.bias",
// "1.weight", "1.running_mean", ..., the activation and dropout children have no state).
// make_shared_mlp → SharedMLP (models/nn/shared_mlp.h): one fused child per layer ("0.conv.weight",
// "0.bn.running_var", ...), the per-point form of PointNet-style networks; tanh and sigmoid run
// after the fused op.
// Both work on any input [..., c0] (per point [B, N, c0] or per vector [B, c0]).
//
// The LAST layer gets BN / the activation only with last_batch_norm / last_activation (off by
// default: the usual output layer is linear), and never dropout.
// Initialisation: `init` when set; otherwise lecun_normal when the activation is selu (the
// self-normalising init SELU needs), else PyTorch's default. Dropout and initialisation draw
// from `gen` (the default generator when null).
// Errors: fewer than two widths, non-positive widths, unknown activation names, dropout outside
// [0, 1).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/nn/activation.h"
#include "models/nn/linear.h"
#include "models/nn/sequential.h"
#include "models/nn/shared_mlp.h"

namespace pg::nn {

struct MLPOptions {
  std::string activation = "relu";
  double negative_slope = 0.01;  // leaky_relu
  bool batch_norm = false;
  double dropout = 0.0;  // probability, after every hidden layer's activation
  bool last_activation = false;
  bool last_batch_norm = false;
  bool bias = true;
  std::optional<LinearInit> init;  // default: lecun_normal for selu, else pytorch
  double bn_eps = 1e-5;
  double bn_momentum = 0.1;
  TensorOptions tensor = {};
  Generator* gen = nullptr;
};

std::shared_ptr<Sequential> make_mlp(const std::vector<int64_t>& widths, const MLPOptions& opts = {});
std::shared_ptr<SharedMLP> make_shared_mlp(const std::vector<int64_t>& widths, const MLPOptions& opts = {});

// The init make_mlp / make_shared_mlp use for `opts`.
LinearInit mlp_init(const MLPOptions& opts);

}  // namespace pg::nn
