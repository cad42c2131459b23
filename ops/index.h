// Joining and indexing. Contract:
// * cat/stack: same dtype and device; cat needs equal shapes except along `dim`; stack needs
//   equal shapes. Differentiable (gradients are slices of the output gradient).
// * gather(x, dim, index): out[i][j][k] = x[i][index[i][j][k]][k] (for dim = 1), index int64
//   (or int32) with the same rank as x and size ≤ x's size in every other dim. Differentiable in x.
// * index_select(x, dim, index): index is 1-D; out has x's shape with dim resized. Differentiable.
// * scatter_add(self, dim, index, src): out = self.clone(); out[...index...] += src. Differentiable
//   in self and src. CUDA uses atomics (float sums may differ from the CPU in the last bits).
// * one_hot(index, num_classes, dtype): appends a dim of size num_classes. No gradient.
// * Out-of-range indices raise pg::Error naming the op, the offending value and the valid range.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace pg {

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor one_hot(const Tensor& index, int64_t num_classes, DType dtype = DType::f32);

}  // namespace pg
