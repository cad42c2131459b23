// Farthest point sampling kernel launchers. Defined in kernels/common/fps_impl.h (shared PG_HD
// distance, tie rule and the generic per-cloud body) plus kernels/cpu/fps.cpp and
// kernels/cuda/fps.cu (backend strategies), instantiated there.
//
// Semantics (identical on every path and both backends):
// * the min-distance field starts at +inf; the picks of iterations 0..s−1 are the given seeds
//   (s = num_seeds[b], or S when num_seeds is undefined); every later pick is the argmax of the
//   field, lowest index on ties; after each pick the field is min-updated with the squared
//   distance to the pick, computed by fps_sqdist (no fused multiply-add: the CPU and CUDA
//   distances are bit-identical, so are the indices);
// * radius[b, t] = the field value at the pick when it was picked: +inf for t = 0, for a seed
//   its squared distance to the nearest earlier seed, else the field maximum.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/op_enums.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// OnChip:   CUDA, the cloud in registers (float32 N <= 8192, float64 N <= 4096), one CTA per
//           cloud, one barrier per iteration.
// Global:   CUDA, one CTA per cloud, min-distance field in global memory (any N).
// Baseline: CUDA, pointnet2-style (512 threads, shared-memory tree argmax with a barrier per
//           level, winner re-read from global memory): the benchmark baseline.
// Generic:  the shared PG_HD per-cloud body (one thread per cloud); the CPU reference.
// CPU Auto is the SoA vectorised loop, or for N >= 8192 the exact k-d bucket-pruned loop (same
// picks); OpenMP over clouds.
using FpsPath = FpsImpl;  // kernels/cuda/*.cu still spell it so (one type)

// True when the OnChip path can take a cloud of n points of `dtype`.
bool fps_onchip_fits(int64_t n, DType dtype);

// points [B, N, 3] contiguous; seeds [B, S] int64 contiguous (entries valid: [0, N));
// num_seeds [B] int64 in [1, S] or undefined; out_idx [B, m] int64 and out_radius [B, m]
// (points' dtype) contiguous, overwritten. m >= max(num_seeds).
template <class Backend>
void fps(const Tensor& points, const Tensor& seeds, const Tensor& num_seeds, int64_t m, const Tensor& out_idx,
         const Tensor& out_radius, FpsImpl path);

// Validation flags of seeded FPS (bit 1: a count outside [1, S]; bit 2: a used seed outside
// [0, n)). CUDA: one kernel and a synchronising copy of the flags.
template <class Backend>
int fps_check_seeds(const Tensor& seeds, const Tensor& num_seeds, int64_t n);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_FPS_LAUNCHERS(X, B)                                                                                   \
  X(B, void, fps, (const Tensor&, const Tensor&, const Tensor&, int64_t, const Tensor&, const Tensor&, FpsImpl)) \
  X(B, int, fps_check_seeds, (const Tensor&, const Tensor&, int64_t))

}  // namespace pg::kernels
