// CUDA LSTM cell pointwise passes: one hand-written grid-stride kernel per pass, one thread per
// hidden unit (b, j) of the B·H units (256 threads per block, grid_for's block count). Consecutive
// threads take consecutive units j of a row, so each of the four gate blocks, c and h are read and
// written coalesced. The bodies are the shared ones of kernels/common/lstm_impl.h (same
// expressions as the CPU; the device may fuse multiply-adds, so results agree to rounding).
// The gate GEMMs around these passes are cuBLAS calls made by ops/lstm.cpp (kernels/blas.h).
// A persistent multi-step kernel (weights resident on chip across timesteps) is a later step.
#include "core/dtype.h"
#include "core/parallel_for_cuda.cuh"
#include "kernels/common/lstm_impl.h"
#include "kernels/lstm.h"

namespace pg::kernels {
namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void __launch_bounds__(kThreads)
    lstm_forward_kernel(T* __restrict__ z, const T* __restrict__ b_ih, const T* __restrict__ b_hh,
                        const T* __restrict__ c_prev, T* __restrict__ h_new, T* __restrict__ c_new, int64_t B,
                        int64_t H) {
  const int64_t n = B * H;
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < n; u += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = u / H, j = u - b * H;
    lstm_detail::forward_unit<T>(z + b * 4 * H, b_ih, b_hh, c_prev + b * H, h_new + b * H, c_new + b * H, H, j);
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    lstm_backward_kernel(const T* __restrict__ a, const T* __restrict__ c_prev, const T* __restrict__ c_new,
                         const T* __restrict__ g_h, const T* __restrict__ g_c, T* __restrict__ dz,
                         T* __restrict__ dc_prev, int64_t B, int64_t H) {
  const int64_t n = B * H;
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < n; u += int64_t(gridDim.x) * blockDim.x) {
    const int64_t b = u / H, j = u - b * H;
    const int64_t r = b * H;
    lstm_detail::backward_unit<T>(a + 4 * r, c_prev + r, c_new + r, g_h != nullptr ? g_h + r : nullptr,
                                  g_c != nullptr ? g_c + r : nullptr, dz + 4 * r,
                                  dc_prev != nullptr ? dc_prev + r : nullptr, H, j);
  }
}

template <class T>
const T* opt(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

template <>
struct LstmExec<CudaBackend> {
  static void forward(const Tensor& gates, const Tensor& b_ih, const Tensor& b_hh, const Tensor& c_prev,
                      const Tensor& h_new, const Tensor& c_new) {
    const int64_t B = c_prev.size(0), H = c_prev.size(1);
    if (B * H == 0) return;
    dispatch_floating(gates.dtype(), "lstm_cell", [&]<class T>() {
      pg::cuda::launch_kernel("lstm_forward_kernel", lstm_forward_kernel<T>, grid_for(B * H, kThreads), kThreads, 0,
                              current_cuda_stream(), gates.data<T>(), opt<T>(b_ih), opt<T>(b_hh), c_prev.data<T>(),
                              h_new.data<T>(), c_new.data<T>(), B, H);
    });
  }

  static void backward(const Tensor& gates, const Tensor& c_prev, const Tensor& c_new, const Tensor& g_h,
                       const Tensor& g_c, const Tensor& d_gates, const Tensor& d_c_prev) {
    const int64_t B = c_prev.size(0), H = c_prev.size(1);
    if (B * H == 0) return;
    dispatch_floating(gates.dtype(), "lstm_cell backward", [&]<class T>() {
      pg::cuda::launch_kernel("lstm_backward_kernel", lstm_backward_kernel<T>, grid_for(B * H, kThreads), kThreads, 0,
                              current_cuda_stream(), gates.data<T>(), c_prev.data<T>(), c_new.data<T>(), opt<T>(g_h),
                              opt<T>(g_c), d_gates.data<T>(),
                              d_c_prev.defined() ? d_c_prev.data<T>() : static_cast<T*>(nullptr), B, H);
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_LSTM_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
