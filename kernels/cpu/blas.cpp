// CPU GEMM on OpenBLAS (cblas_sgemm / cblas_dgemm, row-major).
//
// Work decomposition — one thread pool. OpenBLAS always runs single-threaded; pg's OpenMP threads
// (pg::cpu_num_threads()) share the work: a batch of at least as many large products as threads
// runs one product per thread, otherwise each large product is split into panels of C's rows (or
// columns, when C is wide) and each panel is one cblas call. Why: with OpenBLAS's own pthread pool
// next to pg's OpenMP pool, the two took turns on the cores (≈ 40 % of a 2-thread SampleNet train
// step was workers spinning or yielding; docs/performance.md). A batch of tiny products
// (m·n·k ≤ kTinyWork, e.g. 3×3 transforms per point cloud) runs a plain triple loop, one batch
// entry per OpenMP iteration, because the per-call overhead of the library dominates there.
#include "kernels/blas.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <type_traits>

namespace pg::kernels {

namespace {

constexpr int64_t kTinyWork = 16 * 16 * 16;
// Below this many multiply-adds a product runs on one thread (a fork costs more than it saves).
constexpr int64_t kParallelWork = int64_t{1} << 18;
// Panels are multiples of this many rows / columns (whole micro-kernel tiles).
constexpr int64_t kPanelAlign = 16;

// OpenBLAS keeps one global thread count; anyone (a benchmark's raw call, a host application) may
// have changed it, so it is checked on every call (a read of a global).
void single_threaded_blas() {
  if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
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

// y = α·op(M)·x + β·y on OpenBLAS, M row-major with leading dimension ld, op(M) rows × cols.
template <class T>
void cblas_gemv_t(bool trans, int rows, int cols, T alpha, const T* mat, int ld, const T* x, int incx, T beta, T* y,
                  int incy) {
  // With β = 0 the output is written, never read (GEMM's contract; OpenBLAS's gemv scales y by β
  // first, which would turn a NaN left in y into NaN · 0 = NaN on some versions).
  if (beta == T(0)) {
    for (int i = 0; i < rows; ++i) y[static_cast<int64_t>(i) * incy] = T(0);
  }
  const auto op = trans ? CblasTrans : CblasNoTrans;
  // cblas counts the stored matrix's rows and columns, before op.
  const int srows = trans ? cols : rows, scols = trans ? rows : cols;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemv(CblasRowMajor, op, srows, scols, alpha, mat, ld, x, incx, beta, y, incy);
  } else {
    cblas_dgemv(CblasRowMajor, op, srows, scols, alpha, mat, ld, x, incx, beta, y, incy);
  }
}

// A product whose C block is one row (m = 1) or one column (n = 1) is a matrix-vector product.
// Why: GEMM packs both operands into its blocking layout on every call; for one row or column
// that packing costs as much as the arithmetic (the attention scores of one APSNet step, [1, C] ·
// [N, C]ᵀ, spent 40 % of the sampler's time packing the N × C features). gemv reads the matrix
// once in place. ap, bp, cp already point at the block's first row / column.
template <class T>
void cblas_gemv_of(const GemmBatch& g, const T* ap, const T* bp, T* cp, int m, int n) {
  const T alpha = static_cast<T>(g.alpha), beta = static_cast<T>(g.beta);
  const int k = static_cast<int>(g.k);
  const int lda = static_cast<int>(g.lda), ldb = static_cast<int>(g.ldb), ldc = static_cast<int>(g.ldc);
  if (m == 1) {
    // C row (n) = op(B)ᵀ (n × k) · op(A)'s row (k); op(B)ᵀ is B itself when B is transposed.
    const int inc_a = g.trans_a ? lda : 1;
    cblas_gemv_t<T>(!g.trans_b, n, k, alpha, bp, ldb, ap, inc_a, beta, cp, 1);
  } else {
    // C column (m, stride ldc) = op(A) (m × k) · op(B)'s column (k).
    const int inc_b = g.trans_b ? 1 : ldb;
    cblas_gemv_t<T>(g.trans_a, m, k, alpha, ap, lda, bp, inc_b, beta, cp, ldc);
  }
}

// Rows [i0, i1) and columns [j0, j1) of one product's C = α·op(A)·op(B) + β·C (row-major).
// op(A)'s row i is A's row i, or A's column i when A is transposed; likewise op(B)'s column j.
template <class T>
void cblas_gemm(const GemmBatch& g, const T* a, const T* b, T* c, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const T* ap = a + (g.trans_a ? i0 : i0 * g.lda);
  const T* bp = b + (g.trans_b ? j0 * g.ldb : j0);
  T* cp = c + i0 * g.ldc + j0;
  const auto ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = g.trans_b ? CblasTrans : CblasNoTrans;
  const int m = static_cast<int>(i1 - i0), n = static_cast<int>(j1 - j0), k = static_cast<int>(g.k);
  const int lda = static_cast<int>(g.lda), ldb = static_cast<int>(g.ldb), ldc = static_cast<int>(g.ldc);
  if (m == 1 || n == 1) {
    cblas_gemv_of(g, ap, bp, cp, m, n);
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, static_cast<float>(g.alpha), ap, lda, bp, ldb,
                static_cast<float>(g.beta), cp, ldc);
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, g.alpha, ap, lda, bp, ldb, g.beta, cp, ldc);
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
  single_threaded_blas();
  const int64_t work = g.m * g.n * g.k;
  const int threads = work >= kParallelWork ? cpu_num_threads() : 1;
  if (threads > 1 && g.batch >= threads) {
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t p = 0; p < g.batch; ++p) {
      cblas_gemm(g, a + p * g.stride_a, b + p * g.stride_b, c + p * g.stride_c, 0, g.m, 0, g.n);
    }
    return;
  }
  // Split the longer side of C into up to `threads` aligned panels.
  const bool by_rows = g.m >= g.n;
  const int64_t side = by_rows ? g.m : g.n;
  const int64_t panel = (side + threads - 1) / threads;
  const int64_t step = (panel + kPanelAlign - 1) / kPanelAlign * kPanelAlign;
  const int64_t panels = (side + step - 1) / step;
  for (int64_t p = 0; p < g.batch; ++p) {
    const T* ap = a + p * g.stride_a;
    const T* bp = b + p * g.stride_b;
    T* cp = c + p * g.stride_c;
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(panels)) if (panels > 1)
    for (int64_t q = 0; q < panels; ++q) {
      const int64_t lo = q * step, hi = std::min(side, lo + step);
      if (by_rows) {
        cblas_gemm(g, ap, bp, cp, lo, hi, 0, g.n);
      } else {
        cblas_gemm(g, ap, bp, cp, 0, g.m, lo, hi);
      }
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
