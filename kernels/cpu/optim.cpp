// CPU optimizer kernels: the shared per-element bodies of kernels/common/optim_impl.h run by
// parallel_for (an OpenMP loop over the elements of one parameter at a time).
#include "kernels/common/optim_impl.h"

namespace pg::kernels {
PG_INSTANTIATE_LAUNCHERS(PG_OPTIM_LAUNCHERS, CpuBackend)
}  // namespace pg::kernels
