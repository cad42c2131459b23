// Raw copy/fill launchers per backend (internal to core). Defined in core/copy_impl.h and
// instantiated in core/copy_cpu.cpp and core/copy_cuda.cu. Both tensors on the backend's device.
#pragma once

#include "core/tensor.h"

namespace pg::detail {

template <class Backend>
void copy_same_device(const Tensor& dst, const Tensor& src);

template <class Backend>
void fill_on_device(const Tensor& dst, double value);

}  // namespace pg::detail
