// k-nearest-neighbour kernel launchers (brute force) and the nearest-neighbour backward shared
// by kNN and Chamfer. Defined in kernels/common/knn_impl.h (shared PG_HD bodies) plus
// kernels/cpu/knn.cpp and kernels/cuda/knn.cu (backend execution strategies), instantiated there.
//
// Conventions (the ops layer has validated everything):
// * point clouds are contiguous [B, n, 3] of one floating dtype on the backend's device;
// * distances are squared Euclidean, computed in the difference form (x−y)·(x−y) in T;
// * top-K lists are sorted ascending by distance; equal distances keep the lower reference
//   index first (references are scanned in increasing index order and only a strictly smaller
//   distance displaces an entry);
// * sizes are int64; indices inside kernels are int32 (the ops layer rejects n >= 2^31).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/op_enums.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// Which forward strategy to run. Auto picks the fastest applicable one; the others exist for
// parity tests and benchmarks. A strategy that the backend does not have falls back to Auto.
//   Register: CUDA, float32, K <= 32 — top-K in registers (compile-time K buckets 1..32).
//   List:     CUDA — top-K lists in shared memory (K <= 128) or a global scratch (larger K).
//   Generic:  the shared PG_HD thread-per-query body (top-K kept in the output rows). On CUDA
//             this is the naive baseline (no shared-memory tiling), on the CPU the reference.
//   Grid:     CUDA — a uniform grid of each reference cloud built on the device and a ring
//             search per query (kernels/cuda/knn_grid.cuh); exact, ties included. CPU: as Auto.
using KnnPath = KnnImpl;  // kernels/cuda/*.cu still spell it so (one type)

// dist2 [B, Q, K] (query's dtype) and idx [B, Q, K] int64, both contiguous, overwritten.
template <class Backend>
void knn_forward(const Tensor& query, const Tensor& ref, int64_t k, const Tensor& dist2, const Tensor& idx,
                 KnnImpl path);

// Backward of d[b,q,j] = |query[b,q] − ref[b, idx[b,q,j]]|² scaled by coef[b,q,j]:
//   grad_query[b,q]          += Σ_j 2·coef[b,q,j]·(query[b,q] − ref[b,idx])
//   grad_ref[b, idx[b,q,j]]  −= 2·coef[b,q,j]·(query[b,q] − ref[b,idx])
// idx and coef are contiguous with B·Q·K elements (K = idx.numel() / (B·Q)); entries with a
// negative index are skipped. grad_query / grad_ref are contiguous, same shape as query / ref,
// ACCUMULATED into (either may be undefined = not needed). CPU: deterministic (the scatter runs
// serially per cloud, clouds in parallel); CUDA: atomicAdd for the scatter (not bit-stable).
template <class Backend>
void nn_backward(const Tensor& grad_query, const Tensor& grad_ref, const Tensor& query, const Tensor& ref,
                 const Tensor& idx, const Tensor& coef);

// True when every element of the floating tensor `t` (any shape, contiguous) is finite.
// CUDA: one flag-reduction kernel and a synchronising copy of the flag to the host.
template <class Backend>
bool all_finite(const Tensor& t);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_KNN_LAUNCHERS(X, B)                                                                                        \
  X(B, void, knn_forward, (const Tensor&, const Tensor&, int64_t, const Tensor&, const Tensor&, KnnImpl))             \
  X(B, void, nn_backward, (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&)) \
  X(B, bool, all_finite, (const Tensor&))

}  // namespace pg::kernels
