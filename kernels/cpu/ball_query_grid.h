// CPU-only entry point of the ball query with an explicit strategy, so tests can compare the
// uniform-grid path with the generic scan (kernels/cpu/ball_query.cpp defines it; pg::ball_query
// calls it with BallQueryPath::automatic).
//
// Grid path, per cloud b: the finite reference points are counting-sorted into a uniform grid
// (cell edge h ≥ sqrt(r2)·(1 + 1e-4), enlarged until the grid has at most max(4096, 8·N) cells),
// each cell listing its points in increasing index order. A query gathers the points of the
// 3×3×3 cells around its own (nine contiguous runs of the sorted arrays), keeps those with
// fps_sqdist(query, ref) < r2 — the same expression as the generic body — and selects the S
// smallest indices. The margin on h (far above the rounding of the cell coordinates and of the
// distance) guarantees that every reference the generic scan would accept lies in those cells, so
// both paths return identical idx and count. Non-finite reference points never satisfy d² < r2
// and are left out; a query with a non-finite coordinate has no hit.
//
// automatic picks per cloud: the generic scan when the grid cannot be built (r2 not finite or
// not > 0, a non-finite bounding box, no finite reference, N > 2^27) or when a sample of up to
// 32 queries says it is cheaper (the scan stops after S hits, so a radius that is large against
// the cloud favours it: many candidates per grid neighbourhood, few scanned references).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace pg::kernels {

enum class BallQueryPath { automatic, generic, grid };

// Same contract as kernels::ball_query<CpuBackend> (query/ref contiguous CPU [B, M, 3] /
// [B, N, 3] of one floating dtype, idx [B, M, S] / count [B, M] int64 contiguous, r2 = radius²).
// `grid` forces the grid wherever it can be built (generic elsewhere). Returns the number of
// clouds that ran the grid path.
int64_t ball_query_cpu(const Tensor& query, const Tensor& ref, double r2, int64_t S, const Tensor& idx,
                       const Tensor& count, BallQueryPath path);

}  // namespace pg::kernels
