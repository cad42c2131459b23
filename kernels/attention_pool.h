// Attention pooling (APSNet) kernel launchers. Defined in kernels/common/attention_pool_impl.h
// (shared PG_HD per-row bodies) plus kernels/cpu/attention_pool.cpp and
// kernels/cuda/attention_pool.cu (backend execution strategies), instantiated there.
//
// Conventions (the ops layer has validated everything): features [B, N, C], query [B, T, C],
// coords [B, N, D], all contiguous, one floating dtype, on the backend's device; N, C, D >= 1.
// A "row" is one (b, t): scores s_i = <features[b,i], query[b,t]>, a = softmax_i(s) (maximum
// subtracted), output[b,t] = Σ_i a_i coords[b,i].
#pragma once

#include "core/tensor.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// output [B, T, D] and weights [B, T, N] (contiguous) are overwritten.
template <class Backend>
void attention_pool_forward(const Tensor& features, const Tensor& query, const Tensor& coords, const Tensor& output,
                            const Tensor& weights);

// Softmax backward of every row: dscore[b,t,i] = a_i (h_i − Σ_j a_j h_j) with
// h_i = g_weights[b,t,i] + <g_output[b,t], coords[b,i]> (= ∂L/∂s_i). g_weights may be undefined
// (zero). dscore [B, T, N] (contiguous) is overwritten. The input gradients are then products:
// ∂L/∂features = dscoreᵀ·query, ∂L/∂query = dscore·features, ∂L/∂coords = aᵀ·g_output.
template <class Backend>
void attention_pool_backward_scores(const Tensor& coords, const Tensor& weights, const Tensor& g_output,
                                    const Tensor& g_weights, const Tensor& dscore);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_ATTENTION_POOL_LAUNCHERS(X, B)                                                                                 \
  X(B, void, attention_pool_forward, (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&))         \
  X(B, void, attention_pool_backward_scores, (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&))

}  // namespace pg::kernels
