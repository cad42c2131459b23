// CUDA GEMM on cuBLAS (compiled only in CUDA builds).
//
// Handles: one cublasHandle_t per (device, stream), created lazily on first use and bound to
// that stream once: a handle owns a workspace, and one handle re-bound to whichever stream
// calls it lets GEMMs of two streams race on that workspace. Streams are keyed by
// cudaStreamGetId (handles of destroyed streams may be reused by new ones; ids are not). The
// handles live until process exit. GEMMs run on pg::cuda::current_stream(), ordered with the
// framework's kernels and asynchronous. Math mode is
// CUBLAS_DEFAULT_MATH: plain IEEE fp32/fp64 arithmetic, no TF32 tensor-core down-conversion,
// so CPU and CUDA agree to fp32 rounding (and exactly on integer-valued inputs).
//
// Layout: cuBLAS is column-major. A row-major m×n buffer read column-major is its n×m
// transpose, so the row-major product C = op(A)·op(B) is issued as the column-major product
// Cᵀ = op(B)ᵀ·op(A)ᵀ: operands swapped, m and n swapped, the same transposition flags.
// A batch is one cublas{S,D}gemmStridedBatched call (stride 0 broadcasts an operand).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <map>
#include <mutex>
#include <utility>

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

// The handle of (device, stream), created on first use. The map is leaked on purpose: destroying
// handles during static destruction could run after the driver has shut down.
cublasHandle_t handle_for(int device, cudaStream_t stream) {
  static std::mutex mu;
  static auto* handles = new std::map<std::pair<int, unsigned long long>, cublasHandle_t>();
  unsigned long long id = 0;
  PG_CUDA_CHECK(cudaStreamGetId(stream, &id));
  std::lock_guard<std::mutex> lock(mu);
  auto it = handles->find({device, id});
  if (it != handles->end()) return it->second;
  cublasHandle_t h = nullptr;
  PG_CUBLAS_CHECK(cublasCreate(&h));
  cublasStatus_t st = cublasSetMathMode(h, CUBLAS_DEFAULT_MATH);
  if (st == CUBLAS_STATUS_SUCCESS) st = cublasSetStream(h, stream);
  if (st != CUBLAS_STATUS_SUCCESS) {
    cublasDestroy(h);
    PG_CUBLAS_CHECK(st);
  }
  handles->emplace(std::pair{device, id}, h);
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
  cublasHandle_t h = handle_for(g.device, static_cast<cudaStream_t>(cuda::current_stream()));

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
