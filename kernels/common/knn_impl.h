// Shared PG_HD pieces of the nearest-neighbour kernels (kNN, Chamfer): the distance, sorted
// top-K insertion, the generic thread-per-query kNN body, the nearest-neighbour backward bodies
// and the finite check. Launchers are defined here on top of KnnExec<Backend>, which
// kernels/cpu/knn.cpp and kernels/cuda/knn.cu specialise (the backends' forward strategies).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "core/macros.h"
#include "core/parallel_for.h"
#include "kernels/common/hd_util.h"
#include "kernels/knn.h"

namespace pg::kernels {
namespace nn_detail {

template <class T>
PG_HD PG_INLINE T inf_value() {
  return std::numeric_limits<T>::infinity();
}

// Squared distance in the difference form, summed as (dx² + dy²) + dz². The CPU sources are
// compiled without floating-point contraction, so on the CPU every path gives the same bits;
// CUDA may fuse the multiply-adds here (kNN/Chamfer parity is compared with tolerances).
template <class T>
PG_HD PG_INLINE T nn_sqdist(T ax, T ay, T az, T bx, T by, T bz) {
  const T dx = ax - bx;
  const T dy = ay - by;
  const T dz = az - bz;
  return (dx * dx + dy * dy) + dz * dz;
}

using ::pg::kernels::atomic_or_flag;  // shared helpers (kernels/common/hd_util.h)
using ::pg::kernels::scatter_add3;
using ::pg::kernels::is_finite_hd;

// Inserts (v, j) into the ascending list (d[0..K), i[0..K)) with element stride `stride`,
// given v < d[K−1]. Equal distances keep the earlier entry first (strict comparison).
template <class T, class I>
PG_HD PG_INLINE void list_insert(T* d, I* ix, int64_t stride, int64_t K, T v, int64_t j) {
  int64_t p = K - 1;
  while (p > 0 && v < d[(p - 1) * stride]) {
    d[p * stride] = d[(p - 1) * stride];
    ix[p * stride] = ix[(p - 1) * stride];
    --p;
  }
  d[p * stride] = v;
  ix[p * stride] = static_cast<I>(j);
}

// One thread per query (b, q): scans all references in index order, keeps its top-K in its
// own output row (global memory). The reference semantics of every kNN path; on CUDA the naive
// baseline (PyTorch3D-V0 / torch-cluster style, no tiling).
template <class T>
struct KnnGenericBody {
  const T* query;  // [B, Q, 3]
  const T* ref;    // [B, R, 3]
  T* dist;         // [B, Q, K]
  int64_t* idx;    // [B, Q, K]
  int64_t Q, R, K;
  PG_HD void operator()(int64_t i) const {
    const int64_t b = i / Q;
    const T qx = query[i * 3 + 0], qy = query[i * 3 + 1], qz = query[i * 3 + 2];
    const T* rp = ref + b * R * 3;
    T* od = dist + i * K;
    int64_t* oi = idx + i * K;
    for (int64_t s = 0; s < K; ++s) {
      od[s] = inf_value<T>();
      oi[s] = -1;
    }
    T thr = inf_value<T>();
    for (int64_t j = 0; j < R; ++j) {
      const T d = nn_sqdist(qx, qy, qz, rp[j * 3 + 0], rp[j * 3 + 1], rp[j * 3 + 2]);
      if (d < thr) {
        list_insert(od, oi, 1, K, d, j);
        thr = od[K - 1];
      }
    }
  }
};

// grad_query[b,q] += Σ_j 2·coef·(q − r_idx), one thread per query.
template <class T>
struct NnGradQueryBody {
  T* grad_q;
  const T* query;
  const T* ref;
  const int64_t* idx;
  const T* coef;
  int64_t Q, R, K;
  PG_HD void operator()(int64_t i) const {
    const int64_t b = i / Q;
    const T qx = query[i * 3 + 0], qy = query[i * 3 + 1], qz = query[i * 3 + 2];
    T gx = 0, gy = 0, gz = 0;
    for (int64_t s = 0; s < K; ++s) {
      const int64_t j = idx[i * K + s];
      if (j < 0) continue;
      const T* r = ref + (b * R + j) * 3;
      const T c = T(2) * coef[i * K + s];
      gx += c * (qx - r[0]);
      gy += c * (qy - r[1]);
      gz += c * (qz - r[2]);
    }
    grad_q[i * 3 + 0] += gx;
    grad_q[i * 3 + 1] += gy;
    grad_q[i * 3 + 2] += gz;
  }
};

// grad_ref[b, idx] −= 2·coef·(q − r_idx): one thread per (b, q, j) with atomics (CUDA only; the
// host branch exists only so that nvcc's host pass compiles).
template <class T>
struct NnScatterAtomicBody {
  T* grad_r;
  const T* query;
  const T* ref;
  const int64_t* idx;
  const T* coef;
  int64_t Q, R, K;
  PG_HD void operator()(int64_t e) const {
    const int64_t i = e / K;  // query row
    const int64_t b = i / Q;
    const int64_t j = idx[e];
    if (j < 0) return;
    const T* r = ref + (b * R + j) * 3;
    const T c = T(-2) * coef[e];
    T* g = grad_r + (b * R + j) * 3;
    const T vx = c * (query[i * 3 + 0] - r[0]);
    const T vy = c * (query[i * 3 + 1] - r[1]);
    const T vz = c * (query[i * 3 + 2] - r[2]);
    scatter_add3(g, vx, vy, vz);
  }
};

// The same scatter, one thread per cloud, sequential in (q, j): deterministic (CPU).
template <class T>
struct NnScatterSerialBody {
  T* grad_r;
  const T* query;
  const T* ref;
  const int64_t* idx;
  const T* coef;
  int64_t Q, R, K;
  PG_HD void operator()(int64_t b) const {
    for (int64_t e = b * Q * K; e < (b + 1) * Q * K; ++e) {
      const int64_t i = e / K;
      const int64_t j = idx[e];
      if (j < 0) continue;
      const T* r = ref + (b * R + j) * 3;
      const T c = T(-2) * coef[e];
      T* g = grad_r + (b * R + j) * 3;
      g[0] += c * (query[i * 3 + 0] - r[0]);
      g[1] += c * (query[i * 3 + 1] - r[1]);
      g[2] += c * (query[i * 3 + 2] - r[2]);
    }
  }
};

template <class T>
struct FiniteCheckBody {
  const T* x;
  int* flag;
  PG_HD void operator()(int64_t i) const {
    if (!is_finite_hd(x[i])) atomic_or_flag(flag, 1);
  }
};

// Runs a body whose iterations are heavy (a whole query or cloud): on the CPU every iteration
// may go to its own thread (grain 1); on CUDA a grid-stride launch.
template <class Backend, class Body>
void run_heavy(int64_t n, const Body& body) {
  if constexpr (Backend::is_cuda) {
    parallel_for<Backend>(n, body);
  } else {
    Parallel<CpuBackend>::run(n, body, 1);
  }
}

}  // namespace nn_detail

// Forward strategies, specialised per backend (kernels/cpu/knn.cpp, kernels/cuda/knn.cu).
template <class Backend>
struct KnnExec;

template <class Backend>
void knn_forward(const Tensor& query, const Tensor& ref, int64_t k, const Tensor& dist2, const Tensor& idx,
                 KnnImpl path) {
  if (query.numel() == 0) return;
  KnnExec<Backend>::forward(query, ref, k, dist2, idx, path);
}

template <class Backend>
void nn_backward(const Tensor& grad_query, const Tensor& grad_ref, const Tensor& query, const Tensor& ref,
                 const Tensor& idx, const Tensor& coef) {
  const int64_t B = query.size(0), Q = query.size(1), R = ref.size(1);
  if (B * Q == 0) return;
  const int64_t K = idx.numel() / (B * Q);
  dispatch_floating(query.dtype(), "nn_backward", [&]<class T>() {
    const T* q = query.data<T>();
    const T* r = ref.data<T>();
    const int64_t* ix = idx.data<int64_t>();
    const T* c = coef.data<T>();
    if (grad_query.defined()) {
      nn_detail::run_heavy<Backend>(B * Q, nn_detail::NnGradQueryBody<T>{grad_query.data<T>(), q, r, ix, c, Q, R, K});
    }
    if (grad_ref.defined()) {
      if constexpr (Backend::is_cuda) {
        parallel_for<Backend>(B * Q * K, nn_detail::NnScatterAtomicBody<T>{grad_ref.data<T>(), q, r, ix, c, Q, R, K});
      } else {
        nn_detail::run_heavy<Backend>(B, nn_detail::NnScatterSerialBody<T>{grad_ref.data<T>(), q, r, ix, c, Q, R, K});
      }
    }
  });
}

template <class Backend>
bool all_finite(const Tensor& t) {
  if (t.numel() == 0) return true;
  Tensor flag = zeros({1}, TensorOptions(DType::i32, t.device()));
  dispatch_floating(t.dtype(), "all_finite", [&]<class T>() {
    parallel_for<Backend>(t.numel(), nn_detail::FiniteCheckBody<T>{t.data<T>(), flag.data<int32_t>()});
  });
  return flag.item_int() == 0;
}

}  // namespace pg::kernels
