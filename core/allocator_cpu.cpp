// CPU allocator: 64-byte aligned blocks. Blocks of 1 MiB and more are cached after free and
// reused for requests of a similar size: a fresh large block from the kernel costs one page
// fault per 4 KiB page (a 64 MiB tensor: ~100+ ms), which otherwise dominates elementwise ops
// on large tensors. Large blocks are 2 MiB aligned and advised for transparent huge pages.
// The cache holds at most kMaxCachedBytes; cpu_empty_cache() returns it to the system.
#include <sys/mman.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

#include "core/allocator.h"
#include "core/error.h"

namespace pg {

namespace {

constexpr size_t kLargeBlock = size_t(1) << 20;      // cache blocks of at least 1 MiB
constexpr size_t kHugePage = size_t(2) << 20;         // 2 MiB alignment / rounding for large blocks
constexpr size_t kMaxCachedBytes = size_t(2) << 30;   // keep at most 2 GiB of free blocks

class LargeBlockCache {
 public:
  void* allocate(size_t rounded) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.lower_bound(rounded);
      if (it != free_.end() && it->first <= rounded + rounded / 4) {
        void* p = it->second;
        cached_bytes_ -= it->first;
        live_[p] = it->first;
        free_.erase(it);
        return p;
      }
    }
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p == nullptr) {
      release_all();
      p = std::aligned_alloc(kHugePage, rounded);
    }
    PG_CHECK(p != nullptr, "cpu_allocate: out of memory allocating ", rounded, " bytes");
#ifdef MADV_HUGEPAGE
    madvise(p, rounded, MADV_HUGEPAGE);  // advisory; failure is harmless
#endif
    std::lock_guard<std::mutex> lock(mu_);
    live_[p] = rounded;
    return p;
  }

  // Returns true when p was a large block (now cached or freed).
  bool release(void* p) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) return false;
    const size_t size = it->second;
    live_.erase(it);
    if (cached_bytes_ + size > kMaxCachedBytes) {
      std::free(p);
    } else {
      free_.emplace(size, p);
      cached_bytes_ += size;
    }
    return true;
  }

  void release_all() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [size, p] : free_) std::free(p);
    free_.clear();
    cached_bytes_ = 0;
  }

  size_t cached_bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_bytes_;
  }

 private:
  std::mutex mu_;
  std::multimap<size_t, void*> free_;
  std::unordered_map<void*, size_t> live_;
  size_t cached_bytes_ = 0;
};

LargeBlockCache& cache() {
  static LargeBlockCache* c = new LargeBlockCache();  // leaked: tensors may die during static destruction
  return *c;
}

std::atomic<bool>& poison_flag() {
  static std::atomic<bool> flag{[] {
    const char* env = std::getenv("PG_POISON_ALLOC");
    return env != nullptr && env[0] == '1';
  }()};
  return flag;
}

void* allocate_unpoisoned(size_t nbytes) {
  if (nbytes >= kLargeBlock) return cache().allocate((nbytes + kHugePage - 1) / kHugePage * kHugePage);
  const size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  void* p = std::aligned_alloc(kCpuAlignment, rounded);
  PG_CHECK(p != nullptr, "cpu_allocate: out of memory allocating ", nbytes, " bytes");
  return p;
}

}  // namespace

void set_allocator_poison(bool on) { poison_flag().store(on); }
bool allocator_poison() { return poison_flag().load(); }

void* cpu_allocate(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  void* p = allocate_unpoisoned(nbytes);
  if (allocator_poison()) std::memset(p, kPoisonByte, nbytes);
  return p;
}

void cpu_free(void* p) {
  if (p == nullptr) return;
  if (!cache().release(p)) std::free(p);
}

void cpu_empty_cache() { cache().release_all(); }
size_t cpu_cached_bytes() { return cache().cached_bytes(); }

}  // namespace pg
