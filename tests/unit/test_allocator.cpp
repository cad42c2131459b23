// Allocators: CPU alignment and zero-size blocks, the CUDA size rounding rule, and the CUDA
// allocator entry points in a build or on a machine without a device.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/allocator.h"
#include "core/tensor.h"

namespace {

bool aligned64(const void* p) { return reinterpret_cast<uintptr_t>(p) % 64 == 0; }

}  // namespace

TEST_CASE("cpu_allocate returns 64-byte aligned, writable blocks", "[allocator]") {
  STATIC_REQUIRE(pg::kCpuAlignment == 64);
  for (size_t n : {size_t{1}, size_t{3}, size_t{63}, size_t{64}, size_t{65}, size_t{100}, size_t{4096},
                   size_t{1} << 20, (size_t{1} << 20) + 17}) {
    INFO("nbytes " << n);
    void* p = pg::cpu_allocate(n);
    REQUIRE(p != nullptr);
    REQUIRE(aligned64(p));
    std::memset(p, 0xab, n);  // the whole request is usable (ASan checks the bounds)
    REQUIRE(static_cast<unsigned char*>(p)[n - 1] == 0xab);
    pg::cpu_free(p);
  }
  // Many live blocks at once are all aligned and distinct.
  std::vector<void*> blocks;
  for (int i = 0; i < 64; ++i) blocks.push_back(pg::cpu_allocate(static_cast<size_t>(8 * i + 1)));
  for (size_t i = 0; i < blocks.size(); ++i) {
    REQUIRE(aligned64(blocks[i]));
    for (size_t j = 0; j < i; ++j) REQUIRE(blocks[i] != blocks[j]);
  }
  for (void* p : blocks) pg::cpu_free(p);
}

TEST_CASE("zero-size CPU allocations and tensors", "[allocator]") {
  REQUIRE(pg::cpu_allocate(0) == nullptr);
  pg::cpu_free(nullptr);  // a no-op
  pg::Tensor e = pg::empty({0, 5});
  REQUIRE(e.numel() == 0);
  REQUIRE(e.storage()->nbytes() == 0);
  REQUIRE(e.raw_data() == nullptr);
  // Tensor storage goes through the CPU allocator: element 0 is 64-byte aligned.
  for (pg::DType dt : {pg::DType::f32, pg::DType::f64, pg::DType::u8, pg::DType::i64}) {
    pg::Tensor t = pg::empty({3, 7}, dt);
    REQUIRE(aligned64(t.raw_data()));
    REQUIRE(t.storage()->nbytes() == static_cast<size_t>(21 * pg::dtype_size(dt)));
  }
}

TEST_CASE("cuda::round_allocation_size: 512 B granules to 1 MiB, 128 KiB above", "[allocator]") {
  using pg::cuda::round_allocation_size;
  constexpr size_t KiB = 1024, MiB = 1024 * 1024;
  REQUIRE(round_allocation_size(0) == 512);
  REQUIRE(round_allocation_size(1) == 512);
  REQUIRE(round_allocation_size(511) == 512);
  REQUIRE(round_allocation_size(512) == 512);
  REQUIRE(round_allocation_size(513) == 1024);
  REQUIRE(round_allocation_size(4000) == 4096);
  REQUIRE(round_allocation_size(MiB - 1) == MiB);
  REQUIRE(round_allocation_size(MiB) == MiB);
  REQUIRE(round_allocation_size(MiB + 1) == MiB + 128 * KiB);
  REQUIRE(round_allocation_size(MiB + 128 * KiB) == MiB + 128 * KiB);
  REQUIRE(round_allocation_size(3 * MiB + 1) == 3 * MiB + 128 * KiB);
  REQUIRE(round_allocation_size(size_t{1} << 33) == size_t{1} << 33);
  // Invariants over a sweep: never smaller than the request, granule-aligned, less than one
  // granule of waste, monotone.
  size_t prev = 0;
  for (size_t n = 1; n <= 4 * MiB; n += 997) {
    const size_t r = round_allocation_size(n);
    const size_t granule = n <= MiB ? 512 : 128 * KiB;
    REQUIRE(r >= n);
    REQUIRE(r % granule == 0);
    REQUIRE(r - n < granule);
    REQUIRE(r >= prev);
    prev = r;
  }
}

TEST_CASE("CUDA allocator statistics and empty_cache are callable without a device", "[allocator]") {
  pg::cuda::empty_cache();
  pg::cuda::reset_peak_stats();
  const pg::cuda::AllocatorStats s = pg::cuda::allocator_stats();
  REQUIRE(s.allocated <= s.reserved);
  REQUIRE(s.peak_allocated >= s.allocated);
  REQUIRE(s.peak_reserved >= s.reserved);
#if !PG_WITH_CUDA
  // A CPU-only build never reserves device memory, and allocating raises a clear error.
  REQUIRE(s.reserved == 0);
  REQUIRE(s.num_allocs == 0);
  REQUIRE(s.num_device_mallocs == 0);
  bool threw = false;
  try {
    pg::cuda::caching_allocate(256, 0, nullptr);
  } catch (const pg::Error& e) {
    threw = std::string(e.what()).find("without CUDA") != std::string::npos;
  }
  REQUIRE(threw);
#else
  if (!pg::cuda::is_available()) {
    // After empty_cache nothing is cached; without a device nothing was ever allocated.
    REQUIRE(s.reserved == s.allocated);
    REQUIRE(s.allocated == 0);
  }
#endif
}

TEST_CASE("large CPU blocks are cached and reused", "[allocator]") {
  pg::cpu_empty_cache();
  REQUIRE(pg::cpu_cached_bytes() == 0);
  void* a = pg::cpu_allocate(size_t(3) << 20);
  REQUIRE(reinterpret_cast<uintptr_t>(a) % (size_t(2) << 20) == 0);
  pg::cpu_free(a);
  REQUIRE(pg::cpu_cached_bytes() == (size_t(4) << 20));  // rounded to 2 MiB multiples
  void* b = pg::cpu_allocate((size_t(3) << 20) + 100);   // similar size: served from the cache
  REQUIRE(b == a);
  REQUIRE(pg::cpu_cached_bytes() == 0);
  void* c = pg::cpu_allocate(size_t(64) << 20);          // much larger: a new block
  REQUIRE(c != b);
  pg::cpu_free(b);
  pg::cpu_free(c);
  pg::cpu_empty_cache();
  REQUIRE(pg::cpu_cached_bytes() == 0);
  // Small blocks are not cached but still aligned.
  void* s = pg::cpu_allocate(1000);
  REQUIRE(reinterpret_cast<uintptr_t>(s) % pg::kCpuAlignment == 0);
  pg::cpu_free(s);
  REQUIRE(pg::cpu_cached_bytes() == 0);
}

TEST_CASE("poison mode fills fresh CPU blocks (small and cached large) with 0xFF bytes", "[allocator]") {
  const bool before = pg::allocator_poison();
  pg::set_allocator_poison(true);
  REQUIRE(pg::allocator_poison());
  // float32 and float64: all-ones bytes are NaN; int64: -1. A large block goes through the
  // cache, so free one first and check the reused block is poisoned again.
  {
    pg::Tensor big = pg::full({300000}, 1.5, pg::TensorOptions(pg::DType::f64));  // 2.4 MB, cached after free
  }
  pg::Tensor f64 = pg::empty({300000}, pg::TensorOptions(pg::DType::f64));
  pg::Tensor f32 = pg::empty({7, 3}, pg::TensorOptions(pg::DType::f32));
  pg::Tensor i64 = pg::empty({5}, pg::TensorOptions(pg::DType::i64));
  pg::set_allocator_poison(before);
  size_t nan64 = 0, nan32 = 0;
  for (double v : f64.to_vector<double>()) nan64 += std::isnan(v) ? 1 : 0;
  for (float v : f32.to_vector<float>()) nan32 += std::isnan(v) ? 1 : 0;
  REQUIRE(nan64 == 300000);
  REQUIRE(nan32 == 21);
  REQUIRE(i64.to_vector<int64_t>() == std::vector<int64_t>(5, -1));
  // Off again: ops that fully write their outputs are unaffected either way.
  REQUIRE(pg::allocator_poison() == before);
  REQUIRE(pg::zeros({4}, pg::TensorOptions(pg::DType::f32)).to_vector<float>() == std::vector<float>(4, 0.0f));
}
