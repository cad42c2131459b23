// NN kernel launchers: softmax / log_softmax rows (forward and backward), the cross-entropy /
// NLL row losses and their gradient, and the KL-divergence pointwise terms. Defined in
// kernels/common/nn_impl.h (shared PG_HD bodies) plus kernels/cpu/nn.cpp and
// kernels/cuda/nn.cu (hand-written warp-per-row / block-per-row CUDA kernels).
//
// Every tensor handed to these launchers is contiguous (the ops layer makes it so); float
// tensors share one dtype (f32 or f64); sizes are int64.
#pragma once

#include <cstdint>

#include "core/parallel_for.h"
#include "core/tensor.h"
#include "kernels/op_enums.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// CUDA launch path of the softmax row kernels (the CPU always runs the shared row body).
//   WarpRow:  one warp per row (inner == 1), lanes stride over the row, shuffle reductions.
//   BlockRow: one 256-thread block per row (inner == 1), warp shuffles + shared memory.
//   Column:   one thread per (outer, inner) column running the shared row body; coalesced
//             across `inner`. Forced WarpRow/BlockRow with inner > 1 fall back to Column.
//   Auto:     inner > 1 → Column; D ≤ 1024 → WarpRow; else BlockRow.
using SoftmaxPath = SoftmaxImpl;  // kernels/cuda/*.cu still spell it so (one type)

// x, y viewed as [outer, D, inner] (the softmax dim in the middle). y = softmax (log = false)
// or log_softmax (log = true) of x along D. D ≥ 1.
template <class Backend>
void softmax_forward(const Tensor& x, const Tensor& y, int64_t outer, int64_t D, int64_t inner, bool log,
                     SoftmaxImpl path);

// Backward from the forward's OUTPUT y and the incoming gradient gy (same layout):
//   softmax:     gx = y · (gy − Σ_D gy·y)       log_softmax: gx = gy − exp(y) · Σ_D gy
template <class Backend>
void softmax_backward(const Tensor& y, const Tensor& gy, const Tensor& gx, int64_t outer, int64_t D, int64_t inner,
                      bool log, SoftmaxImpl path);

// The softmax launchers are backend-specific (CPU: the shared row body; CUDA: hand-written).
template <>
void softmax_forward<CpuBackend>(const Tensor&, const Tensor&, int64_t, int64_t, int64_t, bool, SoftmaxImpl);
template <>
void softmax_forward<CudaBackend>(const Tensor&, const Tensor&, int64_t, int64_t, int64_t, bool, SoftmaxImpl);
template <>
void softmax_backward<CpuBackend>(const Tensor&, const Tensor&, const Tensor&, int64_t, int64_t, int64_t, bool,
                                  SoftmaxImpl);
template <>
void softmax_backward<CudaBackend>(const Tensor&, const Tensor&, const Tensor&, int64_t, int64_t, int64_t, bool,
                                   SoftmaxImpl);

// Per-row smoothed NLL of log-probabilities lp [B, C] and targets t [B] (int64 or int32,
// already range-checked):  out[i] = −(1 − eps)·lp[i, t_i] − (eps / C)·Σ_j lp[i, j]. out [B].
template <class Backend>
void nll_rows(const Tensor& lp, const Tensor& target, const Tensor& out, double eps);

// Gradient of Σ_i w_i · out[i] w.r.t. lp (or w.r.t. the logits when `softmax_of_lp` is set, i.e.
// the fused cross-entropy backward through log_softmax):
//   gx[i, j] = w_i · ((softmax_of_lp ? exp(lp[i, j]) : 0) − (1 − eps)·[j = t_i] − eps / C)
// with w_i = scale · g[g_scalar ? 0 : i] (g is the loss gradient: 0-dim / [1] for reduced losses,
// [B] for reduction none). gx [B, C] overwritten.
template <class Backend>
void nll_backward(const Tensor& gx, const Tensor& lp, const Tensor& target, const Tensor& g, bool g_scalar,
                  double scale, double eps, bool softmax_of_lp);

// KL divergence terms, elementwise over n = numel (input, target, out contiguous, same shape):
//   log_target = false: out = target > 0 ? target·(log target − input) : 0·(−input)
//   log_target = true:  out = exp(target)·(target − input)
template <class Backend>
void kl_div_forward(const Tensor& input, const Tensor& target, const Tensor& out, bool log_target);

// Its gradients with w = scale · g[g_scalar ? 0 : k]: gin = −w·p (p = target or exp(target));
// gtarget = w·(log p + 1 − input) where p > 0 else 0 (log_target: w·p·(target − input + 1)).
// Either output may be undefined (not computed).
template <class Backend>
void kl_div_backward(const Tensor& input, const Tensor& target, const Tensor& g, bool g_scalar, double scale,
                     const Tensor& gin, const Tensor& gtarget, bool log_target);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_NN_LAUNCHERS(X, B)                                                                                                  \
  X(B, void, nll_rows, (const Tensor&, const Tensor&, const Tensor&, double))                                                  \
  X(B, void, nll_backward, (const Tensor&, const Tensor&, const Tensor&, const Tensor&, bool, double, double, bool))           \
  X(B, void, kl_div_forward, (const Tensor&, const Tensor&, const Tensor&, bool))                                              \
  X(B, void, kl_div_backward, (const Tensor&, const Tensor&, const Tensor&, bool, double, const Tensor&, const Tensor&, bool))

}  // namespace pg::kernels
