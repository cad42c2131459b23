// Ball query (pointnet2 / PU-Net / PU-GAN `query_ball_point` semantics) and a row top-k index
// selection, CPU and CUDA. Neither is differentiable (index outputs); gather the coordinates
// (pg::gather, pg::group_points) to differentiate through them.
//
//   BallQueryResult ball_query(query [B, M, 3], ref [B, N, 3], radius, nsample)
//     idx   [B, M, nsample] int64: for every query point the FIRST nsample reference indices, in
//           increasing index order, whose squared distance is < radius² (strict; r² = radius·
//           radius rounded to the dtype). Remaining slots repeat the first hit (pointnet2's
//           padding). When nothing lies inside the ball every slot is 0 (pointnet2's PyTorch
//           op zero-fills; the TF op of PU-Net/PU-GAN leaves the row uninitialised).
//     count [B, M] int64: number of hits stored, min(#inside, nsample) (the TF op's pts_cnt).
//     Note the query/ref order: query first (as pg::knn), i.e. pointnet2's (new_xyz, xyz).
//     Distances: ((dx·dx + dy·dy) + dz·dz) rounded per operation (no FMA) on both backends, so
//     CPU and CUDA return identical indices. The TF op compares the Euclidean distance
//     (sqrt) with radius; that differs only by rounding at the boundary.
//
//   Tensor group_points(points [B, N, C], idx [B, M, S] int64) → [B, M, S, C]
//     out[b, m, s] = points[b, idx[b, m, s]] (pointnet2's grouping_operation, channels-last).
//     Differentiable in points (a gather).
//
//   Tensor smallest_k(values [..., S] float, k) → int64 [..., k]
//     Slot indices of the k smallest values along the last dim, ascending; equal values: the
//     lower slot first (tf.nn.top_k's rule); NaN sorts after every number.
//
// Errors (pg::Error naming the op and the values): wrong rank/last dim, integer point dtypes,
// mixed dtypes/devices, batch mismatch, empty clouds, nsample < 1, radius not finite or <= 0,
// idx not int64 / wrong rank / batch mismatch / out of range (group_points), k < 1 or k > S,
// values not floating or 0-dim (smallest_k).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace pg {

struct BallQueryResult {
  Tensor idx;    // [B, M, nsample] int64
  Tensor count;  // [B, M] int64
};

BallQueryResult ball_query(const Tensor& query, const Tensor& ref, double radius, int64_t nsample);

Tensor group_points(const Tensor& points, const Tensor& idx);

Tensor smallest_k(const Tensor& values, int64_t k);

}  // namespace pg
