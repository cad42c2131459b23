// Chamfer / Hausdorff kernel launchers: per-point nearest-neighbour distances in both
// directions, per-cloud statistics, loss assembly and backward coefficients. Defined in
// kernels/common/chamfer_impl.h plus kernels/cpu/chamfer.cpp and kernels/cuda/chamfer.cu.
//
// Distances are squared Euclidean in the difference form; nearest-index ties → lower index.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/op_enums.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// Tiled: CUDA, both directions in one launch, the other cloud tiled through shared memory.
// Generic: the shared thread-per-point body (CUDA: the two-launch naive baseline).
// CPU Auto runs the CPU kNN fast path with K = 1 in each direction.
using ChamferPath = ChamferImpl;  // kernels/cuda/*.cu still spell it so (one type)

// a [B, N, 3], b [B, M, 3] contiguous, same dtype. dist_a [B, N] (a's dtype) / idx_a [B, N]
// int64: nearest point of b for every point of a; dist_b / idx_b likewise from b to a. A pair
// that is undefined is not computed.
template <class Backend>
void chamfer_nn(const Tensor& a, const Tensor& b, const Tensor& dist_a, const Tensor& idx_a, const Tensor& dist_b,
                const Tensor& idx_b, ChamferImpl path);

// The `mode` and `combine` ints below are the values of ChamferReduction (0 mean, 1 sum,
// 2 none) and HausdorffCombine (0 max, 1 sum) of kernels/op_enums.h.
inline constexpr int chamfer_int(ChamferReduction r) { return static_cast<int>(r); }
inline constexpr int chamfer_int(HausdorffCombine c) { return static_cast<int>(c); }
static_assert(chamfer_int(ChamferReduction::none) == 2 && chamfer_int(HausdorffCombine::sum) == 1);

// Per-row statistics of d [B, n] (contiguous): sum [B] (same dtype; float64 accumulation, a
// fixed order per backend), max [B] and argmax [B] int64 (lowest index on ties). Any output
// may be undefined.
template <class Backend>
void row_stats(const Tensor& d, const Tensor& sum, const Tensor& max, const Tensor& argmax);

// Chamfer loss from per-cloud sums (sum_a [B] over N points, sum_b [B] over M points; either
// undefined when that direction is off). mode 0 = mean: loss[0] = Σ sum_a/(B·N) + Σ sum_b/(B·M);
// 1 = sum: loss[0] = Σ sum_a + Σ sum_b; 2 = none: loss[b] = sum_a[b]/N + sum_b[b]/M.
template <class Backend>
void chamfer_loss(const Tensor& loss, const Tensor& sum_a, const Tensor& sum_b, int64_t n, int64_t m, int mode);

// Backward coefficients of a per-point distance array d [B, n]:
//   coef[b,i] = (g_point ? g_point[b,i] : 0) + (g_loss ? g_loss[mode == 2 ? b : 0] · scale : 0)
// coef contiguous [B, n], overwritten.
template <class Backend>
void chamfer_coef(const Tensor& coef, const Tensor& g_point, const Tensor& g_loss, int mode, double scale);

// Hausdorff per cloud from the directional maxima of squared distances (max_a / max_b [B],
// either undefined): with f(x) = x (squared) or sqrt(x) (Euclidean),
// h[b] = combine(f(max_a[b]), f(max_b[b])) (combine 0 = max, 1 = sum) → per_cloud [B];
// `which` [B] int32 records the direction that decided a max (0 = a, 1 = b; ties → a).
// The batch reduction (mode 0 mean, 1 sum, 2 none) writes out[0] or out[b].
template <class Backend>
void hausdorff_combine(const Tensor& out, const Tensor& per_cloud, const Tensor& which, const Tensor& max_a,
                       const Tensor& max_b, int combine, bool squared, int mode);

// Backward coefficients of Hausdorff for one direction (dir 0 = a, 1 = b): coef [B, n] is
// overwritten with zeros except coef[b, argmax[b]] = g · scale · f'(max_dir[b]), where
// g = g_out[0] (mode 0/1) or g_out[b] (mode 2), scale = 1/B for mode 0 else 1, f' = 1 (squared)
// or 1 / (2·sqrt(max_dir[b])) (Euclidean; 0 when max_dir[b] == 0), and only where the direction
// contributes (combine = sum, or which[b] == dir).
template <class Backend>
void hausdorff_coef(const Tensor& coef, const Tensor& g_out, const Tensor& argmax, const Tensor& max_dir,
                    const Tensor& which, int dir, int combine, bool squared, int mode);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_CHAMFER_LAUNCHERS(X, B)                                                                                                \
  X(B, void, chamfer_nn, (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, ChamferImpl)) \
  X(B, void, row_stats, (const Tensor&, const Tensor&, const Tensor&, const Tensor&))                                             \
  X(B, void, chamfer_loss, (const Tensor&, const Tensor&, const Tensor&, int64_t, int64_t, int))                                  \
  X(B, void, chamfer_coef, (const Tensor&, const Tensor&, const Tensor&, int, double))                                            \
  X(B, void, hausdorff_combine, (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, int, bool, int))      \
  X(B, void, hausdorff_coef, (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, int, int, bool, int))

}  // namespace pg::kernels
