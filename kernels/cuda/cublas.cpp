// CUDA GEMM on cuBLAS (compiled only in CUDA builds).
//
// Handles: one cublasHandle_t per (device, thread), created lazily on first use and destroyed
// when the thread exits. Before every call the handle is bound to pg::cuda::current_stream(),
// so GEMMs are ordered with the framework's kernels and stay asynchronous. Math mode is
// CUBLAS_DEFAULT_MATH: plain IEEE fp32/fp64 arithmetic, no TF32 tensor-core down-conversion,
// so CPU and CUDA agree to fp32 rounding (and exactly on integer-valued inputs).
//
// Layout: cuBLAS is column-major. A row-major m×n buffer read column-major is its n×m
// transpose, so the row-major product C = op(A)·op(B) is issued as the column-major product
// Cᵀ = op(B)ᵀ·op(A)ᵀ: operands swapped, m and n swapped, the same transposition flags.
// A batch is one cublas{S,D}gemmStridedBatched call (stride 0 broadcasts an operand).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <unordered_map>

#include "core/cuda_check.h"
#include "core/cuda_context.h"
#include "kernels/blas.h"

namespace pg::kernels {

namespace {

#define PG_CUBLAS_CHECK(call)                                                                                       \
  do {                                                                                                              \
    cublasStatus_t pg_st_ = (call);                                                                                 \
    if (pg_st_ != CUBLAS_STATUS_SUCCESS) {                                                                          \
      ::pg::detail::throw_error(                                                                                    \
          __FILE__, __LINE__, #call,                                                                                \
          ::pg::detail::concat("cuBLAS error ", cublasGetStatusName(pg_st_), ": ", cublasGetStatusString(pg_st_))); \
    }                                                                                                               \
  } while (0)

struct ThreadHandles {
  std::unordered_map<int, cublasHandle_t> by_device;
  ~ThreadHandles() {
    // Errors are ignored: at process exit the driver may already be shutting down.
    for (auto& [dev, h] : by_device) {
      if (cudaSetDevice(dev) == cudaSuccess) cublasDestroy(h);
    }
  }
};

// The calling thread's handle for the current device.
cublasHandle_t handle_for(int device) {
  thread_local ThreadHandles handles;
  auto it = handles.by_device.find(device);
  if (it != handles.by_device.end()) return it->second;
  cublasHandle_t h = nullptr;
  PG_CUBLAS_CHECK(cublasCreate(&h));
  cublasStatus_t st = cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
  if (st != CUBLAS_STATUS_SUCCESS) {
    cublasDestroy(h);
    PG_CUBLAS_CHECK(st);
  }
  handles.by_device.emplace(device, h);
  return h;
}

// Makes `device` current for the scope (restores the previous device).
class DeviceScope {
 public:
  explicit DeviceScope(int device) {
    PG_CUDA_CHECK(cudaGetDevice(&prev_));
    if (prev_ != device) PG_CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceScope() {
    int now = 0;
    if (cudaGetDevice(&now) == cudaSuccess && now != prev_) cudaSetDevice(prev_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int prev_ = 0;
};

}  // namespace

template <>
void gemm_strided_batched<CudaBackend>(const GemmBatch& g) {
  check_gemm_args(g, "gemm");
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  DeviceScope scope(g.device);
  cublasHandle_t h = handle_for(g.device);
  PG_CUBLAS_CHECK(cublasSetStream(h, static_cast<cudaStream_t>(cuda::current_stream())));

  const cublasOperation_t op_a = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_b = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  // Column-major problem: (n×m) = op(B)ᵀ(n×k) · op(A)ᵀ(k×m).
  const int cm = static_cast<int>(g.n), cn = static_cast<int>(g.m);
  // k == 0 never reaches cuBLAS from ops/linalg.cpp (the output is filled there); cuBLAS itself
  // then computes beta·C.
  const int ck = static_cast<int>(g.k);
  const int lda = static_cast<int>(g.lda), ldb = static_cast<int>(g.ldb), ldc = static_cast<int>(g.ldc);
  const int batch = static_cast<int>(g.batch);
  if (g.dtype == DType::f32) {
    const float alpha = static_cast<float>(g.alpha), beta = static_cast<float>(g.beta);
    const auto* a = static_cast<const float*>(g.a);
    const auto* b = static_cast<const float*>(g.b);
    auto* c = static_cast<float*>(g.c);
    if (batch == 1) {
      PG_CUBLAS_CHECK(cublasSgemm(h, op_b, op_a, cm, cn, ck, &alpha, b, ldb, a, lda, &beta, c, ldc));
    } else {
      PG_CUBLAS_CHECK(cublasSgemmStridedBatched(h, op_b, op_a, cm, cn, ck, &alpha, b, ldb, g.stride_b, a, lda,
                                                g.stride_a, &beta, c, ldc, g.stride_c, batch));
    }
  } else {
    const double alpha = g.alpha, beta = g.beta;
    const auto* a = static_cast<const double*>(g.a);
    const auto* b = static_cast<const double*>(g.b);
    auto* c = static_cast<double*>(g.c);
    if (batch == 1) {
      PG_CUBLAS_CHECK(cublasDgemm(h, op_b, op_a, cm, cn, ck, &alpha, b, ldb, a, lda, &beta, c, ldc));
    } else {
      PG_CUBLAS_CHECK(cublasDgemmStridedBatched(h, op_b, op_a, cm, cn, ck, &alpha, b, ldb, g.stride_b, a, lda,
                                                g.stride_a, &beta, c, ldc, g.stride_c, batch));
    }
  }
}

}  // namespace pg::kernels
