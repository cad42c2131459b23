// Point-cloud layers: the fused shared MLP, BatchNorm, global max-pool over points. CPU and
// CUDA (hand-written epilogue / backward / reduction kernels), float32 and float64.
//
// Layout is channels-last: a point feature tensor is [B, N, C]; a feature vector batch is
// [B, C]. Every op below treats all leading dims as "rows" (R = product of the leading dims) and
// the last dim as channels.
//
// ---- batch_norm(x [..., C], gamma, beta, running_mean, running_var, training, momentum, eps)
//   PyTorch BatchNorm1d semantics, but channels-LAST: statistics per channel c over all R rows
//   (over B·N for [B, N, C], over B for [B, C]).
//   training (or no running stats): mean_c and the BIASED variance var_c of the batch normalise:
//       y = (x − mean_c) / sqrt(var_c + eps) · gamma_c + beta_c
//     and, when running stats are given and training, they are updated IN PLACE (no autograd,
//     versions bumped):  running_mean ← (1 − momentum)·running_mean + momentum·mean_c,
//                        running_var  ← (1 − momentum)·running_var  + momentum·var_c·R/(R − 1)
//     (UNBIASED variance for the running update; R = 1 in training is an error, as PyTorch).
//   eval with running stats: y = (x − running_mean) / sqrt(running_var + eps) · gamma + beta.
//   gamma / beta are optional (affine = false when both are undefined; one alone is allowed and
//   the other acts as 1 / 0). running_mean and running_var are both given or both undefined;
//   all are [C] with x's dtype and device. Differentiable in x, gamma and beta. Statistics
//   accumulate in float64 (shifted by the first row, one pass) on both backends.
//   TF's BN decay d corresponds to momentum = 1 − d.
//
// ---- shared_mlp(x [..., Cin], weight [Cout, Cin], bias [Cout] or undefined, opts) → [..., Cout]
//   One op: z = x · weightᵀ as ONE GEMM over the R rows (OpenBLAS / cuBLAS, pedantic fp32),
//   then a fused epilogue per element:  y = act(scale_c · z + shift_c), where
//     no BN:          scale = 1, shift = bias
//     BN (opts.bn):   exactly batch_norm(z + bias, ...) with the semantics above (batch stats in
//                     training with the running update, running stats in eval) folded into
//                     scale_c = gamma_c·invstd_c, shift_c = beta_c − scale_c·(mean_c − bias_c).
//   act: none | relu | leaky_relu(negative_slope) | selu (PyTorch's constants). Kinks: relu'(0)
//   = 0, leaky_relu'(0) = negative_slope.
//   Equals act(batch_norm(linear(x, weight, bias))) to rounding. In training BN the bias has no
//   effect on the output and its gradient is exactly zero.
//   Backward: one fused kernel pass computes the activation derivative and the per-channel sums
//   (Σ g, Σ g·x̂ → dbeta, dgamma, dbias), a second forms dz (skipped when it is the identity),
//   then two GEMMs: dW = dzᵀ · x, dx = dz · W. Saved: x, W, the GEMM output z and per-channel
//   scale/shift/mean/invstd (no other [R, Cout] tensor). Differentiable in x, weight, bias,
//   gamma, beta.
//
// ---- max_pool_points(x [B, N, C]) → {values [B, C], indices [B, C] int64}
//   values[b, c] = max_n x[b, n, c]; indices the point index n of that maximum. TIES GO TO THE
//   LOWEST POINT INDEX (on both backends, whatever the launch path). NaN propagates: a NaN is
//   the maximum (the lowest-index NaN). N = 0 is an error. Differentiable in x through values:
//   dx[b, n, c] = g[b, c] where n = indices[b, c], else 0 (no atomics, deterministic).
//
// Errors (pg::Error, naming the op and the values): undefined inputs, non-float dtypes, dtype or
// device mismatches, rank < 2 (shared_mlp/batch_norm) or ≠ 3 (max_pool_points), channel
// mismatches (e.g. x's Cin vs weight's Cin, bias/gamma/beta/running stats vs Cout), momentum
// outside [0, 1], eps ≤ 0, leaky_relu slope not finite.
#pragma once

#include <cstdint>
#include <optional>

#include "core/tensor.h"
#include "kernels/op_enums.h"

namespace pg {

using kernels::Activation;  // { none, relu, leaky_relu, selu } (kernels/op_enums.h)

const char* activation_name(Activation a);

struct BatchNormArgs {
  Tensor gamma;         // [C] or undefined
  Tensor beta;          // [C] or undefined
  Tensor running_mean;  // [C] or undefined (then batch statistics are used in eval too)
  Tensor running_var;   // [C] or undefined
  bool training = true;
  double momentum = 0.1;
  double eps = 1e-5;
};

// Launch-path override for tests and benchmarks. Auto = Fast (CPU: row-chunked vectorised loops;
// CUDA: channel-tile reductions, vectorised epilogues, the tiled max-pool). Generic forces the
// shared parallel_for bodies of kernels/common/pointnet_impl.h on either backend (the reference).
using kernels::PointnetImpl;  // { Auto, Generic, Fast } (kernels/op_enums.h)

struct SharedMLPOptions {
  std::optional<BatchNormArgs> bn;  // no BatchNorm when empty
  Activation activation = Activation::none;
  double negative_slope = 0.01;  // leaky_relu only
  PointnetImpl impl = PointnetImpl::Auto;
};

Tensor shared_mlp(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                  const SharedMLPOptions& opts = {});

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);
Tensor batch_norm(const Tensor& x, const BatchNormArgs& args, PointnetImpl impl = PointnetImpl::Auto);

struct MaxPoolResult {
  Tensor values;   // [B, C], differentiable
  Tensor indices;  // [B, C] int64 point indices (no gradient)
};

MaxPoolResult max_pool_points(const Tensor& x, PointnetImpl impl = PointnetImpl::Auto);

}  // namespace pg
