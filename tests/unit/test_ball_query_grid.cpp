// The CPU ball query's uniform-grid path against the generic scan (kernels/cpu/ball_query_grid.h):
// identical idx and count on random, clustered, lattice, duplicate, planar and non-finite clouds,
// tiny and huge radii, nsample above the hit count, and non-contiguous inputs through the op.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "kernels/cpu/ball_query_grid.h"
#include "ops/ball_query.h"
#include "test_util.h"

using namespace pg;
using kernels::BallQueryPath;

namespace {

struct BqOut {
  std::vector<int64_t> idx, count;
  int64_t grid_clouds = 0;
};

BqOut run_path(const Tensor& q, const Tensor& r, double radius, int64_t S, BallQueryPath path) {
  const Tensor qc = q.contiguous(), rc = r.contiguous();
  const int64_t B = qc.size(0), M = qc.size(1);
  Tensor idx = empty({B, M, S}, TensorOptions(DType::i64));
  Tensor count = empty({B, M}, TensorOptions(DType::i64));
  BqOut o;
  o.grid_clouds = kernels::ball_query_cpu(qc, rc, radius * radius, S, idx, count, path);
  o.idx = idx.to_vector<int64_t>();
  o.count = count.to_vector<int64_t>();
  return o;
}

// Number of differing entries (a count, so a failure does not print 100k-element vectors).
int64_t n_diff(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.size() != b.size()) return -1;
  int64_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += a[i] != b[i] ? 1 : 0;
  return n;
}

// Grid (forced) and automatic agree with the generic scan; returns the forced run's grid clouds.
int64_t require_same(const Tensor& q, const Tensor& r, double radius, int64_t S) {
  INFO("radius " << radius << " nsample " << S << " dtype " << dtype_name(q.dtype()) << " M " << q.size(1)
                 << " N " << r.size(1));
  const BqOut gen = run_path(q, r, radius, S, BallQueryPath::generic);
  const BqOut grid = run_path(q, r, radius, S, BallQueryPath::grid);
  const BqOut aut = run_path(q, r, radius, S, BallQueryPath::automatic);
  REQUIRE(gen.grid_clouds == 0);
  REQUIRE(n_diff(grid.idx, gen.idx) == 0);
  REQUIRE(n_diff(grid.count, gen.count) == 0);
  REQUIRE(n_diff(aut.idx, gen.idx) == 0);
  REQUIRE(n_diff(aut.count, gen.count) == 0);
  // the public op (automatic path) too
  const BallQueryResult op = ball_query(q, r, radius, S);
  REQUIRE(n_diff(op.idx.to_vector<int64_t>(), gen.idx) == 0);
  REQUIRE(n_diff(op.count.to_vector<int64_t>(), gen.count) == 0);
  return grid.grid_clouds;
}

Tensor cloud(const std::vector<double>& v, int64_t B, DType dt) {
  return from_vector(v, {B, static_cast<int64_t>(v.size()) / (3 * B), 3}).to(dt);
}

std::vector<double> uniform_pts(int64_t n, double lo, double hi, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(static_cast<size_t>(n * 3));
  for (double& x : v) x = u(rng);
  return v;
}

// n points in `k` tight gaussian clusters (sigma) around random centres in [-1, 1]³.
std::vector<double> clustered_pts(int64_t n, int k, double sigma, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::normal_distribution<double> g(0, sigma);
  std::vector<double> centres(static_cast<size_t>(k * 3));
  for (double& c : centres) c = u(rng);
  std::uniform_int_distribution<int> pick(0, k - 1);
  std::vector<double> v(static_cast<size_t>(n * 3));
  for (int64_t i = 0; i < n; ++i) {
    const int c = pick(rng);
    for (int a = 0; a < 3; ++a) v[static_cast<size_t>(i * 3 + a)] = centres[static_cast<size_t>(c * 3 + a)] + g(rng);
  }
  return v;
}

}  // namespace

TEST_CASE("ball_query grid path equals the generic scan: random clouds", "[matching][ball_query]") {
  std::mt19937_64 rng(101);
  for (DType dt : {DType::f32, DType::f64}) {
    const int64_t B = 3, M = 150, N = 700;
    std::vector<double> rv, qv;
    for (int64_t b = 0; b < B; ++b) {
      const auto r = uniform_pts(N, -1, 1, rng), q = uniform_pts(M, -1.2, 1.2, rng);
      rv.insert(rv.end(), r.begin(), r.end());
      qv.insert(qv.end(), q.begin(), q.end());
    }
    const Tensor ref = cloud(rv, B, dt), query = cloud(qv, B, dt);
    for (double radius : {1e-3, 0.05, 0.13, 0.3, 0.9, 2.5, 40.0}) {
      for (int64_t S : {1, 7, 32, 900}) REQUIRE(require_same(query, ref, radius, S) == B);
    }
    // self query (every point hits itself)
    for (int64_t S : {1, 16}) require_same(ref, ref, 0.1, S);
  }
}

TEST_CASE("ball_query grid path equals the generic scan: clustered, duplicates, lattice", "[matching][ball_query]") {
  std::mt19937_64 rng(202);
  for (DType dt : {DType::f32, DType::f64}) {
    // tight clusters far apart: dense cells next to empty space
    const auto cl = clustered_pts(2 * 900, 5, 0.02, rng);
    const Tensor c = cloud(cl, 2, dt);
    for (double radius : {0.005, 0.03, 0.1, 0.5}) {
      for (int64_t S : {4, 64, 2000}) require_same(c, c, radius, S);
    }
    // duplicates: 60 distinct points, each repeated 12 times in shuffled order
    std::vector<double> base = uniform_pts(60, -1, 1, rng), dup;
    std::vector<int> order;
    for (int rep = 0; rep < 12; ++rep) {
      for (int i = 0; i < 60; ++i) order.push_back(i);
    }
    std::shuffle(order.begin(), order.end(), rng);
    for (int i : order) dup.insert(dup.end(), base.begin() + i * 3, base.begin() + i * 3 + 3);
    const Tensor d = cloud(dup, 1, dt);
    for (double radius : {1e-9, 1e-3, 0.2, 1.0}) {
      for (int64_t S : {1, 5, 12, 30, 800}) require_same(d, d, radius, S);
    }
    // lattice with spacing 0.1 and radii at / around the spacing: many d² within an ulp of r²
    std::vector<double> lat;
    for (int x = 0; x < 9; ++x) {
      for (int y = 0; y < 9; ++y) {
        for (int z = 0; z < 9; ++z) {
          lat.push_back(0.1 * x);
          lat.push_back(0.1 * y);
          lat.push_back(0.1 * z);
        }
      }
    }
    const Tensor L = cloud(lat, 1, dt);
    for (double radius : {0.1, std::nextafter(0.1, 1.0), std::nextafter(0.1, 0.0), 0.1 * std::sqrt(2.0),
                          0.1 * std::sqrt(3.0), 0.2}) {
      for (int64_t S : {3, 27, 100}) require_same(L, L, radius, S);
    }
    // far from the origin (coarse f32 spacing) and small radius
    std::vector<double> off = uniform_pts(800, 0, 0.5, rng);
    for (double& x : off) x += 3000.0;
    const Tensor O = cloud(off, 1, dt);
    for (double radius : {0.01, 0.03}) require_same(O, O, radius, 20);
    // planar and collinear clouds (zero extent along some axes)
    std::vector<double> plane = uniform_pts(600, -1, 1, rng), line = plane;
    for (size_t i = 0; i < plane.size(); i += 3) {
      plane[i + 2] = 0.25;
      line[i + 1] = line[i + 2] = -0.5;
    }
    for (const auto& v : {plane, line}) {
      const Tensor P = cloud(v, 1, dt);
      for (double radius : {0.02, 0.1}) require_same(P, P, radius, 16);
    }
  }
}

TEST_CASE("ball_query grid path: degenerate radii and non-finite points", "[matching][ball_query]") {
  std::mt19937_64 rng(303);
  const Tensor r = cloud(uniform_pts(2 * 400, -1, 1, rng), 2, DType::f32);
  const Tensor q = cloud(uniform_pts(2 * 50, -1, 1, rng), 2, DType::f32);
  // r² underflows to 0 in float32: no hits, the grid cannot be built (generic everywhere)
  REQUIRE(require_same(q, r, 1e-30, 8) == 0);
  const BqOut none = run_path(q, r, 1e-30, 8, BallQueryPath::automatic);
  for (int64_t v : none.idx) REQUIRE(v == 0);
  for (int64_t v : none.count) REQUIRE(v == 0);
  // r² overflows to inf in float32: generic
  REQUIRE(require_same(q, r, 1e20, 8) == 0);
  // huge radius against the bounding box: the automatic choice is the generic scan
  REQUIRE(run_path(q, r, 50.0, 8, BallQueryPath::automatic).grid_clouds == 0);
  // small radius on a dense cloud: the automatic choice is the grid
  const Tensor big = cloud(uniform_pts(2 * 3000, -1, 1, rng), 2, DType::f32);
  REQUIRE(run_path(big, big, 0.05, 16, BallQueryPath::automatic).grid_clouds == 2);
  // queries far outside the cloud
  const Tensor far = cloud(uniform_pts(2 * 30, 5, 9, rng), 2, DType::f32);
  require_same(far, r, 0.2, 4);
  require_same(far, r, 5.0, 4);

  // NaN / inf coordinates in references and queries never produce a hit
  for (DType dt : {DType::f32, DType::f64}) {
    std::vector<double> rv = uniform_pts(500, -1, 1, rng), qv = uniform_pts(60, -1, 1, rng);
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    for (size_t i : {0u, 7u, 100u, 301u}) rv[i] = nan;
    for (size_t i : {3u, 50u, 902u}) rv[i] = i % 2 ? inf : -inf;
    for (size_t i : {1u, 40u}) qv[i] = nan;
    qv[70] = inf;
    qv[71] = inf;
    const Tensor R = cloud(rv, 1, dt), Q = cloud(qv, 1, dt);
    for (double radius : {0.1, 0.4}) require_same(Q, R, radius, 12);
    for (double radius : {0.1, 0.4}) require_same(R, R, radius, 12);
    std::vector<double> all_nan(30, nan);
    REQUIRE(require_same(Q, cloud(all_nan, 1, dt), 0.3, 3) == 0);
  }
}

TEST_CASE("ball_query grid path: non-contiguous inputs", "[matching][ball_query]") {
  std::mt19937_64 rng(404);
  // [B, 3, N] transposed to [B, N, 3], and every other query of a longer cloud
  const Tensor r3n = cloud(uniform_pts(2 * 1200, -1, 1, rng), 2, DType::f32).reshape({2, 3, 1200});
  const Tensor r = r3n.transpose(1, 2);
  const Tensor qlong = cloud(uniform_pts(2 * 400, -1, 1, rng), 2, DType::f32);
  const Tensor q = slice(qlong, 1, 0, 400, 2);
  REQUIRE_FALSE(r.is_contiguous());
  REQUIRE_FALSE(q.is_contiguous());
  for (double radius : {0.08, 0.25}) {
    for (int64_t S : {8, 64}) {
      const BqOut gen = run_path(q.contiguous(), r.contiguous(), radius, S, BallQueryPath::generic);
      const BallQueryResult op = ball_query(q, r, radius, S);
      REQUIRE(n_diff(op.idx.to_vector<int64_t>(), gen.idx) == 0);
      REQUIRE(n_diff(op.count.to_vector<int64_t>(), gen.count) == 0);
      REQUIRE(require_same(q, r, radius, S) == 2);
    }
  }
}
