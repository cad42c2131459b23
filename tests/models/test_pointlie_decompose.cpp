// PointLIE decomposition (models/zoo/pointlie_decompose.h) against a naive loop written here:
// textbook FPS from index 0 (same distance expression, lowest index among equal maxima), the
// complement in ascending order, brute-force k nearest discarded points (ties → lower index) and
// offsets neighbour − centre over all d channels; float64, several clouds, d > 3, odd N; the
// gradient of Σ offsets·v + Σ sampled·u w.r.t. the features against the naive scatter; errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "models/zoo/pointlie_decompose.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "test_util.h"

using namespace pg;

namespace {

struct Naive {
  std::vector<int64_t> sampled, discarded, nbr;  // per cloud
  std::vector<double> offsets;                   // [M, k·d]
};

Naive naive(const std::vector<double>& f, int64_t N, int64_t d, int64_t k) {
  auto d2 = [&](int64_t a, int64_t b) {
    const double dx = f[a * d] - f[b * d], dy = f[a * d + 1] - f[b * d + 1], dz = f[a * d + 2] - f[b * d + 2];
    return (dx * dx + dy * dy) + dz * dz;
  };
  const int64_t M = N / 2;
  Naive r;
  std::vector<double> field(N, std::numeric_limits<double>::infinity());
  int64_t last = 0;
  r.sampled.push_back(0);
  for (int64_t t = 1; t < M; ++t) {
    int64_t best = 0;
    for (int64_t i = 0; i < N; ++i) {
      field[i] = std::min(field[i], d2(i, last));
      if (field[i] > field[best]) best = i;
    }
    r.sampled.push_back(best);
    last = best;
  }
  for (int64_t i = 0; i < N; ++i)
    if (std::find(r.sampled.begin(), r.sampled.end(), i) == r.sampled.end()) r.discarded.push_back(i);
  for (int64_t s : r.sampled) {
    std::vector<int64_t> order = r.discarded;
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return d2(s, a) < d2(s, b); });
    for (int64_t j = 0; j < k; ++j) {
      r.nbr.push_back(order[j]);
      for (int64_t c = 0; c < d; ++c) r.offsets.push_back(f[order[j] * d + c] - f[s * d + c]);
    }
  }
  return r;
}

}  // namespace

TEST_CASE("pointlie_decompose matches a naive loop", "[pointlie][decompose]") {
  for (const auto& [B, N, d, k] : std::vector<std::array<int64_t, 4>>{{2, 64, 3, 3}, {3, 101, 7, 3}, {1, 10, 4, 5}}) {
    INFO("B " << B << " N " << N << " d " << d << " k " << k);
    const Tensor x = test::uniform({B, N, d}, -1, 1, 70 + N, TensorOptions(DType::f64));
    const models::Decomposition r = models::pointlie_decompose(x, k);
    const int64_t M = N / 2;
    REQUIRE(r.sampled.shape() == Shape{B, M, d});
    REQUIRE(r.offsets.shape() == Shape{B, M, k * d});
    REQUIRE(r.discarded_idx.shape() == Shape{B, N - M});
    const auto xv = x.to_vector<double>(), off = r.offsets.to_vector<double>(), smp = r.sampled.to_vector<double>();
    const auto si = r.sampled_idx.to_vector<int64_t>(), di = r.discarded_idx.to_vector<int64_t>();
    const auto ni = r.neighbor_idx.to_vector<int64_t>();
    for (int64_t b = 0; b < B; ++b) {
      INFO("cloud " << b);
      const std::vector<double> f(xv.begin() + b * N * d, xv.begin() + (b + 1) * N * d);
      const Naive e = naive(f, N, d, k);
      REQUIRE(std::equal(e.sampled.begin(), e.sampled.end(), si.begin() + b * M));
      REQUIRE(std::equal(e.discarded.begin(), e.discarded.end(), di.begin() + b * (N - M)));
      REQUIRE(std::equal(e.nbr.begin(), e.nbr.end(), ni.begin() + b * M * k));
      double err = 0;
      for (size_t i = 0; i < e.offsets.size(); ++i) err = std::max(err, std::fabs(e.offsets[i] - off[b * M * k * d + i]));
      REQUIRE(err == 0.0);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t c = 0; c < d; ++c) REQUIRE(smp[(b * M + m) * d + c] == f[e.sampled[m] * d + c]);
    }
  }
}

TEST_CASE("pointlie_decompose: gradient w.r.t. the features follows the gathers", "[pointlie][decompose]") {
  const int64_t B = 1, N = 12, d = 4, k = 3, M = 6;
  const Tensor x = test::leaf64({B, N, d}, -1, 1, 90);
  const models::Decomposition r = models::pointlie_decompose(x, k);
  const Tensor v = test::uniform({B, M, k * d}, -1, 1, 91, TensorOptions(DType::f64));
  const Tensor u = test::uniform({B, M, d}, -1, 1, 92, TensorOptions(DType::f64));
  add(sum(mul(r.offsets, v)), sum(mul(r.sampled, u))).backward();
  std::vector<double> want(N * d, 0.0);
  const auto vv = v.to_vector<double>(), uv = u.to_vector<double>();
  const auto si = r.sampled_idx.to_vector<int64_t>(), ni = r.neighbor_idx.to_vector<int64_t>();
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t c = 0; c < d; ++c) want[si[m] * d + c] += uv[m * d + c];
    for (int64_t j = 0; j < k; ++j)
      for (int64_t c = 0; c < d; ++c) {
        want[ni[m * k + j] * d + c] += vv[(m * k + j) * d + c];
        want[si[m] * d + c] -= vv[(m * k + j) * d + c];
      }
  }
  test::require_close(x.grad(), from_vector(want, {B, N, d}), 1e-14);
}

TEST_CASE("pointlie_decompose errors", "[pointlie][decompose]") {
  const TensorOptions f64(DType::f64);
  REQUIRE_THROWS_WITH(models::pointlie_decompose(zeros({2, 8, 2}, f64)), Catch::Contains("at least 3 channels"));
  REQUIRE_THROWS_WITH(models::pointlie_decompose(zeros({8, 3}, f64)), Catch::Contains("pointlie_decompose"));
  REQUIRE_THROWS_WITH(models::pointlie_decompose(test::uniform({1, 5, 3}, -1, 1, 1, f64), 4),
                      Catch::Contains("fewer than k = 4"));
  REQUIRE_THROWS_WITH(models::pointlie_decompose(test::uniform({1, 8, 3}, -1, 1, 1, f64), 0),
                      Catch::Contains("k must be >= 1"));
  REQUIRE_THROWS_WITH(models::pointlie_decompose(zeros({1, 8, 3}, f64)), Catch::Contains("repeated indices"));
  REQUIRE_THROWS_WITH(models::pointlie_decompose(zeros({1, 8, 3}, TensorOptions(DType::i64))),
                      Catch::Contains("pointlie_decompose"));
}
