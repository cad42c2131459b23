// Affine coupling kernel launchers (ops/affine_coupling.h): one fused pass each way. Defined in
// kernels/common/coupling_impl.h (the shared PG_HD per-element bodies), kernels/cpu/coupling.cpp
// (chunked loops, a vectorised float32 path) and kernels/cuda/coupling.cu (hand-written kernels),
// instantiated there.
//
// Conventions (the ops layer has validated everything): all tensors contiguous, one floating
// dtype, on the backend's device, viewed as [B, M] (M = elements per sample). With
// s = c·(2σ(ŝ) − 1) (c = `clamp` > 0):
//   forward  (inverse = false): out = in·exp(s) + t
//   inverse  (inverse = true):  out = (in − t)·exp(−s)
#pragma once

#include "core/tensor.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// Writes `out` [B, M]; with `logdet` defined ([B], forward direction only) also
// logdet[b] = Σ_m s[b, m], accumulated in float64 in a fixed order (deterministic).
template <class Backend>
void coupling_forward(const Tensor& in, const Tensor& s_raw, const Tensor& t, const Tensor& out, const Tensor& logdet,
                      double clamp, bool inverse);

// Backward of one direction from `a` = the forward's input x (inverse = false) or the inverse's
// output x (inverse = true), ŝ, the upstream gradient g [B, M] and (forward only) g_ld [B] or
// undefined (zero). Writes, per element (σ = σ(ŝ), s' = 2c·σ(1 − σ)):
//   forward: d_in = g·e^s,   d_sraw = (g·a·e^s + g_ld[b])·s'            (d_t = g: not written)
//   inverse: d_in = g·e^−s,  d_sraw = −g·a·s',  d_t = −g·e^−s
template <class Backend>
void coupling_backward(const Tensor& a, const Tensor& s_raw, const Tensor& g, const Tensor& g_ld, const Tensor& d_in,
                       const Tensor& d_sraw, const Tensor& d_t, double clamp, bool inverse);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_COUPLING_LAUNCHERS(X, B)                                                                                   \
  X(B, void, coupling_forward,                                                                                        \
    (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, double, bool))                        \
  X(B, void, coupling_backward,                                                                                       \
    (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, double,  \
     bool))

}  // namespace pg::kernels
