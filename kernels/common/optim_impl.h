// Shared bodies of the optimizer kernels (PG_HD: the CPU loop and the CUDA kernels run the very
// same per-element expressions) and the generic per-tensor launchers.
//
// The math follows PyTorch's single-tensor implementations (torch/optim/sgd.py, adam.py,
// adamw.py, maximize = False, non-capturable), element by element in the parameter's dtype:
//
// SGD (lr, momentum μ, dampening τ, weight decay λ, nesterov):
//   d = g + λ·p                                   (when λ != 0)
//   b = d on the buffer's first step, else μ·b + (1 − τ)·d     (when μ != 0)
//   d = d + μ·b (nesterov) or d = b               (when μ != 0)
//   p = p − lr·d
// Adam / AdamW (lr, β1, β2, ε, λ; t = this parameter's step count including the current one):
//   AdamW: p = p·(1 − lr·λ)          Adam: g = g + λ·p     (when λ != 0)
//   m = lerp(m, g, 1 − β1)           (PyTorch's lerp: m + w·(g − m) for w < 0.5)
//   v = β2·v + (1 − β2)·g·g
//   amsgrad: v̂ = max(v̂, v), else v̂ = v
//   p = p − step_size · m / (sqrt(v̂) / sqrt(1 − β2^t) + ε),   step_size = lr / (1 − β1^t)
// (ε is added OUTSIDE the square root, after the bias correction, as PyTorch; TF's Adam
// differs: ε̂ is added to sqrt(v) before the correction is folded into the step size.)
#pragma once

#include <math.h>

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/optim.h"

namespace pg::kernels {
namespace optim_detail {

template <class T>
PG_HD PG_INLINE T o_sqrt(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return ::sqrtf(x);
  } else {
    return ::sqrt(x);
  }
}

// PyTorch's lerp (aten/src/ATen/native/Lerp.h): exact at both ends.
template <class T>
PG_HD PG_INLINE T o_lerp(T a, T b, T w) {
  return (w < T(0.5)) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
}

template <class T>
struct SgdCoef {
  T lr, momentum, one_minus_dampening, weight_decay;
  bool has_momentum, nesterov, first_step;
};

template <class T>
PG_HD PG_INLINE void sgd_update(T* p, const T* g, T* buf, int64_t i, const SgdCoef<T>& c) {
  T d = g[i];
  const T pi = p[i];
  if (c.weight_decay != T(0)) d = d + c.weight_decay * pi;
  if (c.has_momentum) {
    const T b = c.first_step ? d : c.momentum * buf[i] + c.one_minus_dampening * d;
    buf[i] = b;
    d = c.nesterov ? d + c.momentum * b : b;
  }
  p[i] = pi - c.lr * d;
}

template <class T>
struct AdamCoef {
  T one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay;
  T decay;      // 1 − lr·λ (AdamW)
  T step_size;  // lr / (1 − β1^t)        (per tensor)
  T bc2_sqrt;   // sqrt(1 − β2^t)          (per tensor)
  bool decoupled, amsgrad;
};

template <class T>
PG_HD PG_INLINE void adam_update(T* p, const T* g, T* m, T* v, T* vmax, int64_t i, const AdamCoef<T>& c) {
  T pi = p[i];
  T gi = g[i];
  if (c.decoupled) {
    pi = pi * c.decay;
  } else if (c.weight_decay != T(0)) {
    gi = gi + c.weight_decay * pi;
  }
  const T mi = o_lerp(m[i], gi, c.one_minus_beta1);
  const T vi = v[i] * c.beta2 + c.one_minus_beta2 * gi * gi;
  m[i] = mi;
  v[i] = vi;
  T vv = vi;
  if (c.amsgrad) {
    vv = vmax[i] > vi ? vmax[i] : vi;
    vmax[i] = vv;
  }
  const T denom = o_sqrt(vv) / c.bc2_sqrt + c.eps;
  p[i] = pi - c.step_size * mi / denom;
}

template <class T>
SgdCoef<T> make_sgd_coef(const SgdHyper& h, bool first_step) {
  return SgdCoef<T>{static_cast<T>(h.lr),
                    static_cast<T>(h.momentum),
                    static_cast<T>(1.0 - h.dampening),
                    static_cast<T>(h.weight_decay),
                    h.momentum != 0.0,
                    h.nesterov,
                    first_step};
}

template <class T>
AdamCoef<T> make_adam_coef(const AdamHyper& h, int64_t step) {
  const double bc1 = 1.0 - std::pow(h.beta1, static_cast<double>(step));
  const double bc2 = 1.0 - std::pow(h.beta2, static_cast<double>(step));
  AdamCoef<T> c{};
  c.one_minus_beta1 = static_cast<T>(1.0 - h.beta1);
  c.beta2 = static_cast<T>(h.beta2);
  c.one_minus_beta2 = static_cast<T>(1.0 - h.beta2);
  c.eps = static_cast<T>(h.eps);
  c.weight_decay = static_cast<T>(h.weight_decay);
  c.decay = static_cast<T>(1.0 - h.lr * h.weight_decay);
  c.step_size = static_cast<T>(h.lr / bc1);
  c.bc2_sqrt = static_cast<T>(std::sqrt(bc2));
  c.decoupled = h.decoupled_weight_decay;
  c.amsgrad = h.amsgrad;
  return c;
}

template <class T>
struct SgdBody {
  T* p;
  const T* g;
  T* buf;
  SgdCoef<T> c;
  PG_HD void operator()(int64_t i) const { sgd_update(p, g, buf, i, c); }
};

template <class T>
struct AdamBody {
  T* p;
  const T* g;
  T* m;
  T* v;
  T* vmax;
  AdamCoef<T> c;
  PG_HD void operator()(int64_t i) const { adam_update(p, g, m, v, vmax, i, c); }
};

template <class T>
struct ScaleBody {
  T* x;
  T s;
  PG_HD void operator()(int64_t i) const { x[i] = x[i] * s; }
};

template <class T>
struct ClampBody {
  T* x;
  T lo, hi;
  PG_HD void operator()(int64_t i) const {
    const T v = x[i];
    // NaN compares false both ways and stays NaN.
    x[i] = v < lo ? lo : (v > hi ? hi : v);
  }
};

template <class T>
T* ptr_or_null(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

// CUDA multi-tensor paths (kernels/cuda/optim.cu): many parameters per launch.
void sgd_step_multi_tensor_cuda(const std::vector<SgdEntry>& entries, const SgdHyper& h);
void adam_step_multi_tensor_cuda(const std::vector<AdamEntry>& entries, const AdamHyper& h);

}  // namespace optim_detail

template <class Backend>
void sgd_step(const std::vector<SgdEntry>& entries, const SgdHyper& h, OptimImpl impl) {
  using namespace optim_detail;
  if constexpr (Backend::is_cuda) {
    if (impl != OptimImpl::PerTensor) {
      sgd_step_multi_tensor_cuda(entries, h);
      return;
    }
  }
  for (const SgdEntry& e : entries) {
    const int64_t n = e.param.numel();
    if (n == 0) continue;
    dispatch_floating(e.param.dtype(), "sgd_step", [&]<class T>() {
      parallel_for<Backend>(n, SgdBody<T>{static_cast<T*>(e.param.raw_data()), static_cast<const T*>(e.grad.raw_data()),
                                          ptr_or_null<T>(e.momentum_buffer), make_sgd_coef<T>(h, e.first_step)});
    });
  }
}

template <class Backend>
void adam_step(const std::vector<AdamEntry>& entries, const AdamHyper& h, OptimImpl impl) {
  using namespace optim_detail;
  if constexpr (Backend::is_cuda) {
    if (impl != OptimImpl::PerTensor) {
      adam_step_multi_tensor_cuda(entries, h);
      return;
    }
  }
  for (const AdamEntry& e : entries) {
    const int64_t n = e.param.numel();
    if (n == 0) continue;
    dispatch_floating(e.param.dtype(), "adam_step", [&]<class T>() {
      parallel_for<Backend>(n,
                            AdamBody<T>{static_cast<T*>(e.param.raw_data()), static_cast<const T*>(e.grad.raw_data()),
                                        static_cast<T*>(e.exp_avg.raw_data()), static_cast<T*>(e.exp_avg_sq.raw_data()),
                                        ptr_or_null<T>(e.max_exp_avg_sq), make_adam_coef<T>(h, e.step)});
    });
  }
}

template <class Backend>
void scale_inplace(const Tensor& t, double s) {
  const int64_t n = t.numel();
  if (n == 0) return;
  dispatch_floating(t.dtype(), "scale_inplace", [&]<class T>() {
    parallel_for<Backend>(n, optim_detail::ScaleBody<T>{static_cast<T*>(t.raw_data()), static_cast<T>(s)});
  });
}

template <class Backend>
void clamp_inplace(const Tensor& t, double lo, double hi) {
  const int64_t n = t.numel();
  if (n == 0) return;
  dispatch_floating(t.dtype(), "clamp_inplace", [&]<class T>() {
    parallel_for<Backend>(
        n, optim_detail::ClampBody<T>{static_cast<T*>(t.raw_data()), static_cast<T>(lo), static_cast<T>(hi)});
  });
}

}  // namespace pg::kernels
