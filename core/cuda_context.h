// CUDA device discovery, the current stream and library handles. Every function is callable
// in a CPU-only build: discovery reports zero devices, anything else raises
// "pointgrad was built without CUDA".
#pragma once

#include <cstddef>
#include <string>

#include "core/macros.h"

namespace pg::cuda {

// Number of usable CUDA devices. 0 when the toolkit was not built in, when the driver is
// missing or too old, or when no device is present; never throws.
int device_count();
bool is_available();
// Why no device is available ("" when one is): e.g. "no CUDA device: CUDA driver version is
// insufficient for CUDA runtime version".
std::string unavailable_reason();

// Throws pg::Error unless device `index` exists (with the reason when none does).
void require_device(int index);

// Opaque stream handle (cudaStream_t). nullptr is the legacy default stream.
using StreamHandle = void*;

// The calling thread's current stream for device work. Kernels launch on it.
StreamHandle current_stream();
void set_current_stream(StreamHandle s);

// RAII: makes `s` current for the scope.
class StreamGuard {
 public:
  explicit StreamGuard(StreamHandle s);
  ~StreamGuard();
  StreamGuard(const StreamGuard&) = delete;
  StreamGuard& operator=(const StreamGuard&) = delete;

 private:
  StreamHandle prev_;
};

void set_device(int index);
int current_device();

// RAII: makes device `index` current for the scope and restores the previous one (no runtime
// call when it already is current). Op dispatch (on_backend, parallel_for) takes one for the
// op's device, so cuda:N work runs on device N: its kernels, attribute and occupancy queries,
// workspaces and streams.
class DeviceGuard {
 public:
  explicit DeviceGuard(int index);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int prev_ = -1;  // -1: nothing to restore
};
// Blocks until all work on the current stream is done (checks for asynchronous errors).
void synchronize();

// Raises "pointgrad was built without CUDA" (used by CPU-only builds).
[[noreturn]] void throw_no_cuda(const char* what);

}  // namespace pg::cuda
