// Shared PG_HD per-row bodies of attention pooling (kernels/attention_pool.h): the CPU computes
// the scores with one batched GEMM and then runs these bodies one row per iteration; the CUDA
// file has block-per-row kernels evaluating the same expressions with block reductions (the
// summation order differs, so results agree to rounding).
// AttentionPoolExec<Backend> is specialised in those files; the launchers below delegate to it
// and are instantiated there.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "core/macros.h"
#include "kernels/common/hd_util.h"
#include "core/parallel_for.h"
#include "kernels/attention_pool.h"

namespace pg::kernels::ap_detail {

using ::pg::kernels::exp_t;  // kernels/common/hd_util.h

// The softmax + pooling pass of one row (b, t), given its scores: x = coords[b] [N, D];
// w [N] holds s_i on entry and a_i on exit (exp(s_i − m) in between); out [D] is overwritten
// (used as the accumulator).
template <class T>
PG_HD PG_INLINE void softmax_pool_row(const T* x, int64_t N, int64_t D, T* w, T* out) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < N; ++i) m = w[i] > m ? w[i] : m;
  for (int64_t d = 0; d < D; ++d) out[d] = 0;
  T l = 0;
  for (int64_t i = 0; i < N; ++i) {
    const T e = exp_t(w[i] - m);
    w[i] = e;
    l += e;
    const T* xi = x + i * D;
    for (int64_t d = 0; d < D; ++d) out[d] += e * xi[d];
  }
  const T inv = T(1) / l;
  for (int64_t i = 0; i < N; ++i) w[i] *= inv;
  for (int64_t d = 0; d < D; ++d) out[d] *= inv;
}

// h_i = gw_i + <go, x_i> (gw may be null).
template <class T>
PG_HD PG_INLINE T upstream(const T* gw, const T* go, const T* xi, int64_t i, int64_t D) {
  T h = gw != nullptr ? gw[i] : T(0);
  for (int64_t d = 0; d < D; ++d) h += go[d] * xi[d];
  return h;
}

// One row: a [N] the weights, go [D] = ∂L/∂output[b,t], gw [N] or null; writes ds [N].
template <class T>
PG_HD PG_INLINE void backward_row(const T* x, const T* a, const T* go, const T* gw, int64_t N, int64_t D, T* ds) {
  T hbar = 0;
  for (int64_t i = 0; i < N; ++i) {
    const T h = upstream(gw, go, x + i * D, i, D);
    ds[i] = h;
    hbar += a[i] * h;
  }
  for (int64_t i = 0; i < N; ++i) ds[i] = a[i] * (ds[i] - hbar);
}

}  // namespace pg::kernels::ap_detail

namespace pg::kernels {

template <class Backend>
struct AttentionPoolExec;

template <class Backend>
void attention_pool_forward(const Tensor& features, const Tensor& query, const Tensor& coords, const Tensor& output,
                            const Tensor& weights) {
  AttentionPoolExec<Backend>::forward(features, query, coords, output, weights);
}

template <class Backend>
void attention_pool_backward_scores(const Tensor& coords, const Tensor& weights, const Tensor& g_output,
                                    const Tensor& g_weights, const Tensor& dscore) {
  AttentionPoolExec<Backend>::backward_scores(coords, weights, g_output, g_weights, dscore);
}

}  // namespace pg::kernels
