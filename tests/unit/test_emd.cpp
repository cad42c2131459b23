// Auction EMD (ops/emd.h) on the CPU: hand-solved cases, permutation and cost invariants,
// accuracy against the exact optimum, MSN-mode forced assignment, leftovers, bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <set>

#include "core/parallel_for.h"
#include "kernels/emd.h"
#include "ops/emd.h"
#include "reference/naive_assignment.h"
#include "test_util.h"

using namespace pg;

namespace {

bool is_permutation(const std::vector<int64_t>& a, int64_t B, int64_t n) {
  for (int64_t b = 0; b < B; ++b) {
    std::vector<char> seen(n, 0);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t k = a[b * n + j];
      if (k < 0 || k >= n || seen[k]) return false;
      seen[k] = 1;
    }
  }
  return true;
}

// Σ_j ‖x1_j − x2_a(j)‖ per cloud, float64 on the host.
std::vector<double> euclid_cost(const Tensor& x1, const Tensor& x2, const std::vector<int64_t>& a) {
  const int64_t B = x1.size(0), n = x1.size(1);
  const auto p1 = x1.to_vector<double>(), p2 = x2.to_vector<double>();
  std::vector<double> out(B, 0.0);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j < n; ++j) {
      double d = 0;
      for (int c = 0; c < 3; ++c) {
        const double t = p1[3 * (b * n + j) + c] - p2[3 * (b * n + a[b * n + j]) + c];
        d += t * t;
      }
      out[b] += std::sqrt(d);
    }
  }
  return out;
}

Tensor sphere(int64_t B, int64_t n, uint64_t seed, double radius = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> G(0.0, 1.0);
  std::vector<double> v(B * n * 3);
  for (size_t i = 0; i < v.size(); i += 3) {
    const double x = G(rng), y = G(rng), z = G(rng), r = std::sqrt(x * x + y * y + z * z);
    v[i] = radius * x / r;
    v[i + 1] = radius * y / r;
    v[i + 2] = radius * z / r;
  }
  return from_vector(v, {B, n, 3});
}

}  // namespace

TEST_CASE("emd: hand-solvable tiny cases", "[emd]") {
  // Two points on a line, targets swapped and shifted by 0.1: optimal matching crosses indices.
  Tensor x1 = tensor({0, 0, 0, 1, 0, 0}, {1, 2, 3}, DType::f64);
  Tensor x2 = tensor({1.1, 0, 0, 0.1, 0, 0}, {1, 2, 3}, DType::f64);
  for (EmdMode m : {EmdMode::Default, EmdMode::Bijective}) {
    EmdOptions o;
    o.mode = m;
    EmdResult r = emd(x1, x2, o);
    REQUIRE(r.assignment.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
    test::require_close(r.dist, tensor({0.01, 0.01}, {1, 2}, DType::f64), 1e-12);
    REQUIRE(r.unassigned.to_vector<int64_t>() == std::vector<int64_t>{0});
  }
  // Unit square corners against the same corners rotated by 90° about the centre and pushed out
  // by 0.05: each corner's nearest target is distinct, so the identity-like matching is optimal.
  Tensor sq = tensor({0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0}, {1, 4, 3}, DType::f32);
  Tensor tg = tensor({1.05, 0, 0, 1.05, 1.05, 0, -0.05, 1.05, 0, -0.05, -0.05, 0}, {1, 4, 3}, DType::f32);
  EmdResult r = emd(sq, tg);
  REQUIRE(r.assignment.to_vector<int64_t>() == std::vector<int64_t>{3, 0, 1, 2});
  // n = 1: the only possible match.
  EmdResult one = emd(tensor({1, 2, 3}, {1, 1, 3}), tensor({4, 6, 3}, {1, 1, 3}));
  REQUIRE(one.assignment.to_vector<int64_t>() == std::vector<int64_t>{0});
  REQUIRE(one.dist.item() == Approx(25.0));
}

TEST_CASE("emd: bijective mode returns a permutation and the cost matches the assignment", "[emd]") {
  for (int64_t n : {2, 3, 17, 100, 257, 1000}) {
    const int64_t B = n >= 1000 ? 1 : 3;
    Tensor x1 = test::uniform({B, n, 3}, 0.0, 1.0, 100 + n);
    Tensor x2 = test::uniform({B, n, 3}, 0.0, 1.0, 200 + n);
    EmdResult r = emd(x1, x2, EmdOptions::bijective());
    INFO("n = " << n);
    REQUIRE(r.assignment.shape() == Shape({B, n}));
    REQUIRE(r.assignment.dtype() == DType::i64);
    REQUIRE(r.dist.shape() == Shape({B, n}));
    REQUIRE(r.dist.dtype() == DType::f32);
    const auto a = r.assignment.to_vector<int64_t>();
    REQUIRE(is_permutation(a, B, n));
    // Returned squared distances equal the ones recomputed from the assignment.
    test::require_close(r.dist, emd_dist_from_assignment(x1, x2, r.assignment), 0.0);
    const auto d = r.dist.to_vector<double>();
    const auto p1 = x1.to_vector<double>(), p2 = x2.to_vector<double>();
    for (int64_t i = 0; i < B * n; ++i) {
      const int64_t k = (i / n) * n + a[i];
      double ref = 0;
      for (int c = 0; c < 3; ++c) ref += (p1[3 * i + c] - p2[3 * k + c]) * (p1[3 * i + c] - p2[3 * k + c]);
      REQUIRE(d[i] == Approx(ref).epsilon(1e-5).margin(1e-7));
    }
  }
}

TEST_CASE("emd: default settings are within 1% of the exact optimum (n <= 1024)", "[emd]") {
  struct Case {
    int64_t n;
    bool on_sphere;
  };
  for (Case c : {Case{64, false}, Case{300, false}, Case{1024, false}, Case{256, true}, Case{1024, true}}) {
    const int64_t B = 2;
    Tensor x1 = c.on_sphere ? sphere(B, c.n, 1 + c.n)
                            : test::uniform({B, c.n, 3}, 0.0, 1.0, 31 + c.n, TensorOptions(DType::f64));
    Tensor x2 = c.on_sphere ? sphere(B, c.n, 2 + c.n)
                            : test::uniform({B, c.n, 3}, 0.0, 1.0, 41 + c.n, TensorOptions(DType::f64));
    EmdResult r = emd(x1, x2);
    const auto a = r.assignment.to_vector<int64_t>();
    REQUIRE(is_permutation(a, B, c.n));
    REQUIRE(r.unassigned.to_vector<int64_t>() == std::vector<int64_t>(B, 0));
    const auto auc = euclid_cost(x1, x2, a);
    const auto ex = euclid_cost(x1, x2, emd_exact_assignment(x1, x2).to_vector<int64_t>());
    for (int64_t b = 0; b < B; ++b) {
      INFO("n = " << c.n << " sphere " << c.on_sphere << " cloud " << b << ": auction " << auc[b] << " exact "
                  << ex[b]);
      REQUIRE(auc[b] >= ex[b] * (1 - 1e-9));
      REQUIRE(auc[b] <= ex[b] * 1.01);
      REQUIRE(auc[b] <= ex[b] * 1.001);  // what the defaults actually reach (margin for the 1% contract)
    }
  }
}

TEST_CASE("emd: the default schedule (start 0.02·D) meets 1e-4 and bids less than a 0.05·D start", "[emd]") {
  // Issue 14's accuracy target for the bijective auction (spheres and cubes of 1024 points), and
  // the reason for the start ε (docs/decisions.md, "ε-scaling start lowered"): over a batch of
  // 1024-point spheres the 0.02·D start needs fewer bids in total than the former 0.05·D start.
  const int64_t n = 1024;
  for (bool on_sphere : {true, false}) {
    INFO("sphere " << on_sphere);
    const int64_t B = on_sphere ? 4 : 2;
    Tensor x1 = on_sphere ? sphere(B, n, 141) : test::uniform({B, n, 3}, 0.0, 1.0, 143, TensorOptions(DType::f64));
    Tensor x2 = on_sphere ? sphere(B, n, 142) : test::uniform({B, n, 3}, 0.0, 1.0, 144, TensorOptions(DType::f64));
    auto bids = [&](const EmdOptions& o, std::vector<int64_t>* a) {
      const int64_t b0 = kernels::emd_cpu_bid_counts().bids;
      EmdResult r = emd(x1, x2, o);
      if (a != nullptr) *a = r.assignment.to_vector<int64_t>();
      return kernels::emd_cpu_bid_counts().bids - b0;
    };
    std::vector<int64_t> a;
    const int64_t now = bids(EmdOptions::bijective(), &a);
    if (on_sphere) {
      EmdOptions old = EmdOptions::bijective();
      old.eps_start_rel = 0.05;
      const int64_t before = bids(old, nullptr);
      INFO("bids: start 0.02·D " << now << ", 0.05·D " << before);
      REQUIRE(now < before);
    }
    REQUIRE(is_permutation(a, B, n));
    const auto auc = euclid_cost(x1, x2, a);
    const auto ex = euclid_cost(x1, x2, emd_exact_assignment(x1, x2).to_vector<int64_t>());
    for (int64_t b = 0; b < B; ++b) REQUIRE(auc[b] <= ex[b] * (1 + 1e-4));
  }
}

TEST_CASE("emd: coordinate scale and offset do not matter (data-derived value offset and eps)", "[emd]") {
  const int64_t n = 200;
  Tensor x1 = test::uniform({1, n, 3}, 0.0, 1.0, 8, TensorOptions(DType::f64));
  Tensor x2 = test::uniform({1, n, 3}, 0.0, 1.0, 9, TensorOptions(DType::f64));
  const auto base = euclid_cost(x1, x2, emd(x1, x2).assignment.to_vector<int64_t>())[0];
  const auto ex = euclid_cost(x1, x2, emd_exact_assignment(x1, x2).to_vector<int64_t>())[0];
  for (double scale : {1e-3, 1e3, 1e5}) {
    std::vector<double> v1 = x1.to_vector<double>(), v2 = x2.to_vector<double>();
    for (double& v : v1) v = v * scale + 7.0 * scale;
    for (double& v : v2) v = v * scale + 7.0 * scale;
    Tensor y1 = from_vector(v1, {1, n, 3}), y2 = from_vector(v2, {1, n, 3});
    EmdResult r = emd(y1, y2);
    const double c = euclid_cost(y1, y2, r.assignment.to_vector<int64_t>())[0] / scale;
    INFO("scale " << scale << ": " << c << " vs " << base << " (exact " << ex << ")");
    REQUIRE(c == Approx(base).epsilon(2e-3));
    REQUIRE(c <= ex * 1.01);
  }
}

TEST_CASE("emd: coincident and duplicated points", "[emd]") {
  // Every point identical: any permutation is optimal; ties spread bidders (j → j).
  Tensor same = full({2, 50, 3}, 0.25);
  EmdResult r = emd(same, same.clone());
  const auto a = r.assignment.to_vector<int64_t>();
  REQUIRE(is_permutation(a, 2, 50));
  REQUIRE(test::max_abs_diff(r.dist, zeros({2, 50})) == 0.0);
  // Heavily duplicated targets (10 distinct positions × 20 copies).
  std::vector<float> t(200 * 3);
  for (int i = 0; i < 200; ++i) {
    t[3 * i] = static_cast<float>(i % 10);
    t[3 * i + 1] = 0.f;
    t[3 * i + 2] = 0.f;
  }
  Tensor x2 = from_vector(t, {1, 200, 3});
  Tensor x1 = test::uniform({1, 200, 3}, 0.0, 9.0, 77);
  EmdResult d = emd(x1, x2, EmdOptions::bijective());
  REQUIRE(is_permutation(d.assignment.to_vector<int64_t>(), 1, 200));
  const double auc = euclid_cost(x1, x2, d.assignment.to_vector<int64_t>())[0];
  const double ex = euclid_cost(x1, x2, emd_exact_assignment(x1, x2).to_vector<int64_t>())[0];
  REQUIRE(auc <= ex * 1.01);
}

TEST_CASE("emd: MSN mode reproduces the forced final assignment", "[emd]") {
  const int64_t B = 2, n = 256;
  Tensor x1 = test::uniform({B, n, 3}, 0.0, 1.0, 501);
  Tensor x2 = test::uniform({B, n, 3}, 0.0, 1.0, 502);
  // One iteration: every point is forced onto its best object at zero prices = its nearest
  // neighbour in x2 (ties: lowest (k - j) mod n), without eviction.
  EmdResult r1 = emd(x1, x2, EmdOptions::msn(0.005, 1));
  REQUIRE(r1.unassigned.to_vector<int64_t>() == std::vector<int64_t>(B, n));
  const auto a1 = r1.assignment.to_vector<int64_t>();
  const auto p1 = x1.to_vector<double>(), p2 = x2.to_vector<double>();
  const auto dist = r1.dist.to_vector<double>();
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j < n; ++j) {
      double best = 1e300;
      for (int64_t k = 0; k < n; ++k) {
        double d = 0;
        for (int c = 0; c < 3; ++c) d += std::pow(p1[3 * (b * n + j) + c] - p2[3 * (b * n + k) + c], 2);
        best = std::min(best, d);
      }
      REQUIRE(dist[b * n + j] == Approx(best).epsilon(1e-5));
    }
  }
  REQUIRE_FALSE(is_permutation(a1, B, n));  // many-to-one pairs (nearest neighbours collide)
  // Few iterations: still a total map (every index in range), typically not injective, and the
  // number of points forced in the last iteration is reported.
  EmdResult r3 = emd(x1, x2, EmdOptions::msn(0.05, 3));
  const auto a3 = r3.assignment.to_vector<int64_t>();
  for (int64_t v : a3) REQUIRE((v >= 0 && v < n));
  const auto u3 = r3.unassigned.to_vector<int64_t>();
  REQUIRE(u3[0] > 0);
  REQUIRE(u3[0] < n);
  // Enough iterations: everyone assigned by regular bids, a permutation, nothing forced.
  EmdResult rl = emd(x1, x2, EmdOptions::msn(0.002, 100000));
  REQUIRE(rl.unassigned.to_vector<int64_t>() == std::vector<int64_t>(B, 0));
  REQUIRE(is_permutation(rl.assignment.to_vector<int64_t>(), B, n));
  // The forced map is biased low against the converged one (METHODS.md §7).
  const auto c3 = euclid_cost(x1, x2, a3), cl = euclid_cost(x1, x2, rl.assignment.to_vector<int64_t>());
  REQUIRE(c3[0] < cl[0]);
}

TEST_CASE("emd: the iteration cap — default forces, bijective finishes exactly", "[emd]") {
  const int64_t B = 2, n = 300;
  Tensor x1 = test::uniform({B, n, 3}, 0.0, 1.0, 601);
  Tensor x2 = test::uniform({B, n, 3}, 0.0, 1.0, 602);
  // Default, cap 5: rounds 0–3 bid normally, round 4 forces the bidders still unassigned.
  EmdOptions o;
  o.max_iters = 5;
  EmdResult d = emd(x1, x2, o);
  const auto ud = d.unassigned.to_vector<int64_t>();
  REQUIRE(ud[0] > 0);
  for (int64_t v : d.assignment.to_vector<int64_t>()) REQUIRE((v >= 0 && v < n));
  // Bijective, cap 4: the same four rounds, then the same leftovers are matched exactly.
  o.mode = EmdMode::Bijective;
  o.max_iters = 4;
  EmdResult b = emd(x1, x2, o);
  REQUIRE(b.unassigned.to_vector<int64_t>() == ud);
  const auto ab = b.assignment.to_vector<int64_t>(), ad = d.assignment.to_vector<int64_t>();
  REQUIRE(is_permutation(ab, B, n));
  // Points assigned by regular bids agree; at least one leftover differs from the forced map or
  // the forced map is not injective.
  int64_t same = 0;
  for (size_t i = 0; i < ab.size(); ++i) same += ab[i] == ad[i];
  REQUIRE(same >= B * n - ud[0] - ud[1]);
}

TEST_CASE("emd: deterministic and independent of the thread count", "[emd]") {
  Tensor x1 = test::uniform({3, 400, 3}, -2.0, 2.0, 701);
  Tensor x2 = test::uniform({3, 400, 3}, -2.0, 2.0, 702);
  const auto a = emd(x1, x2).assignment.to_vector<int64_t>();
  const int saved = cpu_num_threads();
  set_cpu_num_threads(1);
  const auto b = emd(x1, x2).assignment.to_vector<int64_t>();
  const auto one = emd(x1.slice(0, 1, 2), x2.slice(0, 1, 2)).assignment.to_vector<int64_t>();
  set_cpu_num_threads(saved);
  REQUIRE(a == b);
  REQUIRE(one == std::vector<int64_t>(a.begin() + 400, a.begin() + 800));  // a batch is independent problems
}

TEST_CASE("emd_dist_from_assignment: any in-range map, strided inputs", "[emd]") {
  Tensor x1 = test::uniform({2, 5, 3}, -1.0, 1.0, 801, TensorOptions(DType::f64));
  Tensor x2 = test::uniform({2, 5, 3}, -1.0, 1.0, 802, TensorOptions(DType::f64));
  Tensor a = from_vector(std::vector<int32_t>{0, 0, 4, 2, 2, 1, 3, 3, 3, 0}, {2, 5});
  Tensor d = emd_dist_from_assignment(x1, x2.transpose(0, 1).contiguous().transpose(0, 1), a);
  const auto p1 = x1.to_vector<double>(), p2 = x2.to_vector<double>(), dv = d.to_vector<double>();
  const auto av = a.to_vector<int64_t>();
  for (int64_t i = 0; i < 10; ++i) {
    const int64_t k = (i / 5) * 5 + av[i];
    double ref = 0;
    for (int c = 0; c < 3; ++c) ref += (p1[3 * i + c] - p2[3 * k + c]) * (p1[3 * i + c] - p2[3 * k + c]);
    REQUIRE(dv[i] == Approx(ref).epsilon(1e-14));
  }
  REQUIRE_THROWS_WITH(emd_dist_from_assignment(x1, x2, full({2, 5}, 5.0, DType::i64)), Catch::Contains("out of range"));
  REQUIRE_THROWS_AS(emd_dist_from_assignment(x1, x2, zeros({2, 4}, DType::i64)), Error);
  REQUIRE_THROWS_AS(emd_dist_from_assignment(x1, x2, zeros({2, 5}, DType::f32)), Error);
}

TEST_CASE("emd: bad input raises pg::Error", "[emd][errors]") {
  Tensor ok = test::uniform({2, 8, 3}, 0.0, 1.0, 1);
  REQUIRE_THROWS_WITH(emd(zeros({2, 0, 3}), zeros({2, 0, 3})), Catch::Contains("x1 is an empty cloud"));
  REQUIRE_THROWS_WITH(emd(zeros({0, 4, 3}), zeros({0, 4, 3})), Catch::Contains("x1 has an empty batch"));
  REQUIRE_THROWS_WITH(emd(ok, test::uniform({2, 9, 3}, 0.0, 1.0, 2)), Catch::Contains("same number of points"));
  REQUIRE_THROWS_WITH(emd(ok, test::uniform({3, 8, 3}, 0.0, 1.0, 2)), Catch::Contains("batch sizes differ"));
  REQUIRE_THROWS_AS(emd(ok, ok.to(DType::f64)), Error);
  REQUIRE_THROWS_AS(emd(zeros({2, 8, 2}), zeros({2, 8, 2})), Error);
  REQUIRE_THROWS_AS(emd(zeros({8, 3}), zeros({8, 3})), Error);
  REQUIRE_THROWS_AS(emd(zeros({2, 8, 3}, DType::i32), zeros({2, 8, 3}, DType::i32)), Error);
  REQUIRE_THROWS_AS(emd(Tensor(), ok), Error);
  std::vector<float> v = ok.to_vector<float>();
  v[3 * 8 + 4] = NAN;  // batch element 1
  REQUIRE_THROWS_WITH(emd(ok, from_vector(v, {2, 8, 3})), Catch::Contains("non-finite") && Catch::Contains("cloud 1"));
  v[3 * 8 + 4] = INFINITY;
  REQUIRE_THROWS_WITH(emd(from_vector(v, {2, 8, 3}), ok), Catch::Contains("non-finite"));
  EmdOptions bad;
  bad.eps_factor = 1.0;
  REQUIRE_THROWS_WITH(emd(ok, ok, bad), Catch::Contains("eps_factor"));
  bad = EmdOptions{};
  bad.eps = -1.0;
  REQUIRE_THROWS_WITH(emd(ok, ok, bad), Catch::Contains("eps"));
  bad = EmdOptions{};
  bad.max_iters = -3;
  REQUIRE_THROWS_WITH(emd(ok, ok, bad), Catch::Contains("max_iters"));
#if !PG_WITH_CUDA
  REQUIRE_THROWS_WITH(emd(zeros({1, 4, 3}, Device::cuda(0)), zeros({1, 4, 3}, Device::cuda(0))),
                      Catch::Contains("without CUDA"));
#endif
}

TEST_CASE("emd bijective: the leftover sub-problem is solved exactly, not greedily", "[emd]") {
  // x2[0] is every x1 point's nearest object (x1 lies within 0.3 of the origin, the other
  // objects at radius 1–1.6), so the single auction round allowed by max_iters = 1 assigns
  // only object 0 and leaves n − 1 bidders for the exact finish. The leftover cost must equal
  // the optimum of that sub-problem; on this instance a greedy finish (each leftover row, in
  // index order, takes its nearest free object) and an in-order finish (i-th leftover row to
  // the i-th free object) are both strictly worse — checked first, so the test can tell.
  const int64_t n = 7;
  std::mt19937_64 rng(4242);
  std::normal_distribution<double> N01(0.0, 1.0);
  std::uniform_real_distribution<double> U(0.0, 1.0);
  auto direction = [&](double r) {
    double v[3] = {N01(rng), N01(rng), N01(rng)};
    const double s = r / std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    return std::vector<double>{v[0] * s, v[1] * s, v[2] * s};
  };
  std::vector<double> a, b = {0, 0, 0};
  for (int64_t j = 0; j < n; ++j) {
    const auto p = direction(0.3 * U(rng));
    a.insert(a.end(), p.begin(), p.end());
  }
  for (int64_t k = 1; k < n; ++k) {
    const auto p = direction(1.0 + 0.6 * U(rng));
    b.insert(b.end(), p.begin(), p.end());
  }
  for (DType dt : {DType::f64, DType::f32}) {
    INFO("dtype " << dtype_name(dt));
    Tensor x1 = from_vector(a, {1, n, 3}).to(dt), x2 = from_vector(b, {1, n, 3}).to(dt);
    EmdOptions o = EmdOptions::bijective();
    o.max_iters = 1;
    const EmdResult r = emd(x1, x2, o);
    REQUIRE(r.unassigned.item_int() == n - 1);  // one round: only object 0 was bid for and won
    const auto asg = r.assignment.to_vector<int64_t>();
    std::vector<int64_t> rows;
    for (int64_t j = 0; j < n; ++j) {
      if (asg[j] != 0) rows.push_back(j);
    }
    REQUIRE(rows.size() == static_cast<size_t>(n - 1));
    const auto full = test::euclidean_cost(a, b, n);
    const int m = static_cast<int>(n - 1);
    std::vector<double> sub(static_cast<size_t>(m * m));
    for (int i = 0; i < m; ++i) {
      for (int c = 0; c < m; ++c) sub[i * m + c] = full[rows[i] * n + (c + 1)];  // free objects 1 … n−1
    }
    const double exact = test::hungarian_assignment(sub, m);
    // The two wrong finishes must cost more on this instance.
    double in_order = 0.0, greedy = 0.0;
    std::vector<char> taken(m, 0);
    for (int i = 0; i < m; ++i) {
      in_order += sub[i * m + i];
      int best = -1;
      for (int c = 0; c < m; ++c) {
        if (!taken[c] && (best < 0 || sub[i * m + c] < sub[i * m + best])) best = c;
      }
      taken[best] = 1;
      greedy += sub[i * m + best];
    }
    REQUIRE(in_order > exact + 1e-3);
    REQUIRE(greedy > exact + 1e-3);
    double got = 0.0;
    for (int64_t j : rows) got += full[j * n + asg[j]];
    REQUIRE(got == Approx(exact).epsilon(1e-9));
  }
}
