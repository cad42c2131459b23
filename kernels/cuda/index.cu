// CUDA instantiations of the indexing kernels: grid-stride loops over the shared bodies of
// kernels/common/index_impl.h (one thread per output element; scatter/index add use one
// thread per source element with atomicAdd).
#include "core/parallel_for_cuda.cuh"
#include "kernels/common/index_impl.h"

namespace pg::kernels {
template void gather<CudaBackend>(const Tensor&, const Tensor&, int64_t, const Tensor&);
template void index_select<CudaBackend>(const Tensor&, const Tensor&, int64_t, const Tensor&);
template void scatter_add_<CudaBackend>(const Tensor&, int64_t, const Tensor&, const Tensor&);
template void index_add_<CudaBackend>(const Tensor&, int64_t, const Tensor&, const Tensor&);
template void one_hot<CudaBackend>(const Tensor&, const Tensor&, int64_t);
}  // namespace pg::kernels
