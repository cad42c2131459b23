// Shared pieces of the point-cloud layer kernels: the per-element expressions (activation and
// its derivative, the fused affine epilogue, the fused backward terms) as PG_HD functions, the
// per-channel bodies (BN fold, backward coefficients), the Generic per-channel / per-element
// bodies and the max-pool bodies. kernels/cpu/pointnet.cpp and kernels/cuda/pointnet.cu build
// their reductions from exactly these expressions, so both backends compute the same values up
// to the order of the float64 sums.
#pragma once

#include <cmath>

#include "core/parallel_for.h"
#include "kernels/common/hd_util.h"
#include "kernels/pointnet.h"

namespace pg::kernels::pn_detail {

// PyTorch's SELU constants.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

using ::pg::kernels::exp_t;  // kernels/common/hd_util.h
PG_HD PG_INLINE float rsqrt_t(float v) {
  return 1.0f / ::sqrtf(v);
}
PG_HD PG_INLINE double rsqrt_t(double v) {
  return 1.0 / ::sqrt(v);
}

template <class T>
PG_HD PG_INLINE T act_fwd(T u, Activation act, T slope) {
  switch (act) {
    case Activation::relu:
      return u > T(0) ? u : T(0);
    case Activation::leaky_relu:
      return u > T(0) ? u : u * slope;
    case Activation::selu:
      return u > T(0) ? T(kSeluScale) * u : T(kSeluScale * kSeluAlpha) * (exp_t(u) - T(1));
    default:
      return u;
  }
}

// d act / du (relu'(0) = 0, leaky_relu'(0) = slope).
template <class T>
PG_HD PG_INLINE T act_grad(T u, Activation act, T slope) {
  switch (act) {
    case Activation::relu:
      return u > T(0) ? T(1) : T(0);
    case Activation::leaky_relu:
      return u > T(0) ? T(1) : slope;
    case Activation::selu:
      return u > T(0) ? T(kSeluScale) : T(kSeluScale * kSeluAlpha) * exp_t(u);
    default:
      return T(1);
  }
}

// gu = gy · act'(scale·z + shift)
template <class T>
PG_HD PG_INLINE T grad_u(T gy, T z, T scale, T shift, Activation act, T slope) {
  return act == Activation::none ? gy : gy * act_grad(scale * z + shift, act, slope);
}

template <class T>
T* ptr(const Tensor& t) {
  return t.defined() ? static_cast<T*>(t.raw_data()) : nullptr;
}

// ---- per channel ----

template <class T>
struct BnFoldBody {
  const T* bias;
  const T* gamma;
  const T* beta;
  const T* bmean;
  const T* bvar;
  T* rmean;
  T* rvar;
  T* scale;
  T* shift;
  T* center;
  T* invstd;
  bool bn, update;
  double momentum, eps, unbias;  // unbias = R / (R − 1)
  PG_HD void operator()(int64_t c) const {
    const double b = bias ? static_cast<double>(bias[c]) : 0.0;
    double ctr = 0.0, iv = 1.0, sc = 1.0, sh = b;
    if (bn) {
      if (bmean) {
        const double m = bmean[c], v = bvar[c];
        ctr = m;
        iv = 1.0 / ::sqrt(v + eps);
        if (update && rmean) {
          rmean[c] = static_cast<T>((1.0 - momentum) * static_cast<double>(rmean[c]) + momentum * (m + b));
          rvar[c] = static_cast<T>((1.0 - momentum) * static_cast<double>(rvar[c]) + momentum * v * unbias);
        }
      } else {
        ctr = static_cast<double>(rmean[c]) - b;
        iv = 1.0 / ::sqrt(static_cast<double>(rvar[c]) + eps);
      }
      sc = (gamma ? static_cast<double>(gamma[c]) : 1.0) * iv;
      sh = (beta ? static_cast<double>(beta[c]) : 0.0) - sc * ctr;
    }
    scale[c] = static_cast<T>(sc);
    shift[c] = static_cast<T>(sh);
    center[c] = static_cast<T>(ctr);
    invstd[c] = static_cast<T>(iv);
  }
};

template <class T>
struct BnCoefBody {
  const T* sum_g;
  const T* sum_gx;
  const T* scale;
  T* cb;
  T* cd;
  double inv_rows;
  PG_HD void operator()(int64_t c) const {
    const double k = static_cast<double>(scale[c]) * inv_rows;
    cb[c] = static_cast<T>(-k * static_cast<double>(sum_gx[c]));
    cd[c] = static_cast<T>(-k * static_cast<double>(sum_g[c]));
  }
};

// Generic statistics: one work item per channel, a sequential float64 loop over the rows
// shifted by row 0.
template <class T>
struct StatsChannelBody {
  const T* z;
  T* mean;
  T* var;
  int64_t R, C;
  PG_HD void operator()(int64_t c) const {
    const double k = static_cast<double>(z[c]);
    double s = 0.0, ss = 0.0;
    for (int64_t r = 0; r < R; ++r) {
      const double d = static_cast<double>(z[r * C + c]) - k;
      s += d;
      ss += d * d;
    }
    const double m = s / static_cast<double>(R);
    const double v = ss / static_cast<double>(R) - m * m;
    mean[c] = static_cast<T>(k + m);
    var[c] = static_cast<T>(v > 0.0 ? v : 0.0);
  }
};

// Generic backward reduction: one work item per channel.
template <class T>
struct BwdReduceChannelBody {
  const T* gy;
  const T* z;
  const T* scale;
  const T* shift;
  const T* center;
  const T* invstd;
  T* sum_g;
  T* sum_gx;      // may be null
  T* gz;          // may be null
  const T* coef;  // may be null (1)
  Activation act;
  T slope;
  int64_t R, C;
  PG_HD void operator()(int64_t c) const {
    const T sc = scale[c], sh = shift[c], ce = center[c], iv = invstd[c];
    const T co = coef ? coef[c] : T(1);
    double s = 0.0, sx = 0.0;
    for (int64_t r = 0; r < R; ++r) {
      const int64_t k = r * C + c;
      const T zz = z[k];
      const T gu = grad_u(gy[k], zz, sc, sh, act, slope);
      s += static_cast<double>(gu);
      if (sum_gx) sx += static_cast<double>(gu) * static_cast<double>((zz - ce) * iv);
      if (gz) gz[k] = co * gu;
    }
    sum_g[c] = static_cast<T>(s);
    if (sum_gx) sum_gx[c] = static_cast<T>(sx);
  }
};

// ---- per element (k = r·C + c) ----

template <class T>
struct AffineActBody {
  const T* z;
  T* out;
  const T* scale;
  const T* shift;
  int64_t C;
  Activation act;
  T slope;
  PG_HD void operator()(int64_t k) const {
    const int64_t c = k % C;
    out[k] = act_fwd(scale[c] * z[k] + shift[c], act, slope);
  }
};

template <class T>
PG_HD PG_INLINE T bn_bwd_elem(T gy, T z, T sc, T sh, T ce, T iv, T cb, T cd, Activation act, T slope) {
  const T gu = grad_u(gy, z, sc, sh, act, slope);
  return sc * gu + cb * ((z - ce) * iv) + cd;
}

template <class T>
struct BnBwdApplyBody {
  const T* gy;
  const T* z;
  const T* scale;
  const T* shift;
  const T* center;
  const T* invstd;
  const T* cb;
  const T* cd;
  T* gz;
  int64_t C;
  Activation act;
  T slope;
  PG_HD void operator()(int64_t k) const {
    const int64_t c = k % C;
    gz[k] = bn_bwd_elem(gy[k], z[k], scale[c], shift[c], center[c], invstd[c], cb[c], cd[c], act, slope);
  }
};

// ---- max-pool ----

// Does candidate (v, i) beat the current (best, bi)? NaN beats numbers; among equal values (or
// two NaNs) the lower index wins.
template <class T>
PG_HD PG_INLINE bool pool_better(T v, int64_t i, T best, int64_t bi) {
  const bool vn = v != v, bn = best != best;
  if (vn || bn) return vn && (!bn || i < bi);
  return v > best || (v == best && i < bi);
}

// One (b, c) per work item, ascending scan over the points.
template <class T>
struct MaxPoolBody {
  const T* x;
  T* values;
  int64_t* indices;
  int64_t N, C;
  PG_HD void operator()(int64_t o) const {
    const int64_t b = o / C, c = o - b * C;
    const T* p = x + b * N * C + c;
    T best = p[0];
    int64_t bi = 0;
    for (int64_t n = 1; n < N; ++n) {
      const T v = p[n * C];
      if (pool_better(v, n, best, bi)) {
        best = v;
        bi = n;
      }
    }
    values[o] = best;
    indices[o] = bi;
  }
};

template <class T>
struct MaxPoolBwdBody {
  const T* g;
  const int64_t* indices;
  T* gx;
  int64_t N, C;
  PG_HD void operator()(int64_t o) const {
    const int64_t b = o / C, c = o - b * C;
    gx[(b * N + indices[o]) * C + c] = g[o];
  }
};

}  // namespace pg::kernels::pn_detail

namespace pg::kernels {

template <class Backend>
void bn_fold(const BnFoldArgs& a, int64_t C, const Tensor& scale, const Tensor& shift, const Tensor& center,
             const Tensor& invstd) {
  using namespace pn_detail;
  const double unbias = a.rows > 1 ? static_cast<double>(a.rows) / static_cast<double>(a.rows - 1) : 1.0;
  dispatch_floating(scale.dtype(), "bn_fold", [&]<class T>() {
    parallel_for<Backend>(
        C, BnFoldBody<T>{ptr<T>(a.bias), ptr<T>(a.gamma), ptr<T>(a.beta), ptr<T>(a.batch_mean), ptr<T>(a.batch_var),
                         ptr<T>(a.running_mean), ptr<T>(a.running_var), ptr<T>(scale), ptr<T>(shift), ptr<T>(center),
                         ptr<T>(invstd), a.bn, a.update_running, a.momentum, a.eps, unbias});
  });
}

template <class Backend>
void bn_backward_coef(const Tensor& sum_g, const Tensor& sum_gx, const Tensor& scale, int64_t rows, const Tensor& cb,
                      const Tensor& cd) {
  using namespace pn_detail;
  dispatch_floating(scale.dtype(), "bn_backward_coef", [&]<class T>() {
    parallel_for<Backend>(scale.numel(), BnCoefBody<T>{ptr<T>(sum_g), ptr<T>(sum_gx), ptr<T>(scale), ptr<T>(cb),
                                                       ptr<T>(cd), 1.0 / static_cast<double>(rows)});
  });
}

template <class Backend>
void max_pool_points_backward(const Tensor& g, const Tensor& indices, const Tensor& gx) {
  using namespace pn_detail;
  detail::fill_raw(gx, 0.0);
  const int64_t B = gx.size(0), N = gx.size(1), C = gx.size(2);
  dispatch_floating(gx.dtype(), "max_pool_points backward", [&]<class T>() {
    parallel_for<Backend>(B * C, MaxPoolBwdBody<T>{ptr<T>(g), ptr<int64_t>(indices), ptr<T>(gx), N, C});
  });
}

// ---- Generic launchers: the per-channel / per-element bodies above on parallel_for (the
// PointnetImpl::Generic path of both backends; the CUDA reference for the Fast kernels). ----

template <class Backend>
void generic_channel_stats(const Tensor& z, const Tensor& mean, const Tensor& var) {
  using namespace pn_detail;
  const int64_t R = z.size(0), C = z.size(1);
  dispatch_floating(z.dtype(), "channel_stats", [&]<class T>() {
    parallel_for<Backend>(C, StatsChannelBody<T>{ptr<T>(z), ptr<T>(mean), ptr<T>(var), R, C});
  });
}

template <class Backend>
void generic_affine_act(const Tensor& z, const Tensor& scale, const Tensor& shift, const Tensor& out, Activation act,
                        double slope) {
  using namespace pn_detail;
  const int64_t C = z.size(1);
  dispatch_floating(z.dtype(), "affine_act", [&]<class T>() {
    parallel_for<Backend>(z.numel(), AffineActBody<T>{ptr<T>(z), ptr<T>(out), ptr<T>(scale), ptr<T>(shift), C, act,
                                                      static_cast<T>(slope)});
  });
}

template <class Backend>
void generic_act_backward_reduce(const Tensor& gy, const Tensor& z, const Tensor& scale, const Tensor& shift,
                                 const Tensor& center, const Tensor& invstd, Activation act, double slope, const Tensor& sum_g,
                                 const Tensor& sum_gx, const Tensor& gz, const Tensor& coef) {
  using namespace pn_detail;
  const int64_t R = z.size(0), C = z.size(1);
  dispatch_floating(z.dtype(), "act_backward_reduce", [&]<class T>() {
    parallel_for<Backend>(C, BwdReduceChannelBody<T>{ptr<T>(gy), ptr<T>(z), ptr<T>(scale), ptr<T>(shift),
                                                     ptr<T>(center), ptr<T>(invstd), ptr<T>(sum_g), ptr<T>(sum_gx),
                                                     ptr<T>(gz), ptr<T>(coef), act, static_cast<T>(slope), R, C});
  });
}

template <class Backend>
void generic_bn_backward_apply(const Tensor& gy, const Tensor& z, const Tensor& scale, const Tensor& shift,
                               const Tensor& center, const Tensor& invstd, Activation act, double slope, const Tensor& cb,
                               const Tensor& cd, const Tensor& gz) {
  using namespace pn_detail;
  const int64_t C = z.size(1);
  dispatch_floating(z.dtype(), "bn_backward_apply", [&]<class T>() {
    parallel_for<Backend>(z.numel(), BnBwdApplyBody<T>{ptr<T>(gy), ptr<T>(z), ptr<T>(scale), ptr<T>(shift),
                                                       ptr<T>(center), ptr<T>(invstd), ptr<T>(cb), ptr<T>(cd),
                                                       ptr<T>(gz), C, act, static_cast<T>(slope)});
  });
}

template <class Backend>
void generic_max_pool_points(const Tensor& x, const Tensor& values, const Tensor& indices) {
  using namespace pn_detail;
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
  dispatch_floating(x.dtype(), "max_pool_points", [&]<class T>() {
    parallel_for<Backend>(B * C, MaxPoolBody<T>{ptr<T>(x), ptr<T>(values), ptr<int64_t>(indices), N, C});
  });
}

}  // namespace pg::kernels
