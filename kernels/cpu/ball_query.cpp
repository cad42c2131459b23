// CPU ball query and row top-k: the shared thread-per-query / thread-per-row bodies, OpenMP over
// queries. Compiled without floating-point contraction (distances bit-identical to CUDA's).
#include "kernels/common/ball_query_impl.h"

#pragma GCC optimize("fp-contract=off")

namespace pg::kernels {

template <>
struct BallQueryExec<CpuBackend> {
  static void run(const Tensor& query, const Tensor& ref, double r2, int64_t S, const Tensor& idx,
                  const Tensor& count) {
    const int64_t B = query.size(0), M = query.size(1), N = ref.size(1);
    dispatch_floating(query.dtype(), "ball_query", [&]<class T>() {
      Parallel<CpuBackend>::run(B * M,
                                bq_detail::BallQueryBody<T>{query.data<T>(), ref.data<T>(), idx.data<int64_t>(),
                                                            count.data<int64_t>(), M, N, S, static_cast<T>(r2)},
                                64);
    });
  }
};

template void ball_query<CpuBackend>(const Tensor&, const Tensor&, double, int64_t, const Tensor&, const Tensor&);
template void smallest_k<CpuBackend>(const Tensor&, int64_t, const Tensor&);

}  // namespace pg::kernels
