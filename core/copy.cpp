// copy_raw / fill_raw: the device-aware entry points over the per-backend kernels.
#include <cstring>

#include "core/copy_kernels.h"
#include "core/indexer.h"
#include "core/parallel_for.h"

#if PG_WITH_CUDA
#include "core/cuda_check.h"
#endif

namespace pg::detail {

namespace {

void memcpy_across(const Tensor& dst, const Tensor& src) {
  // Both contiguous, same dtype and numel, different devices.
#if PG_WITH_CUDA
  const size_t nbytes = static_cast<size_t>(src.numel()) * src.element_size();
  cudaMemcpyKind kind = dst.is_cuda() ? (src.is_cuda() ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                      : cudaMemcpyDeviceToHost;
  cuda::DeviceGuard guard(dst.is_cuda() ? dst.device().index : src.device().index);
  auto stream = static_cast<cudaStream_t>(cuda::current_stream());
  PG_CUDA_CHECK(cudaMemcpyAsync(dst.raw_data(), src.raw_data(), nbytes, kind, stream));
  // Host memory is pageable: the copy is synchronous w.r.t. the host buffer only after a sync.
  PG_CUDA_CHECK(cudaStreamSynchronize(stream));
#else
  (void)dst;
  (void)src;
  cuda::throw_no_cuda("copy");
#endif
}

}  // namespace

void copy_raw(const Tensor& dst, const Tensor& src) {
  PG_CHECK(dst.defined() && src.defined(), "copy_: undefined tensor");
  broadcast_strides(src, dst.shape(), "copy_");  // validates broadcastability
  if (dst.numel() == 0) return;
  if (dst.device() == src.device()) {
    on_backend(dst.device(), "copy_", [&]<class B>() { copy_same_device<B>(dst, src); });
    return;
  }
  // Across devices: materialise src as a contiguous block of dst's shape on its own device,
  // transfer, then convert/scatter on the destination device.
  Tensor staged = empty(dst.shape(), TensorOptions(src.dtype(), src.device()));
  on_backend(src.device(), "copy_", [&]<class B>() { copy_same_device<B>(staged, src); });
  if (dst.is_contiguous() && dst.dtype() == src.dtype()) {
    memcpy_across(dst, staged);
    return;
  }
  Tensor landed = empty(dst.shape(), TensorOptions(src.dtype(), dst.device()));
  memcpy_across(landed, staged);
  on_backend(dst.device(), "copy_", [&]<class B>() { copy_same_device<B>(dst, landed); });
}

void fill_raw(const Tensor& dst, double value) {
  on_backend(dst.device(), "fill_", [&]<class B>() { fill_on_device<B>(dst, value); });
}

}  // namespace pg::detail
