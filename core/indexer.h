// StridedIndexer: maps a row-major linear index over an iteration shape to element offsets of
// N operands with arbitrary (possibly zero = broadcast) strides. Used by every strided kernel.
#pragma once

#include <array>
#include <cstdint>

#include "core/macros.h"
#include "core/tensor.h"

namespace pg {

template <int N>
struct StridedIndexer {
  int ndim = 0;
  int64_t sizes[PG_MAX_DIMS] = {};
  int64_t strides[N][PG_MAX_DIMS] = {};

  PG_HD void offsets(int64_t linear, int64_t (&out)[N]) const {
    for (int k = 0; k < N; ++k) out[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t sz = sizes[d];
      const int64_t idx = linear % sz;
      linear /= sz;
      for (int k = 0; k < N; ++k) out[k] += idx * strides[k][d];
    }
  }
};

// Strides of `t` when broadcast to `shape` (0 on broadcast dims). Throws naming `op` when the
// shapes are not broadcast-compatible.
Shape broadcast_strides(const Tensor& t, const Shape& shape, const char* op);

// Builds an indexer over `shape` with per-operand strides; drops size-1 dims and merges
// adjacent dims that are contiguous for every operand. Throws when rank > PG_MAX_DIMS.
template <int N>
StridedIndexer<N> make_indexer(const Shape& shape, const std::array<Shape, N>& strides, const char* op);

}  // namespace pg
