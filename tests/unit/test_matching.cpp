// match_and_complete (matching + FPS completion), ball_query, group_points and smallest_k on the
// CPU: hand cases, naive oracles and errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "ops/ball_query.h"
#include "ops/fps.h"
#include "ops/knn.h"
#include "ops/matching.h"
#include "test_util.h"

using namespace pg;

namespace {

// Points on the x axis at x = 0, 1, …, n−1.
Tensor line_cloud(int64_t n, DType dt = DType::f32) {
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.insert(v.end(), {double(i), 0.0, 0.0});
  return from_vector(v, {1, n, 3}).to(dt);
}

Tensor xs_cloud(const std::vector<double>& xs, DType dt = DType::f32) {
  std::vector<double> v;
  for (double x : xs) v.insert(v.end(), {x, 0.0, 0.0});
  return from_vector(v, {1, static_cast<int64_t>(xs.size()), 3}).to(dt);
}

// Coordinates snapped to multiples of 0.25 (exact duplicates and exactly tied distances).
std::vector<double> round_quarter(std::vector<double> v) {
  for (double& x : v) x = std::round(x * 4.0) / 4.0;
  return v;
}

// Naive oracle of match_and_complete for one cloud: host 1-NN, unique, fps_seeded.
std::vector<int64_t> naive_match(const Tensor& gen, const Tensor& pts, int64_t b, int64_t m, int64_t* nu) {
  const int64_t M = gen.size(1), N = pts.size(1);
  const auto g = gen.to_vector<double>();
  const auto p = pts.to_vector<double>();
  std::vector<int64_t> uniq;
  for (int64_t j = 0; j < M; ++j) {
    const double* q = g.data() + (b * M + j) * 3;
    int64_t best = 0;
    double bd = 1e300;
    for (int64_t i = 0; i < N; ++i) {
      const double* r = p.data() + (b * N + i) * 3;
      const double d = (q[0] - r[0]) * (q[0] - r[0]) + (q[1] - r[1]) * (q[1] - r[1]) + (q[2] - r[2]) * (q[2] - r[2]);
      if (d < bd) {
        bd = d;
        best = i;
      }
    }
    if (std::find(uniq.begin(), uniq.end(), best) == uniq.end()) uniq.push_back(best);
  }
  *nu = std::min<int64_t>(static_cast<int64_t>(uniq.size()), m);
  if (static_cast<int64_t>(uniq.size()) >= m) return std::vector<int64_t>(uniq.begin(), uniq.begin() + m);
  const Tensor cloud = pts.slice(0, b, b + 1);
  const Tensor seeds = from_vector(uniq, {1, static_cast<int64_t>(uniq.size())});
  return fps_seeded(cloud, seeds, m).indices.to_vector<int64_t>();
}

}  // namespace

TEST_CASE("match_and_complete: duplicates removed in first-occurrence order, FPS completion", "[matching]") {
  const Tensor pts = line_cloud(10);
  const Tensor gen = xs_cloud({3.1, 2.9, 7.2, 3.0, 6.8, 1.1});  // nn: 3 3 7 3 7 1
  SECTION("exactly m unique") {
    const MatchResult r = match_and_complete(gen, pts, 3);
    REQUIRE(r.indices.shape() == Shape{1, 3});
    REQUIRE(r.indices.dtype() == DType::i64);
    REQUIRE(r.indices.to_vector<int64_t>() == std::vector<int64_t>{3, 7, 1});
    REQUIRE(r.num_unique.to_vector<int64_t>() == std::vector<int64_t>{3});
  }
  SECTION("completion: field from all matched points, argmax lowest index") {
    // After {3, 7, 1}: field 0→1, 2→1, 4→1, 5→4, 6→1, 8→1, 9→4 → pick 5 (lowest of the ties), then 9.
    const MatchResult r = match_and_complete(gen, pts, 5);
    REQUIRE(r.indices.to_vector<int64_t>() == std::vector<int64_t>{3, 7, 1, 5, 9});
    REQUIRE(r.num_unique.to_vector<int64_t>() == std::vector<int64_t>{3});
    const Tensor oracle = fps_seeded(pts, from_vector(std::vector<int64_t>{3, 7, 1}, {1, 3}), 5).indices;
    REQUIRE(r.indices.to_vector<int64_t>() == oracle.to_vector<int64_t>());
  }
  SECTION("more unique than m: the first m") {
    const Tensor g2 = xs_cloud({9.0, 0.2, 5.1, 5.0, 2.2, 8.1});  // nn: 9 0 5 5 2 8
    const MatchResult r = match_and_complete(g2, pts, 3);
    REQUIRE(r.indices.to_vector<int64_t>() == std::vector<int64_t>{9, 0, 5});
    REQUIRE(r.num_unique.to_vector<int64_t>() == std::vector<int64_t>{3});
    const MatchResult r4 = match_and_complete(g2, pts, 4);
    REQUIRE(r4.indices.to_vector<int64_t>() == std::vector<int64_t>{9, 0, 5, 2});
  }
  SECTION("all generated points match one input point") {
    const Tensor g3 = xs_cloud({4.1, 3.9, 4.2, 4.0});
    const MatchResult r = match_and_complete(g3, pts, 4);
    REQUIRE(r.num_unique.to_vector<int64_t>() == std::vector<int64_t>{1});
    const auto v = r.indices.to_vector<int64_t>();
    REQUIRE(v[0] == 4);
    REQUIRE(v == fps_seeded(pts, from_vector(std::vector<int64_t>{4}, {1, 1}), 4).indices.to_vector<int64_t>());
  }
}

TEST_CASE("match_and_complete: batched ragged counts against the naive oracle", "[matching]") {
  for (DType dt : {DType::f32, DType::f64}) {
    const int64_t B = 4, N = 200;
    const Tensor pts = test::uniform({B, N, 3}, -1, 1, 11, TensorOptions(dt));
    for (int64_t Mg : {5, 32, 64, 300}) {
      // Generated points: jittered copies of a few input points → many duplicates per cloud.
      const Tensor gen = test::uniform({B, Mg, 3}, -1, 1, 12 + Mg, TensorOptions(dt));
      for (int64_t m : {1, 8, 32, 64, 200}) {
        const MatchResult r = match_and_complete(gen, pts, m);
        REQUIRE(r.indices.shape() == Shape{B, m});
        REQUIRE(r.num_unique.shape() == Shape{B});
        const auto got = r.indices.to_vector<int64_t>();
        const auto nu = r.num_unique.to_vector<int64_t>();
        for (int64_t b = 0; b < B; ++b) {
          int64_t enu = 0;
          const auto want = naive_match(gen, pts, b, m, &enu);
          INFO("dtype " << dtype_name(dt) << " M' " << Mg << " m " << m << " cloud " << b);
          REQUIRE(nu[b] == enu);
          REQUIRE(std::vector<int64_t>(got.begin() + b * m, got.begin() + (b + 1) * m) == want);
          // distinct positions → no repeated index
          std::vector<int64_t> row(got.begin() + b * m, got.begin() + (b + 1) * m);
          std::sort(row.begin(), row.end());
          REQUIRE(std::adjacent_find(row.begin(), row.end()) == row.end());
        }
      }
    }
  }
}

TEST_CASE("match_and_complete: large clouds (the k-d tree 1-NN) against the naive oracle", "[matching][kdtree]") {
  // N above kNN's tree threshold; a quarter-step lattice makes many exact ties among the 1-NN.
  const int64_t B = 2, N = 5000, Mg = 1500, m = 400;
  for (bool lattice : {false, true}) {
    Tensor pts = test::uniform({B, N, 3}, -1, 1, 41);
    Tensor gen = test::uniform({B, Mg, 3}, -1, 1, 42);
    if (lattice) {
      pts = from_vector(round_quarter(pts.to_vector<double>()), {B, N, 3});
      gen = from_vector(round_quarter(gen.to_vector<double>()), {B, Mg, 3});
    }
    const MatchResult r = match_and_complete(gen, pts, m);
    const auto got = r.indices.to_vector<int64_t>();
    const auto nu = r.num_unique.to_vector<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      int64_t enu = 0;
      const auto want = naive_match(gen, pts, b, m, &enu);
      INFO("lattice " << lattice << " cloud " << b);
      REQUIRE(nu[b] == enu);
      REQUIRE(std::vector<int64_t>(got.begin() + b * m, got.begin() + (b + 1) * m) == want);
    }
  }
}

TEST_CASE("match_and_complete: errors", "[matching]") {
  const Tensor pts = test::uniform({2, 10, 3}, -1, 1, 1);
  const Tensor gen = test::uniform({2, 4, 3}, -1, 1, 2);
  REQUIRE_THROWS_WITH(match_and_complete(gen, pts, 11), Catch::Contains("match_and_complete") && Catch::Contains("11"));
  REQUIRE_THROWS_WITH(match_and_complete(gen, pts, 0), Catch::Contains("m must be >= 1"));
  REQUIRE_THROWS_WITH(match_and_complete(test::uniform({3, 4, 3}, -1, 1, 3), pts, 2),
                      Catch::Contains("batch sizes differ"));
  REQUIRE_THROWS_WITH(match_and_complete(empty({2, 0, 3}), pts, 2), Catch::Contains("empty cloud"));
  REQUIRE_THROWS_WITH(match_and_complete(gen, empty({2, 0, 3}), 1), Catch::Contains("empty cloud"));
  REQUIRE_THROWS_WITH(match_and_complete(gen.to(DType::f64), pts, 2), Catch::Contains("float64"));
  REQUIRE_THROWS_WITH(match_and_complete(test::uniform({2, 4, 2}, -1, 1, 4), pts, 2), Catch::Contains("[B, n, 3]"));
}

namespace {

// Naive pointnet2 ball query in float64 (f32 inputs are compared with an exact float distance
// below, so the clouds are chosen away from the boundary).
void naive_ball_query(const Tensor& q, const Tensor& r, double radius, int64_t S, std::vector<int64_t>& idx,
                      std::vector<int64_t>& cnt) {
  const int64_t B = q.size(0), M = q.size(1), N = r.size(1);
  const auto qv = q.to_vector<double>();
  const auto rv = r.to_vector<double>();
  idx.assign(static_cast<size_t>(B * M * S), 0);
  cnt.assign(static_cast<size_t>(B * M), 0);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < M; ++i) {
      const double* a = qv.data() + (b * M + i) * 3;
      int64_t c = 0;
      for (int64_t j = 0; j < N && c < S; ++j) {
        const double* p = rv.data() + (b * N + j) * 3;
        const double d = (a[0] - p[0]) * (a[0] - p[0]) + (a[1] - p[1]) * (a[1] - p[1]) + (a[2] - p[2]) * (a[2] - p[2]);
        if (d < radius * radius) {
          if (c == 0) {
            for (int64_t s = 0; s < S; ++s) idx[(b * M + i) * S + s] = j;
          }
          idx[(b * M + i) * S + c] = j;
          ++c;
        }
      }
      cnt[b * M + i] = c;
    }
  }
}

}  // namespace

TEST_CASE("ball_query against the naive pointnet2 loop", "[matching]") {
  const Tensor q = test::uniform({3, 40, 3}, -1, 1, 21, TensorOptions(DType::f64));
  const Tensor r = test::uniform({3, 300, 3}, -1, 1, 22, TensorOptions(DType::f64));
  for (double radius : {0.05, 0.2, 0.5, 3.5}) {
    for (int64_t S : {1, 5, 20, 400}) {
      const BallQueryResult res = ball_query(q, r, radius, S);
      REQUIRE(res.idx.shape() == Shape{3, 40, S});
      REQUIRE(res.count.shape() == Shape{3, 40});
      std::vector<int64_t> idx, cnt;
      naive_ball_query(q, r, radius, S, idx, cnt);
      INFO("radius " << radius << " nsample " << S);
      REQUIRE(res.idx.to_vector<int64_t>() == idx);
      REQUIRE(res.count.to_vector<int64_t>() == cnt);
    }
  }
  // float32 gives the same indices (no point near a boundary at these radii, checked via f64)
  const BallQueryResult f = ball_query(q.to(DType::f32), r.to(DType::f32), 0.5, 20);
  std::vector<int64_t> idx, cnt;
  naive_ball_query(q, r, 0.5, 20, idx, cnt);
  REQUIRE(f.idx.to_vector<int64_t>() == idx);
}

TEST_CASE("ball_query hand cases: padding, empty balls, strict radius", "[matching]") {
  const Tensor ref = line_cloud(6, DType::f64);  // x = 0..5
  const Tensor q = xs_cloud({2.0, 100.0, 4.6}, DType::f64);
  const BallQueryResult r = ball_query(q, ref, 1.0, 4);  // strict: |x − 2| < 1 → only 2
  REQUIRE(r.idx.to_vector<int64_t>() == std::vector<int64_t>{2, 2, 2, 2, 0, 0, 0, 0, 4, 5, 4, 4});
  REQUIRE(r.count.to_vector<int64_t>() == std::vector<int64_t>{1, 0, 2});
  const BallQueryResult r2 = ball_query(q, ref, 1.5, 2);
  REQUIRE(r2.idx.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 0, 0, 4, 5});
  REQUIRE(r2.count.to_vector<int64_t>() == std::vector<int64_t>{2, 0, 2});
}

TEST_CASE("group_points and smallest_k", "[matching]") {
  const Tensor pts = test::uniform({2, 7, 3}, -1, 1, 31, TensorOptions(DType::f64));
  const Tensor idx = from_vector(std::vector<int64_t>{0, 6, 6, 2, 1, 1, 3, 0}, {2, 2, 2});
  const Tensor g = group_points(pts, idx);
  REQUIRE(g.shape() == Shape{2, 2, 2, 3});
  const auto gv = g.to_vector<double>();
  const auto pv = pts.to_vector<double>();
  const auto iv = idx.to_vector<int64_t>();
  for (int64_t e = 0; e < 8; ++e) {
    for (int k = 0; k < 3; ++k) REQUIRE(gv[e * 3 + k] == pv[((e / 4) * 7 + iv[e]) * 3 + k]);
  }
  REQUIRE_THROWS_WITH(group_points(pts, from_vector(std::vector<int64_t>{7}, {1, 1, 1}).expand({2, 1, 1})),
                      Catch::Contains("7"));

  const Tensor v = test::uniform({5, 13}, 0, 1, 32, TensorOptions(DType::f32));
  const auto vv = v.to_vector<float>();
  for (int64_t k : {1, 3, 13}) {
    const auto s = smallest_k(v, k).to_vector<int64_t>();
    for (int64_t row = 0; row < 5; ++row) {
      std::vector<int64_t> ord(13);
      std::iota(ord.begin(), ord.end(), 0);
      std::stable_sort(ord.begin(), ord.end(),
                       [&](int64_t a, int64_t b) { return vv[row * 13 + a] < vv[row * 13 + b]; });
      REQUIRE(std::vector<int64_t>(s.begin() + row * k, s.begin() + (row + 1) * k) ==
              std::vector<int64_t>(ord.begin(), ord.begin() + k));
    }
  }
  // ties keep the lower slot; NaN sorts last
  const Tensor t = tensor({2.0, 1.0, NAN, 1.0, 0.5, 2.0}, {1, 6});
  REQUIRE(smallest_k(t, 6).to_vector<int64_t>() == std::vector<int64_t>{4, 1, 3, 0, 5, 2});
  REQUIRE_THROWS_WITH(smallest_k(t, 7), Catch::Contains("smallest_k"));
  REQUIRE_THROWS_WITH(ball_query(pts, pts, 0.0, 4), Catch::Contains("radius"));
  REQUIRE_THROWS_WITH(ball_query(pts, pts, 0.1, 0), Catch::Contains("nsample"));
  REQUIRE_THROWS_WITH(ball_query(pts, pts.to(DType::f32), 0.1, 2), Catch::Contains("ball_query"));
}
