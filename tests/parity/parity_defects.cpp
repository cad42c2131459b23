// Multi-device, stream and conversion guarantees of the CUDA backend (issue 9, defects 1-5).
// They run wherever pg_cuda_tests runs; checks that need the emulator's instrumentation (held
// streams, memory limits, call counters) run in the emulation build only.
#include <cuda_runtime.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "core/allocator.h"
#include "core/cuda_check.h"
#include "core/cuda_context.h"
#include "parity/caching_mode.h"
#include "test_util.h"

#if PG_CUDA_EMULATE
#include <cublas_v2.h>

#include "cuda_emu/emu_launch.h"
#endif

using namespace pg;

namespace {

// Float values whose integer conversions differ between a plain x86 cast and CUDA's cvt.
std::vector<double> awkward_values() {
  return {NAN,           INFINITY, -INFINITY, 1e10,  -1e10,  3.7,     -3.7, 2147483648.0,
          -2147483904.0, 300.0,    -200.0,    255.5, 9.3e18, -9.3e18, 0.0};
}

}  // namespace

TEST_CASE("float to integer conversion saturates (NaN -> 0) identically on CPU and CUDA", "[parity][core][convert]") {
  const std::vector<double> v = awkward_values();
  const std::vector<int32_t> want_i32 = {0,   INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN, 3, -3, INT32_MAX, INT32_MIN,
                                         300, -200,      255,       INT32_MAX, INT32_MIN, 0};
  const std::vector<int64_t> want_i64 = {0,    INT64_MAX, INT64_MIN,  10000000000, -10000000000,
                                         3,    -3,        2147483648, -2147483904, 300,
                                         -200, 255,       INT64_MAX,  INT64_MIN,   0};
  const std::vector<uint8_t> want_u8 = {0, 255, 0, 255, 0, 3, 0, 255, 0, 255, 0, 255, 255, 0, 0};
  for (DType src : {DType::f32, DType::f64}) {
    INFO("source " << dtype_name(src));
    Tensor cpu = from_vector(v, {static_cast<int64_t>(v.size())}).to(src);
    Tensor gpu = cpu.to(Device::cuda(0));
    if (src == DType::f64) {
      REQUIRE(cpu.to(DType::i32).to_vector<int32_t>() == want_i32);
      REQUIRE(cpu.to(DType::i64).to_vector<int64_t>() == want_i64);
    }
    REQUIRE(cpu.to(DType::u8).to_vector<uint8_t>() == want_u8);
    for (DType dst : {DType::i32, DType::i64, DType::u8}) {
      INFO("to " << dtype_name(dst));
      REQUIRE(test::max_abs_diff(gpu.to(dst).to(Device::cpu()), cpu.to(dst)) == 0.0);
    }
  }
}

TEST_CASE("ops on cuda:1 run on device 1", "[parity][devices]") {
  if (cuda::device_count() < 2) {
    WARN("one CUDA device: nothing to check");
    return;
  }
  const Device d1 = Device::cuda(1);
  REQUIRE(cuda::current_device() == 0);
  Tensor a = test::uniform({4, 37, 3}, -1, 1, 11), b = test::uniform({4, 53, 3}, -1, 1, 12);
  Tensor a1 = a.to(d1), b1 = b.to(d1);
  REQUIRE(test::max_abs_diff((a1 * 2.0 + 1.0).to(Device::cpu()), a * 2.0 + 1.0) == 0.0);
  REQUIRE(test::max_abs_diff(sum(a1, {1}).to(Device::cpu()), sum(a, {1})) < 1e-5);
  REQUIRE(test::max_abs_diff(sum(a1).to(Device::cpu()), sum(a)) < 1e-4);  // reduce's split workspace
  REQUIRE(test::max_abs_diff(matmul(a1.select(0, 0), a1.select(0, 1).t()).to(Device::cpu()),
                             matmul(a.select(0, 0), a.select(0, 1).t())) < 1e-5);
  const KnnResult k1 = knn(a1, b1, 5), k0 = knn(a, b, 5);
  REQUIRE(test::max_abs_diff(k1.idx.to(Device::cpu()), k0.idx) == 0.0);
  KnnOptions list;
  list.impl = KnnImpl::List;  // dynamic shared memory attribute on device 1
  REQUIRE(test::max_abs_diff(knn(a1, b1, 40, list).idx.to(Device::cpu()), knn(a, b, 40).idx) == 0.0);
  REQUIRE(cuda::current_device() == 0);  // the guard restores the caller's device
}

TEST_CASE("allocator pools are keyed by stream id, not by a reusable handle", "[parity][allocator]") {
  const test::CachingMode caching(true);
  cudaStream_t s1 = nullptr;
  REQUIRE(cudaStreamCreate(&s1) == cudaSuccess);
  void* p1 = cuda::caching_allocate(12345, 0, s1);
  cuda::caching_free(p1);  // cached in s1's pool
  REQUIRE(cudaStreamDestroy(s1) == cudaSuccess);
  cudaStream_t s2 = nullptr;
  REQUIRE(cudaStreamCreate(&s2) == cudaSuccess);
#if PG_CUDA_EMULATE
  REQUIRE(s2 == s1);  // the emulator hands the destroyed handle out again, as drivers may
#endif
  const uint64_t hits = cuda::allocator_stats().num_cache_hits;
  void* p2 = cuda::caching_allocate(12345, 0, s2);
  REQUIRE(cuda::allocator_stats().num_cache_hits == hits);  // s1's block is not s2's
  cuda::caching_free(p2);
  void* p3 = cuda::caching_allocate(12345, 0, s2);
  REQUIRE(p3 == p2);  // its own pool still works
  cuda::caching_free(p3);
  REQUIRE(cudaStreamDestroy(s2) == cudaSuccess);
}

TEST_CASE("record_stream defers reuse until the other stream is done", "[parity][allocator]") {
  const test::CachingMode caching(true);
  cudaStream_t side = nullptr;
  REQUIRE(cudaStreamCreate(&side) == cudaSuccess);
  void* p = cuda::caching_allocate(77777, 0, nullptr);
  cuda::record_stream(p, side);
  const uint64_t deferred = cuda::allocator_stats().num_deferred_frees;
#if PG_CUDA_EMULATE
  pg_emu::hold_stream(side, true);  // the side stream's work is still queued
  cuda::caching_free(p);
  REQUIRE(cuda::allocator_stats().num_deferred_frees == deferred + 1);
  void* q = cuda::caching_allocate(77777, 0, nullptr);
  REQUIRE(q != p);                   // not reused while the side stream may still read it
  pg_emu::hold_stream(side, false);  // its work completes
  void* r = cuda::caching_allocate(77777, 0, nullptr);
  REQUIRE(r == p);  // now it is
  cuda::caching_free(q);
  cuda::caching_free(r);
#else
  cuda::caching_free(p);
  REQUIRE(cuda::allocator_stats().num_deferred_frees == deferred + 1);
  REQUIRE(cudaStreamSynchronize(side) == cudaSuccess);
  void* r = cuda::caching_allocate(77777, 0, nullptr);
  REQUIRE(r == p);
  cuda::caching_free(r);
#endif
  REQUIRE_THROWS_WITH(cuda::record_stream(p, side), Catch::Contains("record_stream"));
  REQUIRE(cudaStreamDestroy(side) == cudaSuccess);
}

TEST_CASE("a failed runtime call is reported once, by its own check", "[parity][core]") {
  REQUIRE_THROWS_WITH([] { PG_CUDA_CHECK(cudaSetDevice(1 << 20)); }(), Catch::Contains("CUDA error"));
  // The error was reported by the throw: the next launch check must not report it again.
  REQUIRE(cudaGetLastError() == cudaSuccess);
  REQUIRE_NOTHROW([] { PG_CUDA_LAUNCH_CHECK(); }());
}

TEST_CASE("without caching every block is its own exact-size device allocation", "[parity][allocator]") {
  const test::CachingMode caching(false);
  cudaStream_t side = nullptr;
  REQUIRE(cudaStreamCreate(&side) == cudaSuccess);
  const cuda::AllocatorStats s0 = cuda::allocator_stats();
  REQUIRE(s0.reserved == s0.allocated);  // turning caching off emptied the cache
  void* p = cuda::caching_allocate(1001, 0, nullptr);
  const cuda::AllocatorStats s1 = cuda::allocator_stats();
  REQUIRE(s1.allocated == s0.allocated + 1001);  // not rounded to 1024
  REQUIRE(s1.num_device_mallocs == s0.num_device_mallocs + 1);
  cuda::caching_free(p);
  const cuda::AllocatorStats s2 = cuda::allocator_stats();
  REQUIRE(s2.reserved == s0.reserved);  // given back, not cached
  REQUIRE(s2.num_device_frees == s0.num_device_frees + 1);
  void* q = cuda::caching_allocate(1001, 0, nullptr);
  REQUIRE(cuda::allocator_stats().num_cache_hits == s0.num_cache_hits);
  // A block another stream used is given back once that stream is done with it.
  cuda::record_stream(q, side);
  cuda::caching_free(q);
  REQUIRE(cudaStreamSynchronize(side) == cudaSuccess);
  cuda::empty_cache();  // processes the deferred block
  const cuda::AllocatorStats s3 = cuda::allocator_stats();
  REQUIRE(s3.reserved == s0.reserved);
  REQUIRE(s3.num_device_frees == s0.num_device_frees + 2);
  REQUIRE(cudaStreamDestroy(side) == cudaSuccess);
}

#if PG_CUDA_EMULATE
TEST_CASE("out of memory synchronises every device before freeing cached blocks", "[parity][allocator][emu]") {
  const test::CachingMode caching(true);
  cuda::empty_cache();
  // A cached block on device 1.
  cuda::set_device(1);
  cuda::caching_free(cuda::caching_allocate(1 << 20, 1, nullptr));
  cuda::set_device(0);
  // Device 0 is nearly full: the next allocation fails once, empties the caches and retries.
  const size_t used = pg_emu::device_memory_in_use(0);
  pg_emu::set_device_memory_limit(0, used + (3 << 20));
  void* filler = cuda::caching_allocate(2 << 20, 0, nullptr);
  cuda::caching_free(filler);  // cached on device 0
  const int sync0 = pg_emu::device_synchronize_count(0), sync1 = pg_emu::device_synchronize_count(1);
  void* big = cuda::caching_allocate(size_t(5) << 19, 0, nullptr);  // 2.5 MiB: the cache must go
  REQUIRE(pg_emu::device_synchronize_count(0) > sync0);
  REQUIRE(pg_emu::device_synchronize_count(1) > sync1);
  REQUIRE(pg_emu::device_memory_in_use(1) == 0);
  cuda::caching_free(big);
  pg_emu::set_device_memory_limit(0, 0);
  REQUIRE_THROWS_WITH(cuda::caching_allocate(size_t(64) << 30, 0, nullptr),
                      Catch::Contains("cannot allocate") && Catch::Contains("cuda:0"));
}

TEST_CASE("one cuBLAS handle per stream", "[parity][linalg][emu]") {
  cudaStream_t s = nullptr;
  REQUIRE(cudaStreamCreate(&s) == cudaSuccess);
  Tensor a = test::uniform({33, 17}, -1, 1, 5), b = test::uniform({17, 9}, -1, 1, 6);
  Tensor ac = a.to(Device::cuda(0)), bc = b.to(Device::cuda(0));
  const Tensor want = matmul(a, b);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(test::max_abs_diff(matmul(ac, bc).to(Device::cpu()), want) < 1e-5);
    cuda::StreamGuard guard(s);
    Tensor c = matmul(ac, bc);
    cuda::synchronize();
    REQUIRE(test::max_abs_diff(c.to(Device::cpu()), want) < 1e-5);
  }
  REQUIRE(pg_emu::cublas_handles_used_on_several_streams() == 0);
  REQUIRE(cudaStreamDestroy(s) == cudaSuccess);
}

TEST_CASE("dynamic shared memory attributes are set once per (kernel, device)", "[parity][knn][emu]") {
  Tensor q = test::uniform({2, 40, 3}, -1, 1, 7).to(Device::cuda(0));
  Tensor r = test::uniform({2, 90, 3}, -1, 1, 8).to(Device::cuda(0));
  KnnOptions list;
  list.impl = KnnImpl::List;
  for (int i = 0; i < 3; ++i) knn(q, r, 20, list);
  REQUIRE(pg_emu::max_func_attribute_set_count() == 1);
}
#endif
