// EM-kD (ops/emkd.h): balanced k-d leaves, canonical leaf pairing, one batched auction, the
// composed global assignment.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "kernels/emd.h"
#include "ops/emd.h"
#include "ops/emkd.h"
#include "test_util.h"

using namespace pg;

namespace {

double sum_sqrt(const Tensor& d) {
  double s = 0;
  for (double v : d.to_vector<double>()) s += std::sqrt(v);
  return s;
}

}  // namespace

TEST_CASE("emkd: leaf sizes for any n", "[emkd]") {
  REQUIRE(kernels::kd_leaf_offsets(1000, 1024) == std::vector<int64_t>{0, 1000});
  REQUIRE(kernels::kd_leaf_offsets(1000, 256) == std::vector<int64_t>{0, 250, 500, 750, 1000});
  REQUIRE(kernels::kd_leaf_offsets(1025, 1024) == std::vector<int64_t>{0, 512, 1025});
  REQUIRE(kernels::kd_leaf_offsets(4096, 1024) == std::vector<int64_t>{0, 1024, 2048, 3072, 4096});
  const auto o = kernels::kd_leaf_offsets(777, 100);  // ⌈777/8⌉ = 98 ≤ 100
  REQUIRE(o.size() == 9);
  for (size_t l = 0; l + 1 < o.size(); ++l) {
    REQUIRE(o[l + 1] - o[l] >= 97);
    REQUIRE(o[l + 1] - o[l] <= 98);
  }
  REQUIRE(kernels::kd_leaf_offsets(5, 2) == std::vector<int64_t>{0, 1, 2, 3, 5});
}

TEST_CASE("emkd: the k-d order splits at medians along the widest axis", "[emkd]") {
  // Points spread along y (widest), then x: the first split separates by y.
  const int64_t n = 64;
  std::vector<double> xyz(3 * n);
  for (int64_t i = 0; i < n; ++i) {
    xyz[3 * i] = static_cast<double>((i * 37) % 8);       // x in [0, 8)
    xyz[3 * i + 1] = static_cast<double>((i * 11) % 64);  // y in [0, 64): widest
    xyz[3 * i + 2] = 0.0;
  }
  std::vector<int64_t> order(n), order_b(n);
  const auto leaf = kernels::kd_balanced_order(xyz.data(), xyz.data(), n, 16, order.data(), order_b.data());
  REQUIRE(order == order_b);
  REQUIRE(leaf == std::vector<int64_t>{0, 16, 32, 48, 64});
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < n; ++i) REQUIRE(sorted[i] == i);  // a permutation
  double max_left = -1, min_right = 1e9;
  for (int64_t i = 0; i < 32; ++i) max_left = std::max(max_left, xyz[3 * order[i] + 1]);
  for (int64_t i = 32; i < 64; ++i) min_right = std::min(min_right, xyz[3 * order[i] + 1]);
  REQUIRE(max_left < min_right);  // first split: y median
  for (size_t l = 0; l + 1 < leaf.size(); ++l) {
    REQUIRE(std::is_sorted(order.begin() + leaf[l], order.begin() + leaf[l + 1]));  // index order inside a leaf
  }
}

TEST_CASE("emkd: one leaf equals the plain auction EMD", "[emkd]") {
  Tensor x1 = test::uniform({2, 300, 3}, 0.0, 1.0, 11);
  Tensor x2 = test::uniform({2, 300, 3}, 0.0, 1.0, 12);
  EmkdOptions o;
  o.leaf_size = 512;
  EmkdResult k = emkd(x1, x2, o);
  EmdResult e = emd(x1, x2);
  REQUIRE(k.assignment.to_vector<int64_t>() == e.assignment.to_vector<int64_t>());
  REQUIRE(k.leaf_offsets == std::vector<int64_t>{0, 300});
  test::require_close(k.dist, e.dist, 0.0);
}

TEST_CASE("emkd: leaves pair canonically; value and assignment are consistent", "[emkd]") {
  const int64_t B = 2, n = 777;
  Tensor x1 = test::uniform({B, n, 3}, -1.0, 1.0, 21, TensorOptions(DType::f64));
  Tensor x2 = test::uniform({B, n, 3}, -1.0, 1.0, 22, TensorOptions(DType::f64));
  EmkdOptions o;
  o.leaf_size = 100;
  o.emd = EmdOptions::bijective();
  EmkdResult r = emkd(x1, x2, o);
  REQUIRE(r.leaf_offsets.size() == 9);
  REQUIRE(r.assignment.shape() == Shape({B, n}));
  const auto a = r.assignment.to_vector<int64_t>();
  const auto o1 = r.order1.to_vector<int64_t>(), o2 = r.order2.to_vector<int64_t>();
  const auto value = r.value.to_vector<double>();
  for (int64_t b = 0; b < B; ++b) {
    std::set<int64_t> img(a.begin() + b * n, a.begin() + (b + 1) * n);
    REQUIRE(static_cast<int64_t>(img.size()) == n);  // a permutation
    // Every x1 point of leaf l is matched inside leaf l of x2.
    std::vector<int64_t> leaf_of2(n);
    for (size_t l = 0; l + 1 < r.leaf_offsets.size(); ++l)
      for (int64_t i = r.leaf_offsets[l]; i < r.leaf_offsets[l + 1]; ++i) leaf_of2[o2[b * n + i]] = l;
    for (size_t l = 0; l + 1 < r.leaf_offsets.size(); ++l)
      for (int64_t i = r.leaf_offsets[l]; i < r.leaf_offsets[l + 1]; ++i)
        REQUIRE(leaf_of2[a[b * n + o1[b * n + i]]] == static_cast<int64_t>(l));
    // value = Σ sqrt(dist) of that cloud, and it cannot beat the exact EMD of the whole clouds.
    const double vb = sum_sqrt(r.dist.select(0, b));
    REQUIRE(value[b] == Approx(vb).epsilon(1e-12));
  }
  Tensor ex = emd_exact_assignment(x1, x2);
  const Tensor dex = emd_dist_from_assignment(x1, x2, ex);
  for (int64_t b = 0; b < B; ++b) {
    const double exact = sum_sqrt(dex.select(0, b));
    REQUIRE(value[b] >= exact * (1 - 1e-12));
    REQUIRE(value[b] <= exact * 1.25);  // leaves restrict the matching (here ~1.1x)
  }
  REQUIRE(r.unassigned.to_vector<int64_t>() == std::vector<int64_t>(B, 0));
  // The global assignment reproduces the leaf distances through the public op.
  test::require_close(emd_dist_from_assignment(x1, x2, r.assignment), r.dist, 0.0);
}

TEST_CASE("emkd: NeuralQAAD setting (MSN semantics, eps 1, 100 iterations) on unnormalised units", "[emkd]") {
  Tensor x1 = test::uniform({1, 4096, 3}, -100.0, 100.0, 31);
  Tensor x2 = test::uniform({1, 4096, 3}, -100.0, 100.0, 32);
  EmkdOptions o;
  o.emd = EmdOptions::msn(1.0, 100);
  EmkdResult r = emkd(x1, x2, o);
  REQUIRE(r.leaf_offsets == std::vector<int64_t>{0, 1024, 2048, 3072, 4096});
  for (int64_t v : r.assignment.to_vector<int64_t>()) REQUIRE((v >= 0 && v < 4096));
  REQUIRE(r.value.item() > 0.0);
  REQUIRE(std::isfinite(r.value.item()));
}

TEST_CASE("emkd: bad input raises pg::Error", "[emkd][errors]") {
  Tensor ok = test::uniform({1, 20, 3}, 0.0, 1.0, 1);
  EmkdOptions o;
  o.leaf_size = 1;
  REQUIRE_THROWS_WITH(emkd(ok, ok, o), Catch::Contains("leaf_size"));
  REQUIRE_THROWS_AS(emkd(ok, test::uniform({1, 21, 3}, 0.0, 1.0, 2)), Error);
  REQUIRE_THROWS_AS(emkd(zeros({1, 0, 3}), zeros({1, 0, 3})), Error);
  std::vector<float> v = ok.to_vector<float>();
  v[7] = NAN;
  REQUIRE_THROWS_WITH(emkd(from_vector(v, {1, 20, 3}), ok), Catch::Contains("non-finite"));
}
