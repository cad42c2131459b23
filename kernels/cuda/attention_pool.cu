// CUDA attention pooling. Work decomposition: one block of 256 threads (8 warps) per row (b, t),
// grid = B·T.
// * forward: pass A computes the scores s_i = <features[b,i], query[b,t]>: for C >= 32 one warp
//   per point (lanes stride over the channels, coalesced, butterfly warp sum), for C < 32 one
//   thread per point; the scores go to the weights row and a block max reduction gives m.
//   Pass B (same thread→point mapping from here on): e_i = exp(s_i − m) overwrites the score,
//   and the block accumulates Σ e_i and Σ e_i coords[b,i,d] for up to 4 coordinates at a time
//   (one 5-value block reduction per group of 4 coordinates; D = 3 takes one pass). Pass C
//   normalises the weights; thread d writes output[b,t,d] = Σ e x_d / Σ e.
// * backward (scores only): pass 1 writes h_i = g_w[i] + <g_out, coords[b,i]> to dscore and
//   block-reduces Σ a_i h_i; pass 2 rewrites dscore_i = a_i (h_i − Σ a h) in place. The input
//   gradients are then batched GEMMs done by the ops layer (cuBLAS, deterministic).
// The summation order differs from the CPU's serial loops: results agree to rounding.
#include <cmath>

#include "core/dtype.h"
#include "core/parallel_for_cuda.cuh"
#include "kernels/attention_pool.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/common/attention_pool_impl.h"

namespace pg::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kVals = 5;  // Σ e and 4 coordinate sums

using cuda_reduce::warp_allsum;

template <class T>
__device__ __forceinline__ void block_allsum(T (&v)[kVals], int n, T* red) {
  cuda_reduce::block_allsum<kThreads, kVals>(v, n, red);
}

template <class T>
__device__ __forceinline__ T block_allmax(T v, T* red) {
  return cuda_reduce::block_allmax<kThreads>(v, red);
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    ap_forward_kernel(const T* __restrict__ features, const T* __restrict__ query, const T* __restrict__ coords,
                      int64_t Tq, int64_t N, int64_t C, int64_t D, T* __restrict__ output, T* __restrict__ weights) {
  __shared__ T red[kWarps * kVals];
  const int64_t r = blockIdx.x;
  const int64_t b = r / Tq;
  const T* fb = features + b * N * C;
  const T* qv = query + r * C;
  const T* xb = coords + b * N * D;
  T* wr = weights + r * N;
  T* outr = output + r * D;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;

  // Pass A: scores and their maximum.
  T m = -INFINITY;
  if (C >= 32) {
    for (int64_t i = warp; i < N; i += kWarps) {
      const T* fi = fb + i * C;
      T s = 0;
      for (int64_t c = lane; c < C; c += 32) s += fi[c] * qv[c];
      s = warp_allsum(s);
      if (lane == 0) wr[i] = s;
      m = fmax(m, s);
    }
  } else {
    for (int64_t i = tid; i < N; i += kThreads) {
      const T* fi = fb + i * C;
      T s = 0;
      for (int64_t c = 0; c < C; ++c) s += fi[c] * qv[c];
      wr[i] = s;
      m = fmax(m, s);
    }
  }
  m = block_allmax(m, red);  // its __syncthreads also publishes the scores to the whole block

  // Pass B: exponentials, their sum and the coordinate sums, 4 coordinates per group.
  T l = 0;
  for (int64_t d0 = 0; d0 < D; d0 += 4) {
    const int nd = static_cast<int>(D - d0 < 4 ? D - d0 : 4);
    T acc[kVals] = {0, 0, 0, 0, 0};
    for (int64_t i = tid; i < N; i += kThreads) {
      T e;
      if (d0 == 0) {
        e = ap_detail::exp_t(wr[i] - m);
        wr[i] = e;
        acc[4] += e;
      } else {
        e = wr[i];
      }
      const T* xi = xb + i * D + d0;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        if (j < nd) acc[j] += e * xi[j];
      }
    }
    block_allsum(acc, kVals, red);
    if (d0 == 0) l = acc[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      if (j < nd && tid == j) outr[d0 + j] = acc[j] / l;
    }
  }

  // Pass C: normalise (each thread its own points, written by itself in pass B).
  const T inv = T(1) / l;
  for (int64_t i = tid; i < N; i += kThreads) wr[i] *= inv;
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    ap_backward_kernel(const T* __restrict__ coords, const T* __restrict__ weights, const T* __restrict__ g_output,
                       const T* __restrict__ g_weights, int64_t Tq, int64_t N, int64_t D, T* __restrict__ dscore) {
  __shared__ T red[kWarps * kVals];
  const int64_t r = blockIdx.x;
  const int64_t b = r / Tq;
  const T* xb = coords + b * N * D;
  const T* ar = weights + r * N;
  const T* go = g_output + r * D;
  const T* gw = g_weights != nullptr ? g_weights + r * N : nullptr;
  T* ds = dscore + r * N;
  T acc[kVals] = {0, 0, 0, 0, 0};
  for (int64_t i = threadIdx.x; i < N; i += kThreads) {
    const T h = ap_detail::upstream(gw, go, xb + i * D, i, D);
    ds[i] = h;
    acc[0] += ar[i] * h;
  }
  block_allsum(acc, 1, red);
  const T hbar = acc[0];
  for (int64_t i = threadIdx.x; i < N; i += kThreads) ds[i] = ar[i] * (ds[i] - hbar);
}

}  // namespace

template <>
struct AttentionPoolExec<CudaBackend> {
  static void forward(const Tensor& features, const Tensor& query, const Tensor& coords, const Tensor& output,
                      const Tensor& weights) {
    const int64_t B = features.size(0), N = features.size(1), C = features.size(2);
    const int64_t Tq = query.size(1), D = coords.size(2);
    if (B * Tq == 0) return;
    dispatch_floating(features.dtype(), "attention_pool", [&]<class T>() {
      pg::cuda::launch_kernel("ap_forward_kernel", ap_forward_kernel<T>, static_cast<unsigned>(B * Tq), kThreads, 0,
                              current_cuda_stream(), features.data<T>(), query.data<T>(), coords.data<T>(), Tq, N, C, D,
                              output.data<T>(), weights.data<T>());
    });
  }

  static void backward_scores(const Tensor& coords, const Tensor& weights, const Tensor& g_output,
                              const Tensor& g_weights, const Tensor& dscore) {
    const int64_t B = coords.size(0), N = coords.size(1), D = coords.size(2);
    const int64_t Tq = weights.size(1);
    if (B * Tq == 0) return;
    dispatch_floating(coords.dtype(), "attention_pool_backward", [&]<class T>() {
      pg::cuda::launch_kernel("ap_backward_kernel", ap_backward_kernel<T>, static_cast<unsigned>(B * Tq), kThreads, 0,
                              current_cuda_stream(), coords.data<T>(), weights.data<T>(), g_output.data<T>(),
                              g_weights.defined() ? g_weights.data<T>() : nullptr, Tq, N, D, dscore.data<T>());
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_ATTENTION_POOL_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
