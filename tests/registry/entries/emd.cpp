// Registry entries: emd (Default, Bijective, MSN), emd_dist_from_assignment (including a
// non-injective map: scatter sums), emd_exact_assignment, emkd, and the LSAP oracle
// (linear_sum_assignment, lsap_cost). Tie avoidance: x2 is a shuffled copy of a well-separated
// x1 (grid spacing 0.5) jittered by ≤ 0.03, so the optimal matching is unique by a wide margin
// and neither a finite-difference step nor float32 rounding changes any assignment.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <random>

#include "ops/emd.h"
#include "ops/emkd.h"
#include "ops/lsap.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

// B clouds of n ≤ 27 grid points (spacing 0.5, jitter 0.05) and a shuffled, jittered copy; with
// `clusters` the three z-layers of 9 points are moved 10 apart along x (k-d leaves of 9).
Sample separated_pair(const std::string& label, int64_t B, int64_t n, uint64_t seed, bool clusters = false) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> J(-1.0, 1.0);
  std::vector<double> a(B * n * 3), b(B * n * 3);
  for (int64_t c = 0; c < B; ++c) {
    std::vector<int64_t> perm(n);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t g[3] = {j % 3, (j / 3) % 3, j / 9};
      for (int t = 0; t < 3; ++t) a[3 * (c * n + j) + t] = 0.5 * g[t] + 0.05 * J(rng);
      if (clusters) a[3 * (c * n + j)] += 10.0 * static_cast<double>(j / 9);
    }
    for (int64_t j = 0; j < n; ++j) {
      for (int t = 0; t < 3; ++t) b[3 * (c * n + perm[j]) + t] = a[3 * (c * n + j) + t] + 0.03 * J(rng);
    }
  }
  return {label, {from_vector(a, {B, n, 3}), from_vector(b, {B, n, 3})}};
}

std::vector<Sample> emd_samples() {
  Sample s = separated_pair("strided x1", 1, 9, 33);
  s.inputs[0] = strided(s.inputs[0]);
  return {separated_pair("odd n, batch 2", 2, 13, 31), separated_pair("n 18", 1, 18, 32), s};
}

std::vector<Tensor> emd_outputs(const EmdResult& r) { return {r.dist, r.assignment, r.unassigned}; }

const bool registered = [] {
  const std::pair<const char*, EmdOptions> modes[] = {
      {"default", EmdOptions{}}, {"bijective", EmdOptions::bijective()}, {"msn", EmdOptions::msn(0.01, 200)}};
  for (const auto& [mode, opts] : modes) {
    const EmdOptions o = opts;
    Registrar({.name = std::string("emd ") + mode,
               .covers = {"emd"},
               .family = "emd",
               .samples = emd_samples,
               .fn = [o](const std::vector<Tensor>& x) { return emd_outputs(emd(x[0], x[1], o)); },
               .differentiable = {0, 1},
               .grad_outputs = {0},
               .grad_atol = 1e-7,
               .grad_rtol = 1e-5});
  }
  Registrar({.name = "emd_dist_from_assignment",
             .family = "emd",
             .samples =
                 [] {
                   Tensor a = from_vector(std::vector<int64_t>{0, 0, 0, 3, 6, 6, 2, 1, 1, 5, 4, 4, 4, 0}, {2, 7});
                   return std::vector<Sample>{
                       {"non-injective map", {uniform64({2, 7, 3}, -1, 1, 34), uniform64({2, 7, 3}, -1, 1, 35), a}},
                       {"strided x2", {uniform64({2, 7, 3}, -1, 1, 36), strided(uniform64({2, 7, 3}, -1, 1, 37)), a}},
                   };
                 },
             .fn = [](const std::vector<Tensor>& x) { return std::vector<Tensor>{emd_dist_from_assignment(x[0], x[1], x[2])}; },
             .differentiable = {0, 1},
             .grad_atol = 1e-7,
             .grad_rtol = 1e-5});
  Registrar({.name = "emd_exact_assignment",
             .family = "emd",
             .samples = [] { return std::vector<Sample>{separated_pair("odd n", 2, 11, 38), separated_pair("n 1", 1, 1, 39)}; },
             .fn = [](const std::vector<Tensor>& x) { return std::vector<Tensor>{emd_exact_assignment(x[0], x[1])}; },
             .cuda = false});
  Registrar({.name = "emkd leaf 9",
             .covers = {"emkd"},
             .family = "emd",
             .samples =
                 [] {
                   return std::vector<Sample>{separated_pair("two clusters", 1, 18, 40, true),
                                              separated_pair("three clusters, batch 2", 2, 27, 41, true)};
                 },
             .fn =
                 [](const std::vector<Tensor>& x) {
                   EmkdOptions o;
                   o.leaf_size = 9;
                   const EmkdResult r = emkd(x[0], x[1], o);
                   return std::vector<Tensor>{r.value, r.dist, r.assignment, r.unassigned, r.order1, r.order2};
                 },
             .differentiable = {0, 1},
             .grad_outputs = {1},
             .grad_atol = 1e-7,
             .grad_rtol = 1e-5});
  // LSAP: random costs have a unique optimum with probability one; lsap_cost is evaluated at the
  // optimum found for the same cost (float64 sums either way, so f32 differs by input rounding).
  auto lsap_samples = [] {
    return std::vector<Sample>{{"odd n", {uniform64({7, 7}, 0, 1, 42)}},
                               {"batched", {uniform64({3, 5, 5}, 0, 1, 43)}},
                               {"strided", {strided(uniform64({2, 6, 6}, 0, 1, 44))}}};
  };
  Registrar({.name = "linear_sum_assignment",
             .covers = {"linear_sum_assignment", "lsap_cost"},
             .family = "emd",
             .samples = lsap_samples,
             .fn =
                 [](const std::vector<Tensor>& x) {
                   Tensor a = linear_sum_assignment(x[0]);
                   return std::vector<Tensor>{a, lsap_cost(x[0], a)};
                 },
             .f32_atol = 1e-6,
             .cuda = false,
             .f64_outputs = {1}});
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("emd")

}  // namespace pg::test::registry
