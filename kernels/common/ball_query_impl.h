// Shared PG_HD pieces of the ball query and the row top-k selection: the generic
// thread-per-query ball-query body (the CPU path and the semantics every CUDA path reproduces)
// and the thread-per-row smallest-k body. The ball-query launcher is defined on top of
// BallQueryExec<Backend>, specialised in kernels/cpu/ball_query.cpp and kernels/cuda/ball_query.cu.
#pragma once

#include <cstdint>

#include "core/macros.h"
#include "core/parallel_for.h"
#include "kernels/ball_query.h"
#include "kernels/common/fps_impl.h"

namespace pg::kernels {
namespace bq_detail {

// One thread per query (b, q): scans the references in index order and stops after S hits.
template <class T>
struct BallQueryBody {
  const T* query;  // [B, M, 3]
  const T* ref;    // [B, N, 3]
  int64_t* idx;    // [B, M, S]
  int64_t* count;  // [B, M]
  int64_t M, N, S;
  T r2;
  PG_HD void operator()(int64_t i) const {
    const int64_t b = i / M;
    const T qx = query[i * 3 + 0], qy = query[i * 3 + 1], qz = query[i * 3 + 2];
    const T* rp = ref + b * N * 3;
    int64_t* out = idx + i * S;
    int64_t c = 0;
    for (int64_t j = 0; j < N && c < S; ++j) {
      const T d = fps_detail::fps_sqdist(qx, qy, qz, rp[j * 3 + 0], rp[j * 3 + 1], rp[j * 3 + 2]);
      if (d < r2) out[c++] = j;
    }
    const int64_t pad = c > 0 ? out[0] : 0;
    for (int64_t s = c; s < S; ++s) out[s] = pad;
    count[i] = c;
  }
};

// a sorts before b: numeric order, NaN after every number (NaNs keep their slot order).
template <class T>
PG_HD PG_INLINE bool before(T a, T b) {
  return a < b || (a == a && b != b);
}

// One thread per row: insertion into the sorted k-list kept in the output row (slot order is
// the scan order, only a strictly "before" value displaces an entry → ties keep the lower slot).
template <class T>
struct SmallestKBody {
  const T* values;  // [R, S]
  int64_t* out;     // [R, k]
  int64_t S, K;
  PG_HD void operator()(int64_t r) const {
    const T* v = values + r * S;
    int64_t* o = out + r * K;
    int64_t n = 0;  // entries in the list
    for (int64_t s = 0; s < S; ++s) {
      const T x = v[s];
      if (n == K && !before(x, v[o[K - 1]])) continue;
      int64_t p = n < K ? n++ : K - 1;
      while (p > 0 && before(x, v[o[p - 1]])) {
        o[p] = o[p - 1];
        --p;
      }
      o[p] = s;
    }
  }
};

}  // namespace bq_detail

template <class Backend>
struct BallQueryExec;

template <class Backend>
void ball_query(const Tensor& query, const Tensor& ref, double r2, int64_t S, const Tensor& idx, const Tensor& count) {
  if (query.numel() == 0) return;
  BallQueryExec<Backend>::run(query, ref, r2, S, idx, count);
}

template <class Backend>
void smallest_k(const Tensor& values, int64_t k, const Tensor& out) {
  const int64_t S = values.size(values.dim() - 1);
  const int64_t R = S == 0 ? 0 : values.numel() / S;
  if (R == 0) return;
  dispatch_floating(values.dtype(), "smallest_k", [&]<class T>() {
    nn_detail::run_heavy<Backend>(R, bq_detail::SmallestKBody<T>{values.data<T>(), out.data<int64_t>(), S, k});
  });
}

}  // namespace pg::kernels
