// CUDA affine coupling passes. Forward / inverse: ONE hand-written kernel over a grid of B·G
// blocks (G chunks of kChunk elements per sample, 256 threads per block): a thread handles
// elements block_start + threadIdx.x + k·256 (coalesced), writes out and, in the forward
// direction, adds s into a float64 register; the block reduces its 256 partials in shared memory
// by a fixed tree and writes partial[b·G + g]. A one-thread-per-sample finishing kernel sums the G
// partials of each sample in chunk order (deterministic: no atomics). Backward: one grid-stride
// kernel, one thread per element. The bodies are the shared ones of
// kernels/common/coupling_impl.h (same expressions as the CPU; the device may fuse multiply-adds,
// so results agree to rounding).
#include <algorithm>

#include "core/dtype.h"
#include "core/parallel_for_cuda.cuh"
#include "kernels/common/coupling_impl.h"
#include "kernels/coupling.h"

namespace pg::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kChunk = 16 * kThreads;

template <class T>
__global__ void __launch_bounds__(kThreads)
    coupling_forward_kernel(const T* __restrict__ in, const T* __restrict__ s_raw, const T* __restrict__ t,
                            T* __restrict__ out, double* __restrict__ partial, int64_t M, int64_t G, T c,
                            bool inverse) {
  __shared__ double acc[kThreads];
  const int64_t b = blockIdx.x / G, k = blockIdx.x - b * G;
  const int64_t lo = k * kChunk, hi = lo + kChunk < M ? lo + kChunk : M;
  const int64_t base = b * M;
  double s_sum = 0.0;
  for (int64_t m = lo + threadIdx.x; m < hi; m += kThreads) {
    const int64_t i = base + m;
    s_sum += static_cast<double>(coupling_detail::forward_elem<T>(in[i], s_raw[i], t[i], c, inverse, out + i));
  }
  if (partial == nullptr) return;  // uniform across the block: no thread reaches the barrier
  acc[threadIdx.x] = s_sum;
  __syncthreads();
  for (unsigned w = kThreads / 2; w > 0; w /= 2) {
    if (threadIdx.x < w) acc[threadIdx.x] += acc[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = acc[0];
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    coupling_logdet_kernel(const double* __restrict__ partial, T* __restrict__ logdet, int64_t B, int64_t G) {
  for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < B; b += int64_t(gridDim.x) * blockDim.x) {
    double s = 0.0;
    for (int64_t k = 0; k < G; ++k) s += partial[b * G + k];
    logdet[b] = static_cast<T>(s);
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    coupling_backward_kernel(const T* __restrict__ a, const T* __restrict__ s_raw, const T* __restrict__ g,
                             const T* __restrict__ g_ld, T* __restrict__ d_in, T* __restrict__ d_sraw,
                             T* __restrict__ d_t, int64_t B, int64_t M, T c, bool inverse) {
  const int64_t n = B * M;
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < n; u += int64_t(gridDim.x) * blockDim.x) {
    const T gl = g_ld != nullptr ? g_ld[u / M] : T(0);
    coupling_detail::backward_elem<T>(a[u], s_raw[u], g[u], gl, c, inverse, d_in + u, d_sraw + u,
                                      d_t != nullptr ? d_t + u : nullptr);
  }
}

}  // namespace

template <>
struct CouplingExec<CudaBackend> {
  static void forward(const Tensor& in, const Tensor& s_raw, const Tensor& t, const Tensor& out, const Tensor& logdet,
                      double clamp, bool inverse) {
    const int64_t B = in.size(0), M = in.numel() / std::max<int64_t>(1, B);
    if (B * M == 0) return;
    const int64_t G = (M + kChunk - 1) / kChunk;
    Tensor partial = logdet.defined() ? empty({B * G}, TensorOptions(DType::f64, in.device())) : Tensor();
    double* part = partial.defined() ? partial.data<double>() : nullptr;
    dispatch_floating(in.dtype(), "affine_coupling", [&]<class T>() {
      pg::cuda::launch_kernel("coupling_forward_kernel", coupling_forward_kernel<T>, static_cast<unsigned>(B * G),
                              kThreads, 0, current_cuda_stream(), in.data<T>(), s_raw.data<T>(), t.data<T>(),
                              out.data<T>(), part, M, G, static_cast<T>(clamp), inverse);
      if (part != nullptr) {
        pg::cuda::launch_kernel("coupling_logdet_kernel", coupling_logdet_kernel<T>, grid_for(B, kThreads), kThreads,
                                0, current_cuda_stream(), static_cast<const double*>(part), logdet.data<T>(), B, G);
      }
    });
  }

  static void backward(const Tensor& a, const Tensor& s_raw, const Tensor& g, const Tensor& g_ld, const Tensor& d_in,
                       const Tensor& d_sraw, const Tensor& d_t, double clamp, bool inverse) {
    const int64_t B = a.size(0), M = a.numel() / std::max<int64_t>(1, B);
    if (B * M == 0) return;
    dispatch_floating(a.dtype(), "affine_coupling backward", [&]<class T>() {
      pg::cuda::launch_kernel("coupling_backward_kernel", coupling_backward_kernel<T>, grid_for(B * M, kThreads),
                              kThreads, 0, current_cuda_stream(), a.data<T>(), s_raw.data<T>(), g.data<T>(),
                              g_ld.defined() ? g_ld.data<T>() : static_cast<const T*>(nullptr), d_in.data<T>(),
                              d_sraw.data<T>(), d_t.defined() ? d_t.data<T>() : static_cast<T*>(nullptr), B, M,
                              static_cast<T>(clamp), inverse);
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_COUPLING_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
