// PatchMLP: NeuralQAAD's decoder (METHODS.md §12.1). A trainable template cloud Q [M, 3] split
// into K patches of P = M / K points; every template point q of patch k and a shape code l [L]
// give one output point p̂ = MLP_k(l, q):
//
//   shared part (all patches, ordinary linears over all points):
//     h_0 = SELU(W_q · q + W_l · l + b)                (= a linear layer on [q, l])
//     h_i = SELU(Linear_i(h_{i−1}))                    for the remaining shared widths
//   per-patch part (GroupedLinear: one batched GEMM per layer over the K patches):
//     g_0 = [h_last, q]  (the folding input of Fig. 1: features and the template point again)
//     g_j = SELU(Grouped_j(g_{j−1})), no activation after the last layer (width 3).
//
// The first layer is computed as W_q·q (per template point) + W_l·l (per shape) broadcast over
// the batch, which equals a linear layer on the concatenation but costs M·3 + B·L multiply-adds
// per output width instead of B·M·(3 + L). Its init treats it as that one layer (fan_in 3 + L).
// All weights use LeCun-normal init, biases 0 (the init SELU networks need).
//
// Patches = k-d leaves of the initial template (decision, docs/decisions.md): the constructor
// orders `template_points` by the balanced k-d tree of kernels/emd.h (kd_balanced_order, the
// split EM-kD uses) with leaves of exactly P points, so rows [k·P, (k+1)·P) of Q are patch k.
// Q is then trained freely; patch membership is by row and never changes. K must be a power of
// two and divide M (equal patches make the grouped GEMM possible).
//
// No sharing (shared_widths empty; AtlasNetV2's decoder, the NeuralQAAD paper's baseline): the
// first per-patch layer reads [l, q] directly and in_q / in_code are null.
//
// Default widths (the paper lists "six layers" but five widths 256-128-128-64-3 and "the first
// four shared"): shared 256-128-128-128, per patch 64-3 — six layers, four shared.
//
// Errors (pg::Error): K not a power of two or not dividing M, a template that is not [M, 3] or
// holds NaN/Inf, an empty per-patch width list, a last patch width other than 3, codes that are not [B, L],
// template samples that are not [K, S, 3], local indices out of [0, P).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/random.h"
#include "models/nn/grouped_linear.h"
#include "models/nn/linear.h"
#include "models/nn/module.h"
#include "models/nn/sequential.h"

namespace pg::nn {

struct PatchMLPConfig {
  int64_t latent = 256;                                 // L
  int64_t patches = 16;                                 // K (a power of two)
  std::vector<int64_t> shared_widths = {256, 128, 128, 128};
  std::vector<int64_t> patch_widths = {64, 3};          // the last one must be 3
  TensorOptions tensor = {};                            // dtype and device of the parameters
  Generator* gen = nullptr;                             // initialisation draws
};

class PatchMLP : public Module {
 public:
  // template_points [M, 3] (any device; copied): the initial Q, reordered into k-d patches.
  PatchMLP(PatchMLPConfig cfg, const Tensor& template_points);

  // codes [B, L] → [B, M, 3]: every template point (Q's row order) decoded for every shape.
  Tensor forward(const Tensor& codes) const;
  // codes [B, L], q [K, S, 3] (S template points of each patch, e.g. template_points(idx)) →
  // [B, K, S, 3]. Differentiable in codes, q and every weight.
  Tensor forward_patches(const Tensor& codes, const Tensor& q) const;
  // The template points local[k][s] of patch k: local int64 [K, S] in [0, P) → [K, S, 3],
  // differentiable in Q. Their rows in Q are k·P + local[k][s].
  Tensor template_points(const Tensor& local) const;

  const PatchMLPConfig& config() const { return cfg_; }
  int64_t num_points() const { return m_; }               // M
  int64_t points_per_patch() const { return m_ / cfg_.patches; }  // P
  // Parameters of the shared part and of the per-patch part (Q not included in either).
  int64_t shared_parameter_count() const;
  int64_t patch_parameter_count() const;

  Tensor Q;                                  // [M, 3], patch-major
  std::shared_ptr<Linear> in_q;              // [3 → shared_widths[0]], with the bias (null: no sharing)
  std::shared_ptr<Linear> in_code;           // [L → shared_widths[0]], no bias (null: no sharing)
  std::shared_ptr<ModuleList> shared;        // Linear, shared_widths[i−1] → shared_widths[i]
  std::shared_ptr<ModuleList> patch;         // GroupedLinear per patch layer

 private:
  PatchMLPConfig cfg_;
  int64_t m_;
};

// The row order that splits `points` [M, 3] into `k` balanced k-d leaves of M / k points (leaf
// after leaf): out[r] = the row of `points` placed at r. k a power of two dividing M.
std::vector<int64_t> kd_patch_order(const Tensor& points, int64_t k);

}  // namespace pg::nn
