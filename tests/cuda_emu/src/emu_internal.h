// Shared state of the emulator's runtime and scheduler (tests/cuda_emu/src only).
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace pg_emu {

constexpr int kDeviceCount = 2;
constexpr int kSmCount = 4;  // small, so grid-stride grids stay small
constexpr int kMaxThreadsPerBlock = 1024;
constexpr int kMaxThreadsPerSm = 2048;
constexpr int kDefaultSmem = 48 * 1024;  // without cudaFuncAttributeMaxDynamicSharedMemorySize
constexpr int kOptinSmem = 227 * 1024;   // H100/H200 opt-in limit

// A problem the emulator detected (launch configuration, divergence, ...); becomes a CUDA
// error with this text as detail.
struct EmuError : std::runtime_error {
  cudaError_t code;
  EmuError(cudaError_t c, const std::string& what) : std::runtime_error(what), code(c) {}
};

// Records err (and detail) as this host thread's last error; returns err.
cudaError_t set_error(cudaError_t err, const std::string& detail = "");

// An execution fault of a kernel on `device`: returned (once) by the next synchronising call.
void set_pending_error(int device, cudaError_t err, const std::string& detail);

int current_device_index();
// The device a stream belongs to (the current device for the legacy default stream); throws
// EmuError for a destroyed or unknown stream.
int stream_device(cudaStream_t s);
// The registered maximum dynamic shared memory of (kernel, device) (48 KiB if never set).
int func_max_dynamic_smem(const void* kernel, int device);
// Order of threads between barriers (PG_EMU_ORDER).
enum class Order { Forward, Reverse, Shuffle };
Order thread_order(unsigned long long* seed);

}  // namespace pg_emu
