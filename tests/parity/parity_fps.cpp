// CUDA vs CPU parity of FPS: every launch path (on-chip P = 1/2/4/8 buckets, global-field
// fallback, pointnet2-style baseline, generic body), both dtypes, seeded and random starts.
// FPS distances are bit-identical on both backends, so indices AND radii must match exactly.
#include <catch2/catch.hpp>
#include <limits>
#include <vector>

#include "ops/fps.h"
#include "test_util.h"

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

Tensor cloud(int64_t B, int64_t N, uint64_t seed, DType dt) {
  return test::uniform({B, N, 3}, -1.0, 1.0, seed, TensorOptions(dt));
}

void require_same(const FpsResult& gpu, const FpsResult& cpu) {
  REQUIRE(gpu.indices.is_cuda());
  REQUIRE(gpu.radius.is_cuda());
  REQUIRE(gpu.indices.to(Device::cpu()).to_vector<int64_t>() == cpu.indices.to_vector<int64_t>());
  REQUIRE(gpu.radius.to(Device::cpu()).to_vector<double>() == cpu.radius.to_vector<double>());
}

}  // namespace

TEST_CASE("fps parity: on-chip buckets and the global fallback", "[parity][fps]") {
  for (DType dt : {DType::f32, DType::f64}) {
    // The emulator keeps the bucket and on-chip-capacity boundaries with fewer samples per cloud.
    const std::vector<int64_t> sizes = test::emu_size(
        std::vector<int64_t>{1, 5, 100, 512, 513, 1024, 1500, 2048, 3000, 4096, 5000, 8192, 8193, 20000},
        std::vector<int64_t>{1, 5, 100, 513, 1024, 4096, 4097, 8192, 8193});
    for (int64_t N : sizes) {
      const int64_t B = test::emu_size<int64_t>(N > 4096 ? 3 : 5, 2);
      const int64_t m = std::min<int64_t>(N, test::emu_size<int64_t>(333, 40));
      Tensor p = cloud(B, N, 1000 + N, dt);
      const FpsResult cpu = fps(p, m);
      Tensor pc = p.to(kCuda);
      for (FpsImpl impl : {FpsImpl::Auto, FpsImpl::OnChip, FpsImpl::Global, FpsImpl::Baseline}) {
        FpsOptions o;
        o.impl = impl;
        const bool fits = N <= (dt == DType::f32 ? 8192 : 4096);
        INFO("dtype " << dtype_name(dt) << " N " << N << " impl " << int(impl));
        if (impl == FpsImpl::OnChip && !fits) {
          REQUIRE_THROWS_WITH(fps(pc, m, o), Catch::Contains("OnChip"));
          continue;
        }
        require_same(fps(pc, m, o), cpu);
      }
    }
  }
}

TEST_CASE("fps parity: generic body on CUDA", "[parity][fps]") {
  Tensor p = cloud(4, 700, 3, DType::f32);
  FpsOptions o;
  o.impl = FpsImpl::Generic;
  require_same(fps(p.to(kCuda), 100, o), fps(p, 100));
}

TEST_CASE("fps parity: m = N, start index, duplicates", "[parity][fps]") {
  const int64_t N = test::emu_size<int64_t>(1000, 300);
  Tensor p = cloud(2, N, 4, DType::f32);
  FpsOptions o;
  o.start = N - 1;
  require_same(fps(p.to(kCuda), N, o), fps(p, N, o));
  Tensor same = full({2, 64, 3}, 0.5, TensorOptions(DType::f32));
  require_same(fps(same.to(kCuda), 10), fps(same, 10));
}

TEST_CASE("fps parity: seeded (ragged counts) on every path", "[parity][fps]") {
  for (int64_t N : test::emu_size(std::vector<int64_t>{300, 3000, 12000}, std::vector<int64_t>{300, 3000})) {
    const int64_t B = 3, S = 4, m = test::emu_size<int64_t>(120, 40);
    Tensor p = cloud(B, N, 50 + N, DType::f32);
    const std::vector<int64_t> sv{5, 5, 200, 7, 1, 2, -1, -1, N - 1, 0, 3, 9};
    Tensor seeds = from_vector(sv, {B, S});
    Tensor counts = from_vector<int64_t>({4, 2, 3}, {B});
    const FpsResult cpu = fps_seeded(p, seeds, m, counts);
    for (FpsImpl impl : {FpsImpl::Auto, FpsImpl::Global, FpsImpl::Baseline, FpsImpl::Generic}) {
      FpsOptions o;
      o.impl = impl;
      INFO("N " << N << " impl " << int(impl));
      require_same(fps_seeded(p.to(kCuda), seeds.to(kCuda), m, counts.to(kCuda), o), cpu);
    }
  }
}

TEST_CASE("fps parity: random starts from the same generator seed", "[parity][fps]") {
  Tensor p = cloud(6, 500, 8, DType::f64);
  Generator g1(77), g2(77);
  FpsOptions o;
  o.random_start = true;
  o.generator = &g1;
  const FpsResult cpu = fps(p, 50, o);
  o.generator = &g2;
  require_same(fps(p.to(kCuda), 50, o), cpu);
}

TEST_CASE("fps on CUDA rejects NaN coordinates and bad seeds", "[parity][fps][errors]") {
  std::vector<double> v = cloud(2, 40, 9, DType::f32).to_vector<double>();
  v[77] = std::numeric_limits<double>::quiet_NaN();
  Tensor bad = from_vector(v, {2, 40, 3}).to(DType::f32).to(kCuda);
  REQUIRE_THROWS_WITH(fps(bad, 5), Catch::Contains("fps") && Catch::Contains("NaN"));
  Tensor p = cloud(2, 40, 9, DType::f32).to(kCuda);
  REQUIRE_THROWS_WITH(fps_seeded(p, from_vector<int64_t>({0, 40}, {2, 1}).to(kCuda), 5),
                      Catch::Contains("seeds[1, 0] = 40"));
  REQUIRE_THROWS_WITH(fps_seeded(p, from_vector<int64_t>({0, 1}, {2, 1}), 5), Catch::Contains("cuda"));
}
