// kNN (CPU): brute-force oracle agreement, path equality, ties, strided inputs, bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/knn.h"
#include "reference/naive_geometry.h"
#include "test_util.h"

using namespace pg;

namespace {

Tensor cloud(int64_t B, int64_t N, uint64_t seed, DType dt = DType::f64) {
  return test::uniform({B, N, 3}, -1.0, 1.0, seed, TensorOptions(dt));
}

KnnOptions with_impl(KnnImpl impl) {
  KnnOptions o;
  o.impl = impl;
  return o;
}

}  // namespace

TEST_CASE("knn float64 matches brute force exactly", "[knn]") {
  struct Case {
    int64_t B, Q, R, k;
  };
  for (const Case c : {Case{2, 5, 1, 1}, Case{3, 17, 40, 1}, Case{2, 33, 100, 7}, Case{1, 20, 2500, 16},
                       Case{2, 9, 300, 40}, Case{1, 5, 200, 130}, Case{2, 4, 3000, 3}}) {
    Tensor q = cloud(c.B, c.Q, 10 + c.Q);
    Tensor r = cloud(c.B, c.R, 20 + c.R);
    const ref::KnnOut o = ref::knn(q.to_vector<double>(), r.to_vector<double>(), c.B, c.Q, c.R, c.k);
    for (KnnImpl impl : {KnnImpl::Auto, KnnImpl::Generic}) {
      INFO("B " << c.B << " Q " << c.Q << " R " << c.R << " k " << c.k << " impl " << int(impl));
      const KnnResult res = knn(q, r, c.k, with_impl(impl));
      REQUIRE(res.dist2.shape() == Shape{c.B, c.Q, c.k});
      REQUIRE(res.idx.dtype() == DType::i64);
      REQUIRE(res.idx.to_vector<int64_t>() == o.idx);
      REQUIRE(res.dist2.to_vector<double>() == o.dist);
    }
  }
}

TEST_CASE("knn float32 agrees with the float64 oracle and between paths", "[knn]") {
  const int64_t B = 2, Q = 300, R = 2100, k = 12;
  Tensor q = cloud(B, Q, 5, DType::f32);
  Tensor r = cloud(B, R, 6, DType::f32);
  const ref::KnnOut o = ref::knn(q.to_vector<double>(), r.to_vector<double>(), B, Q, R, k);
  const KnnResult a = knn(q, r, k);
  const KnnResult g = knn(q, r, k, with_impl(KnnImpl::Generic));
  REQUIRE(a.idx.to_vector<int64_t>() == g.idx.to_vector<int64_t>());
  REQUIRE(a.dist2.to_vector<float>() == g.dist2.to_vector<float>());
  const auto d = a.dist2.to_vector<double>();
  const auto ix = a.idx.to_vector<int64_t>();
  int64_t mismatches = 0;
  for (size_t e = 0; e < d.size(); ++e) {
    REQUIRE(std::fabs(d[e] - o.dist[e]) <= 1e-6 * (1.0 + o.dist[e]));
    if (ix[e] != o.idx[e]) {
      // only near-ties may swap: the double distances of both candidates must be within rounding
      ++mismatches;
      REQUIRE(std::fabs(d[e] - o.dist[e]) <= 1e-6);
    }
  }
  REQUIRE(mismatches <= 2);
  for (size_t e = 1; e < d.size(); ++e) {
    if (e % k != 0) REQUIRE(d[e] >= d[e - 1]);  // sorted ascending
  }
}

TEST_CASE("knn ties keep the lower reference index", "[knn]") {
  // Reference points duplicated: indices 0..4 and 5..9 hold the same five points.
  Tensor base = cloud(1, 5, 3);
  std::vector<double> v = base.to_vector<double>();
  std::vector<double> dup = v;
  dup.insert(dup.end(), v.begin(), v.end());
  Tensor r = from_vector(dup, {1, 10, 3});
  for (KnnImpl impl : {KnnImpl::Auto, KnnImpl::Generic}) {
    const KnnResult res = knn(base, r, 2, with_impl(impl));
    const auto ix = res.idx.to_vector<int64_t>();
    const auto d = res.dist2.to_vector<double>();
    for (int64_t i = 0; i < 5; ++i) {
      REQUIRE(ix[i * 2 + 0] == i);  // the point itself, first copy
      REQUIRE(ix[i * 2 + 1] == i + 5);
      REQUIRE(d[i * 2 + 0] == 0.0);
      REQUIRE(d[i * 2 + 1] == 0.0);
    }
  }
}

TEST_CASE("knn: a tie exactly at the K-th slot goes to the lower reference index", "[knn]") {
  // Query at the origin; squared distances are exact small binary fractions, so the ties are
  // exact in float32 and float64. Two tied candidates compete for the LAST slot: the one
  // scanned first (lower index) must stay, the later one must not replace it.
  const std::vector<double> q = {0, 0, 0};
  struct Case {
    std::vector<double> ref;          // [R, 3]
    int64_t k;
    std::vector<int64_t> expected;    // indices, ascending distance, ties by index
  };
  const std::vector<Case> cases = {
      // k = 1: indices 1 and 2 both at distance 1 (index 0 farther).
      {{0, 2, 0, 1, 0, 0, 0, -1, 0}, 1, {1}},
      // k = 1 with the tie after a farther point and before a nearer-looking duplicate order.
      {{0, 0, 3, 0, 0.5, 0, 0.5, 0, 0, 0, 0, -0.5}, 1, {1}},
      // k = 3: 0.25 (idx 2), then 1 (idx 1); slot 3 tied between idx 3 and idx 5.
      {{2, 0, 0, 1, 0, 0, 0.5, 0, 0, 0, 1, 0, 3, 0, 0, 0, 0, -1}, 3, {2, 1, 3}},
      // k = 2: slot 2 tied among three candidates (idx 1, 3, 4).
      {{0, 0, 0.25, 0, 2, 0, 0, 0, 3, -2, 0, 0, 0, 0, -2}, 2, {0, 1}},
  };
  for (DType dt : {DType::f32, DType::f64}) {
    for (KnnImpl impl : {KnnImpl::Auto, KnnImpl::Generic}) {
      for (const Case& c : cases) {
        const int64_t R = static_cast<int64_t>(c.ref.size() / 3);
        const KnnResult res = knn(from_vector(q, {1, 1, 3}).to(dt), from_vector(c.ref, {1, R, 3}).to(dt), c.k,
                                  with_impl(impl));
        INFO("impl " << int(impl) << " dtype " << dtype_name(dt) << " k " << c.k << " R " << R);
        REQUIRE(res.idx.to_vector<int64_t>() == c.expected);
      }
    }
  }
}

TEST_CASE("knn accepts strided inputs", "[knn]") {
  Tensor q = cloud(3, 40, 8).permute({1, 0, 2});  // [40, 3, 3] view: use as B = 40, Q = 3
  Tensor r = cloud(40, 60, 9);
  REQUIRE_FALSE(q.is_contiguous());
  const KnnResult a = knn(q, r, 4);
  const KnnResult b = knn(q.contiguous(), r, 4);
  REQUIRE(a.idx.to_vector<int64_t>() == b.idx.to_vector<int64_t>());
  REQUIRE(a.dist2.to_vector<double>() == b.dist2.to_vector<double>());
}

TEST_CASE("knn gradient reaches query and ref (values)", "[knn]") {
  // one query, refs at distance 1 and 2 along x: d = [1, 4]
  Tensor q = from_vector<double>({0, 0, 0}, {1, 1, 3});
  Tensor r = from_vector<double>({2, 0, 0, 1, 0, 0}, {1, 2, 3});
  q.requires_grad_(true);
  r.requires_grad_(true);
  const KnnResult res = knn(q, r, 2);
  REQUIRE(res.idx.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
  res.dist2.backward(from_vector<double>({1.0, 10.0}, {1, 1, 2}));
  // ∂/∂q = 1·2(q − r1) + 10·2(q − r0) = (−2 − 40, 0, 0)
  REQUIRE(q.grad().to_vector<double>() == std::vector<double>{-42, 0, 0});
  REQUIRE(r.grad().to_vector<double>() == std::vector<double>{40, 0, 0, 2, 0, 0});
}

TEST_CASE("knn rejects bad input with clear errors", "[knn][errors]") {
  using Catch::Contains;
  Tensor q = cloud(2, 5, 1), r = cloud(2, 7, 2);
  REQUIRE_THROWS_WITH(knn(q, r, 8), Contains("knn") && Contains("k (8)") && Contains("(7 points)"));
  REQUIRE_THROWS_WITH(knn(q, r, 0), Contains("knn") && Contains("k must be >= 1"));
  REQUIRE_THROWS_WITH(knn(q, cloud(3, 7, 2), 1), Contains("batch sizes differ") && Contains("3"));
  REQUIRE_THROWS_WITH(knn(q, r.to(DType::f32), 1), Contains("float64") && Contains("float32"));
  REQUIRE_THROWS_WITH(knn(empty({2, 0, 3}, DType::f64), r, 1), Contains("knn") && Contains("query is an empty cloud"));
  REQUIRE_THROWS_WITH(knn(q, empty({2, 0, 3}, DType::f64), 1), Contains("ref is an empty cloud"));
  REQUIRE_THROWS_WITH(knn(zeros({2, 5, 4}, DType::f64), r, 1), Contains("[2, 5, 4]"));
  REQUIRE_THROWS_WITH(knn(q.to(DType::i64), r.to(DType::i64), 1), Contains("int64"));
  std::vector<double> v = r.to_vector<double>();
  v[20] = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_THROWS_WITH(knn(q, from_vector(v, {2, 7, 3}), 1), Contains("knn") && Contains("ref contains NaN"));
}
