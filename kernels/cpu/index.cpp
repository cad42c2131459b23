#include "kernels/common/index_impl.h"

namespace pg::kernels {
template void gather<CpuBackend>(const Tensor&, const Tensor&, int64_t, const Tensor&);
template void index_select<CpuBackend>(const Tensor&, const Tensor&, int64_t, const Tensor&);
template void scatter_add_<CpuBackend>(const Tensor&, int64_t, const Tensor&, const Tensor&);
template void index_add_<CpuBackend>(const Tensor&, int64_t, const Tensor&, const Tensor&);
template void one_hot<CpuBackend>(const Tensor&, const Tensor&, int64_t);
}  // namespace pg::kernels
