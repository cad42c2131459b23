// Shared PG_HD pieces of farthest point sampling: the distance (bit-identical on the CPU and on
// CUDA), the pick rule and the generic one-thread-per-cloud body. The launchers are defined on
// top of FpsExec<Backend>, specialised in kernels/cpu/fps.cpp and kernels/cuda/fps.cu.
#pragma once

#include <cstdint>
#include <limits>

#include "core/macros.h"
#include "core/parallel_for.h"
#include "kernels/common/hd_util.h"
#include "kernels/common/knn_impl.h"
#include "kernels/fps.h"

namespace pg::kernels {
namespace fps_detail {

// Squared distance ((dx·dx + dy·dy) + dz·dz) with every operation rounded on its own: CUDA
// uses the _rn intrinsics (which nvcc never fuses into FMA), the CPU sources are compiled
// without contraction. CPU and CUDA therefore see the same bits, and FPS picks the same points.
template <class T>
PG_HD PG_INLINE T fps_sqdist(T ax, T ay, T az, T bx, T by, T bz) {
#ifdef __CUDA_ARCH__
  const T dx = sub_rn(ax, bx), dy = sub_rn(ay, by), dz = sub_rn(az, bz);
  return add_rn(add_rn(mul_rn(dx, dx), mul_rn(dy, dy)), mul_rn(dz, dz));
#else
  const T dx = ax - bx;
  const T dy = ay - by;
  const T dz = az - bz;
  return (dx * dx + dy * dy) + dz * dz;
#endif
}

// min-update of the field (exact: min of two non-NaN values).
template <class T>
PG_HD PG_INLINE T fmin_exact(T a, T b) {
  return b < a ? b : a;
}

// The pick rule: candidate (v, i) beats (w, j) when v > w, or v == w and i < j.
template <class T>
PG_HD PG_INLINE bool fps_better(T v, int64_t i, T w, int64_t j) {
  return v > w || (v == w && i < j);
}

// One thread per cloud: the textbook loop, the field in a global scratch [B, N]. The semantic
// reference of every path (CPU: FpsImpl::Generic; CUDA: a slow but simple path).
template <class T>
struct FpsGenericBody {
  const T* points;           // [B, N, 3]
  const int64_t* seeds;      // [B, S]
  const int64_t* num_seeds;  // [B] or null
  T* field;                  // [B, N] scratch
  int64_t* out_idx;          // [B, m]
  T* out_rad;                // [B, m]
  int64_t N, S, m;
  PG_HD void operator()(int64_t b) const {
    const T* p = points + b * N * 3;
    T* d = field + b * N;
    const int64_t* sd = seeds + b * S;
    const int64_t s = num_seeds ? num_seeds[b] : S;
    int64_t* oi = out_idx + b * m;
    T* orad = out_rad + b * m;
    for (int64_t i = 0; i < N; ++i) d[i] = nn_detail::inf_value<T>();
    int64_t last = sd[0];
    oi[0] = last;
    orad[0] = nn_detail::inf_value<T>();
    for (int64_t it = 1; it < m; ++it) {
      const T lx = p[last * 3 + 0], ly = p[last * 3 + 1], lz = p[last * 3 + 2];
      T best = T(-1);
      int64_t bi = 0;
      for (int64_t i = 0; i < N; ++i) {
        const T v = fmin_exact(d[i], fps_sqdist(p[i * 3 + 0], p[i * 3 + 1], p[i * 3 + 2], lx, ly, lz));
        d[i] = v;
        if (v > best) {  // strict: the lowest index wins ties
          best = v;
          bi = i;
        }
      }
      if (it < s) {
        bi = sd[it];
        best = d[bi];
      }
      oi[it] = bi;
      orad[it] = best;
      last = bi;
    }
  }
};

// Seed validation: bit 1 = a count outside [1, S], bit 2 = a used seed outside [0, n).
struct FpsSeedCheckBody {
  const int64_t* seeds;      // [B, S]
  const int64_t* num_seeds;  // [B] or null
  int64_t S, n;
  int* flag;
  PG_HD void operator()(int64_t e) const {
    const int64_t b = e / S;
    const int64_t j = e - b * S;
    int64_t s = S;
    if (num_seeds) {
      s = num_seeds[b];
      if (j == 0 && (s < 1 || s > S)) nn_detail::atomic_or_flag(flag, 1);
    }
    if (j < s) {
      const int64_t v = seeds[e];
      if (v < 0 || v >= n) nn_detail::atomic_or_flag(flag, 2);
    }
  }
};

}  // namespace fps_detail

template <class Backend>
struct FpsExec;

template <class Backend>
void fps(const Tensor& points, const Tensor& seeds, const Tensor& num_seeds, int64_t m, const Tensor& out_idx,
         const Tensor& out_radius, FpsImpl path) {
  if (points.size(0) == 0 || m == 0) return;
  FpsExec<Backend>::run(points, seeds, num_seeds, m, out_idx, out_radius, path);
}

template <class Backend>
int fps_check_seeds(const Tensor& seeds, const Tensor& num_seeds, int64_t n) {
  if (seeds.numel() == 0) return 0;
  Tensor flag = zeros({1}, TensorOptions(DType::i32, seeds.device()));
  const int64_t* ns = num_seeds.defined() ? num_seeds.data<int64_t>() : nullptr;
  parallel_for<Backend>(
      seeds.numel(), fps_detail::FpsSeedCheckBody{seeds.data<int64_t>(), ns, seeds.size(1), n, flag.data<int32_t>()});
  return static_cast<int>(flag.item_int());
}

}  // namespace pg::kernels
