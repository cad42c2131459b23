// CUDA caching allocator.
//
// Design: every block is one cudaMalloc of a rounded size (512 B granules up to 1 MiB, 128 KiB
// granules above). Freed blocks are kept in a free list keyed by (device, stream, size); a
// request takes the smallest cached block of its stream that is large enough and wastes at
// most 25 % (plus one granule). On cudaMalloc failure the cache is emptied and the call retried
// once before reporting out-of-memory with the statistics.
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include "core/allocator.h"
#include "core/error.h"

#if PG_WITH_CUDA
#include "core/cuda_check.h"
#endif

namespace pg::cuda {

size_t round_allocation_size(size_t nbytes) {
  constexpr size_t kSmall = 512, kLarge = 128 * 1024, kSmallLimit = 1024 * 1024;
  if (nbytes == 0) nbytes = 1;
  if (nbytes <= kSmallLimit) return (nbytes + kSmall - 1) / kSmall * kSmall;
  return (nbytes + kLarge - 1) / kLarge * kLarge;
}

#if PG_WITH_CUDA

namespace {

uintptr_t key_of(StreamHandle s) { return reinterpret_cast<uintptr_t>(s); }

struct Block {
  void* ptr;
  size_t size;
  int device;
  StreamHandle stream;
};

using PoolKey = std::tuple<int, uintptr_t, size_t>;  // (device, stream, size): size varies fastest

class CachingAllocator {
 public:
  void* allocate(size_t nbytes, int device, StreamHandle stream) {
    const size_t size = round_allocation_size(nbytes);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.num_allocs++;
    auto it = free_.lower_bound(PoolKey{device, key_of(stream), size});
    if (it != free_.end() && std::get<0>(it->first) == device && std::get<1>(it->first) == key_of(stream) &&
        std::get<2>(it->first) <= size + size / 4 + 512) {
      Block b = it->second;
      free_.erase(it);
      stats_.num_cache_hits++;
      return hand_out(b);
    }
    void* p = nullptr;
    int prev = 0;
    PG_CUDA_CHECK(cudaGetDevice(&prev));
    if (prev != device) PG_CUDA_CHECK(cudaSetDevice(device));
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      release_cached_locked();
      err = cudaMalloc(&p, size);
    }
    if (prev != device) cudaSetDevice(prev);
    if (err != cudaSuccess) {
      cudaGetLastError();
      PG_FAIL("cuda allocator: cannot allocate ", nbytes, " bytes on cuda:", device, " (",
              cudaGetErrorString(err), "; allocated ", stats_.allocated, " B, reserved ",
              stats_.reserved, " B)");
    }
    stats_.num_device_mallocs++;
    stats_.reserved += size;
    if (stats_.reserved > stats_.peak_reserved) stats_.peak_reserved = stats_.reserved;
    return hand_out(Block{p, size, device, stream});
  }

  void free(void* p) {
    if (p == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    PG_CHECK(it != live_.end(), "cuda allocator: freeing a pointer it did not allocate");
    Block b = it->second;
    live_.erase(it);
    stats_.allocated -= b.size;
    free_.emplace(PoolKey{b.device, key_of(b.stream), b.size}, b);
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mu_);
    release_cached_locked();
  }

  AllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  void reset_peak() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak_allocated = stats_.allocated;
    stats_.peak_reserved = stats_.reserved;
  }

 private:
  void* hand_out(const Block& b) {
    live_.emplace(b.ptr, b);
    stats_.allocated += b.size;
    if (stats_.allocated > stats_.peak_allocated) stats_.peak_allocated = stats_.allocated;
    return b.ptr;
  }

  void release_cached_locked() {
    // Blocks may still be in use by queued kernels of their stream: wait for the device.
    if (!free_.empty()) cudaDeviceSynchronize();
    for (auto& [key, b] : free_) {
      cudaFree(b.ptr);
      stats_.reserved -= b.size;
      stats_.num_device_frees++;
    }
    free_.clear();
  }

  std::mutex mu_;
  std::multimap<PoolKey, Block> free_;
  std::unordered_map<void*, Block> live_;
  AllocatorStats stats_;
};

CachingAllocator& instance() {
  // Leaked on purpose: tensors destroyed during static destruction may still free into it.
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}

}  // namespace

void* caching_allocate(size_t nbytes, int device, StreamHandle stream) {
  void* p = instance().allocate(nbytes, device, stream);
  // Poison mode (core/allocator.h): queued on the block's stream, so it lands before any kernel
  // the caller launches on that stream writes the block.
  if (p != nullptr && allocator_poison()) {
    int prev = 0;
    PG_CUDA_CHECK(cudaGetDevice(&prev));
    if (prev != device) PG_CUDA_CHECK(cudaSetDevice(device));
    PG_CUDA_CHECK(cudaMemsetAsync(p, kPoisonByte, nbytes, static_cast<cudaStream_t>(stream)));
    if (prev != device) PG_CUDA_CHECK(cudaSetDevice(prev));
  }
  return p;
}
void caching_free(void* p) { instance().free(p); }
AllocatorStats allocator_stats() { return instance().stats(); }
void reset_peak_stats() { instance().reset_peak(); }
void empty_cache() { instance().empty_cache(); }

#else  // !PG_WITH_CUDA

void* caching_allocate(size_t, int, StreamHandle) { throw_no_cuda("cuda::caching_allocate"); }
void caching_free(void*) { throw_no_cuda("cuda::caching_free"); }
AllocatorStats allocator_stats() { return {}; }
void reset_peak_stats() {}
void empty_cache() {}

#endif

}  // namespace pg::cuda
