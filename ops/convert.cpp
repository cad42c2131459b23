// Copies and conversions: contiguous, clone, to(dtype/device), and the in-place copy_/fill_.
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/cuda_context.h"
#include "ops/view.h"

namespace pg {

namespace {

using autograd::BackwardContext;

Tensor copy_as(const Tensor& x, DType dtype, Device device, const char* name) {
  Tensor out = empty(x.shape(), TensorOptions(dtype, device));
  detail::copy_raw(out, x);
  if (is_floating(dtype) && is_floating(x.dtype())) {
    const DType in_dtype = x.dtype();
    const Device in_device = x.device();
    autograd::record(name, {x}, {out}, {}, [=](const BackwardContext&, const std::vector<Tensor>& g) {
      return std::vector<Tensor>{to(g[0], in_dtype, in_device)};
    });
  }
  return out;
}

void check_inplace_allowed(const Tensor& t, const char* op) {
  PG_CHECK(!(autograd::grad_enabled() && t.requires_grad()), op,
           ": in-place modification of a tensor that requires grad is not differentiable; do it under "
           "NoGradGuard or on a detached tensor");
}

}  // namespace

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : copy_as(x, x.dtype(), x.device(), "contiguous"); }
Tensor clone(const Tensor& x) { return copy_as(x, x.dtype(), x.device(), "clone"); }

Tensor to(const Tensor& x, DType dtype, Device device) {
  if (dtype == x.dtype() && device == x.device()) return x;
  if (device.is_cuda()) cuda::require_device(device.index);
  return copy_as(x, dtype, device, "to");
}

void copy_into(const Tensor& dst, const Tensor& src) {
  detail::copy_raw(dst, src);
  dst.bump_version();
}

void copy_(const Tensor& dst, const Tensor& src) {
  check_inplace_allowed(dst, "copy_");
  detail::copy_raw(dst, src);
  dst.bump_version();
}

void fill_(const Tensor& dst, double value) {
  check_inplace_allowed(dst, "fill_");
  detail::fill_raw(dst, value);
  dst.bump_version();
}

}  // namespace pg
