// Reductions along dims. Contract:
// * `dims` lists the reduced dims (negative allowed, duplicates rejected); an empty list
//   reduces over all dims. keepdim keeps reduced dims as size 1.
// * sum/mean/logsumexp of float tensors accumulate in float64 on both backends, so CPU and CUDA
//   agree to rounding of the final value. sum of integer tensors returns int64.
// * max/min (values) are differentiable: the gradient goes to the first (lowest-index) extremum
//   along the reduced dims, the same element argmax/argmin return. argmax/argmin return int64
//   indices into the reduced dim (single dim only); ties resolve to the lowest index.
// * Reducing an empty dim: sum → 0, mean → NaN, max/min/argmax/argmin → error.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace pg {

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor max(const Tensor& x);  // over all elements, 0-dim result
Tensor min(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);

// Sums `x` down to `shape` (the inverse of broadcasting `shape` to x.shape()). Differentiable.
Tensor sum_to_shape(const Tensor& x, const Shape& shape);

}  // namespace pg
