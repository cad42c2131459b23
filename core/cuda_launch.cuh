// The one way kernels are launched (include only from .cu files).
//
// launch_kernel("name", kernel, grid, block, smem, stream, args...) is, in the real CUDA build,
// exactly `kernel<<<grid, block, smem, stream>>>(args...)` followed by the launch check; in the
// emulation build (PG_CUDA_EMULATE, tests/cuda_emu) it runs the kernel on the host emulator.
// After every launch:
//   * cudaGetLastError is checked and a failure names the kernel;
//   * with the environment variable PG_CUDA_SYNC=1 the stream is synchronised and checked too,
//     so an asynchronous fault (illegal address, ...) is reported at its launch, naming the
//     kernel, instead of at the next synchronisation.
// set_max_dynamic_smem_once(kernel) raises a kernel's dynamic shared memory limit to the device
// opt-in maximum once per (kernel, device), thread-safely (cudaFuncSetAttribute on every launch
// raced between host threads).
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "core/cuda_check.h"

#if PG_CUDA_EMULATE
#include <cuda_emu/emu_launch.h>  // the emulator (tests/cuda_emu/include), EMULATE builds only
#endif

// A kernel's dynamic shared memory as an array of `type` (16-byte aligned).
#if PG_CUDA_EMULATE
#define PG_DYNAMIC_SHARED(type, name) type* name = reinterpret_cast<type*>(::pg_emu::dynamic_shared())
#else
#define PG_DYNAMIC_SHARED(type, name) extern __shared__ __align__(16) type name[]
#endif

namespace pg::cuda {

namespace launch_detail {
// -1: not read yet; else whether every launch is followed by a synchronisation.
inline std::atomic<int> g_sync_after_launch{-1};
// True when PG_CUDA_SYNC=1 (read at the first launch) or set_sync_after_launch(true).
inline bool sync_after_launch() {
  int v = g_sync_after_launch.load(std::memory_order_relaxed);
  if (v < 0) {
    const char* e = std::getenv("PG_CUDA_SYNC");
    v = e != nullptr && e[0] == '1' && e[1] == '\0';
    g_sync_after_launch.store(v, std::memory_order_relaxed);
  }
  return v != 0;
}

// Throws naming the kernel when `err` is an error.
inline void check_launch(cudaError_t err, const char* name, const char* when) {
  if (err == cudaSuccess) return;
#if PG_CUDA_EMULATE
  const std::string detail = ::pg_emu::take_error_detail();
#else
  const std::string detail;
#endif
  ::pg::detail::throw_error(
      __FILE__, __LINE__, name,
      ::pg::detail::concat("CUDA error ", when, " kernel ", name, ": ", cudaGetErrorName(err), ": ",
                           cudaGetErrorString(err), detail.empty() ? "" : " (", detail, detail.empty() ? "" : ")"));
}

inline void after_launch(const char* name, cudaStream_t stream) {
  check_launch(cudaGetLastError(), name, "launching");
  if (sync_after_launch()) check_launch(cudaStreamSynchronize(stream), name, "after (PG_CUDA_SYNC=1)");
}
}  // namespace launch_detail

// Overrides PG_CUDA_SYNC for the process (tests).
inline void set_sync_after_launch(bool on) {
  launch_detail::g_sync_after_launch.store(on ? 1 : 0);
}

template <class... P, class... A>
void launch_kernel(const char* name, void (*kernel)(P...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                   A&&... args) {
#if PG_CUDA_EMULATE
  ::pg_emu::launch(name, reinterpret_cast<const void*>(kernel), grid, block, smem, stream, false,
                   ::pg_emu::pointer_args(args...), [&] { kernel(static_cast<P>(args)...); });
#else
  kernel<<<grid, block, smem, stream>>>(std::forward<A>(args)...);
#endif
  launch_detail::after_launch(name, stream);
}

// Cooperative launch (grid-wide sync): every block must be resident at once.
template <class... P, class... A>
void launch_cooperative_kernel(const char* name, void (*kernel)(P...), dim3 grid, dim3 block, size_t smem,
                               cudaStream_t stream, A&&... args) {
#if PG_CUDA_EMULATE
  ::pg_emu::launch(name, reinterpret_cast<const void*>(kernel), grid, block, smem, stream, true,
                   ::pg_emu::pointer_args(args...), [&] { kernel(static_cast<P>(args)...); });
  launch_detail::check_launch(cudaGetLastError(), name, "launching");
#else
  std::tuple<std::decay_t<A>...> copies(std::forward<A>(args)...);
  void* kargs[sizeof...(A) + 1] = {};
  std::apply(
      [&](auto&... c) {
        int i = 0;
        ((kargs[i++] = static_cast<void*>(&c)), ...);
      },
      copies);
  launch_detail::check_launch(
      cudaLaunchCooperativeKernel(reinterpret_cast<void*>(kernel), grid, block, kargs, smem, stream), name,
      "launching");
#endif
  launch_detail::after_launch(name, stream);
}

// Sets cudaFuncAttributeMaxDynamicSharedMemorySize of `kernel` to the current device's opt-in
// maximum, once per (kernel, device); returns that maximum in bytes.
template <class... P>
int set_max_dynamic_smem_once(void (*kernel)(P...)) {
  static std::mutex mu;
  static std::set<std::pair<const void*, int>> done;
  int dev = 0;
  PG_CUDA_CHECK(cudaGetDevice(&dev));
  int optin = 0;
  PG_CUDA_CHECK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  std::lock_guard<std::mutex> lock(mu);
  if (done.emplace(reinterpret_cast<const void*>(kernel), dev).second) {
    PG_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, optin));
  }
  return optin;
}

}  // namespace pg::cuda
