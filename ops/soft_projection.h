// Soft projection (SampleNet, Lang et al. CVPR 2020; the method notes METHODS.md §5.2), CPU and CUDA.
//
//   SoftProjectionResult soft_projection(query [B, M, 3], points [B, N, 3], t, opts)
//     idx       [B, M, k] int64: the k nearest input points of every query (pg::knn, exact,
//                                sorted by distance, ties → lower index); no gradient.
//     sigma     0-d: σ = max(t², opts.min_sigma) (the projection loss term the caller adds).
//     weights   [B, M, k]: w_s = softmax_s(−d_s / σ), d_s = |q − p_idx[s]|² (computed stably as
//                          exp(−(d_s − min d)/σ) / Σ).
//     projected [B, M, 3]: r = Σ_s w_s p_idx[s].
//   Hard mode (opts.hard, inference, SampleNet Eq. 12): weights one-hot at the nearest
//   neighbour, projected = that neighbour; σ is still returned (and differentiable in t) but the
//   projection gives no gradient to t or to query.
//
// t: the learnable temperature, a 0-d or [1] tensor of the query's dtype and device (SampleNet
// initialises it to 1). min_sigma: PyTorch SampleNet uses 1e-2, the TF code no floor (0).
//
// Gradients (first order) w.r.t. query, points and t, from projected, weights and sigma:
//   with h_s = ∂L/∂w_s + <∂L/∂r, p_s>, c_s = w_s (h_s − Σ_j w_j h_j):
//   ∂L/∂q = −(2/σ) Σ_s c_s (q − p_s);  ∂L/∂p_idx[s] += w_s ∂L/∂r + (2/σ) c_s (q − p_s);
//   ∂L/∂σ = ∂L/∂sigma + Σ c_s d_s / σ²;  ∂L/∂t = ∂L/∂σ · 2t when t² > min_sigma, else 0.
// The point scatter and the σ sum are deterministic on the CPU; CUDA uses atomicAdd (float
// results not bit-reproducible). Where kNN distances tie, the gradient follows the selected
// neighbours.
//
// Errors (pg::Error naming "soft_projection"): query / points not [B, n, 3] float32/float64,
// empty clouds, mixed dtypes or devices, different batch sizes, k < 1, k > N, NaN/Inf
// coordinates, t not a 0-d/[1] tensor of the same dtype and device, non-finite t, min_sigma < 0
// or non-finite, and σ == 0 in soft mode (t == 0 without a floor). Reading t costs one
// synchronising 1-element copy on CUDA.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace pg {

struct SoftProjectionOptions {
  int64_t k = 7;           // neighbourhood size (SampleNet: classification 7, reconstruction 16, registration 8)
  double min_sigma = 0.0;  // floor on σ = t² (PyTorch SampleNet 1e-2, TF none)
  bool hard = false;       // argmax mode: projected = nearest neighbour, one-hot weights, no gradient to t
};

struct SoftProjectionResult {
  Tensor projected;  // [B, M, 3]
  Tensor weights;    // [B, M, k]
  Tensor idx;        // [B, M, k] int64, sorted by distance
  Tensor sigma;      // 0-d, max(t², min_sigma)
};

SoftProjectionResult soft_projection(const Tensor& query, const Tensor& points, const Tensor& t,
                                     const SoftProjectionOptions& opts = {});

}  // namespace pg
