#include "kernels/common/index_impl.h"

namespace pg::kernels {
PG_INSTANTIATE_LAUNCHERS(PG_INDEX_LAUNCHERS, CpuBackend)
}  // namespace pg::kernels
