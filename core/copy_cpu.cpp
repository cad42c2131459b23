#include "core/copy_impl.h"

namespace pg::detail {
template void copy_same_device<CpuBackend>(const Tensor&, const Tensor&);
template void fill_on_device<CpuBackend>(const Tensor&, double);
}  // namespace pg::detail
