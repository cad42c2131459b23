// LSTM cell (PyTorch's nn.LSTMCell math, gate order i, f, g, o), CPU and CUDA, fused:
//
//   LstmCellResult lstm_cell(x [B, I], h [B, H], c [B, H], w_ih [4H, I], w_hh [4H, H],
//                            b_ih [4H] or undefined, b_hh [4H] or undefined)
//     z = x·w_ihᵀ + h·w_hhᵀ + b_ih + b_hh   [B, 4H], blocks z_i, z_f, z_g, z_o of H columns each
//     i = σ(z_i), f = σ(z_f), g = tanh(z_g), o = σ(z_o)
//     c' = f·c + i·g,  h' = o·tanh(c')      → result.h [B, H], result.c [B, H]
//
// Forward: the gate pre-activations of all four gates are computed into ONE [B, 4H] buffer by two
// GEMMs (x·w_ihᵀ, then h·w_hhᵀ accumulated into the same buffer: beta = 1; no concatenation copy),
// then one fused pointwise pass adds the biases, applies the activations, updates c and h and
// keeps the activated gates for the backward. OpenBLAS / cuBLAS in pedantic fp32 (no TF32).
// Backward (first order, w.r.t. all seven inputs; honours which ones need a gradient): one fused
// pointwise pass gives the pre-activation gradient dz [B, 4H] and dc = ∂L/∂c (= dc'·f), then
// GEMMs dx = dz·w_ih, dh = dz·w_hh, dw_ih = dzᵀ·x, dw_hh = dzᵀ·h, and db_ih = db_hh = Σ_rows dz
// (a float64-accumulated sum). Saved: x, h, c, the weights, the activated gates and c'.
// Deterministic on both devices. NaN/Inf inputs propagate (the op does not scan its inputs: on
// CUDA a scan would synchronise every timestep; the nn::LSTM modules check their inputs).
//
// x may be a row-strided view (unit stride along I, any row stride ≥ I, e.g. x[:, t, :] of a
// batch-first sequence): it is read in place, not copied. Other inputs are made contiguous.
//
// Errors (pg::Error naming "lstm_cell" and the offending shapes / values): ranks other than the
// above, integer or mixed dtypes, mixed devices, B, I or H == 0, w_ih not [4H, I] for the H of h,
// w_hh not [4H, H], h and c of different shapes, batch sizes that differ, a bias not [4H].
#pragma once

#include "core/tensor.h"

namespace pg {

struct LstmCellResult {
  Tensor h;  // [B, H] new hidden state
  Tensor c;  // [B, H] new cell state
};

LstmCellResult lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih, const Tensor& w_hh,
                         const Tensor& b_ih, const Tensor& b_hh);

}  // namespace pg
