// FPS (CPU): agreement with the textbook oracle, path and thread-count independence, seeded and
// random starts, bad input.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "core/parallel_for.h"
#include "ops/fps.h"
#include "reference/naive_geometry.h"
#include "test_util.h"

using namespace pg;

namespace {

Tensor cloud(int64_t B, int64_t N, uint64_t seed, DType dt = DType::f64) {
  return test::uniform({B, N, 3}, -1.0, 1.0, seed, TensorOptions(dt));
}

std::vector<int64_t> starts(int64_t B, int64_t s) {
  return std::vector<int64_t>(static_cast<size_t>(B), s);
}

FpsOptions with_impl(FpsImpl impl) {
  FpsOptions o;
  o.impl = impl;
  return o;
}

}  // namespace

TEST_CASE("fps float64 matches the textbook oracle exactly", "[fps]") {
  for (int64_t N : {1, 7, 64, 65, 517, 2000}) {
    const int64_t B = 3, m = std::min<int64_t>(N, 150);
    Tensor p = cloud(B, N, 100 + N);
    const ref::FpsOut o = ref::fps(p.to_vector<double>(), B, N, m, starts(B, 0), 1);
    for (FpsImpl impl : {FpsImpl::Auto, FpsImpl::Generic}) {
      INFO("N = " << N << " impl " << int(impl));
      const FpsResult r = fps(p, m, with_impl(impl));
      REQUIRE(r.indices.shape() == Shape{B, m});
      REQUIRE(r.radius.shape() == Shape{B, m});
      REQUIRE(r.indices.dtype() == DType::i64);
      REQUIRE(r.indices.to_vector<int64_t>() == o.idx);
      REQUIRE(r.radius.to_vector<double>() == o.radius);
    }
  }
}

TEST_CASE("fps radii: +inf first, then non-increasing squared distances", "[fps]") {
  Tensor p = cloud(2, 300, 7, DType::f32);
  const FpsResult r = fps(p, 300);
  const auto rad = r.radius.to_vector<double>();
  const auto idx = r.indices.to_vector<int64_t>();
  const auto pts = p.to_vector<double>();
  for (int64_t b = 0; b < 2; ++b) {
    REQUIRE(std::isinf(rad[b * 300]));
    std::set<int64_t> seen(idx.begin() + b * 300, idx.begin() + (b + 1) * 300);
    REQUIRE(seen.size() == 300u);  // m = N on distinct points: a permutation
    for (int64_t t = 2; t < 300; ++t) REQUIRE(rad[b * 300 + t] <= rad[b * 300 + t - 1]);
    // radius[t] is the distance from pick t to its nearest earlier pick (float tolerance).
    for (int64_t t = 1; t < 300; t += 37) {
      double best = 1e30;
      const int64_t pt = idx[b * 300 + t];
      for (int64_t u = 0; u < t; ++u) {
        const int64_t pu = idx[b * 300 + u];
        best = std::min(best, ref::sqdist3(&pts[(b * 300 + pt) * 3], &pts[(b * 300 + pu) * 3]));
      }
      REQUIRE(rad[b * 300 + t] == Approx(best).epsilon(1e-5));
    }
  }
}

TEST_CASE("fps float32: the vectorised path equals the generic body bit for bit", "[fps]") {
  for (int64_t N : {1, 63, 64, 65, 1000, 4099}) {
    Tensor p = cloud(4, N, 300 + N, DType::f32);
    const int64_t m = std::min<int64_t>(N, 257);
    const FpsResult a = fps(p, m);
    const FpsResult g = fps(p, m, with_impl(FpsImpl::Generic));
    INFO("N = " << N);
    REQUIRE(a.indices.to_vector<int64_t>() == g.indices.to_vector<int64_t>());
    REQUIRE(a.radius.to_vector<float>() == g.radius.to_vector<float>());
  }
}

TEST_CASE("fps bucket path (large clouds) equals the generic body, any thread count", "[fps]") {
  const int saved = cpu_num_threads();
  for (DType dt : {DType::f32, DType::f64}) {
    // N >= 8192 takes the k-d pruned bucket path.
    Tensor p = cloud(2, 40001, 11, dt);
    set_cpu_num_threads(1);
    const FpsResult one = fps(p, 700);
    set_cpu_num_threads(std::max(2, saved));
    const FpsResult many = fps(p, 700);
    set_cpu_num_threads(saved);
    const FpsResult gen = fps(p, 700, with_impl(FpsImpl::Generic));
    REQUIRE(one.indices.to_vector<int64_t>() == many.indices.to_vector<int64_t>());
    REQUIRE(one.indices.to_vector<int64_t>() == gen.indices.to_vector<int64_t>());
    REQUIRE(one.radius.to_vector<double>() == gen.radius.to_vector<double>());
  }
  // Points on a coarse grid: many exactly equal field values, the lowest-index rule decides.
  std::vector<double> v = cloud(1, 30000, 12).to_vector<double>();
  for (double& x : v) x = std::round(x * 6.0) / 6.0;
  Tensor grid = from_vector(v, {1, 30000, 3}).to(DType::f32);
  const FpsResult a = fps(grid, 1500);
  const FpsResult g = fps(grid, 1500, with_impl(FpsImpl::Generic));
  REQUIRE(a.indices.to_vector<int64_t>() == g.indices.to_vector<int64_t>());
  REQUIRE(a.radius.to_vector<float>() == g.radius.to_vector<float>());
  // Deep into the sampling (a quarter of the cloud): small radii, the tree prunes almost
  // everything, picks and radii still equal the textbook loop's.
  Tensor deep = cloud(1, 16384, 14, DType::f32);
  const FpsResult dt = fps(deep, 4096);
  const FpsResult dg = fps(deep, 4096, with_impl(FpsImpl::Generic));
  REQUIRE(dt.indices.to_vector<int64_t>() == dg.indices.to_vector<int64_t>());
  REQUIRE(dt.radius.to_vector<float>() == dg.radius.to_vector<float>());
  // Seeded, ragged, on the bucket path.
  Tensor p = cloud(2, 20000, 13, DType::f32);
  Tensor seeds = from_vector<int64_t>({19999, 5, 5, 0, 1, 2}, {2, 3});
  Tensor counts = from_vector<int64_t>({3, 1}, {2});
  REQUIRE(fps_seeded(p, seeds, 400, counts).indices.to_vector<int64_t>() ==
          fps_seeded(p, seeds, 400, counts, with_impl(FpsImpl::Generic)).indices.to_vector<int64_t>());
}

TEST_CASE("fps start index and random starts", "[fps]") {
  Tensor p = cloud(5, 200, 21);
  FpsOptions o;
  o.start = 17;
  const FpsResult r = fps(p, 20, o);
  const auto idx = r.indices.to_vector<int64_t>();
  for (int64_t b = 0; b < 5; ++b) REQUIRE(idx[b * 20] == 17);
  REQUIRE(idx == ref::fps(p.to_vector<double>(), 5, 200, 20, starts(5, 17), 1).idx);

  Generator g1(42), g2(42);
  FpsOptions ro;
  ro.random_start = true;
  ro.generator = &g1;
  const auto r1 = fps(p, 20, ro).indices.to_vector<int64_t>();
  ro.generator = &g2;
  const auto r2 = fps(p, 20, ro).indices.to_vector<int64_t>();
  REQUIRE(r1 == r2);  // same seed → same starts
  std::vector<int64_t> st;
  for (int64_t b = 0; b < 5; ++b) st.push_back(r1[b * 20]);
  REQUIRE(std::set<int64_t>(st.begin(), st.end()).size() > 1);  // independent per cloud
  REQUIRE(r1 == ref::fps(p.to_vector<double>(), 5, 200, 20, st, 1).idx);
}

TEST_CASE("fps_seeded with ragged seed counts matches the oracle", "[fps]") {
  const int64_t B = 3, N = 400, S = 5, m = 50;
  Tensor p = cloud(B, N, 31);
  const std::vector<int64_t> seeds{3,   99, 3,  250, 7,      // b = 0: 5 seeds, one repeated
                                   10,  11, -1, -1,  -1,     // b = 1: 2 seeds, padding ignored
                                   399, 0,  1,  2,   1000};  // b = 2: 4 seeds
  const std::vector<int64_t> counts{5, 2, 4};
  const FpsResult r = fps_seeded(p, from_vector(seeds, {B, S}), m, from_vector(counts, {B}));
  const ref::FpsOut o = ref::fps(p.to_vector<double>(), B, N, m, seeds, S, counts);
  REQUIRE(r.indices.to_vector<int64_t>() == o.idx);
  REQUIRE(r.radius.to_vector<double>() == o.radius);
  const auto rad = r.radius.to_vector<double>();
  REQUIRE(rad[2] == 0.0);  // the repeated seed
  // Generic body agrees too.
  FpsOptions go = with_impl(FpsImpl::Generic);
  REQUIRE(fps_seeded(p, from_vector(seeds, {B, S}), m, from_vector(counts, {B}), go).indices.to_vector<int64_t>() ==
          o.idx);
  // More seeds than m: the first m seeds.
  const FpsResult t = fps_seeded(cloud(1, N, 32), from_vector<int64_t>({5, 6, 7, 8, 9, 10}, {1, 6}), 4);
  REQUIRE(t.indices.to_vector<int64_t>() == std::vector<int64_t>{5, 6, 7, 8});
}

TEST_CASE("fps on identical points repeats the lowest index with radius 0", "[fps]") {
  Tensor p = full({1, 10, 3}, 0.25, TensorOptions(DType::f32));
  const FpsResult r = fps(p, 4);
  REQUIRE(r.indices.to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0, 0});
  const auto rad = r.radius.to_vector<double>();
  REQUIRE(std::isinf(rad[0]));
  REQUIRE(rad[1] == 0.0);
}

TEST_CASE("fps rejects bad input with clear errors", "[fps][errors]") {
  using Catch::Contains;
  Tensor p = cloud(2, 10, 1);
  REQUIRE_THROWS_WITH(fps(p, 11), Contains("fps") && Contains("m (11)") && Contains("(10)"));
  REQUIRE_THROWS_WITH(fps(p, 0), Contains("fps") && Contains("m must be >= 1"));
  REQUIRE_THROWS_WITH(fps(empty({2, 0, 3}, DType::f32), 1), Contains("fps") && Contains("empty cloud"));
  REQUIRE_THROWS_WITH(fps(empty({0, 5, 3}, DType::f32), 1), Contains("fps") && Contains("empty batch"));
  REQUIRE_THROWS_WITH(fps(zeros({2, 10}), 1), Contains("fps") && Contains("[B, n, 3]") && Contains("[2, 10]"));
  REQUIRE_THROWS_WITH(fps(zeros({2, 10, 2}), 1), Contains("[2, 10, 2]"));
  REQUIRE_THROWS_WITH(fps(zeros({2, 10, 3}, DType::i32), 1), Contains("fps") && Contains("int32"));
  FpsOptions o;
  o.start = 10;
  REQUIRE_THROWS_WITH(fps(p, 3, o), Contains("fps") && Contains("start index 10"));
  Tensor bad = p.clone();
  std::vector<double> v = bad.to_vector<double>();
  v[13] = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_THROWS_WITH(fps(from_vector(v, {2, 10, 3}), 3), Contains("fps") && Contains("NaN"));
  v[13] = std::numeric_limits<double>::infinity();
  REQUIRE_THROWS_WITH(fps(from_vector(v, {2, 10, 3}), 3), Contains("Inf"));

  REQUIRE_THROWS_WITH(fps_seeded(p, from_vector<int64_t>({0, 10}, {2, 1}), 3),
                      Contains("fps_seeded") && Contains("seeds[1, 0] = 10"));
  REQUIRE_THROWS_WITH(fps_seeded(p, from_vector<int64_t>({0, -1}, {2, 1}), 3), Contains("seeds[1, 0] = -1"));
  REQUIRE_THROWS_WITH(fps_seeded(p, from_vector<int64_t>({0, 1, 2}, {3, 1}), 3),
                      Contains("batch sizes differ") && Contains("3"));
  REQUIRE_THROWS_WITH(fps_seeded(p, from_vector<int32_t>({0, 1}, {2, 1}), 3), Contains("int64"));
  REQUIRE_THROWS_WITH(fps_seeded(p, from_vector<int64_t>({0, 1}, {2}), 3), Contains("[B, S]"));
  REQUIRE_THROWS_WITH(fps_seeded(p, from_vector<int64_t>({0, 1, 2, 3}, {2, 2}), 3, from_vector<int64_t>({1, 3}, {2})),
                      Contains("num_seeds[1] = 3") && Contains("[1, 2]"));
  REQUIRE_THROWS_WITH(fps_seeded(p, from_vector<int64_t>({0, 1, 2, 3}, {2, 2}), 3, from_vector<int64_t>({0, 1}, {2})),
                      Contains("num_seeds[0] = 0"));
  FpsOptions ng;
  ng.check_finite = false;  // the check can be turned off (the result is then unspecified)
  v[13] = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_NOTHROW(fps(from_vector(v, {2, 10, 3}), 3, ng));
}
