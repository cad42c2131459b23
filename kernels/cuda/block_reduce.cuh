// Warp and block reductions shared by the block-per-row CUDA kernels (attention pooling, the
// fused LSTM + attention decoder). Include only from .cu files.
//
// Every function must be reached by all threads of the block (they synchronise). kThreads is the
// block size, a multiple of 32; `red` is a __shared__ scratch of at least (kThreads / 32) · kVals
// elements, reusable right after the call returns.
#pragma once

#include <cuda_runtime.h>

namespace pg::kernels::cuda_reduce {

template <class T>
__device__ __forceinline__ T warp_allsum(T v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

template <class T>
__device__ __forceinline__ T warp_allmax(T v) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}

// Block-wide sums of the first n of kVals values per thread; every thread receives the totals in v.
template <int kThreads, int kVals, class T>
__device__ __forceinline__ void block_allsum(T (&v)[kVals], int n, T* red) {
  constexpr int kWarps = kThreads / 32;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int j = 0; j < kVals; ++j) {
    if (j < n) {
      const T s = warp_allsum(v[j]);
      if (lane == 0) red[warp * kVals + j] = s;
    }
  }
  __syncthreads();
#pragma unroll
  for (int j = 0; j < kVals; ++j) {
    if (j < n) {
      T s = 0;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) s += red[w * kVals + j];
      v[j] = s;
    }
  }
  __syncthreads();
}

// Block-wide maximum; every thread receives it.
template <int kThreads, class T>
__device__ __forceinline__ T block_allmax(T v, T* red) {
  constexpr int kWarps = kThreads / 32;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_allmax(v);
  if (lane == 0) red[warp] = v;
  __syncthreads();
  T m = red[0];
#pragma unroll
  for (int w = 1; w < kWarps; ++w) m = fmax(m, red[w]);
  __syncthreads();
  return m;
}

}  // namespace pg::kernels::cuda_reduce
