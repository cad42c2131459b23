// Attention pooling (APSNet, the method notes METHODS.md §6.1), CPU and CUDA: every query vector attends
// over the points of its cloud and returns the attention-weighted average of their coordinates.
//
//   AttentionPoolResult attention_pool(features [B, N, C], query [B, T, C] or [B, C], coords [B, N, D])
//     weights [B, T, N]: a_it = softmax_i(s_it), s_it = <features[b,i], query[b,t]> (plain dot
//                        product: no scaling, no learned projection; maximum subtracted).
//     output  [B, T, D]: Σ_i a_it coords[b,i] (a convex combination of the coordinates).
//   A 2-D query [B, C] gives output [B, D] and weights [B, N] (T = 1 squeezed away).
//
// Gradients (first order) w.r.t. features, query and coords, from output and weights: with
// h_it = ∂L/∂a_it + <∂L/∂output_t, coords_i> and ds_it = a_it (h_it − Σ_j a_jt h_jt):
//   ∂L/∂features_i = Σ_t ds_it query_t,  ∂L/∂query_t = Σ_i ds_it features_i,
//   ∂L/∂coords_i = Σ_t a_it ∂L/∂output_t.
// The fused kernels compute the forward and ds (one row (b, t) per CPU iteration / CUDA block);
// the three sums are batched matrix products (pg::bmm), deterministic on both devices.
//
// Errors (pg::Error naming "attention_pool"): wrong ranks, integer dtypes, mixed dtypes or
// devices, batch sizes that differ, features/coords with different N, features/query with
// different C, and empty dimensions (B, N, C, D or T == 0).
#pragma once

#include "core/tensor.h"

namespace pg {

struct AttentionPoolResult {
  Tensor output;   // [B, T, D] (or [B, D] for a 2-D query)
  Tensor weights;  // [B, T, N] (or [B, N])
};

AttentionPoolResult attention_pool(const Tensor& features, const Tensor& query, const Tensor& coords);

}  // namespace pg
