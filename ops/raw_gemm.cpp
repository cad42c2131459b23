#include "ops/raw_gemm.h"

#include <algorithm>

#include "core/parallel_for.h"
#include "kernels/blas.h"

namespace pg::detail {

void raw_gemm(const Tensor& c, const Tensor& a, int64_t lda, bool trans_a, const Tensor& b, int64_t ldb,
              bool trans_b, int64_t m, int64_t n, int64_t k, double beta, const char* op) {
  kernels::GemmBatch g;
  g.dtype = c.dtype();
  g.device = c.device().is_cuda() ? c.device().index : 0;
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a.raw_data();
  g.lda = lda;
  g.b = b.raw_data();
  g.ldb = ldb;
  g.c = c.raw_data();
  g.ldc = std::max<int64_t>(1, n);
  g.stride_c = m * n;
  g.beta = beta;
  kernels::check_gemm_args(g, op);
  if (m == 0 || n == 0) return;
  if (k == 0 && beta == 0.0) {
    fill_raw(c, 0.0);
    return;
  }
  on_backend(c.device(), op, [&]<class B>() { kernels::gemm_strided_batched<B>(g); });
}

}  // namespace pg::detail
