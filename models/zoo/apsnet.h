// APSNet's sampling network (Ye, Yang, Ji; METHODS.md §6.1): an attention-based point generator
// whose every output point is a convex combination of the input points.
//
//   features X = per point 3 → 64 → 64 → 64 → 128 → bottleneck (1×1 conv + BN + ReLU each,
//                PyTorch BN ε 1e-5), X ∈ R^{B×N×d}; global feature g = max over points [B, d]
//   2-layer LSTM (input 3, hidden d, batch first; nn::LSTM, PyTorch init U(±1/√d))
//   initial state h₀ = 0 and c₀ = g for every layer (the released code's choice [C]); x₀ = 0
//   step t: h_t = the top layer's output; a_t = softmax_i(<X_i, h_t>) over all N points (plain
//           dot product, ops/attention_pool.h); q_t = Σ_i a_it p_i; x_{t+1} = q_t
// forward(points, T) runs T steps: points [B, T, 3] (differentiable w.r.t. every parameter and
// the input) and the attention weights [B, T, N] (rows sum to 1). Being autoregressive, the
// first c of T generated points do not depend on T: prefixes are the points of smaller sizes.
// The hidden size equals the bottleneck d (c₀ = g and <X_i, h_t> need it).
// B >= 2 in training mode (BatchNorm statistics).
//
// Errors (pg::Error naming "APSNet" and the values): bottleneck or layers < 1, input not
// [B, N, 3], T < 1, a non-finite input coordinate (names cloud, point and value).
#pragma once

#include <cstdint>
#include <memory>

#include "core/random.h"
#include "models/nn/lstm.h"
#include "models/nn/module.h"
#include "models/nn/shared_mlp.h"

namespace pg::models {

struct APSNetConfig {
  int64_t bottleneck = 128;  // d: feature size = LSTM hidden size
  int64_t layers = 2;        // LSTM layers
  TensorOptions tensor = {};
  Generator* gen = nullptr;
};

struct APSNetOutput {
  Tensor points;   // [B, T, 3]: generated points, convex combinations of the input
  Tensor weights;  // [B, T, N]: the attention weights that produced them
};

class APSNet : public nn::Module {
 public:
  explicit APSNet(APSNetConfig cfg);
  APSNetOutput forward(const Tensor& points, int64_t steps) const;
  // The generated points [B, steps, 3] alone. When autograd is not recording (inference) the
  // LSTM steps and the attention run fused (ops/lstm_decode.h: the same values, one persistent
  // launch on CUDA); otherwise forward(points, steps).points.
  Tensor generate(const Tensor& points, int64_t steps) const;
  const APSNetConfig& config() const { return cfg_; }

  std::shared_ptr<nn::SharedMLP> encoder;
  std::shared_ptr<nn::LSTM> lstm;

 private:
  void check_call(const Tensor& points, int64_t steps) const;
  APSNetConfig cfg_;
};

}  // namespace pg::models
