// PointLIE's decomposition module (METHODS.md §11.2), forward direction:
//
//   Decomposition pointlie_decompose(features [B, N, d], k = 3, fps_start = 0)
//     1. FPS on the coordinates (features[..., 0:3]) picks M = N / 2 (floor) points, from index
//        fps_start (ops/fps.h: exact, deterministic) → sampled_idx [B, M] (FPS order) and
//        sampled = their feature rows [B, M, d] (Q_s⁰).
//     2. discarded_idx [B, N − M]: the other points, in ascending index order.
//     3. For every sampled point, its k nearest DISCARDED points by coordinate distance (ops/knn.h:
//        ascending squared distance, equal distances → the lower discarded position first) →
//        neighbor_idx [B, M, k] (indices into the input's points).
//     4. offsets [B, M, k·d] (Q_r⁰): neighbour j's feature row minus the centre's row, neighbour j
//        (j-th nearest) at channels [j·d, (j + 1)·d).
// The first 3 channels must be xyz; d ≥ 3. Differentiable w.r.t. the features through the
// gathers (the choice of points is not). The complement of the FPS picks is built on the host
// (one small device → host copy of the indices on CUDA).
//
// Errors (pg::Error naming "pointlie_decompose"): features not floating [B, N, d] with d ≥ 3,
// k < 1, fewer than k discarded points (N − N/2 < k), FPS errors (NaN coordinates, ...).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace pg::models {

struct Decomposition {
  Tensor sampled;        // [B, M, d]
  Tensor offsets;        // [B, M, k·d]
  Tensor sampled_idx;    // [B, M] int64, FPS order
  Tensor discarded_idx;  // [B, N − M] int64, ascending
  Tensor neighbor_idx;   // [B, M, k] int64 into the input's points, nearest first
};

Decomposition pointlie_decompose(const Tensor& features, int64_t k = 3, int64_t fps_start = 0);

}  // namespace pg::models
