// Ball-query and row top-k kernel launchers (pointnet2 grouping semantics). Defined in
// kernels/common/ball_query_impl.h (shared PG_HD bodies) plus kernels/cpu/ball_query.cpp and
// kernels/cuda/ball_query.cu (backend strategies), instantiated there.
//
// Conventions (the ops layer has validated everything):
// * query [B, M, 3] and ref [B, N, 3] contiguous, one floating dtype, on the backend's device;
// * squared distances are computed with fps_sqdist (every operation rounded separately, no
//   fused multiply-add), so the CPU and CUDA results are bit-identical;
// * a reference j is inside the ball of query q when d²(q, j) < r2 (strict), r2 = radius² in T.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// idx [B, M, S] int64 and count [B, M] int64 contiguous, overwritten: idx[b, q, 0..c) are the
// first c = min(#inside, S) references inside the ball in increasing index order, the slots
// [c, S) repeat idx[b, q, 0] (0 when c == 0); count = c.
template <class Backend>
void ball_query(const Tensor& query, const Tensor& ref, double r2, int64_t S, const Tensor& idx, const Tensor& count);

// values [R, S] floating contiguous; out [R, k] int64 contiguous, overwritten with the slot
// indices of the k smallest values of each row in ascending order (equal values: lower slot
// first; NaN sorts after every number).
template <class Backend>
void smallest_k(const Tensor& values, int64_t k, const Tensor& out);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_BALL_QUERY_LAUNCHERS(X, B)                                                                   \
  X(B, void, ball_query, (const Tensor&, const Tensor&, double, int64_t, const Tensor&, const Tensor&)) \
  X(B, void, smallest_k, (const Tensor&, int64_t, const Tensor&))

}  // namespace pg::kernels
