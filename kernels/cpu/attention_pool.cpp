// CPU attention pooling. Work decomposition: OpenMP over the B·T rows (b, t); each row runs the
// shared body serially (scores, max, exp + weighted coordinate sum, normalisation), so results
// are deterministic. Rows are grouped so that a task holds about 16K multiply-adds.
#include "kernels/attention_pool.h"

#include <algorithm>

#include "core/dtype.h"
#include "core/parallel_for.h"
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
    dispatch_floating(features.dtype(), "attention_pool", [&]<class T>() {
      const T* f = features.data<T>();
      const T* q = query.data<T>();
      const T* x = coords.data<T>();
      T* out = output.data<T>();
      T* w = weights.data<T>();
      Parallel<CpuBackend>::run(
          B * T_,
          [=](int64_t r) {
            const int64_t b = r / T_;
            ap_detail::forward_row<T>(f + b * N * C, q + r * C, x + b * N * D, N, C, D, w + r * N, out + r * D);
          },
          row_grain(N * (C + D)));
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

template void attention_pool_forward<CpuBackend>(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                                 const Tensor&);
template void attention_pool_backward_scores<CpuBackend>(const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                                                         const Tensor&);

}  // namespace pg::kernels
