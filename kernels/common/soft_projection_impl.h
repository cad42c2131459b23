// Shared PG_HD per-query bodies of the soft projection (kernels/soft_projection.h): the fused
// forward (distances, stable softmax, weighted sum) and the fused backward (softmax backward,
// query / point / σ contributions). kernels/cpu/soft_projection.cpp and
// kernels/cuda/soft_projection.cu wrap them in their execution strategies (SoftProjectionExec<Backend>,
// specialised there; the launchers below delegate to it and are instantiated there).
#pragma once

#include "kernels/common/hd_util.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "core/macros.h"
#include "core/parallel_for.h"
#include "kernels/soft_projection.h"

namespace pg::kernels::sp_detail {

using ::pg::kernels::exp_t;  // kernels/common/hd_util.h

template <class T>
PG_HD PG_INLINE T sqdist(const T* a, const T* b) {
  const T dx = a[0] - b[0];
  const T dy = a[1] - b[1];
  const T dz = a[2] - b[2];
  return (dx * dx + dy * dy) + dz * dz;
}

// One query: q [3], cloud P [N, 3], ix [K] (sorted by distance), writes w [K] and r [3].
// Soft: the distances go into w first, then exp(−(d − min d)/σ), then the normalised weights.
template <class T>
PG_HD PG_INLINE void forward_query(const T* q, const T* P, const int64_t* ix, int64_t K, T sigma, bool hard, T* w,
                                   T* r) {
  if (hard) {
    const T* p = P + ix[0] * 3;
    for (int64_t s = 0; s < K; ++s) w[s] = s == 0 ? T(1) : T(0);
    r[0] = p[0];
    r[1] = p[1];
    r[2] = p[2];
    return;
  }
  T dmin = std::numeric_limits<T>::infinity();
  for (int64_t s = 0; s < K; ++s) {
    const T d = sqdist(q, P + ix[s] * 3);
    w[s] = d;
    dmin = d < dmin ? d : dmin;
  }
  T sum = 0;
  for (int64_t s = 0; s < K; ++s) {
    const T e = exp_t(-(w[s] - dmin) / sigma);
    w[s] = e;
    sum += e;
  }
  const T inv = T(1) / sum;
  T rx = 0, ry = 0, rz = 0;
  for (int64_t s = 0; s < K; ++s) {
    const T ws = w[s] * inv;
    const T* p = P + ix[s] * 3;
    w[s] = ws;
    rx += ws * p[0];
    ry += ws * p[1];
    rz += ws * p[2];
  }
  r[0] = rx;
  r[1] = ry;
  r[2] = rz;
}

// Receives the per-neighbour point-gradient contributions of one query.
//   Slot:   writes contribution s into out[s*3 .. s*3+3) (CPU scratch, scattered later).
//   Atomic: atomicAdd into grad_points + idx*3 (CUDA; the host branch only keeps nvcc's host
//           pass compiling).
template <class T>
struct SlotSink {
  T* out;  // [K, 3] of this query
  PG_HD PG_INLINE void operator()(int64_t s, int64_t /*j*/, T vx, T vy, T vz) const {
    out[s * 3 + 0] = vx;
    out[s * 3 + 1] = vy;
    out[s * 3 + 2] = vz;
  }
};

template <class T>
struct AtomicSink {
  T* gp;  // grad_points of this cloud [N, 3]
  PG_HD PG_INLINE void operator()(int64_t /*s*/, int64_t j, T vx, T vy, T vz) const {
    T* g = gp + j * 3;
    scatter_add3(g, vx, vy, vz);
  }
};

// Backward of one query. gr [3] = ∂L/∂r, gw [K] = ∂L/∂w (or null), w [K] the forward weights.
// Adds −(2/σ) Σ c_s (q − p_s) to gq [3] (when gq is non-null), hands w_s gr + (2/σ) c_s (q − p_s)
// for every neighbour to `sink` (when want_points), and returns Σ c_s (d_s − min d) / σ² (the
// query's ∂L/∂σ; 0 in hard mode). c_s = w_s (h_s − Σ_j w_j h_j), h_s = gw_s + <gr, p_s>.
template <class T, class Sink>
PG_HD PG_INLINE T backward_query(const T* q, const T* P, const int64_t* ix, int64_t K, const T* w, const T* gr,
                                 const T* gw, T sigma, bool hard, T* gq, bool want_points, const Sink& sink) {
  if (hard) {
    if (want_points) {
      sink(0, ix[0], gr[0], gr[1], gr[2]);
      for (int64_t s = 1; s < K; ++s) sink(s, ix[s], T(0), T(0), T(0));
    }
    return T(0);
  }
  T dmin = std::numeric_limits<T>::infinity();
  T hbar = 0;
  for (int64_t s = 0; s < K; ++s) {
    const T* p = P + ix[s] * 3;
    const T d = sqdist(q, p);
    dmin = d < dmin ? d : dmin;
    const T h = (gw != nullptr ? gw[s] : T(0)) + (gr[0] * p[0] + gr[1] * p[1] + gr[2] * p[2]);
    hbar += w[s] * h;
  }
  const T two_over_sigma = T(2) / sigma;
  T gx = 0, gy = 0, gz = 0, dsig = 0;
  for (int64_t s = 0; s < K; ++s) {
    const T* p = P + ix[s] * 3;
    const T dx = q[0] - p[0], dy = q[1] - p[1], dz = q[2] - p[2];
    const T d = (dx * dx + dy * dy) + dz * dz;
    const T h = (gw != nullptr ? gw[s] : T(0)) + (gr[0] * p[0] + gr[1] * p[1] + gr[2] * p[2]);
    const T c = w[s] * (h - hbar);
    gx += c * dx;
    gy += c * dy;
    gz += c * dz;
    dsig += c * (d - dmin);
    if (want_points) {
      const T a = two_over_sigma * c;
      sink(s, ix[s], w[s] * gr[0] + a * dx, w[s] * gr[1] + a * dy, w[s] * gr[2] + a * dz);
    }
  }
  if (gq != nullptr) {
    gq[0] -= two_over_sigma * gx;
    gq[1] -= two_over_sigma * gy;
    gq[2] -= two_over_sigma * gz;
  }
  return dsig / (sigma * sigma);
}

}  // namespace pg::kernels::sp_detail

namespace pg::kernels {

template <class Backend>
struct SoftProjectionExec;

template <class Backend>
void soft_projection_forward(const Tensor& query, const Tensor& points, const Tensor& idx, double sigma, bool hard,
                             const Tensor& projected, const Tensor& weights) {
  SoftProjectionExec<Backend>::forward(query, points, idx, sigma, hard, projected, weights);
}

template <class Backend>
void soft_projection_backward(const Tensor& query, const Tensor& points, const Tensor& idx, const Tensor& weights,
                              double sigma, bool hard, const Tensor& g_proj, const Tensor& g_weights,
                              const Tensor& grad_query, const Tensor& grad_points, const Tensor& dsigma) {
  SoftProjectionExec<Backend>::backward(query, points, idx, weights, sigma, hard, g_proj, g_weights, grad_query,
                                        grad_points, dsigma);
}

}  // namespace pg::kernels
