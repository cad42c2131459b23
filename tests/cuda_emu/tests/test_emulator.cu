// Unit tests of the CUDA emulator itself (tests/cuda_emu): barriers, shuffles with their
// out-of-range lanes, votes, divergence and missing-lane detection, launch limits, devices,
// cooperative grid sync and the thread orders of the race mode.
#include <cooperative_groups.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/cuda_launch.cuh"
#include "cuda_emu/emu_launch.h"

namespace {

// Device buffer of n ints, freed at scope exit.
struct Buf {
  int* p = nullptr;
  size_t n;
  explicit Buf(size_t count) : n(count) { REQUIRE(cudaMalloc(&p, n * sizeof(int)) == cudaSuccess); }
  ~Buf() { cudaFree(p); }
  std::vector<int> get() const {
    std::vector<int> h(n);
    REQUIRE(cudaMemcpy(h.data(), p, n * sizeof(int), cudaMemcpyDeviceToHost) == cudaSuccess);
    return h;
  }
};

// Launches and returns the error text ("" on success): launch errors throw at the launch,
// execution faults at the next synchronisation (unless PG_CUDA_SYNC is on).
template <class... P, class... A>
std::string launch_error(const char* name, void (*k)(P...), dim3 grid, dim3 block, size_t smem, A... args) {
  try {
    pg::cuda::launch_kernel(name, k, grid, block, smem, nullptr, args...);
    const cudaError_t e = cudaDeviceSynchronize();
    if (e != cudaSuccess) return std::string(cudaGetErrorName(e)) + ": " + pg_emu::take_error_detail();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// ---- kernels ----
__global__ void rotate_kernel(int* out) {
  __shared__ int s[256];
  const int t = threadIdx.x, n = blockDim.x;
  s[t] = t * 10;
  __syncthreads();
  out[blockIdx.x * n + t] = s[(t + 1) % n];
}

// The same without the barrier: whichever order the threads run in, some read a slot before
// its owner wrote it.
__global__ void rotate_no_barrier_kernel(int* out) {
  __shared__ int s[256];
  const int t = threadIdx.x, n = blockDim.x;
  s[t] = t * 10;
  out[t] = s[(t + 1) % n];
  out[n + t] = s[(t + n - 1) % n];
  __syncthreads();
  s[t] = -1;  // the next launch starts from stale values, as on a GPU
}

__global__ void shuffle_kernel(int* out) {
  const int lane = threadIdx.x & 31, v = 100 + threadIdx.x;
  int* o = out + threadIdx.x * 8;
  o[0] = __shfl_down_sync(0xffffffffu, v, 5);  // lanes 27..31 keep their own value
  o[1] = __shfl_up_sync(0xffffffffu, v, 3);    // lanes 0..2 keep their own value
  o[2] = __shfl_xor_sync(0xffffffffu, v, 1);
  o[3] = __shfl_sync(0xffffffffu, v, 35);         // srcLane 35 -> lane 3
  o[4] = __shfl_sync(0xffffffffu, v, 3, 8);       // lane 3 of each 8-lane segment
  o[5] = __shfl_down_sync(0xffffffffu, v, 2, 8);  // segment-local: the last 2 of each 8 keep theirs
  o[6] = static_cast<int>(__ballot_sync(0xffffffffu, lane % 3 == 0));
  o[7] = __all_sync(0xffffffffu, lane < 32) * 2 + __any_sync(0xffffffffu, lane == 7);
}

__global__ void syncthreads_count_kernel(int* out) {
  const int c = __syncthreads_count(threadIdx.x % 4 == 0);
  const int a = __syncthreads_and(threadIdx.x < 1000);
  const int o = __syncthreads_or(threadIdx.x == 5);
  if (threadIdx.x == 0) {
    out[0] = c;
    out[1] = a;
    out[2] = o;
  }
}

__global__ void divergent_barrier_kernel(int* out) {
  if (threadIdx.x >= 16) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

__global__ void missing_lanes_kernel(int* out) {
  int v = threadIdx.x;
  if ((threadIdx.x & 31) < 16) v = __shfl_xor_sync(0xffffffffu, v, 1);
  out[threadIdx.x] = v;
}

__global__ void half_warp_kernel(int* out) {
  int v = threadIdx.x;
  if ((threadIdx.x & 31) < 16) v = __shfl_xor_sync(0x0000ffffu, v, 1);
  out[threadIdx.x] = v;
}

__global__ void dyn_smem_kernel(int* out) {
  PG_DYNAMIC_SHARED(int, s);
  s[threadIdx.x] = threadIdx.x;
  __syncthreads();
  out[threadIdx.x] = s[blockDim.x - 1 - threadIdx.x];
}

__global__ void index_kernel(int* out) {
  const int b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  out[b * blockDim.x * blockDim.y * blockDim.z + t] = b * 1000 + t;
}

__global__ void grid_sync_kernel(int* out, int n) {
  cooperative_groups::grid_group grid = cooperative_groups::this_grid();
  if (threadIdx.x == 0) out[blockIdx.x] = blockIdx.x + 1;
  grid.sync();
  if (threadIdx.x == 0) {
    int s = 0;
    for (int i = 0; i < n; ++i) s += out[i];
    out[n + blockIdx.x] = s;
  }
}

__global__ void atomic_kernel(int* out, float* f) {
  atomicAdd(out, 1);
  atomicMax(out + 1, static_cast<int>(threadIdx.x));
  atomicAdd(f, 0.5f);
}

}  // namespace

TEST_CASE("emulator: __syncthreads orders shared memory", "[emu]") {
  Buf out(2 * 256);
  REQUIRE(launch_error("rotate_kernel", rotate_kernel, 2, 256, 0, out.p).empty());
  const auto h = out.get();
  for (int b = 0; b < 2; ++b) {
    for (int t = 0; t < 256; ++t) REQUIRE(h[b * 256 + t] == ((t + 1) % 256) * 10);
  }
}

TEST_CASE("emulator: a missing barrier gives stale shared memory in every thread order", "[emu][race]") {
  for (const char* order : {"forward", "reverse", "shuffle:7"}) {
    INFO(order);
    pg_emu::set_thread_order(order);
    Buf out(2 * 64);
    REQUIRE(launch_error("rotate_no_barrier_kernel", rotate_no_barrier_kernel, 1, 64, 0, out.p).empty());
    const auto h = out.get();
    int wrong = 0;
    for (int t = 0; t < 64; ++t) {
      wrong += h[t] != ((t + 1) % 64) * 10;
      wrong += h[64 + t] != ((t + 63) % 64) * 10;
    }
    REQUIRE(wrong > 0);
  }
  pg_emu::set_thread_order("forward");
}

TEST_CASE("emulator: shuffles follow PTX out-of-range lane rules", "[emu][warp]") {
  Buf out(64 * 8);
  REQUIRE(launch_error("shuffle_kernel", shuffle_kernel, 1, 64, 0, out.p).empty());
  const auto h = out.get();
  for (int t = 0; t < 64; ++t) {
    const int lane = t % 32, base = t - lane, v = 100 + t;
    const int* o = h.data() + t * 8;
    INFO("thread " << t);
    REQUIRE(o[0] == (lane + 5 < 32 ? 100 + base + lane + 5 : v));
    REQUIRE(o[1] == (lane >= 3 ? 100 + base + lane - 3 : v));
    REQUIRE(o[2] == 100 + base + (lane ^ 1));
    REQUIRE(o[3] == 100 + base + 3);
    REQUIRE(o[4] == 100 + base + (lane & ~7) + 3);
    REQUIRE(o[5] == ((lane & 7) + 2 < 8 ? 100 + base + lane + 2 : v));
    unsigned ballot = 0;
    for (int l = 0; l < 32; ++l) ballot |= (l % 3 == 0 ? 1u : 0u) << l;
    REQUIRE(static_cast<unsigned>(o[6]) == ballot);
    REQUIRE(o[7] == 3);
  }
}

TEST_CASE("emulator: __syncthreads_count/and/or reduce the predicates", "[emu]") {
  Buf out(3);
  REQUIRE(launch_error("syncthreads_count_kernel", syncthreads_count_kernel, 1, 96, 0, out.p).empty());
  REQUIRE(out.get() == std::vector<int>{24, 1, 1});
}

TEST_CASE("emulator: barrier divergence is reported naming the kernel", "[emu]") {
  Buf out(64);
  const std::string e = launch_error("divergent_barrier_kernel", divergent_barrier_kernel, 1, 64, 0, out.p);
  INFO(e);
  REQUIRE(e.find("barrier divergence") != std::string::npos);
  REQUIRE(e.find("divergent_barrier_kernel") != std::string::npos);
}

TEST_CASE("emulator: warp operations with missing lanes are reported", "[emu][warp]") {
  Buf out(64);
  const std::string e = launch_error("missing_lanes_kernel", missing_lanes_kernel, 1, 64, 0, out.p);
  INFO(e);
  REQUIRE(e.find("missing lanes") != std::string::npos);
  REQUIRE(e.find("missing_lanes_kernel") != std::string::npos);
  // With a mask naming exactly the participating lanes it is fine.
  REQUIRE(launch_error("half_warp_kernel", half_warp_kernel, 1, 64, 0, out.p).empty());
  const auto h = out.get();
  REQUIRE(h[0] == 1);
  REQUIRE(h[1] == 0);
  REQUIRE(h[20] == 20);
  // A mask naming lanes of a partial warp that do not exist.
  const std::string p = launch_error("shuffle_kernel", shuffle_kernel, 1, 48, 0, out.p);
  REQUIRE(p.find("do not exist") != std::string::npos);
}

TEST_CASE("emulator: launch limits of a real GPU", "[emu][limits]") {
  Buf out(4096);
  REQUIRE(launch_error("index_kernel", index_kernel, 1, 1025, 0, out.p).find("1024") != std::string::npos);
  REQUIRE(launch_error("index_kernel", index_kernel, dim3(1, 65536), 1, 0, out.p).find("65535") != std::string::npos);
  REQUIRE(launch_error("index_kernel", index_kernel, dim3(1, 1, 65536), 1, 0, out.p).find("65535") !=
          std::string::npos);
  REQUIRE(launch_error("index_kernel", index_kernel, 0, 32, 0, out.p).find("empty grid") != std::string::npos);
  REQUIRE(launch_error("index_kernel", index_kernel, 1, dim3(32, 1, 65), 0, out.p).find("1024") != std::string::npos);
  // Dynamic shared memory above 48 KiB needs the attribute.
  const size_t big = 64 * 1024;
  REQUIRE(launch_error("dyn_smem_kernel", dyn_smem_kernel, 1, 128, big, out.p).find("dynamic shared memory") !=
          std::string::npos);
  REQUIRE(pg::cuda::set_max_dynamic_smem_once(dyn_smem_kernel) >= static_cast<int>(big));
  REQUIRE(launch_error("dyn_smem_kernel", dyn_smem_kernel, 1, 128, big, out.p).empty());
  const auto h = out.get();
  for (int t = 0; t < 128; ++t) REQUIRE(h[t] == 127 - t);
  // Once per (kernel, device).
  pg::cuda::set_max_dynamic_smem_once(dyn_smem_kernel);
  REQUIRE(pg_emu::func_attribute_set_count(reinterpret_cast<const void*>(dyn_smem_kernel), 0) == 1);
}

TEST_CASE("emulator: 3-D grids and blocks", "[emu]") {
  Buf out(2 * 3 * 2 * 4 * 2 * 2);
  REQUIRE(launch_error("index_kernel", index_kernel, dim3(2, 3, 2), dim3(4, 2, 2), 0, out.p).empty());
  const auto h = out.get();
  for (int b = 0; b < 12; ++b) {
    for (int t = 0; t < 16; ++t) REQUIRE(h[b * 16 + t] == b * 1000 + t);
  }
}

TEST_CASE("emulator: devices have separate memory", "[emu][device]") {
  int n = 0;
  REQUIRE(cudaGetDeviceCount(&n) == cudaSuccess);
  REQUIRE(n == 2);
  REQUIRE(cudaSetDevice(1) == cudaSuccess);
  Buf on1(64);
  REQUIRE(pg_emu::device_of_pointer(on1.p) == 1);
  REQUIRE(cudaSetDevice(0) == cudaSuccess);
  const std::string e = launch_error("index_kernel", index_kernel, 1, 32, 0, on1.p);
  INFO(e);
  REQUIRE(e.find("memory of device 1") != std::string::npos);
  REQUIRE(e.find("index_kernel") != std::string::npos);
  std::vector<int> host(64);
  REQUIRE(launch_error("index_kernel", index_kernel, 1, 32, 0, host.data()).find("host memory") != std::string::npos);
}

TEST_CASE("emulator: cooperative launch with grid.sync", "[emu]") {
  const int blocks = 4;
  Buf out(2 * blocks);
  std::string e;
  try {
    pg::cuda::launch_cooperative_kernel("grid_sync_kernel", grid_sync_kernel, blocks, 64, 0, nullptr, out.p, blocks);
  } catch (const std::exception& ex) {
    e = ex.what();
  }
  REQUIRE(e.empty());
  const auto h = out.get();
  for (int b = 0; b < blocks; ++b) REQUIRE(h[blocks + b] == blocks * (blocks + 1) / 2);
  // grid.sync outside a cooperative launch is an error.
  REQUIRE(launch_error("grid_sync_kernel", grid_sync_kernel, blocks, 64, 0, out.p, blocks).find("cooperatively") !=
          std::string::npos);
}

TEST_CASE("emulator: atomics", "[emu]") {
  Buf out(2);
  float* f = nullptr;
  REQUIRE(cudaMalloc(&f, sizeof(float)) == cudaSuccess);
  REQUIRE(cudaMemset(out.p, 0, 2 * sizeof(int)) == cudaSuccess);
  REQUIRE(cudaMemset(f, 0, sizeof(float)) == cudaSuccess);
  REQUIRE(launch_error("atomic_kernel", atomic_kernel, 3, 128, 0, out.p, f).empty());
  REQUIRE(out.get() == std::vector<int>{384, 127});
  float hf = 0;
  REQUIRE(cudaMemcpy(&hf, f, sizeof(float), cudaMemcpyDeviceToHost) == cudaSuccess);
  REQUIRE(hf == 192.0f);
  cudaFree(f);
}

TEST_CASE("emulator: PG_CUDA_SYNC=1 reports an execution fault at its launch", "[emu][sync]") {
  Buf out(64);
  // Without the switch the fault surfaces at the next synchronisation...
  pg::cuda::set_sync_after_launch(false);
  REQUIRE_NOTHROW(
      pg::cuda::launch_kernel("divergent_barrier_kernel", divergent_barrier_kernel, 1, 64, 0, nullptr, out.p));
  REQUIRE(cudaDeviceSynchronize() == cudaErrorLaunchFailure);
  pg_emu::take_error_detail();
  // ...with it, at the launch, naming the kernel.
  pg::cuda::set_sync_after_launch(true);
  REQUIRE_THROWS_WITH(
      pg::cuda::launch_kernel("divergent_barrier_kernel", divergent_barrier_kernel, 1, 64, 0, nullptr, out.p),
      Catch::Contains("divergent_barrier_kernel") && Catch::Contains("PG_CUDA_SYNC"));
  pg::cuda::set_sync_after_launch(false);
}
