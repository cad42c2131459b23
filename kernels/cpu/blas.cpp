// CPU GEMM on OpenBLAS (cblas_sgemm / cblas_dgemm, row-major).
//
// Work decomposition: a batch of large products is a loop of cblas calls, each threaded by
// OpenBLAS itself (its thread count follows pg::cpu_num_threads()). A batch of tiny products
// (m·n·k ≤ kTinyWork, e.g. 3×3 transforms per point cloud) runs a plain triple loop, one batch
// entry per OpenMP iteration, because the per-call overhead of the library dominates there.
#include "kernels/blas.h"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <type_traits>

namespace pg::kernels {

namespace {

constexpr int64_t kTinyWork = 16 * 16 * 16;

void sync_blas_threads() {
  static std::atomic<int> configured{-1};
  const int want = cpu_num_threads();
  if (configured.load(std::memory_order_relaxed) != want) {
    openblas_set_num_threads(want);
    configured.store(want, std::memory_order_relaxed);
  }
}

template <class T>
void scale_c(const GemmBatch& g, T* c) {
  const T beta = static_cast<T>(g.beta);
  for (int64_t p = 0; p < g.batch; ++p) {
    for (int64_t i = 0; i < g.m; ++i) {
      T* row = c + p * g.stride_c + i * g.ldc;
      for (int64_t j = 0; j < g.n; ++j) row[j] = g.beta == 0.0 ? T(0) : beta * row[j];
    }
  }
}

template <class T>
void tiny_gemm(const GemmBatch& g, const T* a, const T* b, T* c) {
  const T alpha = static_cast<T>(g.alpha), beta = static_cast<T>(g.beta);
  // Element strides of op(A) (m×k) and op(B) (k×n).
  const int64_t a_i = g.trans_a ? 1 : g.lda, a_l = g.trans_a ? g.lda : 1;
  const int64_t b_l = g.trans_b ? 1 : g.ldb, b_j = g.trans_b ? g.ldb : 1;
  // Threads only pay off with enough total work (same grain as parallel_for).
  const bool parallel = g.batch * g.m * g.n * std::max<int64_t>(g.k, 1) >= 32768;
  const int threads = parallel ? static_cast<int>(std::min<int64_t>(cpu_num_threads(), g.batch)) : 1;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
  for (int64_t p = 0; p < g.batch; ++p) {
    const T* ap = a + p * g.stride_a;
    const T* bp = b + p * g.stride_b;
    T* cp = c + p * g.stride_c;
    for (int64_t i = 0; i < g.m; ++i) {
      for (int64_t j = 0; j < g.n; ++j) {
        T acc = 0;
        for (int64_t l = 0; l < g.k; ++l) acc += ap[i * a_i + l * a_l] * bp[l * b_l + j * b_j];
        T& out = cp[i * g.ldc + j];
        out = g.beta == 0.0 ? alpha * acc : alpha * acc + beta * out;
      }
    }
  }
}

template <class T>
void blas_gemm(const GemmBatch& g) {
  const T* a = static_cast<const T*>(g.a);
  const T* b = static_cast<const T*>(g.b);
  T* c = static_cast<T*>(g.c);
  if (g.k == 0) {
    scale_c(g, c);
    return;
  }
  if (g.batch > 1 && g.m * g.n * g.k <= kTinyWork) {
    tiny_gemm(g, a, b, c);
    return;
  }
  sync_blas_threads();
  const auto ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = g.trans_b ? CblasTrans : CblasNoTrans;
  const int m = static_cast<int>(g.m), n = static_cast<int>(g.n), k = static_cast<int>(g.k);
  const int lda = static_cast<int>(g.lda), ldb = static_cast<int>(g.ldb), ldc = static_cast<int>(g.ldc);
  for (int64_t p = 0; p < g.batch; ++p) {
    const T* ap = a + p * g.stride_a;
    const T* bp = b + p * g.stride_b;
    T* cp = c + p * g.stride_c;
    if constexpr (std::is_same_v<T, float>) {
      cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, static_cast<float>(g.alpha), ap, lda, bp, ldb,
                  static_cast<float>(g.beta), cp, ldc);
    } else {
      cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, g.alpha, ap, lda, bp, ldb, g.beta, cp, ldc);
    }
  }
}

}  // namespace

void check_gemm_args(const GemmBatch& g, const char* op) {
  PG_CHECK(g.dtype == DType::f32 || g.dtype == DType::f64, op, ": GEMM dtype ", dtype_name(g.dtype),
           " is not supported (expected float32 or float64)");
  PG_CHECK(g.m >= 0 && g.n >= 0 && g.k >= 0 && g.batch >= 0, op, ": negative GEMM size (m=", g.m, ", n=", g.n,
           ", k=", g.k, ", batch=", g.batch, ")");
  const int64_t lim = INT_MAX;
  PG_CHECK(g.m <= lim && g.n <= lim && g.k <= lim && g.batch <= lim && g.lda <= lim && g.ldb <= lim && g.ldc <= lim, op,
           ": GEMM size too large for the BLAS int API (m=", g.m, ", n=", g.n, ", k=", g.k, ", batch=", g.batch,
           ", lda=", g.lda, ", ldb=", g.ldb, ", ldc=", g.ldc, ")");
  const int64_t a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_cols = g.trans_b ? g.k : g.n;
  PG_CHECK(g.lda >= std::max<int64_t>(1, a_cols) && g.ldb >= std::max<int64_t>(1, b_cols) &&
               g.ldc >= std::max<int64_t>(1, g.n),
           op, ": invalid GEMM leading dimensions (lda=", g.lda, ", ldb=", g.ldb, ", ldc=", g.ldc, ")");
}

template <>
void gemm_strided_batched<CpuBackend>(const GemmBatch& g) {
  check_gemm_args(g, "gemm");
  if (g.m == 0 || g.n == 0 || g.batch == 0) return;
  if (g.dtype == DType::f32) {
    blas_gemm<float>(g);
  } else {
    blas_gemm<double>(g);
  }
}

}  // namespace pg::kernels
