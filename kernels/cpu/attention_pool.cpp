// CPU attention pooling. Work decomposition:
// * forward: the score block S[b] = query[b] · features[b]ᵀ ([T, N] per cloud, written straight
//   into the weights tensor) is one batched GEMM on OpenBLAS (kernels/blas.h, the path pg::bmm
//   takes; C·N·T multiply-adds are ~97 % of the work at C = 128). Then OpenMP over the B·T rows
//   (b, t): each row runs the shared fused pass serially (max, exp + weighted coordinate sum,
//   normalisation). Deterministic: the GEMM partitions only the output, the row pass is serial.
// * backward (scores only): OpenMP over the rows, the shared serial body per row.
// Rows are grouped so that a task holds about 16K operations.
#include "kernels/attention_pool.h"

#include <algorithm>

#include "core/dtype.h"
#include "core/parallel_for.h"
#include "kernels/blas.h"
#include "kernels/common/attention_pool_impl.h"

namespace pg::kernels {

namespace {
int64_t row_grain(int64_t work_per_row) {
  return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, work_per_row));
}
}  // namespace

template <>
struct AttentionPoolExec<CpuBackend> {
  static void forward(const Tensor& features, const Tensor& query, const Tensor& coords, const Tensor& output,
                      const Tensor& weights) {
    const int64_t B = features.size(0), N = features.size(1), C = features.size(2);
    const int64_t T_ = query.size(1), D = coords.size(2);
    if (B * T_ == 0) return;
    // weights[b] (T×N) = query[b] (T×C) · features[b]ᵀ (C×N).
    GemmBatch g;
    g.dtype = features.dtype();
    g.trans_b = true;
    g.m = T_;
    g.n = N;
    g.k = C;
    g.a = query.raw_data();
    g.lda = C;
    g.stride_a = T_ * C;
    g.b = features.raw_data();
    g.ldb = C;
    g.stride_b = N * C;
    g.c = weights.raw_data();
    g.ldc = N;
    g.stride_c = T_ * N;
    g.batch = B;
    check_gemm_args(g, "attention_pool");
    gemm_strided_batched<CpuBackend>(g);
    dispatch_floating(features.dtype(), "attention_pool", [&]<class T>() {
      const T* x = coords.data<T>();
      T* out = output.data<T>();
      T* w = weights.data<T>();
      Parallel<CpuBackend>::run(
          B * T_,
          [=](int64_t r) {
            const int64_t b = r / T_;
            ap_detail::softmax_pool_row<T>(x + b * N * D, N, D, w + r * N, out + r * D);
          },
          row_grain(N * (D + 8)));
    });
  }

  static void backward_scores(const Tensor& coords, const Tensor& weights, const Tensor& g_output,
                              const Tensor& g_weights, const Tensor& dscore) {
    const int64_t B = coords.size(0), N = coords.size(1), D = coords.size(2);
    const int64_t T_ = weights.size(1);
    if (B * T_ == 0) return;
    dispatch_floating(coords.dtype(), "attention_pool_backward", [&]<class T>() {
      const T* x = coords.data<T>();
      const T* a = weights.data<T>();
      const T* go = g_output.data<T>();
      const T* gw = g_weights.defined() ? g_weights.data<T>() : nullptr;
      T* ds = dscore.data<T>();
      Parallel<CpuBackend>::run(
          B * T_,
          [=](int64_t r) {
            const int64_t b = r / T_;
            ap_detail::backward_row<T>(x + b * N * D, a + r * N, go + r * D, gw != nullptr ? gw + r * N : nullptr, N, D,
                                       ds + r * N);
          },
          row_grain(N * (D + 2)));
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_ATTENTION_POOL_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
