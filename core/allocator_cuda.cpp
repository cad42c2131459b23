// CUDA caching allocator.
//
// Design: every block is one cudaMalloc of a rounded size (512 B granules up to 1 MiB, 128 KiB
// granules above). Freed blocks are kept in a free list keyed by (device, stream id, size); a
// request takes the smallest cached block of its stream that is large enough and wastes at
// most 25 % (plus one granule). The stream id is cudaStreamGetId's process-unique id, not the
// handle, which the driver may hand to a new stream once the old one is destroyed.
// Cross-stream use: record_stream adds streams to a live block; its free then records an event
// on each of them and the block waits in `deferred_` until all have completed.
// On cudaMalloc failure every device's cache is emptied (each device synchronised first) and
// the call retried once before reporting out-of-memory with the statistics.
// PG_CUDA_NO_CACHING=1: exact-size blocks, cudaFree'd when they become free (see allocator.h).
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <unordered_map>
#include <vector>

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

namespace {
std::atomic<bool>& caching_switch() {
  static std::atomic<bool> on{[] {
    const char* v = std::getenv("PG_CUDA_NO_CACHING");
    return v == nullptr || v[0] == '\0' || std::strcmp(v, "0") == 0;
  }()};
  return on;
}
}  // namespace

bool caching_disabled() {
  return !caching_switch().load();
}

#if PG_WITH_CUDA

namespace {

// The process-unique id of a stream (the legacy default stream has its own fixed id).
uintptr_t key_of(StreamHandle s) {
  unsigned long long id = 0;
  PG_CUDA_CHECK(cudaStreamGetId(static_cast<cudaStream_t>(s), &id));
  return static_cast<uintptr_t>(id);
}

struct Block {
  void* ptr;
  size_t size;
  int device;
  StreamHandle stream;
  uintptr_t stream_key;
  std::set<StreamHandle> uses;  // other streams that used the block (record_stream)
};

// A freed block waiting for the other streams that used it.
struct Deferred {
  Block block;
  std::vector<cudaEvent_t> events;
};

using PoolKey = std::tuple<int, uintptr_t, size_t>;  // (device, stream, size): size varies fastest

class CachingAllocator {
 public:
  void* allocate(size_t nbytes, int device, StreamHandle stream) {
    const bool caching = !caching_disabled();
    const size_t size = caching ? round_allocation_size(nbytes) : std::max<size_t>(nbytes, 1);
    const uintptr_t skey = key_of(stream);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.num_allocs++;
    process_deferred_locked(false);
    auto it = free_.lower_bound(PoolKey{device, skey, size});
    if (caching && it != free_.end() && std::get<0>(it->first) == device && std::get<1>(it->first) == skey &&
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
      process_deferred_locked(true);
      release_cached_locked();
      err = cudaMalloc(&p, size);
    }
    if (prev != device) cudaSetDevice(prev);
    if (err != cudaSuccess) {
      cudaGetLastError();
      PG_FAIL("cuda allocator: cannot allocate ", nbytes, " bytes on cuda:", device, " (", cudaGetErrorString(err),
              "; allocated ", stats_.allocated, " B, reserved ", stats_.reserved, " B)");
    }
    stats_.num_device_mallocs++;
    stats_.reserved += size;
    if (stats_.reserved > stats_.peak_reserved) stats_.peak_reserved = stats_.reserved;
    return hand_out(Block{p, size, device, stream, skey, {}});
  }

  void record_stream(void* p, StreamHandle stream) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    PG_CHECK(it != live_.end(), "cuda allocator: record_stream on a pointer it did not allocate (or already freed)");
    if (stream != it->second.stream) it->second.uses.insert(stream);
  }

  void free(void* p) {
    if (p == nullptr) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    PG_CHECK(it != live_.end(), "cuda allocator: freeing a pointer it did not allocate");
    Block b = it->second;
    live_.erase(it);
    stats_.allocated -= b.size;
    if (b.uses.empty()) {
      release_or_cache_locked(b);
      return;
    }
    // Other streams used the block: it becomes reusable once their work queued so far is done.
    stats_.num_deferred_frees++;
    Deferred d{b, {}};
    DeviceSwitch on(b.device);
    for (StreamHandle s : b.uses) {
      cudaEvent_t e = nullptr;
      PG_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
      PG_CUDA_CHECK(cudaEventRecord(e, static_cast<cudaStream_t>(s)));
      d.events.push_back(e);
    }
    d.block.uses.clear();
    deferred_.push_back(std::move(d));
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mu_);
    process_deferred_locked(true);
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

  // Makes `device` current for the scope.
  class DeviceSwitch {
   public:
    explicit DeviceSwitch(int device) {
      PG_CUDA_CHECK(cudaGetDevice(&prev_));
      if (prev_ != device) PG_CUDA_CHECK(cudaSetDevice(device));
    }
    ~DeviceSwitch() {
      int now = 0;
      if (cudaGetDevice(&now) == cudaSuccess && now != prev_) cudaSetDevice(prev_);
    }
    DeviceSwitch(const DeviceSwitch&) = delete;
    DeviceSwitch& operator=(const DeviceSwitch&) = delete;

   private:
    int prev_ = 0;
  };

  // Moves deferred blocks whose events have all completed to the free lists (wait: block
  // until they have).
  void process_deferred_locked(bool wait) {
    for (size_t i = 0; i < deferred_.size();) {
      Deferred& d = deferred_[i];
      bool done = true;
      for (cudaEvent_t e : d.events) {
        const cudaError_t st = wait ? cudaEventSynchronize(e) : cudaEventQuery(e);
        if (st == cudaErrorNotReady) {
          done = false;
          break;
        }
        PG_CUDA_CHECK(st);
      }
      if (!done) {
        ++i;
        continue;
      }
      for (cudaEvent_t e : d.events) cudaEventDestroy(e);
      release_or_cache_locked(d.block);
      deferred_[i] = std::move(deferred_.back());
      deferred_.pop_back();
    }
  }

  // A block no stream uses any more: into its pool, or (caching off) back to the driver.
  void release_or_cache_locked(const Block& b) {
    if (!caching_disabled()) {
      free_.emplace(PoolKey{b.device, b.stream_key, b.size}, b);
      return;
    }
    DeviceSwitch on(b.device);
    cudaFree(b.ptr);  // waits for the device like any cudaFree; a fault surfaces at the next check
    stats_.reserved -= b.size;
    stats_.num_device_frees++;
  }

  void release_cached_locked() {
    // Blocks may still be in use by queued kernels of their stream: synchronise every device
    // that has cached blocks (not just the current one) before freeing them.
    std::set<int> devices;
    for (auto& [key, b] : free_) devices.insert(b.device);
    for (int dev : devices) {
      DeviceSwitch on(dev);
      cudaDeviceSynchronize();
      for (auto it = free_.begin(); it != free_.end();) {
        if (it->second.device != dev) {
          ++it;
          continue;
        }
        cudaFree(it->second.ptr);
        stats_.reserved -= it->second.size;
        stats_.num_device_frees++;
        it = free_.erase(it);
      }
    }
  }

  std::mutex mu_;
  std::multimap<PoolKey, Block> free_;
  std::vector<Deferred> deferred_;
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
void set_caching_enabled(bool on) {
  caching_switch().store(on);
  if (!on) instance().empty_cache();
}
void caching_free(void* p) {
  instance().free(p);
}
void record_stream(void* p, StreamHandle stream) {
  instance().record_stream(p, stream);
}
AllocatorStats allocator_stats() {
  return instance().stats();
}
void reset_peak_stats() {
  instance().reset_peak();
}
void empty_cache() {
  instance().empty_cache();
}

#else  // !PG_WITH_CUDA

void* caching_allocate(size_t, int, StreamHandle) {
  throw_no_cuda("cuda::caching_allocate");
}
void caching_free(void*) {
  throw_no_cuda("cuda::caching_free");
}
void record_stream(void*, StreamHandle) {
  throw_no_cuda("cuda::record_stream");
}
AllocatorStats allocator_stats() {
  return {};
}
void reset_peak_stats() {}
void empty_cache() {}
void set_caching_enabled(bool on) {
  caching_switch().store(on);
}

#endif

}  // namespace pg::cuda
