// Shared bodies of the NN kernels (softmax rows, NLL / cross-entropy rows, KL pointwise). The
// PG_HD functors below are what the CPU runs (parallel_for over rows / elements) and what the
// CUDA Column path and the CUDA loss kernels run; kernels/cuda/nn.cu adds warp-/block-per-row
// softmax kernels that evaluate the same per-element expressions with a tree reduction.
#pragma once

#include <cmath>
#include <limits>

#include "core/parallel_for.h"
#include "kernels/common/hd_util.h"
#include "kernels/nn.h"

namespace pg::kernels::nn_detail {

using ::pg::kernels::exp_t;  // kernels/common/hd_util.h
PG_HD PG_INLINE float log_t(float v) {
  return ::logf(v);
}
PG_HD PG_INLINE double log_t(double v) {
  return ::log(v);
}

// Max that lets a NaN win (so a NaN row gives NaN outputs, as PyTorch).
template <class T>
PG_HD PG_INLINE T nan_max(T a, T b) {
  return (a != a || a > b) ? a : b;
}

template <class T>
PG_HD PG_INLINE T neg_inf() {
  return -std::numeric_limits<T>::infinity();
}

// One (outer, inner) row of the softmax along D with element stride `inner`. The max and the
// element terms are in T; the sums accumulate in float64 (as on the CUDA paths).
template <class T>
struct SoftmaxRowBody {
  const T* x;
  T* y;
  int64_t D, inner;
  bool log;
  PG_HD void operator()(int64_t row) const {
    const int64_t o = row / inner, in = row - o * inner;
    const T* xr = x + o * D * inner + in;
    T* yr = y + o * D * inner + in;
    T m = neg_inf<T>();
    for (int64_t j = 0; j < D; ++j) m = nan_max(m, xr[j * inner]);
    double s = 0.0;  // float64 sums on both backends (parity to ~1 ulp for long rows)
    for (int64_t j = 0; j < D; ++j) s += static_cast<double>(exp_t(xr[j * inner] - m));
    if (log) {
      const T lse = static_cast<T>(::log(s));
      for (int64_t j = 0; j < D; ++j) yr[j * inner] = (xr[j * inner] - m) - lse;
    } else {
      const T inv = static_cast<T>(1.0 / s);
      for (int64_t j = 0; j < D; ++j) yr[j * inner] = exp_t(xr[j * inner] - m) * inv;
    }
  }
};

// The per-element backward pieces, shared by every path:
//   softmax:     dot = Σ gy·y,  gx = y·(gy − dot)
//   log_softmax: dot = Σ gy,    gx = gy − exp(y)·dot
template <class T>
PG_HD PG_INLINE T softmax_bwd_term(T y, T gy, bool log) {
  return log ? gy : gy * y;
}
template <class T>
PG_HD PG_INLINE T softmax_bwd_out(T y, T gy, T dot, bool log) {
  return log ? gy - exp_t(y) * dot : y * (gy - dot);
}

template <class T>
struct SoftmaxBwdRowBody {
  const T* y;
  const T* gy;
  T* gx;
  int64_t D, inner;
  bool log;
  PG_HD void operator()(int64_t row) const {
    const int64_t o = row / inner, in = row - o * inner;
    const int64_t base = o * D * inner + in;
    double acc = 0.0;
    for (int64_t j = 0; j < D; ++j)
      acc += static_cast<double>(softmax_bwd_term(y[base + j * inner], gy[base + j * inner], log));
    const T dot = static_cast<T>(acc);
    for (int64_t j = 0; j < D; ++j) {
      const int64_t k = base + j * inner;
      gx[k] = softmax_bwd_out(y[k], gy[k], dot, log);
    }
  }
};

template <class T, class I>
struct NllRowBody {
  const T* lp;
  const I* target;
  T* out;
  int64_t C;
  T eps;
  PG_HD void operator()(int64_t i) const {
    const T* r = lp + i * C;
    double s = 0.0;
    if (eps != T(0)) {
      for (int64_t j = 0; j < C; ++j) s += static_cast<double>(r[j]);
    }
    const double e = static_cast<double>(eps);
    out[i] = static_cast<T>(-(1.0 - e) * static_cast<double>(r[static_cast<int64_t>(target[i])]) -
                            (e / static_cast<double>(C)) * s);
  }
};

template <class T, class I>
struct NllBwdBody {
  T* gx;
  const T* lp;
  const I* target;
  const T* g;
  bool g_scalar;
  T scale, eps;
  int64_t C;
  bool softmax_of_lp;
  PG_HD void operator()(int64_t k) const {
    const int64_t i = k / C, j = k - i * C;
    const T w = scale * g[g_scalar ? 0 : i];
    T v = -eps / static_cast<T>(C);
    if (j == static_cast<int64_t>(target[i])) v -= T(1) - eps;
    if (softmax_of_lp) v += exp_t(lp[k]);
    gx[k] = w * v;
  }
};

template <class T>
struct KlFwdBody {
  const T* input;
  const T* target;
  T* out;
  bool log_target;
  PG_HD void operator()(int64_t k) const {
    const T t = target[k], in = input[k];
    if (log_target) {
      out[k] = exp_t(t) * (t - in);
    } else {
      out[k] = t > T(0) ? t * (log_t(t) - in) : t * (-in);
    }
  }
};

template <class T>
struct KlBwdBody {
  const T* input;
  const T* target;
  const T* g;
  bool g_scalar;
  T scale;
  T* gin;      // may be null
  T* gtarget;  // may be null
  bool log_target;
  PG_HD void operator()(int64_t k) const {
    const T w = scale * g[g_scalar ? 0 : k];
    const T t = target[k], in = input[k];
    if (log_target) {
      const T p = exp_t(t);
      if (gin) gin[k] = -w * p;
      if (gtarget) gtarget[k] = w * p * (t - in + T(1));
    } else {
      if (gin) gin[k] = -w * t;
      if (gtarget) gtarget[k] = t > T(0) ? w * (log_t(t) + T(1) - in) : T(0);
    }
  }
};

template <class T>
T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

}  // namespace pg::kernels::nn_detail

namespace pg::kernels {

// The loss launchers are the same on both backends (parallel_for over the shared bodies). The
// softmax launchers are backend-specific (defined in kernels/cpu/nn.cpp and kernels/cuda/nn.cu).

template <class Backend>
void nll_rows(const Tensor& lp, const Tensor& target, const Tensor& out, double eps) {
  using namespace nn_detail;
  const int64_t B = lp.size(0), C = lp.size(1);
  dispatch_floating(lp.dtype(), "nll_rows", [&]<class T>() {
    dispatch_index(target.dtype(), "nll_rows", [&]<class I>() {
      parallel_for<Backend>(B, NllRowBody<T, I>{ptr<T>(lp), ptr<I>(target), ptr<T>(out), C, static_cast<T>(eps)});
    });
  });
}

template <class Backend>
void nll_backward(const Tensor& gx, const Tensor& lp, const Tensor& target, const Tensor& g, bool g_scalar,
                  double scale, double eps, bool softmax_of_lp) {
  using namespace nn_detail;
  const int64_t B = gx.size(0), C = gx.size(1);
  dispatch_floating(gx.dtype(), "nll_backward", [&]<class T>() {
    dispatch_index(target.dtype(), "nll_backward", [&]<class I>() {
      parallel_for<Backend>(B * C, NllBwdBody<T, I>{ptr<T>(gx), ptr<T>(lp), ptr<I>(target), ptr<T>(g), g_scalar,
                                                    static_cast<T>(scale), static_cast<T>(eps), C, softmax_of_lp});
    });
  });
}

template <class Backend>
void kl_div_forward(const Tensor& input, const Tensor& target, const Tensor& out, bool log_target) {
  using namespace nn_detail;
  dispatch_floating(input.dtype(), "kl_div", [&]<class T>() {
    parallel_for<Backend>(input.numel(), KlFwdBody<T>{ptr<T>(input), ptr<T>(target), ptr<T>(out), log_target});
  });
}

template <class Backend>
void kl_div_backward(const Tensor& input, const Tensor& target, const Tensor& g, bool g_scalar, double scale,
                     const Tensor& gin, const Tensor& gtarget, bool log_target) {
  using namespace nn_detail;
  dispatch_floating(input.dtype(), "kl_div backward", [&]<class T>() {
    parallel_for<Backend>(input.numel(), KlBwdBody<T>{ptr<T>(input), ptr<T>(target), ptr<T>(g), g_scalar,
                                                      static_cast<T>(scale), ptr<T>(gin), ptr<T>(gtarget), log_target});
  });
}

}  // namespace pg::kernels
