// Dense matrix products on the vendor libraries: OpenBLAS on the CPU (kernels/cpu/blas.cpp),
// cuBLAS on CUDA (kernels/cuda/cublas.cpp, CUDA builds only). Float32 and float64 only.
//
// All matrices are ROW-MAJOR. For every batch index p in [0, batch):
//   C_p = alpha · op(A_p) · op(B_p) + beta · C_p,   C_p is m×n, op(A_p) is m×k, op(B_p) is k×n,
// where op(X) = X, or Xᵀ when the trans flag is set (the buffer then holds the k×m (resp. n×k)
// matrix Xᵀ row-major). Element (i, j) of a stored matrix X is X[i·ldx + j]; X_p starts at
// x + p·stride_x. stride_a / stride_b may be 0 (the same matrix for every batch); stride_c must
// not alias batches. With beta == 0, C is written without being read (NaN in C does not leak).
//
// Preconditions (checked by ops/linalg.cpp, re-checked here cheaply): m, n, k, batch ≥ 0 and
// all of m, n, k, lda, ldb, ldc, batch fit in int (the vendor APIs take int); ld ≥ max(1, row
// length). Degenerate sizes are handled here: m·n·batch == 0 is a no-op, k == 0 scales C by beta.
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/parallel_for.h"

namespace pg::kernels {

struct GemmBatch {
  DType dtype = DType::f32;  // f32 or f64
  int device = 0;            // CUDA device index of the buffers (ignored on the CPU)
  bool trans_a = false;
  bool trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  const void* a = nullptr;
  int64_t lda = 1, stride_a = 0;
  const void* b = nullptr;
  int64_t ldb = 1, stride_b = 0;
  void* c = nullptr;
  int64_t ldc = 1, stride_c = 0;
  int64_t batch = 1;
  double alpha = 1.0;
  double beta = 0.0;
};

// Validates the int limits and leading dimensions of `g`; throws pg::Error naming `op`.
void check_gemm_args(const GemmBatch& g, const char* op);

// Runs the batched product on the backend's library. On CUDA: the cuBLAS handle of
// (device, calling thread), bound to pg::cuda::current_stream(); asynchronous.
template <class Backend>
void gemm_strided_batched(const GemmBatch& g);

template <>
void gemm_strided_batched<CpuBackend>(const GemmBatch& g);
template <>
void gemm_strided_batched<CudaBackend>(const GemmBatch& g);

}  // namespace pg::kernels
