// CPU NN kernels: the shared row / element bodies of kernels/common/nn_impl.h on OpenMP
// (parallel_for over rows; the launch path is ignored on the CPU).
#include "kernels/common/nn_impl.h"

namespace pg::kernels {

namespace {

// Rows are the parallel unit; a small grain keeps few long rows from running on one thread.
template <class Body>
void run_rows(int64_t rows, int64_t D, const Body& body) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(D, 1));
  Parallel<CpuBackend>::run(rows, body, grain);
}

}  // namespace

template <>
void softmax_forward<CpuBackend>(const Tensor& x, const Tensor& y, int64_t outer, int64_t D, int64_t inner, bool log,
                                 SoftmaxImpl) {
  using namespace nn_detail;
  dispatch_floating(x.dtype(), "softmax", [&]<class T>() {
    run_rows(outer * inner, D, SoftmaxRowBody<T>{ptr<T>(x), ptr<T>(y), D, inner, log});
  });
}

template <>
void softmax_backward<CpuBackend>(const Tensor& y, const Tensor& gy, const Tensor& gx, int64_t outer, int64_t D,
                                  int64_t inner, bool log, SoftmaxImpl) {
  using namespace nn_detail;
  dispatch_floating(y.dtype(), "softmax backward", [&]<class T>() {
    run_rows(outer * inner, D, SoftmaxBwdRowBody<T>{ptr<T>(y), ptr<T>(gy), ptr<T>(gx), D, inner, log});
  });
}

PG_INSTANTIATE_LAUNCHERS(PG_NN_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
