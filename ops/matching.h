// "Matching + FPS completion" (S-NET / SampleNet / APSNet inference, METHODS §1.4): turns a
// generated point set into a subset of the input cloud, batched, CPU and CUDA (no host loop
// over shapes on either backend).
//
//   MatchResult match_and_complete(generated [B, M', 3], points [B, N, 3], m)
//   1. nn[b, j] = the nearest point of points[b] to generated[b, j] (pg::knn, k = 1; equal
//      distances → the lower index);
//   2. the distinct values of nn[b, :] in order of FIRST occurrence (u_b of them);
//   3. if u_b < m: completion by farthest point sampling seeded with those u_b points
//      (pg::fps_seeded: the min-distance field starts from every seed, further picks are the
//      field's argmax, lowest index on ties);
//      if u_b >= m: the first m distinct indices (no FPS pick).
//   indices    [B, m] int64 into points' point dimension, on points' device; the first
//              num_unique[b] entries of row b come from the matching, the rest from FPS.
//              When a cloud has fewer than m distinct positions FPS repeats indices (see
//              ops/fps.h); with distinct positions the row has no repeated index.
//   num_unique [B] int64: min(u_b, m).
// Not differentiable (indices). generated and points may require grad (they are detached).
//
// Errors (pg::Error naming "match_and_complete" and the values, or the knn / fps_seeded message
// it forwards): wrong rank/last dim, integer dtypes, mixed dtypes or devices, batch sizes that
// differ, empty clouds (B, M' or N == 0), m < 1, m > N, NaN/Inf coordinates.
// Cost on CUDA: the kNN, one CTA per cloud for the unique (plus a [B, N] int32 scratch), the
// seeded FPS, and the small synchronising checks of knn/fps_seeded.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace pg {

struct MatchResult {
  Tensor indices;     // [B, m] int64 into points
  Tensor num_unique;  // [B] int64: how many came from matching before FPS completion
};

MatchResult match_and_complete(const Tensor& generated, const Tensor& points, int64_t m);

}  // namespace pg
