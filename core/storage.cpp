#include "core/storage.h"

#include "core/allocator.h"
#include "core/cuda_context.h"

namespace pg {

StorageImpl::StorageImpl(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (nbytes == 0) return;
  if (device.is_cpu()) {
    data_ = cpu_allocate(nbytes);
  } else {
    cuda::require_device(device.index);
    data_ = cuda::caching_allocate(nbytes, device.index, cuda::current_stream());
  }
}

StorageImpl::~StorageImpl() {
  if (data_ == nullptr) return;
  if (device_.is_cpu()) {
    cpu_free(data_);
  } else {
    cuda::caching_free(data_);
  }
}

Storage make_storage(size_t nbytes, Device device) { return std::make_shared<StorageImpl>(nbytes, device); }

}  // namespace pg
