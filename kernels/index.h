// Indexing kernel launchers (one per backend). Defined in kernels/common/index_impl.h,
// instantiated in kernels/cpu/index.cpp and kernels/cuda/index.cu.
//
// Preconditions, all checked by ops/index.cpp before any launch (the kernels trust them):
// same device for every tensor; index dtype int32 or int64; every index value in range; ranks
// and sizes as documented per launcher. Operands may have any strides (views, expands), except
// that outputs written here must not overlap themselves (no stride-0 dims).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// out[p] = x[p with coordinate `dim` replaced by index[p]], for p over out.shape() (= index's
// shape). x, out, index have the same rank; index.shape() == out.shape(). Any dtype.
template <class Backend>
void gather(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);

// out[p] = x[p with coordinate `dim` replaced by index[p[dim]]]; index is 1-D and
// out.shape() == x.shape() with dim resized to index.numel(). Any dtype.
template <class Backend>
void index_select(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index);

// In place: out[p with coordinate `dim` replaced by index[p]] += src[p], for p over
// index.shape(). index.size(d) ≤ src.size(d) for all d. Float32/64, int32/64.
// CPU: one work item per line along `dim` (race-free, deterministic order).
// CUDA: one thread per element with atomicAdd (float sums may vary in the last bits).
template <class Backend>
void scatter_add_(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);

// In place: out.select(dim, index[j]) += src.select(dim, j) for j over index (1-D); src has
// out's shape with dim resized to index.numel(). The index_select backward. Same dtypes and
// decomposition as scatter_add_.
template <class Backend>
void index_add_(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src);

// out (contiguous, index.shape() + [num_classes], zero-filled by the caller):
// out[p, index[p]] = 1. Any dtype.
template <class Backend>
void one_hot(const Tensor& out, const Tensor& index, int64_t num_classes);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_INDEX_LAUNCHERS(X, B)                                                   \
  X(B, void, gather, (const Tensor&, const Tensor&, int64_t, const Tensor&))       \
  X(B, void, index_select, (const Tensor&, const Tensor&, int64_t, const Tensor&)) \
  X(B, void, scatter_add_, (const Tensor&, int64_t, const Tensor&, const Tensor&)) \
  X(B, void, index_add_, (const Tensor&, int64_t, const Tensor&, const Tensor&))   \
  X(B, void, one_hot, (const Tensor&, const Tensor&, int64_t))

}  // namespace pg::kernels
