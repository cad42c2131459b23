// CUDA half of parallel_for: a grid-stride kernel over the body. Include only from .cu files.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>

#include "core/cuda_check.h"
#include "core/cuda_launch.cuh"
#include "core/parallel_for.h"

namespace pg {

namespace detail {

template <class Body>
__global__ void grid_stride_kernel(int64_t n, Body body) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    body(i);
  }
}

// Number of SMs of the current device (cached per device).
int cuda_sm_count();

}  // namespace detail

inline cudaStream_t current_cuda_stream() {
  return static_cast<cudaStream_t>(cuda::current_stream());
}

// Grid for a grid-stride loop: enough blocks to cover n, at most 32 per SM.
inline unsigned grid_for(int64_t n, int threads) {
  const int64_t needed = (n + threads - 1) / threads;
  const int64_t cap = static_cast<int64_t>(detail::cuda_sm_count()) * 32;
  return static_cast<unsigned>(std::max<int64_t>(1, std::min(needed, cap)));
}

template <class Body>
void Parallel<CudaBackend>::run(int64_t n, const Body& body) {
  if (n <= 0) return;
  constexpr int kThreads = 256;
  pg::cuda::launch_kernel("grid_stride_kernel", detail::grid_stride_kernel<Body>, grid_for(n, kThreads), kThreads, 0,
                          current_cuda_stream(), n, body);
}

}  // namespace pg
