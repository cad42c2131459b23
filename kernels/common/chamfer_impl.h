// Shared PG_HD pieces of Chamfer and Hausdorff: per-row statistics, loss assembly, backward
// coefficients. The nearest-neighbour search itself is the kNN machinery with K = 1 (CPU, and
// the generic body) or the tiled bidirectional CUDA kernel (kernels/cuda/chamfer.cu).
// ChamferExec<Backend> (chamfer_nn and row_stats strategies) is specialised per backend.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/macros.h"
#include "core/parallel_for.h"
#include "kernels/chamfer.h"
#include "kernels/common/knn_impl.h"

namespace pg::kernels {
namespace chamfer_detail {

// One thread per row: sum in float64 (sequential), max and lowest argmax.
template <class T>
struct RowStatsBody {
  const T* d;  // [B, n]
  int64_t n;
  T* sum;           // [B] or null
  T* max;           // [B] or null
  int64_t* argmax;  // [B] or null
  PG_HD void operator()(int64_t b) const {
    const T* r = d + b * n;
    double s = 0.0;
    T m = n > 0 ? r[0] : T(0);
    int64_t am = 0;
    for (int64_t i = 0; i < n; ++i) {
      s += static_cast<double>(r[i]);
      if (r[i] > m) {
        m = r[i];
        am = i;
      }
    }
    if (sum) sum[b] = static_cast<T>(s);
    if (max) max[b] = m;
    if (argmax) argmax[b] = am;
  }
};

// mode 0 mean, 1 sum: one thread writes loss[0]; mode 2 none: loss[b] per cloud.
template <class T>
struct ChamferLossBody {
  T* loss;
  const T* sum_a;  // [B] or null
  const T* sum_b;  // [B] or null
  int64_t B, n, m;
  int mode;
  PG_HD void operator()(int64_t i) const {
    if (mode == 2) {
      double v = 0.0;
      if (sum_a) v += static_cast<double>(sum_a[i]) / static_cast<double>(n);
      if (sum_b) v += static_cast<double>(sum_b[i]) / static_cast<double>(m);
      loss[i] = static_cast<T>(v);
      return;
    }
    double sa = 0.0, sb = 0.0;
    for (int64_t b = 0; b < B; ++b) {
      if (sum_a) sa += static_cast<double>(sum_a[b]);
      if (sum_b) sb += static_cast<double>(sum_b[b]);
    }
    if (mode == 0) {
      sa /= static_cast<double>(B * n);
      sb /= static_cast<double>(B * m);
    }
    loss[0] = static_cast<T>(sa + sb);
  }
};

template <class T>
struct ChamferCoefBody {
  T* coef;           // [B, n]
  const T* g_point;  // [B, n] or null
  const T* g_loss;   // [1] or [B] or null
  int64_t n;
  int mode;
  T scale;
  PG_HD void operator()(int64_t i) const {
    T c = g_point ? g_point[i] : T(0);
    if (g_loss) c += g_loss[mode == 2 ? i / n : 0] * scale;
    coef[i] = c;
  }
};

template <class T>
PG_HD PG_INLINE T hd_f(T x, bool squared) {
  return squared ? x : sqrt(x);
}

template <class T>
struct HausdorffCombineBody {
  T* out;          // [1] or [B]
  T* per_cloud;    // [B]
  int32_t* which;  // [B]
  const T* max_a;  // [B] or null
  const T* max_b;  // [B] or null
  int64_t B;
  int combine, mode;
  bool squared;
  PG_HD void operator()(int64_t) const {
    double acc = 0.0;
    for (int64_t b = 0; b < B; ++b) {
      T h;
      int32_t w = 0;
      if (max_a && max_b) {
        const T fa = hd_f(max_a[b], squared), fb = hd_f(max_b[b], squared);
        if (combine == 1) {
          h = fa + fb;
        } else {
          w = fb > fa ? 1 : 0;
          h = w ? fb : fa;
        }
      } else if (max_a) {
        h = hd_f(max_a[b], squared);
      } else {
        h = hd_f(max_b[b], squared);
        w = 1;
      }
      per_cloud[b] = h;
      which[b] = w;
      if (mode == 2) {
        out[b] = h;
      } else {
        acc += static_cast<double>(h);
      }
    }
    if (mode == 0) out[0] = static_cast<T>(acc / static_cast<double>(B));
    if (mode == 1) out[0] = static_cast<T>(acc);
  }
};

// coef is zero-filled before; one thread per cloud sets the argmax entry.
template <class T>
struct HausdorffCoefBody {
  T* coef;  // [B, n]
  const T* g_out;
  const int64_t* argmax;
  const T* max_dir;
  const int32_t* which;
  int64_t B, n;
  int dir, combine, mode;
  bool squared;
  PG_HD void operator()(int64_t b) const {
    if (combine == 0 && which[b] != dir) return;
    const T g = g_out[mode == 2 ? b : 0] * (mode == 0 ? T(1) / static_cast<T>(B) : T(1));
    T fp = T(1);
    if (!squared) {
      const T mx = max_dir[b];
      fp = mx > T(0) ? T(0.5) / sqrt(mx) : T(0);
    }
    coef[b * n + argmax[b]] = g * fp;
  }
};

}  // namespace chamfer_detail

template <class Backend>
struct ChamferExec;

template <class Backend>
void chamfer_nn(const Tensor& a, const Tensor& b, const Tensor& dist_a, const Tensor& idx_a, const Tensor& dist_b,
                const Tensor& idx_b, ChamferImpl path) {
  if (a.size(0) == 0) return;
  ChamferExec<Backend>::nn(a, b, dist_a, idx_a, dist_b, idx_b, path);
}

template <class Backend>
void row_stats(const Tensor& d, const Tensor& sum, const Tensor& max, const Tensor& argmax) {
  if (d.size(0) == 0) return;
  ChamferExec<Backend>::row_stats(d, sum, max, argmax);
}

template <class Backend>
void chamfer_loss(const Tensor& loss, const Tensor& sum_a, const Tensor& sum_b, int64_t n, int64_t m, int mode) {
  dispatch_floating(loss.dtype(), "chamfer", [&]<class T>() {
    const int64_t B = sum_a.defined() ? sum_a.numel() : sum_b.numel();
    const T* sa = sum_a.defined() ? sum_a.data<T>() : nullptr;
    const T* sb = sum_b.defined() ? sum_b.data<T>() : nullptr;
    parallel_for<Backend>(mode == 2 ? B : 1, chamfer_detail::ChamferLossBody<T>{loss.data<T>(), sa, sb, B, n, m, mode});
  });
}

template <class Backend>
void chamfer_coef(const Tensor& coef, const Tensor& g_point, const Tensor& g_loss, int mode, double scale) {
  dispatch_floating(coef.dtype(), "chamfer_backward", [&]<class T>() {
    const int64_t n = coef.size(1);
    parallel_for<Backend>(coef.numel(),
                          chamfer_detail::ChamferCoefBody<T>{
                              coef.data<T>(), g_point.defined() ? g_point.data<T>() : nullptr,
                              g_loss.defined() ? g_loss.data<T>() : nullptr, n, mode, static_cast<T>(scale)});
  });
}

template <class Backend>
void hausdorff_combine(const Tensor& out, const Tensor& per_cloud, const Tensor& which, const Tensor& max_a,
                       const Tensor& max_b, int combine, bool squared, int mode) {
  dispatch_floating(out.dtype(), "hausdorff", [&]<class T>() {
    parallel_for<Backend>(
        1, chamfer_detail::HausdorffCombineBody<T>{
               out.data<T>(), per_cloud.data<T>(), which.data<int32_t>(), max_a.defined() ? max_a.data<T>() : nullptr,
               max_b.defined() ? max_b.data<T>() : nullptr, per_cloud.numel(), combine, mode, squared});
  });
}

template <class Backend>
void hausdorff_coef(const Tensor& coef, const Tensor& g_out, const Tensor& argmax, const Tensor& max_dir,
                    const Tensor& which, int dir, int combine, bool squared, int mode) {
  detail::fill_raw(coef, 0.0);
  dispatch_floating(coef.dtype(), "hausdorff_backward", [&]<class T>() {
    const int64_t B = coef.size(0), n = coef.size(1);
    parallel_for<Backend>(B, chamfer_detail::HausdorffCoefBody<T>{
                                 coef.data<T>(), g_out.data<T>(), argmax.data<int64_t>(), max_dir.data<T>(),
                                 which.data<int32_t>(), B, n, dir, combine, mode, squared});
  });
}

}  // namespace pg::kernels
