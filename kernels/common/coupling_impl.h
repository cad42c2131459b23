// Shared PG_HD per-element bodies of the affine coupling passes (kernels/coupling.h). Element m
// of sample b is an independent work item on both backends; only the per-sample log-det sum
// couples elements, and it is accumulated by the backends in a fixed order. Every output is a
// fixed expression of its inputs: CPU and CUDA agree to rounding (the device may contract
// multiply-adds into FMAs).
// CouplingExec<Backend> is specialised in kernels/cpu/coupling.cpp and kernels/cuda/coupling.cu;
// the launchers below delegate to it and are instantiated there.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/macros.h"
#include "kernels/common/hd_util.h"
#include "kernels/coupling.h"

namespace pg::kernels::coupling_detail {

using ::pg::kernels::exp_t;  // kernels/common/hd_util.h

using ::pg::kernels::sigmoid_t;

// The bounded scale s = c·(2σ(ŝ) − 1) ∈ (−c, c).
template <class T>
PG_HD PG_INLINE T scale(T s_raw, T c) {
  return c * (T(2) * sigmoid_t(s_raw) - T(1));
}

// One element of the forward (inverse = false) or inverse pass; returns s for the log-det.
template <class T>
PG_HD PG_INLINE T forward_elem(T in, T s_raw, T t, T c, bool inverse, T* out) {
  const T s = scale(s_raw, c);
  *out = inverse ? (in - t) * exp_t(-s) : in * exp_t(s) + t;
  return s;
}

// One element of the backward (see kernels/coupling.h); d_t may be null (forward direction).
template <class T>
PG_HD PG_INLINE void backward_elem(T a, T s_raw, T g, T g_ld, T c, bool inverse, T* d_in, T* d_sraw, T* d_t) {
  const T sg = sigmoid_t(s_raw);
  const T s = c * (T(2) * sg - T(1));
  const T ds_dsraw = T(2) * c * sg * (T(1) - sg);
  if (!inverse) {
    const T e = exp_t(s);
    *d_in = g * e;
    *d_sraw = (g * a * e + g_ld) * ds_dsraw;
  } else {
    const T e = exp_t(-s);
    *d_in = g * e;
    *d_sraw = -g * a * ds_dsraw;
    if (d_t != nullptr) *d_t = -g * e;
  }
}

}  // namespace pg::kernels::coupling_detail

namespace pg::kernels {

template <class Backend>
struct CouplingExec;

template <class Backend>
void coupling_forward(const Tensor& in, const Tensor& s_raw, const Tensor& t, const Tensor& out, const Tensor& logdet,
                      double clamp, bool inverse) {
  CouplingExec<Backend>::forward(in, s_raw, t, out, logdet, clamp, inverse);
}

template <class Backend>
void coupling_backward(const Tensor& a, const Tensor& s_raw, const Tensor& g, const Tensor& g_ld, const Tensor& d_in,
                       const Tensor& d_sraw, const Tensor& d_t, double clamp, bool inverse) {
  CouplingExec<Backend>::backward(a, s_raw, g, g_ld, d_in, d_sraw, d_t, clamp, inverse);
}

}  // namespace pg::kernels
