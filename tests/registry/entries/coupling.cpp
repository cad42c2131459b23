// Registry entries of the affine coupling op: affine_coupling (outputs y and the per-sample
// log-det) and affine_coupling_inverse, channels-last [B, N, C2] samples and a rank-2 one, a
// strided (non-contiguous) input, a clamp other than 1. s_raw spans ±3 (the sigmoid's curved
// range, plus a saturating tail) so the bounded scale and its derivative are exercised.
#include <catch2/catch.hpp>

#include "ops/affine_coupling.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

std::vector<Sample> coupling_samples() {
  auto sample = [](const std::string& label, Tensor x, uint64_t s) {
    const Shape sh = x.shape();
    return Sample{label, {x, uniform64(sh, -3, 3, s), uniform64(sh, -1, 1, s + 1)}};
  };
  return {sample("B 2, N 7, C2 3", uniform64({2, 7, 3}, -1, 1, 300), 301),
          sample("strided x2, B 3, N 4, C2 5", strided(uniform64({3, 4, 5}, -1, 1, 310)), 311),
          sample("rank 2, B 4, C 6", uniform64({4, 6}, -1, 1, 320), 321),
          sample("B 1, N 1, C2 1", uniform64({1, 1, 1}, -1, 1, 330), 331)};
}

const bool registered = [] {
  Registrar({.name = "affine_coupling",
             .covers = {"affine_coupling"},
             .family = "coupling",
             .samples = coupling_samples,
             .fn =
                 [](const std::vector<Tensor>& x) {
                   const AffineCouplingResult r = affine_coupling(x[0], x[1], x[2]);
                   return std::vector<Tensor>{r.y, r.logdet};
                 },
             .differentiable = {0, 1, 2}});
  Registrar({.name = "affine_coupling clamp 0.5",
             .covers = {"affine_coupling"},
             .family = "coupling",
             .samples = coupling_samples,
             .fn =
                 [](const std::vector<Tensor>& x) {
                   const AffineCouplingResult r = affine_coupling(x[0], x[1], x[2], 0.5);
                   return std::vector<Tensor>{r.y, r.logdet};
                 },
             .differentiable = {0, 1, 2}});
  Registrar({.name = "affine_coupling_inverse",
             .covers = {"affine_coupling_inverse"},
             .family = "coupling",
             .samples = coupling_samples,
             .fn = [](const std::vector<Tensor>& x) { return std::vector<Tensor>{affine_coupling_inverse(x[0], x[1], x[2], 1.5)}; },
             .differentiable = {0, 1, 2}});
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("coupling")

}  // namespace pg::test::registry
