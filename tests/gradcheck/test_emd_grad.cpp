// gradcheck (float64, CPU) of the EMD distances w.r.t. BOTH clouds under the fixed assignment.
// Inputs without near-ties: x2 is a shuffled copy of a well-separated x1 (grid spacing 0.5)
// jittered by ≤ 0.03, so the optimal matching is unique by a wide margin and no finite-difference
// step can change the auction's result.
#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>
#include <random>

#include "ops/emd.h"
#include "ops/emkd.h"
#include "test_util.h"

using namespace pg;

namespace {

autograd::GradcheckOptions opts() {
  autograd::GradcheckOptions o;
  o.eps = 1e-6;
  o.atol = 1e-7;
  o.rtol = 1e-5;
  return o;
}

// B clouds of n ≤ 27 grid points (spacing 0.5, jitter 0.05) and a shuffled, jittered copy. With
// `clusters`, the three z-layers of 9 points are also moved 10 apart along x.
void separated_pair(int64_t B, int64_t n, uint64_t seed, Tensor& x1, Tensor& x2, std::vector<int64_t>& perm_out,
                    bool clusters = false) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> J(-1.0, 1.0);
  std::vector<double> a(B * n * 3), b(B * n * 3);
  perm_out.assign(B * n, 0);
  for (int64_t c = 0; c < B; ++c) {
    std::vector<int64_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t g[3] = {j % 3, (j / 3) % 3, j / 9};
      for (int t = 0; t < 3; ++t) a[3 * (c * n + j) + t] = 0.5 * g[t] + 0.05 * J(rng);
      if (clusters) a[3 * (c * n + j)] += 10.0 * static_cast<double>(j / 9);  // layers far apart along x
    }
    for (int64_t j = 0; j < n; ++j) {
      // x2[perm[j]] is x1[j] moved by ≤ 0.03 per coordinate.
      for (int t = 0; t < 3; ++t) b[3 * (c * n + perm[j]) + t] = a[3 * (c * n + j) + t] + 0.03 * J(rng);
      perm_out[c * n + j] = perm[j];
    }
  }
  x1 = from_vector(a, {B, n, 3});
  x2 = from_vector(b, {B, n, 3});
  x1.requires_grad_(true);
  x2.requires_grad_(true);
}

}  // namespace

TEST_CASE("gradcheck emd dist w.r.t. both clouds (every mode)", "[emd][gradcheck]") {
  Tensor x1, x2;
  std::vector<int64_t> perm;
  separated_pair(2, 18, 3, x1, x2, perm);
  for (EmdOptions o : {EmdOptions{}, EmdOptions::bijective(), EmdOptions::msn(0.01, 200)}) {
    EmdResult r = emd(x1, x2, o);
    REQUIRE(r.assignment.to_vector<int64_t>() == perm);  // the unique optimum
    REQUIRE(r.dist.requires_grad());
    test::check_grad([&](const std::vector<Tensor>& x) { return emd(x[0], x[1], o).dist; }, {x1, x2}, opts());
  }
}

TEST_CASE("gradcheck emd dist: only one cloud requiring grad", "[emd][gradcheck]") {
  Tensor x1, x2;
  std::vector<int64_t> perm;
  separated_pair(1, 12, 4, x1, x2, perm);
  Tensor c2 = x2.detach();
  test::check_grad([&](const std::vector<Tensor>& x) { return emd(x[0], c2).dist; }, {x1}, opts());
  Tensor c1 = x1.detach();
  test::check_grad([&](const std::vector<Tensor>& x) { return emd(c1, x[0]).dist; }, {x2}, opts());
}

TEST_CASE("gradcheck emd_dist_from_assignment with a non-injective map (scatter sums)", "[emd][gradcheck]") {
  Tensor x1 = test::leaf64({2, 7, 3}, -1, 1, 5);
  Tensor x2 = test::leaf64({2, 7, 3}, -1, 1, 6);
  Tensor a = from_vector(std::vector<int64_t>{0, 0, 0, 3, 6, 6, 2, 1, 1, 5, 4, 4, 4, 0}, {2, 7});
  test::check_grad([&](const std::vector<Tensor>& x) { return emd_dist_from_assignment(x[0], x[1], a); }, {x1, x2},
                   opts());
}

TEST_CASE("gradcheck emkd dist w.r.t. both clouds", "[emkd][gradcheck]") {
  // 18 points in two far-apart clusters of 9: leaf size 9 splits both clouds between the clusters
  // (widest axis x), so each leaf pair holds a jittered copy of itself — a unique leaf optimum.
  Tensor x1, x2;
  std::vector<int64_t> perm;
  separated_pair(1, 18, 8, x1, x2, perm, true);
  EmkdOptions o;
  o.leaf_size = 9;
  EmkdResult r = emkd(x1, x2, o);
  REQUIRE(r.leaf_offsets == std::vector<int64_t>{0, 9, 18});
  REQUIRE(r.assignment.to_vector<int64_t>() == perm);
  REQUIRE(r.dist.requires_grad());
  test::check_grad([&](const std::vector<Tensor>& x) { return emkd(x[0], x[1], o).dist; }, {x1, x2}, opts());
}
