// k-nearest neighbours between point clouds (exact brute force), CPU and CUDA.
//
//   KnnResult knn(query [B, Q, 3], ref [B, R, 3], k, opts)
//     dist2 [B, Q, k]: SQUARED Euclidean distances from every query point to its k nearest
//                      reference points of the same cloud, sorted ascending; query's dtype.
//     idx   [B, Q, k]: int64 indices into ref's point dimension. Equal distances → the lower
//                      reference index first (bit-equal distances only).
//   Euclidean distances are sqrt(dist2) (use the elementwise sqrt op; mind its gradient at 0).
//
// Inputs: float32 or float64, same dtype and device, [B, n, 3] channels-last (any strides; a
// non-contiguous input is made contiguous first). Errors (pg::Error naming "knn" and the
// values): wrong rank/last dim, integer dtypes, mixed dtypes or devices, batch sizes that
// differ, empty clouds (B, Q or R == 0), k < 1, k > R, NaN/Inf coordinates (checked unless
// opts.check_finite is false; on CUDA the check is one reduction and a 4-byte copy to the host).
//
// Gradient: dist2 is differentiable w.r.t. query and ref (first order):
//   ∂dist2[b,q,j]/∂query[b,q] = 2 (query[b,q] − ref[b,idx]),  ∂/∂ref[b,idx] = −2 (…).
// idx carries no gradient. The backward accumulates into ref's gradient with a deterministic
// serial scatter per cloud on the CPU and atomicAdd on CUDA (not bit-reproducible there).
// Where two references tie, the gradient follows the selected (lower) index.
//
// Precision: distances are computed in the input dtype in the difference form
// (q−r)·(q−r); on the CPU every path yields identical bits; CUDA may use fused multiply-adds,
// so CPU/CUDA distances agree to rounding and indices agree except between near-ties.
//
// Performance notes (docs/performance.md): CUDA K <= 32 (float32) keeps the top-K in registers
// (compile-time buckets 1, 2, 4, 8, 16, 32; k is rounded up to a bucket), larger k or float64
// keep sorted lists in shared memory (k <= 128) or a global scratch (k > 128); from R >= 32768,
// Q >= 4096, k <= 32 CUDA searches a uniform grid of the reference cloud built on the device
// (O(B·R) memory, same results; the threshold is a first estimate, docs/decisions.md). The CPU runs a
// tiled, vectorised brute force for small clouds and an exact k-d tree (kernels/cpu/kdtree.h,
// built once per call and cloud, O(R) memory) for larger ones (R >= 1024, or R >= 512 with
// k >= 16; k <= min(64, R/8); Q >= 256; measurements in docs/decisions.md); every path gives the
// same bits as the generic body.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/op_enums.h"

namespace pg {

// Strategy override for tests and benchmarks; Auto is what users want.
//   Register: CUDA float32 k <= 32 register top-K (falls back to List otherwise).
//   List:     CUDA sorted lists in shared/global memory.
//   Generic:  the shared thread-per-query body (CPU reference; the CUDA naive baseline).
//   Tiled:    CPU tiled brute force (CUDA: as Auto).
//   Tree:     CPU k-d tree (CUDA: as Auto).
//   Grid:     CUDA uniform grid with a ring search (CPU: as Auto).
// On the CPU Register and List run the tiled brute force.
using kernels::KnnImpl;  // { Auto, Register, List, Generic, Tiled, Tree, Grid } (kernels/op_enums.h)

struct KnnOptions {
  bool check_finite = true;
  KnnImpl impl = KnnImpl::Auto;
};

struct KnnResult {
  Tensor dist2;  // [B, Q, k], squared distances, ascending
  Tensor idx;    // [B, Q, k], int64
};

KnnResult knn(const Tensor& query, const Tensor& ref, int64_t k, const KnnOptions& opts = {});

}  // namespace pg
