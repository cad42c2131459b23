// CPU optimizer kernels: the shared per-element bodies of kernels/common/optim_impl.h run by
// parallel_for (an OpenMP loop over the elements of one parameter at a time).
#include "kernels/common/optim_impl.h"

namespace pg::kernels {
template void sgd_step<CpuBackend>(const std::vector<SgdEntry>&, const SgdHyper&, OptimImpl);
template void adam_step<CpuBackend>(const std::vector<AdamEntry>&, const AdamHyper&, OptimImpl);
template void scale_inplace<CpuBackend>(const Tensor&, double);
template void clamp_inplace<CpuBackend>(const Tensor&, double, double);
}  // namespace pg::kernels
