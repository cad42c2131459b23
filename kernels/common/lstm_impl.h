// Shared PG_HD per-unit bodies of the LSTM cell pointwise passes (kernels/lstm.h). One call
// handles hidden unit j of one row: it reads that unit's four gate values (columns j, H + j,
// 2H + j, 3H + j of the row) and writes only that unit's outputs, so rows and units are
// independent work items on both backends (CPU: a row loop per thread; CUDA: a thread per unit).
// Every output is a fixed expression of its inputs: CPU and CUDA agree to rounding (the device
// may contract multiply-adds into FMAs).
// LstmExec<Backend> is specialised in kernels/cpu/lstm.cpp and kernels/cuda/lstm.cu; the
// launchers below delegate to it and are instantiated there.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/macros.h"
#include "kernels/common/hd_util.h"
#include "core/parallel_for.h"
#include "kernels/lstm.h"

namespace pg::kernels::lstm_detail {

using ::pg::kernels::exp_t;  // kernels/common/hd_util.h
using ::pg::kernels::tanh_t;

using ::pg::kernels::sigmoid_t;

// Forward of unit j: z [4H] the row's pre-activations (overwritten with the activations),
// b_ih / b_hh [4H] or null, c_prev / h_new / c_new the row's [H] vectors.
template <class T>
PG_HD PG_INLINE void forward_unit(T* z, const T* b_ih, const T* b_hh, const T* c_prev, T* h_new, T* c_new, int64_t H,
                                  int64_t j) {
  T zi = z[j], zf = z[H + j], zg = z[2 * H + j], zo = z[3 * H + j];
  if (b_ih != nullptr) {
    zi += b_ih[j];
    zf += b_ih[H + j];
    zg += b_ih[2 * H + j];
    zo += b_ih[3 * H + j];
  }
  if (b_hh != nullptr) {
    zi += b_hh[j];
    zf += b_hh[H + j];
    zg += b_hh[2 * H + j];
    zo += b_hh[3 * H + j];
  }
  const T i = sigmoid_t(zi), f = sigmoid_t(zf), g = tanh_t(zg), o = sigmoid_t(zo);
  z[j] = i;
  z[H + j] = f;
  z[2 * H + j] = g;
  z[3 * H + j] = o;
  const T c = f * c_prev[j] + i * g;
  c_new[j] = c;
  h_new[j] = o * tanh_t(c);
}

// Backward of unit j: a [4H] the row's activated gates; g_h / g_c the row's upstream gradients
// or null (zero); dz [4H] and dc_prev [H] (or null) of the row are written.
template <class T>
PG_HD PG_INLINE void backward_unit(const T* a, const T* c_prev, const T* c_new, const T* g_h, const T* g_c, T* dz,
                                   T* dc_prev, int64_t H, int64_t j) {
  const T i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
  const T tc = tanh_t(c_new[j]);
  const T gh = g_h != nullptr ? g_h[j] : T(0);
  const T dc = (g_c != nullptr ? g_c[j] : T(0)) + gh * o * (T(1) - tc * tc);
  dz[j] = dc * g * i * (T(1) - i);
  dz[H + j] = dc * c_prev[j] * f * (T(1) - f);
  dz[2 * H + j] = dc * i * (T(1) - g * g);
  dz[3 * H + j] = gh * tc * o * (T(1) - o);
  if (dc_prev != nullptr) dc_prev[j] = dc * f;
}

}  // namespace pg::kernels::lstm_detail

namespace pg::kernels {

template <class Backend>
struct LstmExec;

template <class Backend>
void lstm_cell_forward_pointwise(const Tensor& gates, const Tensor& b_ih, const Tensor& b_hh, const Tensor& c_prev,
                                 const Tensor& h_new, const Tensor& c_new) {
  LstmExec<Backend>::forward(gates, b_ih, b_hh, c_prev, h_new, c_new);
}

template <class Backend>
void lstm_cell_backward_pointwise(const Tensor& gates, const Tensor& c_prev, const Tensor& c_new, const Tensor& g_h,
                                  const Tensor& g_c, const Tensor& d_gates, const Tensor& d_c_prev) {
  LstmExec<Backend>::backward(gates, c_prev, c_new, g_h, g_c, d_gates, d_c_prev);
}

}  // namespace pg::kernels
