// Registry entries: knn (every k bucket boundary we gradcheck cheaply, Auto and Generic paths).
// Clouds are uniform in [-1, 1]: nearest-neighbour gaps are far above the finite-difference
// step, so no selection changes under perturbation, and float32 picks the same neighbours.
#include <catch2/catch.hpp>

#include "ops/knn.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

std::vector<Sample> knn_samples() {
  return {
      {"odd sizes", {uniform64({2, 7, 3}, -1, 1, 11), uniform64({2, 13, 3}, -1, 1, 12)}},
      {"batch 1, strided query", {strided(uniform64({1, 5, 3}, -1, 1, 13)), uniform64({1, 9, 3}, -1, 1, 14)}},
      {"more queries than refs", {uniform64({3, 11, 3}, -1, 1, 15), uniform64({3, 6, 3}, -1, 1, 16)}},
  };
}

const bool registered = [] {
  for (KnnImpl impl : {KnnImpl::Auto, KnnImpl::Generic}) {
    for (int64_t k : {1, 4}) {
      const std::string path = impl == KnnImpl::Auto ? "auto" : "generic";
      Registrar({.name = "knn k=" + std::to_string(k) + " " + path,
                 .covers = {"knn"},
                 .family = "knn",
                 .samples = knn_samples,
                 .fn =
                     [=](const std::vector<Tensor>& x) {
                       KnnOptions o;
                       o.impl = impl;
                       const KnnResult r = knn(x[0], x[1], k, o);
                       return std::vector<Tensor>{r.dist2, r.idx};
                     },
                 .differentiable = {0, 1},
                 .grad_outputs = {0},
                 .grad_atol = 1e-7,
                 .grad_rtol = 1e-5});
    }
  }
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("knn")

}  // namespace pg::test::registry
