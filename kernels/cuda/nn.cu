// CUDA NN kernels. Softmax / log_softmax work decomposition (x viewed as [outer, D, inner]):
// * WarpRow (inner == 1, D ≤ 1024 by default): one warp per row, 8 rows per 256-thread block,
//   grid-stride over rows. Lanes stride over the row with coalesced loads; three sweeps (max,
//   Σ exp(x − max) accumulated in float64 like the CPU body, write) with butterfly shuffles
//   (__shfl_xor_sync) so every lane holds the reduced value. The row is re-read from L1/L2.
// * BlockRow (inner == 1, long rows): one 256-thread block per row, grid-stride over rows;
//   warp shuffles then one shared-memory step across the 8 warps for each reduction.
// * Column (inner > 1): one thread per (outer, inner) column running the shared row body of
//   kernels/common/nn_impl.h; adjacent threads read adjacent `inner` elements (coalesced).
// The backward uses the same decomposition with one reduction (Σ gy·y or Σ gy) and one write
// sweep. The losses (NLL / cross-entropy rows, KL terms) are elementwise-light and run the
// shared bodies through parallel_for.
#include "core/parallel_for_cuda.cuh"
#include "kernels/common/nn_impl.h"

namespace pg::kernels {

namespace {

using namespace nn_detail;

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

template <class T>
__device__ __forceinline__ T warp_allmax(T v) {
#pragma unroll
  for (int d = 16; d > 0; d >>= 1) v = nan_max(v, __shfl_xor_sync(0xffffffffu, v, d));
  return v;
}

template <class T>
__device__ __forceinline__ T warp_allsum(T v) {
#pragma unroll
  for (int d = 16; d > 0; d >>= 1) v += __shfl_xor_sync(0xffffffffu, v, d);
  return v;
}

// Block-wide reductions (256 threads): every thread gets the result. `buf` holds kWarps values.
template <class T>
__device__ __forceinline__ T block_allmax(T v, T* buf) {
  v = warp_allmax(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();  // buf may still be read from the previous reduction
  if (lane == 0) buf[warp] = v;
  __syncthreads();
  T r = buf[0];
#pragma unroll
  for (int w = 1; w < kWarps; ++w) r = nan_max(r, buf[w]);
  return r;
}

template <class T>
__device__ __forceinline__ T block_allsum(T v, T* buf) {
  v = warp_allsum(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) buf[warp] = v;
  __syncthreads();
  T r = buf[0];
#pragma unroll
  for (int w = 1; w < kWarps; ++w) r += buf[w];
  return r;
}

// `Group` = 32 (warp per row) or kThreads (block per row).
template <class T, int Group>
__global__ void __launch_bounds__(kThreads)
    softmax_rows_kernel(const T* __restrict__ x, T* __restrict__ y, int64_t rows, int64_t D, bool log) {
  __shared__ T buf[kWarps];
  __shared__ double dbuf[kWarps];
  constexpr int kGroupsPerBlock = kThreads / Group;
  const int t = threadIdx.x % Group;
  const int64_t g0 = static_cast<int64_t>(blockIdx.x) * kGroupsPerBlock + threadIdx.x / Group;
  const int64_t ng = static_cast<int64_t>(gridDim.x) * kGroupsPerBlock;
  // All threads of a block run the same number of iterations when Group == kThreads, so the
  // __syncthreads inside the block reductions are uniform.
  for (int64_t row = g0; row < rows; row += ng) {
    const T* xr = x + row * D;
    T* yr = y + row * D;
    T m = neg_inf<T>();
    for (int64_t j = t; j < D; j += Group) m = nan_max(m, xr[j]);
    m = Group == 32 ? warp_allmax(m) : block_allmax(m, buf);
    double s = 0.0;
    for (int64_t j = t; j < D; j += Group) s += static_cast<double>(exp_t(xr[j] - m));
    s = Group == 32 ? warp_allsum(s) : block_allsum(s, dbuf);
    if (log) {
      const T lse = static_cast<T>(::log(s));
      for (int64_t j = t; j < D; j += Group) yr[j] = (xr[j] - m) - lse;
    } else {
      const T inv = static_cast<T>(1.0 / s);
      for (int64_t j = t; j < D; j += Group) yr[j] = exp_t(xr[j] - m) * inv;
    }
  }
}

template <class T, int Group>
__global__ void __launch_bounds__(kThreads)
    softmax_bwd_rows_kernel(const T* __restrict__ y, const T* __restrict__ gy, T* __restrict__ gx, int64_t rows,
                            int64_t D, bool log) {
  __shared__ double dbuf[kWarps];
  constexpr int kGroupsPerBlock = kThreads / Group;
  const int t = threadIdx.x % Group;
  const int64_t g0 = static_cast<int64_t>(blockIdx.x) * kGroupsPerBlock + threadIdx.x / Group;
  const int64_t ng = static_cast<int64_t>(gridDim.x) * kGroupsPerBlock;
  for (int64_t row = g0; row < rows; row += ng) {
    const int64_t base = row * D;
    double acc = 0.0;
    for (int64_t j = t; j < D; j += Group) acc += static_cast<double>(softmax_bwd_term(y[base + j], gy[base + j], log));
    acc = Group == 32 ? warp_allsum(acc) : block_allsum(acc, dbuf);
    const T dot = static_cast<T>(acc);
    for (int64_t j = t; j < D; j += Group) gx[base + j] = softmax_bwd_out(y[base + j], gy[base + j], dot, log);
  }
}

SoftmaxPath resolve(SoftmaxPath path, int64_t D, int64_t inner) {
  if (inner != 1) return SoftmaxPath::Column;
  if (path == SoftmaxPath::Auto) return D <= 1024 ? SoftmaxPath::WarpRow : SoftmaxPath::BlockRow;
  return path;
}

// Grid with whole groups: rows · Group threads, capped by grid_for.
unsigned rows_grid(int64_t rows, int group) {
  const int64_t per_block = kThreads / group;
  const int64_t blocks = (rows + per_block - 1) / per_block;
  return grid_for(blocks * kThreads, kThreads);
}

}  // namespace

template <>
void softmax_forward<CudaBackend>(const Tensor& x, const Tensor& y, int64_t outer, int64_t D, int64_t inner, bool log,
                                  SoftmaxPath path) {
  const int64_t rows = outer * inner;
  if (rows == 0 || D == 0) return;
  const SoftmaxPath p = resolve(path, D, inner);
  dispatch_floating(x.dtype(), "softmax", [&]<class T>() {
    const T* xp = ptr<T>(x);
    T* yp = ptr<T>(y);
    switch (p) {
      case SoftmaxPath::WarpRow:
        pg::cuda::launch_kernel("softmax_rows_kernel", softmax_rows_kernel<T, 32>, rows_grid(rows, 32), kThreads, 0,
                                current_cuda_stream(), xp, yp, rows, D, log);
        break;
      case SoftmaxPath::BlockRow:
        pg::cuda::launch_kernel("softmax_rows_kernel", softmax_rows_kernel<T, kThreads>, rows_grid(rows, kThreads),
                                kThreads, 0, current_cuda_stream(), xp, yp, rows, D, log);
        break;
      default:
        parallel_for<CudaBackend>(rows, SoftmaxRowBody<T>{xp, yp, D, inner, log});
        break;
    }
  });
}

template <>
void softmax_backward<CudaBackend>(const Tensor& y, const Tensor& gy, const Tensor& gx, int64_t outer, int64_t D,
                                   int64_t inner, bool log, SoftmaxPath path) {
  const int64_t rows = outer * inner;
  if (rows == 0 || D == 0) return;
  const SoftmaxPath p = resolve(path, D, inner);
  dispatch_floating(y.dtype(), "softmax backward", [&]<class T>() {
    const T* yp = ptr<T>(y);
    const T* gyp = ptr<T>(gy);
    T* gxp = ptr<T>(gx);
    switch (p) {
      case SoftmaxPath::WarpRow:
        pg::cuda::launch_kernel("softmax_bwd_rows_kernel", softmax_bwd_rows_kernel<T, 32>, rows_grid(rows, 32),
                                kThreads, 0, current_cuda_stream(), yp, gyp, gxp, rows, D, log);
        break;
      case SoftmaxPath::BlockRow:
        pg::cuda::launch_kernel("softmax_bwd_rows_kernel", softmax_bwd_rows_kernel<T, kThreads>,
                                rows_grid(rows, kThreads), kThreads, 0, current_cuda_stream(), yp, gyp, gxp, rows, D,
                                log);
        break;
      default:
        parallel_for<CudaBackend>(rows, SoftmaxBwdRowBody<T>{yp, gyp, gxp, D, inner, log});
        break;
    }
  });
}

PG_INSTANTIATE_LAUNCHERS(PG_NN_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
