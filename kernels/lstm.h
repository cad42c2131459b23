// LSTM cell kernel launchers: the fused pointwise passes around the gate GEMMs (the GEMMs
// themselves run on kernels/blas.h). Defined in kernels/common/lstm_impl.h (the shared PG_HD
// per-unit bodies), kernels/cpu/lstm.cpp (row loops) and kernels/cuda/lstm.cu (a hand-written
// grid-stride kernel per pass), instantiated there.
//
// Conventions (the ops layer has validated everything): all tensors contiguous, one floating
// dtype, on the backend's device. B rows, H hidden units; the gate tensor [B, 4H] holds the four
// gate blocks of a row in PyTorch's order i, f, g, o (unit j of gate k at column k·H + j).
// Optional tensors are passed undefined (Tensor()).
#pragma once

#include "core/tensor.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// On entry `gates` holds z = x·W_ihᵀ + h·W_hhᵀ (no bias); b_ih / b_hh [4H] (optional) are added
// here. On exit `gates` holds the ACTIVATED gates i = σ(z_i), f = σ(z_f), g = tanh(z_g),
// o = σ(z_o) (what the backward needs), and
//   c_new = f·c_prev + i·g,  h_new = o·tanh(c_new)   ([B, H] each, overwritten).
template <class Backend>
void lstm_cell_forward_pointwise(const Tensor& gates, const Tensor& b_ih, const Tensor& b_hh, const Tensor& c_prev,
                                 const Tensor& h_new, const Tensor& c_new);

// Backward of the pointwise pass, from the activated gates, c_prev and c_new: with upstream
// gradients g_h (of h_new) and g_c (of c_new), either may be undefined (zero),
//   dc = g_c + g_h·o·(1 − tanh²(c_new)),
//   d_gates = [dc·g·i(1 − i), dc·c_prev·f(1 − f), dc·i·(1 − g²), g_h·tanh(c_new)·o(1 − o)]
// (the gradient of the pre-activations z, [B, 4H], overwritten) and d_c_prev = dc·f ([B, H],
// overwritten; skipped when undefined).
template <class Backend>
void lstm_cell_backward_pointwise(const Tensor& gates, const Tensor& c_prev, const Tensor& c_new, const Tensor& g_h,
                                  const Tensor& g_c, const Tensor& d_gates, const Tensor& d_c_prev);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_LSTM_LAUNCHERS(X, B)                                                                                       \
  X(B, void, lstm_cell_forward_pointwise,                                                                             \
    (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&))                       \
  X(B, void, lstm_cell_backward_pointwise,                                                                            \
    (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&))

}  // namespace pg::kernels
