// Exact assignment (ops/lsap.h, Jonker–Volgenant) against brute force and a textbook Hungarian
// solver; the point-cloud oracle emd_exact_assignment.
#include <catch2/catch.hpp>
#include <random>
#include <set>

#include "ops/emd.h"
#include "ops/lsap.h"
#include "reference/naive_assignment.h"
#include "test_util.h"

using namespace pg;

namespace {

double cost_of(const std::vector<double>& c, int64_t n, const std::vector<int64_t>& a, int64_t b = 0) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += c[(b * n + i) * n + a[b * n + i]];
  return s;
}

void require_permutation(const std::vector<int64_t>& a, int64_t n, int64_t b = 0) {
  std::set<int64_t> seen;
  for (int64_t i = 0; i < n; ++i) {
    REQUIRE(a[b * n + i] >= 0);
    REQUIRE(a[b * n + i] < n);
    seen.insert(a[b * n + i]);
  }
  REQUIRE(static_cast<int64_t>(seen.size()) == n);
}

}  // namespace

TEST_CASE("lsap: hand-solved 3x3 and 4x4", "[lsap]") {
  // Rows → columns 1, 0, 2 with cost 1 + 2 + 2 = 5.
  Tensor c = tensor({4, 1, 3, 2, 0, 5, 3, 2, 2}, {3, 3}, DType::f64);
  const auto a = linear_sum_assignment(c).to_vector<int64_t>();
  REQUIRE(a == std::vector<int64_t>{1, 0, 2});
  REQUIRE(lsap_cost(c, linear_sum_assignment(c)).item() == 5.0);
  // Anti-diagonal optimum: 1 + 1 + 1 + 1.
  Tensor d = tensor({9, 9, 9, 1, 9, 9, 1, 9, 9, 1, 9, 9, 1, 9, 9, 9}, {4, 4}, DType::f32);
  REQUIRE(linear_sum_assignment(d).to_vector<int64_t>() == std::vector<int64_t>{3, 2, 1, 0});
  // n = 1.
  REQUIRE(linear_sum_assignment(tensor({7.5}, {1, 1})).to_vector<int64_t>() == std::vector<int64_t>{0});
}

TEST_CASE("lsap: agrees with brute force for n <= 8 (random, integer ties, negative)", "[lsap]") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> U(-3.0, 5.0);
  std::uniform_int_distribution<int> I(0, 3);  // many ties
  for (int n = 1; n <= 8; ++n) {
    for (int trial = 0; trial < (n <= 6 ? 30 : 6); ++trial) {
      std::vector<double> c(n * n);
      const bool ints = trial % 2 == 1;
      for (double& v : c) v = ints ? I(rng) : U(rng);
      const double best = test::brute_force_assignment(c, n);
      const auto a = linear_sum_assignment(from_vector(c, {n, n})).to_vector<int64_t>();
      INFO("n = " << n << ", trial " << trial);
      require_permutation(a, n);
      REQUIRE(cost_of(c, n, a) == Approx(best).margin(1e-9));
    }
  }
}

TEST_CASE("lsap: agrees with the Hungarian reference on larger random and structured costs", "[lsap]") {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  for (int n : {17, 64, 150}) {
    for (int kind = 0; kind < 3; ++kind) {
      std::vector<double> c(n * n);
      for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
          double v = U(rng);
          if (kind == 1) v = std::floor(v * 5);                // heavy ties
          if (kind == 2) v = std::abs(i - j) + 0.01 * U(rng);  // banded
          c[i * n + j] = v;
        }
      }
      const double ref = test::hungarian_assignment(c, n);
      const auto a = linear_sum_assignment(from_vector(c, {n, n})).to_vector<int64_t>();
      INFO("n = " << n << ", kind " << kind);
      require_permutation(a, n);
      REQUIRE(cost_of(c, n, a) == Approx(ref).margin(1e-9 * n));
    }
  }
}

TEST_CASE("lsap: batched costs solve each matrix independently", "[lsap]") {
  const int64_t B = 3, n = 6;
  Tensor c = test::uniform({B, n, n}, 0.0, 10.0, 21, TensorOptions(DType::f64));
  const auto cv = c.to_vector<double>();
  const Tensor a = linear_sum_assignment(c);
  REQUIRE(a.shape() == Shape({B, n}));
  const auto av = a.to_vector<int64_t>();
  const auto costs = lsap_cost(c, a).to_vector<double>();
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> cb(cv.begin() + b * n * n, cv.begin() + (b + 1) * n * n);
    require_permutation(av, n, b);
    REQUIRE(costs[b] == Approx(test::brute_force_assignment(cb, n)).margin(1e-9));
  }
}

TEST_CASE("emd_exact_assignment: optimal Euclidean matching of point clouds", "[lsap][emd]") {
  const int64_t B = 2, n = 7;
  Tensor x1 = test::uniform({B, n, 3}, -1.0, 1.0, 5, TensorOptions(DType::f64));
  Tensor x2 = test::uniform({B, n, 3}, -1.0, 1.0, 6, TensorOptions(DType::f64));
  const auto a = emd_exact_assignment(x1, x2).to_vector<int64_t>();
  const auto p1 = x1.to_vector<double>(), p2 = x2.to_vector<double>();
  for (int64_t b = 0; b < B; ++b) {
    std::vector<double> c = test::euclidean_cost(p1, p2, n, b * n);
    std::vector<int64_t> ab(a.begin() + b * n, a.begin() + (b + 1) * n);
    require_permutation(ab, n);
    REQUIRE(cost_of(c, n, ab) == Approx(test::brute_force_assignment(c, n)).margin(1e-12));
  }
}

TEST_CASE("lsap: bad input raises pg::Error", "[lsap][errors]") {
  REQUIRE_THROWS_AS(linear_sum_assignment(zeros({3, 4}, DType::f64)), Error);
  REQUIRE_THROWS_WITH(linear_sum_assignment(zeros({3, 4}, DType::f64)), Catch::Contains("square"));
  REQUIRE_THROWS_AS(linear_sum_assignment(zeros({4}, DType::f64)), Error);
  REQUIRE_THROWS_AS(linear_sum_assignment(zeros({0, 0}, DType::f64)), Error);
  REQUIRE_THROWS_AS(linear_sum_assignment(zeros({2, 2}, DType::i64)), Error);
  Tensor nan_cost = tensor({1, 2, NAN, 4}, {2, 2}, DType::f64);
  REQUIRE_THROWS_WITH(linear_sum_assignment(nan_cost), Catch::Contains("non-finite"));
  REQUIRE_THROWS_AS(lsap_cost(zeros({2, 2}), from_vector(std::vector<int64_t>{0, 2}, {2})), Error);
  Tensor p = zeros({1, 3, 3});
  REQUIRE_THROWS_AS(emd_exact_assignment(p, zeros({1, 4, 3})), Error);
}
