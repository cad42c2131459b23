#include "core/cuda_context.h"

#include <mutex>

#include "core/error.h"

#if PG_WITH_CUDA
#include "core/cuda_check.h"
#endif

namespace pg::cuda {

void throw_no_cuda(const char* what) {
  PG_FAIL(what, ": pointgrad was built without CUDA (configure with -DPG_CUDA=ON)");
}

#if PG_WITH_CUDA

namespace {
struct Discovery {
  int count = 0;
  std::string reason;
};

const Discovery& discovery() {
  static Discovery d = [] {
    Discovery r;
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
      r.count = 0;
      r.reason = std::string("no CUDA device: ") + cudaGetErrorString(err);
      cudaGetLastError();  // clear the sticky error so later calls are not poisoned
    } else if (n == 0) {
      r.reason = "no CUDA device: the driver reports 0 devices";
    } else {
      r.count = n;
    }
    return r;
  }();
  return d;
}

thread_local StreamHandle t_stream = nullptr;
}  // namespace

int device_count() {
  return discovery().count;
}
bool is_available() {
  return device_count() > 0;
}
std::string unavailable_reason() {
  return discovery().reason;
}

void require_device(int index) {
  const Discovery& d = discovery();
  PG_CHECK(d.count > 0, d.reason);
  PG_CHECK(index >= 0 && index < d.count, "cuda: device index ", index, " out of range (", d.count, " device(s))");
}

StreamHandle current_stream() {
  return t_stream;
}
void set_current_stream(StreamHandle s) {
  t_stream = s;
}

void set_device(int index) {
  require_device(index);
  PG_CUDA_CHECK(cudaSetDevice(index));
}

int current_device() {
  int d = 0;
  PG_CUDA_CHECK(cudaGetDevice(&d));
  return d;
}

void synchronize() {
  PG_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(t_stream)));
}

DeviceGuard::DeviceGuard(int index) {
  const int cur = current_device();
  if (cur != index) {
    set_device(index);
    prev_ = cur;
  }
}
DeviceGuard::~DeviceGuard() {
  if (prev_ >= 0) cudaSetDevice(prev_);  // no throw from a destructor; prev_ was valid
}

#else  // !PG_WITH_CUDA

int device_count() {
  return 0;
}
bool is_available() {
  return false;
}
std::string unavailable_reason() {
  return "no CUDA device: pointgrad was built without CUDA";
}
void require_device(int) {
  throw_no_cuda("cuda::require_device");
}
StreamHandle current_stream() {
  return nullptr;
}
void set_current_stream(StreamHandle) {}
void set_device(int) {
  throw_no_cuda("cuda::set_device");
}
int current_device() {
  throw_no_cuda("cuda::current_device");
}
void synchronize() {
  throw_no_cuda("cuda::synchronize");
}
DeviceGuard::DeviceGuard(int) {
  throw_no_cuda("cuda::DeviceGuard");
}
DeviceGuard::~DeviceGuard() {}

#endif

StreamGuard::StreamGuard(StreamHandle s) : prev_(current_stream()) {
  set_current_stream(s);
}
StreamGuard::~StreamGuard() {
  set_current_stream(prev_);
}

}  // namespace pg::cuda
