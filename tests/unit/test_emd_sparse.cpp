// Sparse auction bids on the CPU (kernels/cpu/emd_sparse.h, EmdOptions::cpu_path): the sparse
// path must give the dense path's assignment bit for bit, stay a bijection within the auction's
// n·ε guarantee of the exact optimum, look at few objects per bid on well-mixed clouds, and
// really search far when the nearest objects are not enough (clustered clouds whose clusters hold
// different masses: bidders must leave their own cluster), duplicate points included.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "kernels/emd.h"
#include "ops/emd.h"
#include "test_util.h"

using namespace pg;

namespace {

bool is_permutation(const std::vector<int64_t>& a, int64_t n) {
  std::vector<char> seen(n, 0);
  for (int64_t k : a) {
    if (k < 0 || k >= n || seen[k]) return false;
    seen[k] = 1;
  }
  return true;
}

double euclid_cost(const std::vector<double>& p1, const std::vector<double>& p2, const std::vector<int64_t>& a) {
  double s = 0;
  for (size_t j = 0; j < a.size(); ++j) {
    double d = 0;
    for (int c = 0; c < 3; ++c) d += (p1[3 * j + c] - p2[3 * a[j] + c]) * (p1[3 * j + c] - p2[3 * a[j] + c]);
    s += std::sqrt(d);
  }
  return s;
}

// Diagonal of the joint bounding box (the auction's D).
double joint_diag(const std::vector<double>& p1, const std::vector<double>& p2) {
  double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
  for (const auto* p : {&p1, &p2})
    for (size_t i = 0; i < p->size(); ++i) {
      lo[i % 3] = std::min(lo[i % 3], (*p)[i]);
      hi[i % 3] = std::max(hi[i % 3], (*p)[i]);
    }
  return std::sqrt((hi[0] - lo[0]) * (hi[0] - lo[0]) + (hi[1] - lo[1]) * (hi[1] - lo[1]) +
                   (hi[2] - lo[2]) * (hi[2] - lo[2]));
}

std::vector<double> sphere_pts(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> G(0.0, 1.0);
  std::vector<double> v(3 * n);
  for (int64_t i = 0; i < n; ++i) {
    const double x = G(rng), y = G(rng), z = G(rng), r = std::sqrt(x * x + y * y + z * z);
    v[3 * i] = x / r, v[3 * i + 1] = y / r, v[3 * i + 2] = z / r;
  }
  return v;
}

// Gaussian clusters (σ = 0.01) at fixed centres; weights[i] = share of the points in cluster i.
// Different weights for x1 and x2 force mass to travel between clusters.
std::vector<double> clusters(int64_t n, const std::vector<double>& weights, uint64_t seed) {
  static const double centres[4][3] = {{0, 0, 0}, {1, 0, 0}, {0, 1, 0.5}, {0.8, 0.9, 1}};
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> G(0.0, 0.01);
  std::vector<double> v(3 * n);
  int64_t i = 0;
  for (size_t c = 0; c < weights.size(); ++c) {
    const int64_t m = c + 1 == weights.size() ? n - i : static_cast<int64_t>(weights[c] * n);
    for (int64_t t = 0; t < m; ++t, ++i)
      for (int d = 0; d < 3; ++d) v[3 * i + d] = centres[c][d] + G(rng);
  }
  return v;
}

// Few distinct positions, each repeated (exact duplicates inside each cloud).
std::vector<double> duplicates(int64_t n, int distinct, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  std::vector<double> base(3 * distinct);
  for (double& b : base) b = U(rng);
  std::vector<double> v(3 * n);
  for (int64_t i = 0; i < n; ++i)
    for (int d = 0; d < 3; ++d) v[3 * i + d] = base[3 * (i % distinct) + d];
  return v;
}

std::vector<int64_t> run(const Tensor& x1, const Tensor& x2, EmdCpuPath path) {
  EmdOptions o = EmdOptions::bijective();
  o.cpu_path = path;
  EmdResult r = emd(x1, x2, o);
  return r.assignment.to_vector<int64_t>();
}

struct Cloud {
  std::string name;
  std::vector<double> a, b;
};

}  // namespace

TEST_CASE("emd sparse: the dense path's assignment, a bijection within n*eps of the optimum", "[emd][emd_sparse]") {
  std::mt19937_64 rng(14);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  std::vector<double> u1(3 * 600), u2(3 * 600);
  for (double& v : u1) v = U(rng);
  for (double& v : u2) v = U(rng);
  const std::vector<Cloud> cases = {
      {"uniform 600", u1, u2},
      {"sphere 512", sphere_pts(512, 3), sphere_pts(512, 4)},
      {"clusters 500 (unequal masses)", clusters(500, {0.4, 0.1, 0.3, 0.2}, 5), clusters(500, {0.1, 0.4, 0.2, 0.3}, 6)},
      {"duplicates 300 (12 positions)", duplicates(300, 12, 7), duplicates(300, 12, 8)},
  };
  for (const Cloud& c : cases) {
    const int64_t n = static_cast<int64_t>(c.a.size() / 3);
    for (DType dt : {DType::f32, DType::f64}) {
      const Tensor x1 = from_vector(c.a, {1, n, 3}).to(dt), x2 = from_vector(c.b, {1, n, 3}).to(dt);
      const std::vector<double> p1 = x1.to_vector<double>(), p2 = x2.to_vector<double>();
      const auto dense = run(x1, x2, EmdCpuPath::Dense);
      const double exact = euclid_cost(p1, p2, emd_exact_assignment(x1, x2).to_vector<int64_t>());
      // The default final ε (EmdOptions: eps_rel · D / √n), plus float32 rounding of the costs.
      const double D = joint_diag(p1, p2);
      const double slack = n * (3e-3 * D / std::sqrt(static_cast<double>(n)) + 1e-6 * D);
      INFO(c.name << " dtype " << dtype_name(dt));
      const auto sparse = run(x1, x2, EmdCpuPath::Sparse);
      REQUIRE(is_permutation(sparse, n));
      REQUIRE(sparse == dense);
      const double cost = euclid_cost(p1, p2, sparse);
      REQUIRE(cost >= exact * (1 - 1e-9));
      REQUIRE(cost <= exact + slack);
      REQUIRE(run(x1, x2, EmdCpuPath::Auto) == dense);
    }
  }
}

TEST_CASE("emd sparse: few objects per bid when mixed, far searches when the nearest are not enough",
          "[emd][emd_sparse]") {
  auto pairs_per_bid = [](const Tensor& x1, const Tensor& x2, EmdCpuPath path, std::vector<int64_t>* a) {
    const auto c0 = kernels::emd_cpu_bid_counts();
    *a = run(x1, x2, path);
    const auto c1 = kernels::emd_cpu_bid_counts();
    REQUIRE(c1.bids > c0.bids);
    return static_cast<double>(c1.pairs - c0.pairs) / static_cast<double>(c1.bids - c0.bids);
  };
  std::vector<int64_t> sparse, dense;
  // Well mixed: a bid evaluates a few leaves, not the cloud.
  const int64_t n = 1024;
  const Tensor u1 = test::uniform({1, n, 3}, 0.0, 1.0, 23), u2 = test::uniform({1, n, 3}, 0.0, 1.0, 24);
  const double mixed = pairs_per_bid(u1, u2, EmdCpuPath::Sparse, &sparse);
  REQUIRE(pairs_per_bid(u1, u2, EmdCpuPath::Dense, &dense) == Approx(static_cast<double>(n)));
  INFO("uniform: " << mixed << " objects per sparse bid");
  REQUIRE(sparse == dense);
  REQUIRE(mixed < n / 8.0);
  // 90 % of x1 sits in a cluster that holds 10 % of x2: once those objects are priced up, most
  // bidders there must find their best and second-best objects in the other cluster.
  const int64_t m = 400;
  const Tensor c1 = from_vector(clusters(m, {0.9, 0.1}, 21), {1, m, 3});
  const Tensor c2 = from_vector(clusters(m, {0.1, 0.9}, 22), {1, m, 3});
  const double far = pairs_per_bid(c1, c2, EmdCpuPath::Sparse, &sparse);
  (void)pairs_per_bid(c1, c2, EmdCpuPath::Dense, &dense);
  INFO("clusters: " << far << " objects per sparse bid");
  REQUIRE(is_permutation(sparse, m));
  REQUIRE(sparse == dense);
  REQUIRE(far > 2.0 * (mixed * m / n));  // went beyond the neighbourhood...
  REQUIRE(far < m);                       // ...but still pruned
}

TEST_CASE("emd sparse: MSN and Default modes and batches agree with the dense path", "[emd][emd_sparse]") {
  const Tensor x1 = test::uniform({3, 300, 3}, -1.0, 2.0, 31), x2 = test::uniform({3, 300, 3}, -1.0, 2.0, 32);
  for (EmdOptions o : {EmdOptions::msn(0.01, 40), EmdOptions{}}) {
    o.cpu_path = EmdCpuPath::Dense;
    const EmdResult d = emd(x1, x2, o);
    o.cpu_path = EmdCpuPath::Sparse;
    const EmdResult s = emd(x1, x2, o);
    REQUIRE(s.assignment.to_vector<int64_t>() == d.assignment.to_vector<int64_t>());
    REQUIRE(s.unassigned.to_vector<int64_t>() == d.unassigned.to_vector<int64_t>());
  }
}

TEST_CASE("emd sparse: tiny clouds and a forced sparse path", "[emd][emd_sparse]") {
  for (int64_t n : {1, 2, 3, 17, 40}) {
    const Tensor x = test::uniform({2, n, 3}, 0.0, 1.0, 40 + n), y = test::uniform({2, n, 3}, 0.0, 1.0, 50 + n);
    EmdOptions o = EmdOptions::bijective();
    o.cpu_path = EmdCpuPath::Sparse;
    const auto s = emd(x, y, o).assignment.to_vector<int64_t>();
    o.cpu_path = EmdCpuPath::Dense;
    INFO("n = " << n);
    REQUIRE(s == emd(x, y, o).assignment.to_vector<int64_t>());
  }
}
