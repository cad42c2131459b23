// Views and copies (differentiable). Views share storage with their base; their gradient is
// the inverse index map. Contract details:
// * reshape returns a view when the strides allow it and a contiguous copy otherwise; view
//   throws instead of copying. One dim may be -1 (inferred).
// * slice(dim, start, end, step): Python semantics for negative and out-of-range start/end
//   (clamped), step > 0.
// * expand: size-1 dims (or new leading dims) broadcast with stride 0; -1 keeps a size.
// * to(device) is the only cross-device transfer; to(dtype) converts (float→int truncates).
#pragma once

#include <vector>

#include "core/tensor.h"

namespace pg {

Tensor reshape(const Tensor& x, const Shape& shape);
Tensor view(const Tensor& x, const Shape& shape);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor expand(const Tensor& x, const Shape& shape);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor contiguous(const Tensor& x);
Tensor clone(const Tensor& x);
Tensor to(const Tensor& x, DType dtype, Device device);
// Copies src into the preallocated `dst` with broadcasting (not differentiable).
void copy_into(const Tensor& dst, const Tensor& src);
// In place, not differentiable, bump dst's version (Tensor::copy_ / fill_ / zero_ call these).
// Both refuse a dst that requires grad while grad mode is on (use NoGradGuard).
// copy_: broadcasts src, converts dtype, may cross devices.
void copy_(const Tensor& dst, const Tensor& src);
void fill_(const Tensor& dst, double value);

}  // namespace pg
