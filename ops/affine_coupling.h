// Affine coupling (RealNVP / Glow / IRN), the invertible transform of a coupling block, fused:
//
//   AffineCouplingResult affine_coupling(x2, s_raw, t, clamp = 1)
//     s = clamp·(2·σ(s_raw) − 1)            (IRN's bounded scale: s ∈ (−clamp, clamp))
//     y = x2 ⊙ exp(s) + t                   → result.y, same shape as x2
//     logdet[b] = Σ s[b, ...]               → result.logdet [B] (= log|det ∂y/∂x2| of sample b)
//   Tensor affine_coupling_inverse(y2, s_raw, t, clamp = 1)
//     x2 = (y2 − t) ⊙ exp(−s)               (exact inverse: affine_coupling_inverse(affine_coupling(x).y) = x
//                                             to rounding; its log-det is −logdet)
//
// Layout: x2 (y2), s_raw and t have the SAME shape [B, ...] of rank ≥ 2, dim 0 the batch; the
// log-det sums over every other dim. Point features in pointgrad are channels-last, so a coupling
// over the transformed channel half is [B, N, C2] (s_raw and t are the conditioner's outputs for
// those channels). s_raw and t are the RAW conditioner outputs: the sigmoid bound is part of the op.
// clamp: finite, > 0; 1 is IRN's value and the modules' default (docs/decisions.md).
//
// Forward: one pass writes y and the per-sample log-det (float64 accumulation in a fixed chunk
// order, deterministic on both devices). Backward (first order): one pass gives
//   ∂L/∂x2 = g ⊙ e^s,  ∂L/∂s_raw = (g ⊙ x2 ⊙ e^s + g_ld[b]) ⊙ 2c·σ(1 − σ),  ∂L/∂t = g
// (g, g_ld the gradients of y and logdet; ∂L/∂t is g itself, no copy). The inverse's backward, from
// its output x2: ∂L/∂y2 = g ⊙ e^−s, ∂L/∂s_raw = −g ⊙ x2 ⊙ 2c·σ(1 − σ), ∂L/∂t = −g ⊙ e^−s.
// Saved: the forward keeps x2 and s_raw, the inverse its output and s_raw. Inputs are made
// contiguous. NaN/Inf propagate (no scan).
//
// Errors (pg::Error naming "affine_coupling" / "affine_coupling_inverse" and the offending value):
// undefined, integer or mixed dtypes, mixed devices, rank < 2, shapes that differ, an empty
// tensor, a clamp that is not finite and > 0.
#pragma once

#include "core/tensor.h"

namespace pg {

struct AffineCouplingResult {
  Tensor y;       // same shape as x2
  Tensor logdet;  // [B], dtype of x2
};

AffineCouplingResult affine_coupling(const Tensor& x2, const Tensor& s_raw, const Tensor& t, double clamp = 1.0);
Tensor affine_coupling_inverse(const Tensor& y2, const Tensor& s_raw, const Tensor& t, double clamp = 1.0);

}  // namespace pg
