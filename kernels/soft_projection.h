// Soft-projection (SampleNet) kernel launchers. Defined in kernels/common/soft_projection_impl.h
// (shared PG_HD per-query bodies) plus kernels/cpu/soft_projection.cpp and
// kernels/cuda/soft_projection.cu (backend execution strategies), instantiated there.
//
// Conventions (the ops layer has validated everything): query [B, M, 3], points [B, N, 3] are
// contiguous, one floating dtype T, on the backend's device; idx [B, M, K] int64 contiguous, every
// entry in [0, N), sorted by distance (idx[..., 0] is the nearest neighbour). sigma > 0 in soft
// mode (any value in hard mode, where it is unused).
//
//   d_s = |q − p_idx[s]|²,  w = softmax_s(−d_s / σ) (computed as exp(−(d_s − min d) / σ) / Σ),
//   r = Σ_s w_s p_idx[s].  Hard mode: w = one-hot at s = 0, r = p_idx[0].
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// projected [B, M, 3], weights [B, M, K] (T, contiguous) are overwritten.
template <class Backend>
void soft_projection_forward(const Tensor& query, const Tensor& points, const Tensor& idx, double sigma, bool hard,
                             const Tensor& projected, const Tensor& weights);

// Backward given g_proj [B, M, 3] and g_weights [B, M, K] (contiguous, T) and the forward's
// weights. With h_s = g_w[s] + <g_r, p_s> and c_s = w_s (h_s − Σ_j w_j h_j) (= ∂L/∂u_s, u = −d/σ):
//   grad_query[b,m]        += −(2/σ) Σ_s c_s (q − p_s)
//   grad_points[b, idx[s]] += w_s g_r + (2/σ) c_s (q − p_s)
//   dsigma                 += Σ_{b,m,s} c_s (d_s − min d) / σ²     (a 0-d T tensor)
// Hard mode: grad_points[b, idx[0]] += g_r only (weights are constant, no query/σ gradient).
// Any of grad_query / grad_points / dsigma may be undefined (not needed); defined ones are
// ACCUMULATED into (callers pass zeros). CPU: deterministic (per-query pass in parallel, then a
// serial scatter and σ sum per cloud). CUDA: atomicAdd for the point scatter and the σ sum
// (float results are not bit-reproducible run to run).
template <class Backend>
void soft_projection_backward(const Tensor& query, const Tensor& points, const Tensor& idx, const Tensor& weights,
                              double sigma, bool hard, const Tensor& g_proj, const Tensor& g_weights,
                              const Tensor& grad_query, const Tensor& grad_points, const Tensor& dsigma);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_SOFT_PROJECTION_LAUNCHERS(X, B)                                                                                                                                                    \
  X(B, void, soft_projection_forward, (const Tensor&, const Tensor&, const Tensor&, double, bool, const Tensor&, const Tensor&))                                                              \
  X(B, void, soft_projection_backward, (const Tensor&, const Tensor&, const Tensor&, const Tensor&, double, bool, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&))

}  // namespace pg::kernels
