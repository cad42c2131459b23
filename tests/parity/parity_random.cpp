// CUDA vs CPU: the RNG produces the same stream on both backends for one (seed, offset), and the
// CUDA caching allocator reuses, counts and releases blocks as documented in core/allocator.h.
#include <catch2/catch.hpp>

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "parity/caching_mode.h"
#include "core/allocator.h"
#include "core/cuda_context.h"
#include "core/random.h"
#include "core/tensor.h"

namespace {

using pg::Device;
using pg::DType;
using pg::Generator;
using pg::Tensor;
using pg::TensorOptions;

const Device kCuda = Device::cuda(0);
const Device kCpu = Device::cpu();

// Generators at the same (seed, offset); the offset crosses 2^32 inside a draw of >= 8
// elements so the high counter word is exercised.
struct GenPair {
  Generator cpu, cuda;
  explicit GenPair(uint64_t seed, uint64_t skip = (uint64_t{1} << 32) - 5) : cpu(seed), cuda(seed) {
    cpu.reserve(skip);
    cuda.reserve(skip);
  }
};

template <class T>
void require_identical(const Tensor& on_cuda, const Tensor& on_cpu) {
  REQUIRE(on_cuda.device() == kCuda);
  REQUIRE(on_cpu.device() == kCpu);
  REQUIRE(on_cuda.dtype() == on_cpu.dtype());
  REQUIRE(on_cuda.shape() == on_cpu.shape());
  const auto a = on_cuda.to_vector<T>();
  const auto b = on_cpu.to_vector<T>();
  int64_t mismatches = 0, first = -1;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!(a[i] == b[i])) {
      if (first < 0) first = static_cast<int64_t>(i);
      ++mismatches;
    }
  }
  INFO("first mismatch at " << first);
  REQUIRE(mismatches == 0);
}

Tensor to_device(const Tensor& host, Device d) {
  Tensor out = pg::empty(host.shape(), TensorOptions(host.dtype(), d));
  pg::detail::copy_raw(out, host);
  return out;
}

const std::vector<int64_t> kSizes = {1, 7, 1000, (int64_t{1} << 20) + 7};

}  // namespace

TEST_CASE("parity: rand is bit-identical on CUDA and CPU", "[random][parity]") {
  for (DType dt : {DType::f32, DType::f64}) {
    for (int64_t n : kSizes) {
      INFO(pg::dtype_name(dt) << " n=" << n);
      GenPair g(0xC0FFEE + n);
      const Tensor c = pg::rand({n}, TensorOptions(dt, kCuda), &g.cuda);
      const Tensor h = pg::rand({n}, TensorOptions(dt, kCpu), &g.cpu);
      REQUIRE(g.cuda.offset() == g.cpu.offset());
      require_identical<double>(c, h);
    }
  }
}

TEST_CASE("parity: randn agrees to a few ulp (float32 almost always exactly)", "[random][parity]") {
  // Box–Muller runs in double on both sides; CUDA's log/cos differ from glibc by <= 2 ulp, so
  // float64 results agree to ~4 ulp and float32 results (rounded from double) flip by 1 ulp
  // with probability ~2^-27 per element.
  for (DType dt : {DType::f32, DType::f64}) {
    for (int64_t n : kSizes) {
      INFO(pg::dtype_name(dt) << " n=" << n);
      GenPair g(4242 + n);
      const auto a = pg::randn({n}, TensorOptions(dt, kCuda), &g.cuda).to_vector<double>();
      const auto b = pg::randn({n}, TensorOptions(dt, kCpu), &g.cpu).to_vector<double>();
      const double eps = dt == DType::f32 ? std::numeric_limits<float>::epsilon() : std::numeric_limits<double>::epsilon();
      const double rel = dt == DType::f32 ? 2.0 * eps : 16.0 * eps;
      int64_t inexact = 0, too_far = 0, first_bad = -1;
      double worst = 0.0;
      for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(a[i] - b[i]);
        inexact += d != 0.0;
        worst = std::max(worst, d / std::max(std::fabs(b[i]), std::numeric_limits<double>::min()));
        if (!(d <= rel * std::fabs(b[i])) || !std::isfinite(a[i])) {
          if (first_bad < 0) first_bad = static_cast<int64_t>(i);
          ++too_far;
        }
      }
      INFO("inexact " << inexact << ", worst relative difference " << worst << ", first beyond tolerance "
                      << first_bad << (first_bad >= 0 ? ": " : "")
                      << (first_bad >= 0 ? std::to_string(a[first_bad]) + " vs " + std::to_string(b[first_bad]) : ""));
      REQUIRE(too_far == 0);
      if (dt == DType::f32) REQUIRE(inexact <= n / 1000);
    }
  }
}

TEST_CASE("parity: randint is bit-identical for every numeric dtype", "[random][parity]") {
  struct Case {
    int64_t low, high;
    DType dt;
  };
  const int64_t i64min = std::numeric_limits<int64_t>::min(), i64max = std::numeric_limits<int64_t>::max();
  for (const Case& k : {Case{-3, 5, DType::i64}, Case{i64min, i64max, DType::i64}, Case{0, 1000003, DType::i32},
                        Case{-(int64_t{1} << 31), (int64_t{1} << 31) - 1, DType::i32}, Case{0, 256, DType::u8},
                        Case{-100, 100, DType::f32}, Case{0, int64_t{1} << 40, DType::f64}}) {
    for (int64_t n : kSizes) {
      INFO(pg::dtype_name(k.dt) << " [" << k.low << ", " << k.high << ") n=" << n);
      GenPair g(99 + n);
      const Tensor c = pg::randint(k.low, k.high, {n}, TensorOptions(k.dt, kCuda), &g.cuda);
      const Tensor h = pg::randint(k.low, k.high, {n}, TensorOptions(k.dt, kCpu), &g.cpu);
      if (k.dt == DType::i64) {
        require_identical<int64_t>(c, h);
      } else {
        require_identical<double>(c, h);
      }
    }
  }
}

TEST_CASE("parity: randperm is identical (CUB radix sort vs CPU sort)", "[random][parity]") {
  for (DType dt : {DType::i64, DType::i32}) {
    for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{1000}, int64_t{1} << 20, (int64_t{1} << 20) + 7}) {
      INFO(pg::dtype_name(dt) << " n=" << n);
      GenPair g(7 + n);
      const Tensor c = pg::randperm(n, TensorOptions(dt, kCuda), &g.cuda);
      const Tensor h = pg::randperm(n, TensorOptions(dt, kCpu), &g.cpu);
      require_identical<int64_t>(c, h);
      REQUIRE(g.cuda.offset() == g.cpu.offset());
      auto v = c.to_vector<int64_t>();
      std::sort(v.begin(), v.end());
      std::vector<int64_t> iota(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) iota[static_cast<size_t>(i)] = i;
      REQUIRE(v == iota);
    }
  }
}

TEST_CASE("parity: bernoulli (scalar and tensor p) is bit-identical", "[random][parity]") {
  for (DType dt : {DType::f32, DType::f64, DType::u8, DType::b8}) {
    for (double p : {0.0, 0.3, 1.0}) {
      INFO(pg::dtype_name(dt) << " p=" << p);
      GenPair g(555);
      const Tensor c = pg::bernoulli({(int64_t{1} << 20) + 7}, p, TensorOptions(dt, kCuda), &g.cuda);
      const Tensor h = pg::bernoulli({(int64_t{1} << 20) + 7}, p, TensorOptions(dt, kCpu), &g.cpu);
      require_identical<double>(c, h);
    }
  }
  for (DType dt : {DType::f32, DType::f64}) {
    INFO(pg::dtype_name(dt));
    // Probabilities in [0, 1] read through a transposed (non-contiguous) view on both devices.
    const int64_t rows = 513, cols = 1031;
    Generator pg_gen(1);
    const Tensor probs_cpu = pg::rand({rows, cols}, TensorOptions(dt, kCpu), &pg_gen);
    const Tensor probs_cuda = to_device(probs_cpu, kCuda);
    const Tensor pt_cpu = pg::detail::make_view(probs_cpu, {cols, rows}, {1, cols}, 0);
    const Tensor pt_cuda = pg::detail::make_view(probs_cuda, {cols, rows}, {1, cols}, 0);
    GenPair g(31);
    require_identical<double>(pg::bernoulli(pt_cuda, &g.cuda), pg::bernoulli(pt_cpu, &g.cpu));
    // Out-of-range probabilities are reported on CUDA too.
    const Tensor bad = to_device(pg::tensor({0.5, 1.5, 0.25}, TensorOptions(dt)), kCuda);
    REQUIRE_THROWS_WITH(pg::bernoulli(bad, &g.cuda), Catch::Matchers::Contains("[0, 1]"));
  }
}

TEST_CASE("caching allocator: reuse, statistics and empty_cache on a device", "[allocator][parity]") {
  namespace cu = pg::cuda;
  const pg::test::CachingMode caching(true);
  const cu::StreamHandle stream = cu::current_stream();
  cu::empty_cache();
  const cu::AllocatorStats s0 = cu::allocator_stats();
  REQUIRE(s0.reserved == s0.allocated);  // nothing cached after empty_cache

  void* p = cu::caching_allocate(1000, 0, stream);
  const cu::AllocatorStats s1 = cu::allocator_stats();
  REQUIRE(p != nullptr);
  REQUIRE(s1.allocated == s0.allocated + 1024);
  REQUIRE(s1.reserved == s0.reserved + 1024);
  REQUIRE(s1.num_allocs == s0.num_allocs + 1);
  REQUIRE(s1.num_device_mallocs == s0.num_device_mallocs + 1);
  REQUIRE(s1.peak_allocated >= s1.allocated);
  REQUIRE(s1.peak_reserved >= s1.reserved);

  cu::caching_free(p);
  const cu::AllocatorStats s2 = cu::allocator_stats();
  REQUIRE(s2.allocated == s0.allocated);
  REQUIRE(s2.reserved == s1.reserved);  // cached, not returned to the driver

  // Same stream, same rounded size: the cached block comes back and counts a hit.
  void* q = cu::caching_allocate(900, 0, stream);
  const cu::AllocatorStats s3 = cu::allocator_stats();
  REQUIRE(q == p);
  REQUIRE(s3.num_cache_hits == s2.num_cache_hits + 1);
  REQUIRE(s3.num_device_mallocs == s2.num_device_mallocs);
  REQUIRE(s3.allocated == s0.allocated + 1024);
  REQUIRE(s3.reserved == s2.reserved);
  cu::caching_free(q);

  // Another stream never reuses the block (no work is issued on it). It must be a real stream:
  // pools are keyed by cudaStreamGetId.
  cudaStream_t other_stream = nullptr;
  REQUIRE(cudaStreamCreate(&other_stream) == cudaSuccess);
  const auto other = static_cast<cu::StreamHandle>(other_stream);
  void* r = cu::caching_allocate(1000, 0, other);
  const cu::AllocatorStats s4 = cu::allocator_stats();
  REQUIRE(r != p);
  REQUIRE(s4.num_device_mallocs == s3.num_device_mallocs + 1);
  REQUIRE(s4.reserved == s3.reserved + 1024);
  cu::caching_free(r);

  // Peaks: reset to the current values, then follow a large allocation and stay after its free.
  cu::reset_peak_stats();
  const cu::AllocatorStats s5 = cu::allocator_stats();
  REQUIRE(s5.peak_allocated == s5.allocated);
  REQUIRE(s5.peak_reserved == s5.reserved);
  const size_t big = (size_t{8} << 20) + 1;
  void* b = cu::caching_allocate(big, 0, stream);
  cu::caching_free(b);
  const cu::AllocatorStats s6 = cu::allocator_stats();
  REQUIRE(s6.allocated == s5.allocated);
  REQUIRE(s6.peak_allocated == s5.allocated + cu::round_allocation_size(big));
  REQUIRE(s6.peak_reserved == s5.reserved + cu::round_allocation_size(big));

  // empty_cache hands every cached block (1024 B on two streams and the big one) back.
  cu::empty_cache();
  const cu::AllocatorStats s7 = cu::allocator_stats();
  REQUIRE(s7.reserved == s7.allocated);
  REQUIRE(s7.reserved == s0.reserved);
  REQUIRE(s7.num_device_frees == s6.num_device_frees + 3);

  // Tensors go through the same allocator: a freed tensor's block serves the next one.
  void* first = nullptr;
  {
    Tensor t = pg::empty({256}, TensorOptions(DType::f32, Device::cuda(0)));
    first = t.raw_data();
    REQUIRE(cu::allocator_stats().allocated == s7.allocated + 1024);
  }
  REQUIRE(cu::allocator_stats().allocated == s7.allocated);
  const uint64_t hits = cu::allocator_stats().num_cache_hits;
  Tensor u = pg::empty({200}, TensorOptions(DType::f32, Device::cuda(0)));
  REQUIRE(u.raw_data() == first);
  REQUIRE(cu::allocator_stats().num_cache_hits == hits + 1);
  REQUIRE(cudaStreamDestroy(other_stream) == cudaSuccess);
}
