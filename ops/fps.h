// Farthest point sampling (exact, vanilla semantics), CPU and CUDA.
//
//   FpsResult fps(points [B, N, 3], m, opts)
//   FpsResult fps_seeded(points [B, N, 3], seeds [B, S] int64, m, num_seeds [B] int64, opts)
//
// Semantics (the textbook algorithm, identical indices on every path and on both backends):
//   field[i] = +inf for every point; picks p_0 … p_{m−1}:
//   p_0 = the start (fps) or the first seed; for t >= 1: field[i] = min(field[i], |x_i − x_{p_{t−1}}|²)
//   for all i, then p_t = the next seed while seeds remain, else argmax_i field[i] with the
//   LOWEST index among equal maxima.
//   radius[b, t] = field[p_t] when p_t was picked (the squared distance to the nearest earlier
//   pick): +inf for t = 0; the field maximum for a free pick; a seed's squared distance to the
//   nearest earlier seed (0 for a repeated seed). Radii are squared distances.
//   Distances are evaluated as ((dx·dx + dy·dy) + dz·dz) with every operation rounded
//   separately (no fused multiply-add) in the input dtype on both backends, which is why CPU
//   and CUDA agree bit for bit.
//   When a cloud has fewer than m distinct positions, the field maximum becomes 0 and the lowest
//   index with field 0 is picked — indices then repeat earlier picks (as in every FPS).
//   There is no origin-skip quirk (pointnet2_ops) and no distance cap (torch-cluster).
//
// fps: start = opts.start for every cloud, or (opts.random_start) an independent uniform start
// per cloud drawn from opts.generator (default generator when null; the same seed gives the
// same starts on both backends).
// fps_seeded: continues from already chosen points (the "matching + FPS completion" of
// SampleNet/APSNet): the output of cloud b is its first s_b seeds in the given order followed
// by m − s_b new picks; s_b = num_seeds[b] (ragged seeds, 1 <= s_b <= S; entries after s_b are
// ignored) or S when num_seeds is undefined. If s_b > m only the first m seeds are returned.
// Seeds may repeat (radius 0).
//
// Outputs: indices [B, m] int64, radius [B, m] in the points' dtype; both on the points'
// device. Not differentiable (indices; the radii are detached values).
//
// Errors (pg::Error naming the op and the values): wrong rank/last dim, integer dtypes, empty
// clouds, m < 1 or m > N, start outside [0, N), seeds not int64 [B, S] on the points' device,
// batch mismatch, num_seeds not int64 [B] or outside [1, S], used seeds outside [0, N),
// NaN/Inf coordinates (unless check_finite is false). On CUDA the seed and finite checks cost
// one small kernel and a 4-byte copy each.
#pragma once

#include <cstdint>

#include "core/random.h"
#include "core/tensor.h"
#include "kernels/op_enums.h"

namespace pg {

// Strategy override for tests and benchmarks.
//   OnChip:   CUDA, cloud in registers (float32 N <= 8192, float64 N <= 4096; error otherwise).
//   Global:   CUDA, field in global memory, any N.
//   Baseline: CUDA, pointnet2-style reference kernel (benchmarks).
//   Generic:  the shared one-thread-per-cloud body (CPU reference; slow on CUDA).
// On the CPU everything but Generic runs the vectorised SoA path (N < 8192) or the exact
// k-d bucket-pruned path (N >= 8192, QuickFPS-style; identical picks).
using kernels::FpsImpl;  // { Auto, OnChip, Global, Baseline, Generic } (kernels/op_enums.h)

struct FpsOptions {
  int64_t start = 0;               // start index of every cloud (fps only)
  bool random_start = false;       // per-cloud uniform random start (fps only)
  Generator* generator = nullptr;  // for random_start; null = default_generator()
  bool check_finite = true;
  FpsImpl impl = FpsImpl::Auto;
};

struct FpsResult {
  Tensor indices;  // [B, m] int64
  Tensor radius;   // [B, m] squared distances, radius[:, 0] = +inf
};

FpsResult fps(const Tensor& points, int64_t m, const FpsOptions& opts = {});
FpsResult fps_seeded(const Tensor& points, const Tensor& seeds, int64_t m, const Tensor& num_seeds = Tensor(),
                     const FpsOptions& opts = {});

}  // namespace pg
