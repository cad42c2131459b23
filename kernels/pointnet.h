// Point-cloud layer kernels: per-channel statistics, BatchNorm folding, the fused shared-MLP
// epilogue (per-channel affine + activation) and its fused backward, global max-pool over points.
// Defined in kernels/common/pointnet_impl.h (shared PG_HD bodies) plus kernels/cpu/pointnet.cpp
// and kernels/cuda/pointnet.cu (hand-written channel-tile reductions and the max-pool kernel).
//
// "Rows × channels": a [R, C] tensor is contiguous row-major (channels-last activations with all
// leading dims flattened into R). Per-channel tensors are [C] contiguous. All float tensors of one
// call share the dtype (f32 or f64). Undefined optional tensors are passed as Tensor().
#pragma once

#include <cstdint>

#include "core/parallel_for.h"
#include "core/tensor.h"
#include "kernels/op_enums.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

using Act = Activation;  // kernels/cuda/*.cu still spell it so (one type)

// Generic: the shared parallel_for bodies of kernels/common/pointnet_impl.h (one work item per
//          channel for reductions, per element for epilogues, per (b, c) for max-pool), on both
//          backends — the reference the fast paths are tested against.
// Fast:    CPU: row-chunked loops (vectorised inner loop over channels); CUDA: channel-tile
//          reductions, vectorised epilogues, the tiled max-pool. Auto = Fast.
using PointnetPath = PointnetImpl;  // kernels/cuda/*.cu still spell it so (one type)

// ---- forward ----

// mean[c] and BIASED var[c] of z [R, C] over the R rows (R ≥ 1). Accumulates in float64, shifted
// by row 0 (one pass). The split of R over threads is fixed per backend and path (deterministic).
template <class Backend>
void channel_stats(const Tensor& z, const Tensor& mean, const Tensor& var, PointnetImpl path);

struct BnFoldArgs {
  bool bn = true;       // false: plain bias (scale = 1, shift = bias or 0)
  Tensor bias;          // [C] or undefined (added before BN)
  Tensor gamma, beta;   // [C] or undefined (1 / 0)
  Tensor batch_mean;    // [C] mean of z (WITHOUT bias) — defined: normalise with batch stats
  Tensor batch_var;     // [C] biased variance of z
  Tensor running_mean;  // [C] or undefined; used when batch stats are undefined
  Tensor running_var;
  bool update_running = false;  // training: running ← (1−m)·running + m·batch (unbiased var)
  double momentum = 0.1;
  double eps = 1e-5;
  int64_t rows = 1;  // R, for the unbiased factor R / (R − 1)
};

// Per channel: center, invstd with x̂ = (z − center)·invstd the normalised value (batch: center =
// batch_mean, invstd = 1/sqrt(batch_var + eps); running: center = running_mean − bias, invstd =
// 1/sqrt(running_var + eps); no BN: center = 0, invstd = 1), and the fused affine
// scale = gamma·invstd (1 without BN), shift = beta − scale·center (bias without BN).
// Updates the running stats in place when asked (running_mean receives batch_mean + bias).
template <class Backend>
void bn_fold(const BnFoldArgs& a, int64_t C, const Tensor& scale, const Tensor& shift, const Tensor& center,
             const Tensor& invstd);

// out[r, c] = act(scale[c]·z[r, c] + shift[c]). `out` may be `z` itself (in place).
template <class Backend>
void affine_act(const Tensor& z, const Tensor& scale, const Tensor& shift, const Tensor& out, Activation act, double slope,
                PointnetImpl path);

// ---- backward ----
// With u = scale·z + shift, gu = gy · act'(u) and x̂ = (z − center)·invstd, per channel:
//   sum_g[c] = Σ_r gu,  sum_gx[c] = Σ_r gu·x̂  (sum_gx may be undefined: not computed),
// and, when `gz` is defined, gz[r, c] = coef[c]·gu (coef undefined → 1) in the same pass.
// Sums accumulate in float64 with a fixed split (deterministic).
template <class Backend>
void act_backward_reduce(const Tensor& gy, const Tensor& z, const Tensor& scale, const Tensor& shift,
                         const Tensor& center, const Tensor& invstd, Activation act, double slope, const Tensor& sum_g,
                         const Tensor& sum_gx, const Tensor& gz, const Tensor& coef, PointnetImpl path);

// Training-mode BN coefficients from the sums (scale = gamma·invstd as folded in the forward):
//   cb = −scale·sum_gx / R, cd = −scale·sum_g / R, so that dz = scale·gu + cb·x̂ + cd. All [C].
template <class Backend>
void bn_backward_coef(const Tensor& sum_g, const Tensor& sum_gx, const Tensor& scale, int64_t rows, const Tensor& cb,
                      const Tensor& cd);

// gz[r, c] = scale[c]·gu + cb[c]·x̂ + cd[c] (gu, x̂ as above; recomputed from z).
template <class Backend>
void bn_backward_apply(const Tensor& gy, const Tensor& z, const Tensor& scale, const Tensor& shift,
                       const Tensor& center, const Tensor& invstd, Activation act, double slope, const Tensor& cb,
                       const Tensor& cd, const Tensor& gz, PointnetImpl path);

// ---- global max-pool over points ----

// x [B, N, C] (N ≥ 1) → values [B, C], indices [B, C] int64; ties → lowest n; NaN wins (lowest
// NaN index). CUDA Fast: one block per (b, 32-channel tile[, point chunk]); see kernels/cuda.
// `split` > 1 (CUDA Fast only; tests/benches, 0 = auto) splits the points over that many blocks
// whose partial (value, index) pairs a second kernel merges in order.
template <class Backend>
void max_pool_points(const Tensor& x, const Tensor& values, const Tensor& indices, PointnetImpl path, int split);

// gx [B, N, C] is zero-filled, then gx[b, indices[b, c], c] = g[b, c] (distinct targets, no atomics).
template <class Backend>
void max_pool_points_backward(const Tensor& g, const Tensor& indices, const Tensor& gx);

// Backend-specific launchers (CPU: row-chunked loops in kernels/cpu/pointnet.cpp; CUDA: the Fast
// kernels and the Generic parallel_for bodies in kernels/cuda/pointnet.cu). The others are
// generic templates in kernels/common/pointnet_impl.h, instantiated by both files.
#define PG_POINTNET_BACKEND_SPECIFIC(B)                                                                               \
  template <>                                                                                                         \
  void channel_stats<B>(const Tensor&, const Tensor&, const Tensor&, PointnetImpl);                                   \
  template <>                                                                                                         \
  void affine_act<B>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, Activation, double, PointnetImpl);          \
  template <>                                                                                                         \
  void act_backward_reduce<B>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,              \
                              const Tensor&, Activation, double, const Tensor&, const Tensor&, const Tensor&, const Tensor&, \
                              PointnetImpl);                                                                          \
  template <>                                                                                                         \
  void bn_backward_apply<B>(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, \
                            Activation, double, const Tensor&, const Tensor&, const Tensor&, PointnetImpl);                  \
  template <>                                                                                                         \
  void max_pool_points<B>(const Tensor&, const Tensor&, const Tensor&, PointnetImpl, int);
PG_POINTNET_BACKEND_SPECIFIC(CpuBackend)
PG_POINTNET_BACKEND_SPECIFIC(CudaBackend)
#undef PG_POINTNET_BACKEND_SPECIFIC

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_POINTNET_LAUNCHERS(X, B)                                                                                  \
  X(B, void, bn_fold, (const BnFoldArgs&, int64_t, const Tensor&, const Tensor&, const Tensor&, const Tensor&))      \
  X(B, void, bn_backward_coef, (const Tensor&, const Tensor&, const Tensor&, int64_t, const Tensor&, const Tensor&)) \
  X(B, void, max_pool_points_backward, (const Tensor&, const Tensor&, const Tensor&))

}  // namespace pg::kernels
