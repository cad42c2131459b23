// The emulator's launch entry point and test hooks (tests/cuda_emu).
//
// launch() runs a whole grid synchronously on the calling host thread: each block's threads are
// fibers (Boost.Context) scheduled cooperatively; they switch only at __syncthreads, warp
// operations and grid syncs. See docs/testing.md ("CUDA emulator") for what is checked.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

namespace pg_emu {

// One kernel argument that is a pointer: its position and value (checked against the device
// the kernel runs on).
struct PointerArg {
  int index;
  const void* ptr;
};

template <class... A>
std::vector<PointerArg> pointer_args(const A&... args) {
  std::vector<PointerArg> out;
  int i = 0;
  auto one = [&](const auto& a) {
    using T = std::decay_t<decltype(a)>;
    if constexpr (std::is_pointer_v<T>) {
      if (a != nullptr) out.push_back({i, static_cast<const void*>(a)});
    }
    ++i;
  };
  (one(args), ...);
  return out;
}

// Runs the grid. Launch errors (configuration, wrong-device or host pointers) are reported
// through cudaGetLastError; execution faults (barrier divergence, warp operations with missing
// lanes, ...) by the next synchronising call, as on a GPU. take_error_detail() has the text.
void launch(const char* name, const void* kernel, dim3 grid, dim3 block, size_t dynamic_smem, cudaStream_t stream,
            bool cooperative, const std::vector<PointerArg>& pointers, const std::function<void()>& body);

// The message of the last launch error on this host thread ("" if none); clears it.
std::string take_error_detail();

// This block's dynamic shared memory.
void* dynamic_shared();

// ---- test hooks ----
// Number of cudaFuncSetAttribute calls so far for (kernel, device), and the largest such
// count over all (kernel, device) pairs.
int func_attribute_set_count(const void* kernel, int device);
int max_func_attribute_set_count();
// Device memory limit per device in bytes (cudaMalloc fails with cudaErrorMemoryAllocation
// beyond it); 0 restores the default.
void set_device_memory_limit(int device, size_t bytes);
// Bytes currently allocated with cudaMalloc on `device`.
size_t device_memory_in_use(int device);
// Number of cudaDeviceSynchronize calls per device so far.
int device_synchronize_count(int device);
// While a stream is held, events recorded on it do not complete (models a stream whose queued
// work is still running); release completes them.
void hold_stream(cudaStream_t stream, bool held);
// The device a device pointer belongs to, -1 for host memory.
int device_of_pointer(const void* p);
// Thread order between synchronisation points: "forward", "reverse" or "shuffle:SEED"
// (initially PG_EMU_ORDER, default forward).
void set_thread_order(const char* order);
// Kernel launches so far (all devices).
long launch_count();

}  // namespace pg_emu
