#include "core/copy_impl.h"
#include "core/parallel_for_cuda.cuh"

namespace pg::detail {
template void copy_same_device<CudaBackend>(const Tensor&, const Tensor&);
template void fill_on_device<CudaBackend>(const Tensor&, double);
}  // namespace pg::detail
