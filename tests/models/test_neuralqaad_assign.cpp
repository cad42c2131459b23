// QAAD_GREEDY: the result is a bijection per shape, unique auction claims are kept, conflicts go
// to the closest claimant, leftovers stay inside their leaf pair, and the assignment beats a
// random permutation's MSE by far.
#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <vector>

#include "models/zoo/neuralqaad_assign.h"
#include "ops/ops.h"
#include "test_util.h"

namespace {

using namespace pg;

using pg::test::error_of;

// Mean squared distance of pred[b][j] to target[b][perm[b][j]].
double mse_under(const Tensor& pred, const Tensor& target, const Tensor& perm) {
  const auto p = pred.to_vector<double>(), t = target.to_vector<double>();
  const auto a = perm.to_vector<int64_t>();
  const int64_t B = pred.size(0), n = pred.size(1);
  double s = 0.0;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j < n; ++j) {
      for (int c = 0; c < 3; ++c) {
        const double d = p[(b * n + j) * 3 + c] - t[(b * n + a[b * n + j]) * 3 + c];
        s += d * d;
      }
    }
  }
  return s / static_cast<double>(B * n);
}

// pred = a shuffled, jittered copy of target (so a good assignment exists and is not the identity).
void make_pair(int64_t B, int64_t n, uint64_t seed, double jitter, Tensor& pred, Tensor& target) {
  target = test::uniform({B, n, 3}, 0.0, 1.0, seed, TensorOptions(DType::f64));
  Generator g(seed + 1);
  std::vector<Tensor> rows;
  for (int64_t b = 0; b < B; ++b) rows.push_back(index_select(target.select(0, b), 0, randperm(n, DType::i64, &g)));
  pred = add(stack(rows, 0), test::uniform({B, n, 3}, -jitter, jitter, seed + 2, TensorOptions(DType::f64)));
}

}  // namespace

TEST_CASE("qaad_greedy: a bijection per shape, far better than a random permutation", "[qaad_greedy]") {
  Tensor pred, target;
  make_pair(2, 1024, 1, 0.01, pred, target);
  models::QaadGreedyOptions o;
  o.emkd.leaf_size = 256;  // 4 leaves; the paper's auction (ε = 1, 100 rounds, MSN mode)
  const models::QaadGreedyResult r = models::qaad_greedy(pred, target, o);
  REQUIRE(r.perm.shape() == Shape{2, 1024});
  REQUIRE(models::is_permutation_rows(r.perm));
  const auto kept = r.kept.to_vector<int64_t>(), rep = r.repaired.to_vector<int64_t>();
  for (int b = 0; b < 2; ++b) REQUIRE(kept[b] + rep[b] == 1024);

  Generator g(9);
  const Tensor random = stack({randperm(1024, DType::i64, &g), randperm(1024, DType::i64, &g)}, 0);
  const double mse_greedy = mse_under(pred, target, r.perm), mse_random = mse_under(pred, target, random);
  INFO("greedy " << mse_greedy << " random " << mse_random);
  REQUIRE(mse_greedy < 0.5 * mse_random);
}

TEST_CASE("qaad_greedy: unique claims kept, conflicts to the closest claimant, leftovers in their leaf",
          "[qaad_greedy]") {
  Tensor pred, target;
  make_pair(2, 512, 5, 0.1, pred, target);
  models::QaadGreedyOptions o;
  o.emkd.leaf_size = 128;
  o.emkd.emd = EmdOptions::msn(1e-3, 1);  // only the forced round: many conflicts
  o.seed = 3;
  const models::QaadGreedyResult r = models::qaad_greedy(pred, target, o);
  REQUIRE(models::is_permutation_rows(r.perm));
  const EmkdResult ek = emkd(pred, target, o.emkd);
  const auto claim = ek.assignment.to_vector<int64_t>(), perm = r.perm.to_vector<int64_t>();
  const auto o1 = ek.order1.to_vector<int64_t>(), o2 = ek.order2.to_vector<int64_t>();
  const auto p = pred.to_vector<double>(), t = target.to_vector<double>();
  const int64_t n = 512;
  int64_t conflicts = 0;
  for (int64_t b = 0; b < 2; ++b) {
    // Leaf of every point and target in this shape.
    std::vector<int64_t> leaf1(n), leaf2(n);
    for (size_t l = 0; l + 1 < ek.leaf_offsets.size(); ++l) {
      for (int64_t i = ek.leaf_offsets[l]; i < ek.leaf_offsets[l + 1]; ++i) {
        leaf1[o1[b * n + i]] = static_cast<int64_t>(l);
        leaf2[o2[b * n + i]] = static_cast<int64_t>(l);
      }
    }
    std::vector<std::vector<int64_t>> claimants(n);
    for (int64_t j = 0; j < n; ++j) claimants[claim[b * n + j]].push_back(j);
    auto d2 = [&](int64_t j, int64_t k) {
      double s = 0.0;
      for (int c = 0; c < 3; ++c) {
        const double d = p[(b * n + j) * 3 + c] - t[(b * n + k) * 3 + c];
        s += d * d;
      }
      return s;
    };
    int64_t kept = 0;
    for (int64_t k = 0; k < n; ++k) {
      if (claimants[k].empty()) continue;
      int64_t best = claimants[k][0];
      for (int64_t j : claimants[k]) {
        if (d2(j, k) < d2(best, k)) best = j;
      }
      if (claimants[k].size() > 1) ++conflicts;
      INFO("shape " << b << " target " << k);
      REQUIRE(perm[b * n + best] == k);
      ++kept;
    }
    REQUIRE(r.kept.to_vector<int64_t>()[b] == kept);
    for (int64_t j = 0; j < n; ++j) REQUIRE(leaf2[perm[b * n + j]] == leaf1[j]);
  }
  INFO("repaired " << r.repaired.to_vector<int64_t>()[0] << " " << r.repaired.to_vector<int64_t>()[1] << " unassigned " << ek.unassigned.to_vector<int64_t>()[0] << " " << ek.unassigned.to_vector<int64_t>()[1] << " conflicts " << conflicts);
  REQUIRE(conflicts > 0);  // the repair was exercised
  REQUIRE(r.repaired.to_vector<int64_t>()[0] > 20);

  // Deterministic per seed; another seed pairs the leftovers differently.
  REQUIRE(models::qaad_greedy(pred, target, o).perm.to_vector<int64_t>() == perm);
  o.seed = 4;
  REQUIRE(models::qaad_greedy(pred, target, o).perm.to_vector<int64_t>() != perm);
}

TEST_CASE("qaad_greedy: bad input is named", "[qaad_greedy]") {
  const Tensor a = test::uniform({1, 64, 3}, 0.0, 1.0, 1, TensorOptions(DType::f64));
  const Tensor b = test::uniform({1, 60, 3}, 0.0, 1.0, 2, TensorOptions(DType::f64));
  REQUIRE(error_of([&] { models::qaad_greedy(a, b); }).find("same number of points") != std::string::npos);
  Tensor c = a.clone();
  c.data<double>()[5] = NAN;
  REQUIRE(error_of([&] { models::qaad_greedy(c, a); }).find("non-finite") != std::string::npos);
}
