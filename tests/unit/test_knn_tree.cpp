// The CPU k-d tree path of kNN / Chamfer (kernels/cpu/kdtree.h) against brute force: identical
// indices and distance bits on random, clustered, duplicate-point (exact ties) and far-from-origin
// clouds, float32 and float64, K = 1 … R, B > 1 with different clouds, non-finite points, and
// Auto's choice at a size where it takes the tree.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "ops/chamfer.h"
#include "ops/knn.h"
#include "test_util.h"

using namespace pg;

namespace {

enum class Kind { uniform, clustered, duplicates, far };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::uniform: return "uniform";
    case Kind::clustered: return "clustered";
    case Kind::duplicates: return "duplicates";
    case Kind::far: return "far";
  }
  return "?";
}

// [B, n, 3] in float64, every cloud of the batch drawn separately.
std::vector<double> make_points(Kind kind, int64_t B, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::normal_distribution<double> g(0.0, 1e-3);
  std::uniform_int_distribution<int> lattice(0, 5);
  std::vector<double> v;
  v.reserve(static_cast<size_t>(B * n * 3));
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> centres;
    for (int c = 0; c < 6 * 3; ++c) centres.push_back(u(rng));
    for (int64_t i = 0; i < n; ++i) {
      for (int a = 0; a < 3; ++a) {
        switch (kind) {
          case Kind::uniform: v.push_back(u(rng)); break;
          case Kind::clustered: v.push_back(centres[(i % 6) * 3 + a] + g(rng)); break;
          // A 6³ lattice of quarter steps: many exact duplicates and exactly tied distances.
          case Kind::duplicates: v.push_back(0.25 * lattice(rng)); break;
          case Kind::far: v.push_back(1e4 + u(rng)); break;
        }
      }
    }
  }
  return v;
}

Tensor to_tensor(const std::vector<double>& v, int64_t B, int64_t n, DType dt) {
  return from_vector(v, {B, n, 3}).to(dt);
}

KnnResult run(const Tensor& q, const Tensor& r, int64_t k, KnnImpl impl) {
  KnnOptions o;
  o.impl = impl;
  o.check_finite = false;
  return knn(q, r, k, o);
}

// Bitwise equality of distances (NaN-free outputs: inf padding compares equal).
template <class T>
void require_same(const KnnResult& a, const KnnResult& b) {
  REQUIRE(a.idx.to_vector<int64_t>() == b.idx.to_vector<int64_t>());
  REQUIRE(a.dist2.to_vector<T>() == b.dist2.to_vector<T>());
}

void require_same(const KnnResult& a, const KnnResult& b, DType dt) {
  if (dt == DType::f32) {
    require_same<float>(a, b);
  } else {
    require_same<double>(a, b);
  }
}

}  // namespace

TEST_CASE("knn tree: identical to brute force on random, clustered, duplicate and far clouds", "[knn][kdtree]") {
  struct Case {
    int64_t B, Q, R, k;
  };
  const std::vector<Case> cases = {{2, 400, 3000, 1}, {2, 300, 2500, 16}, {1, 200, 1000, 5}, {3, 60, 257, 33},
                                   {1, 40, 17, 17},   {2, 30, 200, 200}};
  for (Kind kind : {Kind::uniform, Kind::clustered, Kind::duplicates, Kind::far}) {
    for (DType dt : {DType::f32, DType::f64}) {
      for (const Case& c : cases) {
        const Tensor q = to_tensor(make_points(kind, c.B, c.Q, 7 * c.Q + c.k), c.B, c.Q, dt);
        const Tensor r = to_tensor(make_points(kind, c.B, c.R, 11 * c.R + c.k), c.B, c.R, dt);
        INFO(kind_name(kind) << " " << dtype_name(dt) << " B " << c.B << " Q " << c.Q << " R " << c.R << " k "
                             << c.k);
        const KnnResult g = run(q, r, c.k, KnnImpl::Generic);
        const KnnResult t = run(q, r, c.k, KnnImpl::Tree);
        require_same(t, g, dt);
        if (c.R <= 1000) require_same(run(q, r, c.k, KnnImpl::Tiled), g, dt);
      }
    }
  }
}

TEST_CASE("knn tree: exact ties at the K-th slot resolve to the lower index", "[knn][kdtree]") {
  // All references on the unit sphere's six axis points, each repeated (indices i and i + 6):
  // every query at the origin ties all twelve; K-th slot ties too.
  std::vector<double> axis = {1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 1, 0, 0, -1};
  std::vector<double> ref = axis;
  ref.insert(ref.end(), axis.begin(), axis.end());
  for (int rep = 0; rep < 3; ++rep) ref.insert(ref.end(), {3, 3, 3});  // far points, never chosen
  const int64_t R = static_cast<int64_t>(ref.size() / 3);
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor q = from_vector<double>({0, 0, 0}, {1, 1, 3}).to(dt);
    const Tensor r = from_vector(ref, {1, R, 3}).to(dt);
    for (int64_t k : {1, 5, 7, 12}) {
      const KnnResult t = run(q, r, k, KnnImpl::Tree);
      std::vector<int64_t> expected;
      for (int64_t i = 0; i < k; ++i) expected.push_back(i);
      REQUIRE(t.idx.to_vector<int64_t>() == expected);
    }
  }
}

TEST_CASE("knn tree: non-finite points are never selected, non-finite queries get inf / -1", "[knn][kdtree]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const int64_t B = 2, Q = 120, R = 900;
  std::vector<double> qv = make_points(Kind::uniform, B, Q, 3);
  std::vector<double> rv = make_points(Kind::uniform, B, R, 4);
  for (int64_t j = 0; j < R; j += 7) rv[j * 3 + j % 3] = j % 2 ? nan : -inf;
  qv[5 * 3 + 1] = nan;
  qv[(Q + 9) * 3 + 2] = inf;
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor q = to_tensor(qv, B, Q, dt);
    const Tensor r = to_tensor(rv, B, R, dt);
    for (int64_t k : {1, 8}) {
      const KnnResult g = run(q, r, k, KnnImpl::Generic);
      const KnnResult t = run(q, r, k, KnnImpl::Tree);
      require_same(t, g, dt);
      REQUIRE(t.idx.to_vector<int64_t>()[5 * k] == -1);
    }
    // Fewer finite references than K: the tail stays inf / -1 exactly as brute force.
    std::vector<double> few = rv;
    for (int64_t j = 3; j < R; ++j) few[j * 3] = nan;
    const Tensor rf = to_tensor(few, B, R, dt);
    require_same(run(q, rf, 6, KnnImpl::Tree), run(q, rf, 6, KnnImpl::Generic), dt);
  }
}

TEST_CASE("knn Auto takes the tree for large clouds and stays identical to brute force", "[knn][kdtree]") {
  const int64_t B = 2, Q = 600, R = 6000;
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor q = to_tensor(make_points(Kind::far, B, Q, 21), B, Q, dt);
    const Tensor r = to_tensor(make_points(Kind::far, B, R, 22), B, R, dt);
    for (int64_t k : {1, 16}) {
      const KnnResult g = run(q, r, k, KnnImpl::Generic);
      require_same(run(q, r, k, KnnImpl::Auto), g, dt);
      require_same(run(q, r, k, KnnImpl::Tiled), g, dt);
    }
  }
}

TEST_CASE("chamfer and hausdorff tree path equal brute force", "[chamfer][kdtree]") {
  const int64_t B = 2, N = 700, M = 5000;
  for (Kind kind : {Kind::uniform, Kind::duplicates, Kind::far}) {
    for (DType dt : {DType::f32, DType::f64}) {
      const Tensor a = to_tensor(make_points(kind, B, N, 31), B, N, dt);
      const Tensor b = to_tensor(make_points(kind, B, M, 32), B, M, dt);
      INFO(kind_name(kind) << " " << dtype_name(dt));
      ChamferOptions o;
      o.reduction = ChamferReduction::none;
      o.impl = ChamferImpl::Generic;
      const ChamferResult g = chamfer(a, b, o);
      for (ChamferImpl impl : {ChamferImpl::Tree, ChamferImpl::Auto}) {
        o.impl = impl;
        const ChamferResult t = chamfer(a, b, o);
        REQUIRE(t.idx_a.to_vector<int64_t>() == g.idx_a.to_vector<int64_t>());
        REQUIRE(t.idx_b.to_vector<int64_t>() == g.idx_b.to_vector<int64_t>());
        REQUIRE(t.dist_a.to_vector<double>() == g.dist_a.to_vector<double>());
        REQUIRE(t.dist_b.to_vector<double>() == g.dist_b.to_vector<double>());
        REQUIRE(t.loss.to_vector<double>() == g.loss.to_vector<double>());
      }
      HausdorffOptions ho;
      ho.impl = ChamferImpl::Generic;
      const double hg = hausdorff(a, b, ho).item();
      ho.impl = ChamferImpl::Tree;
      REQUIRE(hausdorff(a, b, ho).item() == hg);
    }
  }
}
