// CUDA instantiations of the indexing kernels: grid-stride loops over the shared bodies of
// kernels/common/index_impl.h (one thread per output element; scatter/index add use one
// thread per source element with atomicAdd).
#include "core/parallel_for_cuda.cuh"
#include "kernels/common/index_impl.h"

namespace pg::kernels {
PG_INSTANTIATE_LAUNCHERS(PG_INDEX_LAUNCHERS, CudaBackend)
}  // namespace pg::kernels
