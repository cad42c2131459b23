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
// Blocks until all work on the current stream is done (checks for asynchronous errors).
void synchronize();

// Raises "pointgrad was built without CUDA" (used by CPU-only builds).
[[noreturn]] void throw_no_cuda(const char* what);

}  // namespace pg::cuda
