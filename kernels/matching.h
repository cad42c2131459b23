// "Matching + FPS completion" kernel launcher: the batched first-occurrence unique of the
// nearest-neighbour indices. Defined in kernels/common/matching_impl.h (the generic per-cloud
// body) plus kernels/cpu/matching.cpp and kernels/cuda/matching.cu, instantiated there.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// nn [B, M] int64 contiguous, every entry in [0, N). Writes, per cloud b:
//   uniq[b, 0..u)  the distinct values of nn[b, :] in order of first occurrence (u >= 1),
//   uniq[b, u..M)  = uniq[b, 0] (padding, so every entry is a valid index),
//   count[b]       = min(u, m).
// uniq [B, M] and count [B] int64 contiguous, overwritten. Deterministic on both backends.
template <class Backend>
void unique_first_occurrence(const Tensor& nn, int64_t N, int64_t m, const Tensor& uniq, const Tensor& count);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_MATCHING_LAUNCHERS(X, B)                                                                    \
  X(B, void, unique_first_occurrence, (const Tensor&, int64_t, int64_t, const Tensor&, const Tensor&))

}  // namespace pg::kernels
