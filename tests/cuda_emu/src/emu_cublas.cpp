// Emulated cuBLAS on OpenBLAS: column-major cblas calls with the same arguments, after checking
// that the operands are device memory of the current device.
#include <cblas.h>
#include <cublas_v2.h>

#include <atomic>
#include <string>

#include "cuda_emu/emu_launch.h"
#include "emu_internal.h"

struct cublasContext {
  int device = 0;
  cudaStream_t stream = nullptr;
  unsigned long long used_stream_id = ~0ull;  // stream id of the first GEMM
  bool shared = false;                        // GEMMs on more than one stream (workspace race)
};

namespace pg_emu {
namespace {
std::atomic<int> g_live{0};
std::atomic<int> g_shared{0};

CBLAS_TRANSPOSE tr(cublasOperation_t op) {
  return op == CUBLAS_OP_N ? CblasNoTrans : CblasTrans;
}

// Device checks shared by the GEMMs: handle on the current device, operands on it too.
cublasStatus_t check(cublasHandle_t h, std::initializer_list<const void*> ptrs) {
  if (h == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  const int dev = current_device_index();
  if (h->device != dev) {
    set_error(cudaErrorInvalidResourceHandle,
              "cuBLAS handle of device " + std::to_string(h->device) + " used on device " + std::to_string(dev));
    return CUBLAS_STATUS_EXECUTION_FAILED;
  }
  for (const void* p : ptrs) {
    if (device_of_pointer(p) != dev) return CUBLAS_STATUS_INVALID_VALUE;
  }
  // A handle's workspace serves one stream at a time: record handles used on several streams.
  unsigned long long id = 0;
  if (cudaStreamGetId(h->stream, &id) != cudaSuccess) return CUBLAS_STATUS_EXECUTION_FAILED;
  if (h->used_stream_id == ~0ull) {
    h->used_stream_id = id;
  } else if (h->used_stream_id != id && !h->shared) {
    h->shared = true;
    g_shared++;
  }
  return CUBLAS_STATUS_SUCCESS;
}
}  // namespace

cudaStream_t cublas_handle_stream(cublasHandle_t h) {
  return h->stream;
}
int cublas_live_handles() {
  return g_live.load();
}
int cublas_handles_used_on_several_streams() {
  return g_shared.load();
}
}  // namespace pg_emu

using namespace pg_emu;

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  *handle = new cublasContext();
  (*handle)->device = current_device_index();
  g_live++;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  if (handle == nullptr) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  g_live--;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t) {
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSetWorkspace(cublasHandle_t, void*, size_t) {
  return CUBLAS_STATUS_SUCCESS;
}
const char* cublasGetStatusName(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}
const char* cublasGetStatusString(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_SUCCESS:
      return "success";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "the library was not initialized";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "the resource allocation failed";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "an invalid value was used as an argument";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "the GPU program failed to execute";
  }
  return "unknown";
}

cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float* alpha, const float* a, int lda, const float* b, int ldb, const float* beta,
                           float* c, int ldc) {
  if (auto st = check(h, {a, b, c})) return st;
  cblas_sgemm(CblasColMajor, tr(ta), tr(tb), m, n, k, *alpha, a, lda, b, ldb, *beta, c, ldc);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const double* alpha, const double* a, int lda, const double* b, int ldb, const double* beta,
                           double* c, int ldc) {
  if (auto st = check(h, {a, b, c})) return st;
  cblas_dgemm(CblasColMajor, tr(ta), tr(tb), m, n, k, *alpha, a, lda, b, ldb, *beta, c, ldc);
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const float* alpha, const float* a, int lda, long long stride_a,
                                         const float* b, int ldb, long long stride_b, const float* beta, float* c,
                                         int ldc, long long stride_c, int batch) {
  if (auto st = check(h, {a, b, c})) return st;
  for (int i = 0; i < batch; ++i) {
    cblas_sgemm(CblasColMajor, tr(ta), tr(tb), m, n, k, *alpha, a + i * stride_a, lda, b + i * stride_b, ldb, *beta,
                c + i * stride_c, ldc);
  }
  return CUBLAS_STATUS_SUCCESS;
}
cublasStatus_t cublasDgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                                         int k, const double* alpha, const double* a, int lda, long long stride_a,
                                         const double* b, int ldb, long long stride_b, const double* beta, double* c,
                                         int ldc, long long stride_c, int batch) {
  if (auto st = check(h, {a, b, c})) return st;
  for (int i = 0; i < batch; ++i) {
    cblas_dgemm(CblasColMajor, tr(ta), tr(tb), m, n, k, *alpha, a + i * stride_a, lda, b + i * stride_b, ldb, *beta,
                c + i * stride_c, ldc);
  }
  return CUBLAS_STATUS_SUCCESS;
}
