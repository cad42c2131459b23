// CUDA soft projection. Work decomposition:
// * forward: one thread per query (b, m), 128 threads per block, grid = ceil(B·M / 128). Each
//   thread gathers its K neighbours (K is small: 7–16 in SampleNet) and runs the shared fused
//   body: distances, max-subtracted softmax and the weighted sum, writing weights and the
//   projected point once.
// * backward: one thread per query as well, one kernel: the thread recomputes its distances,
//   forms the softmax backward, writes grad_query, atomically adds its K point contributions to
//   grad_points (atomicAdd: float results are not bit-reproducible run to run; float64 uses the
//   native sm_60+ double atomicAdd) and contributes its ∂L/∂σ through a warp-shuffle reduction
//   followed by one atomicAdd per warp into the 0-d dsigma accumulator.
#include "core/dtype.h"
#include "core/parallel_for_cuda.cuh"
#include "kernels/common/soft_projection_impl.h"
#include "kernels/soft_projection.h"

namespace pg::kernels {
namespace {

constexpr int kThreads = 128;

template <class T>
__global__ void __launch_bounds__(kThreads)
    sp_forward_kernel(const T* __restrict__ query, const T* __restrict__ points, const int64_t* __restrict__ idx,
                      int64_t BM, int64_t M, int64_t N, int64_t K, T sigma, bool hard, T* __restrict__ projected,
                      T* __restrict__ weights) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= BM) return;
  const int64_t b = i / M;
  sp_detail::forward_query<T>(query + i * 3, points + b * N * 3, idx + i * K, K, sigma, hard, weights + i * K,
                              projected + i * 3);
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    sp_backward_kernel(const T* __restrict__ query, const T* __restrict__ points, const int64_t* __restrict__ idx,
                       const T* __restrict__ weights, const T* __restrict__ g_proj, const T* __restrict__ g_weights,
                       int64_t BM, int64_t M, int64_t N, int64_t K, T sigma, bool hard, T* grad_query, T* grad_points,
                       T* dsigma) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  T dsig = 0;
  if (i < BM) {
    const int64_t b = i / M;
    dsig = sp_detail::backward_query<T>(
        query + i * 3, points + b * N * 3, idx + i * K, K, weights + i * K, g_proj + i * 3,
        g_weights != nullptr ? g_weights + i * K : nullptr, sigma, hard,
        grad_query != nullptr ? grad_query + i * 3 : nullptr, grad_points != nullptr,
        sp_detail::AtomicSink<T>{grad_points != nullptr ? grad_points + b * N * 3 : nullptr});
  }
  if (dsigma == nullptr || hard) return;
    // Whole warps reach this point (no early return above for i >= BM), so the full mask is valid.
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) dsig += __shfl_down_sync(0xffffffffu, dsig, off);
  if ((threadIdx.x & 31) == 0 && dsig != T(0)) atomicAdd(dsigma, dsig);
}

unsigned blocks_for(int64_t n) {
  return static_cast<unsigned>((n + kThreads - 1) / kThreads);
}

}  // namespace

template <>
struct SoftProjectionExec<CudaBackend> {
  static void forward(const Tensor& query, const Tensor& points, const Tensor& idx, double sigma, bool hard,
                      const Tensor& projected, const Tensor& weights) {
    const int64_t B = query.size(0), M = query.size(1), N = points.size(1), K = idx.size(2);
    if (B * M == 0) return;
    dispatch_floating(query.dtype(), "soft_projection", [&]<class T>() {
      pg::cuda::launch_kernel("sp_forward_kernel", sp_forward_kernel<T>, blocks_for(B * M), kThreads, 0,
                              current_cuda_stream(), query.data<T>(), points.data<T>(), idx.data<int64_t>(), B * M, M,
                              N, K, static_cast<T>(sigma), hard, projected.data<T>(), weights.data<T>());
    });
  }

  static void backward(const Tensor& query, const Tensor& points, const Tensor& idx, const Tensor& weights,
                       double sigma, bool hard, const Tensor& g_proj, const Tensor& g_weights, const Tensor& grad_query,
                       const Tensor& grad_points, const Tensor& dsigma) {
    const int64_t B = query.size(0), M = query.size(1), N = points.size(1), K = idx.size(2);
    if (B * M == 0) return;
    dispatch_floating(query.dtype(), "soft_projection_backward", [&]<class T>() {
      pg::cuda::launch_kernel(
          "sp_backward_kernel", sp_backward_kernel<T>, blocks_for(B * M), kThreads, 0, current_cuda_stream(),
          query.data<T>(), points.data<T>(), idx.data<int64_t>(), weights.data<T>(), g_proj.data<T>(),
          g_weights.defined() ? g_weights.data<T>() : nullptr, B * M, M, N, K, static_cast<T>(sigma), hard,
          grad_query.defined() ? grad_query.data<T>() : nullptr,
          grad_points.defined() ? grad_points.data<T>() : nullptr, dsigma.defined() ? dsigma.data<T>() : nullptr);
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_SOFT_PROJECTION_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
