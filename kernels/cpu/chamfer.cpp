// CPU Chamfer / Hausdorff (ChamferExec<CpuBackend>): each direction is the CPU kNN with K = 1
// (kernels/cpu/knn.cpp: Auto picks the tiled brute force or, for large clouds, the k-d tree of
// kernels/cpu/kdtree.h, one tree per direction and cloud; Tiled / Tree force one); per-row
// statistics run one cloud per thread (float64 sums in index order).
#include "kernels/common/chamfer_impl.h"

#pragma GCC optimize("fp-contract=off")

namespace pg::kernels {

// Instantiated in kernels/cpu/knn.cpp (KnnExec<CpuBackend> lives there).
PG_EXTERN_LAUNCHERS(PG_KNN_LAUNCHERS, CpuBackend)

template <>
struct ChamferExec<CpuBackend> {
  static void nn(const Tensor& a, const Tensor& b, const Tensor& dist_a, const Tensor& idx_a, const Tensor& dist_b,
                 const Tensor& idx_b, ChamferImpl path) {
    const KnnImpl kp = path == ChamferImpl::Generic ? KnnImpl::Generic
                       : path == ChamferImpl::Tiled ? KnnImpl::Tiled
                       : path == ChamferImpl::Tree  ? KnnImpl::Tree
                                                    : KnnImpl::Auto;
    if (dist_a.defined()) knn_forward<CpuBackend>(a, b, 1, dist_a, idx_a, kp);
    if (dist_b.defined()) knn_forward<CpuBackend>(b, a, 1, dist_b, idx_b, kp);
  }
  static void row_stats(const Tensor& d, const Tensor& sum, const Tensor& max, const Tensor& argmax) {
    dispatch_floating(d.dtype(), "row_stats", [&]<class T>() {
      nn_detail::run_heavy<CpuBackend>(
          d.size(0), chamfer_detail::RowStatsBody<T>{d.data<T>(), d.size(1), sum.defined() ? sum.data<T>() : nullptr,
                                                     max.defined() ? max.data<T>() : nullptr,
                                                     argmax.defined() ? argmax.data<int64_t>() : nullptr});
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_CHAMFER_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
