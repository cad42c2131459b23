// Helpers shared by the tests of invertible stacks (coupling flows, PointLIE PI blocks).
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "models/nn/invertible.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "test_util.h"

namespace pg::test {

// Loss touching y and logdet with unequal weights.
inline Tensor flow_probe(const nn::FlowResult& r, uint64_t seed) {
  const Tensor v = uniform(r.y.shape(), -1, 1, seed, r.y.options());
  return add(sum(mul(r.y, v)), mul(sum(r.logdet), 0.7));
}

// Runs f on x (which requires grad) with stored activations and in reversible mode and requires
// the same x gradient, y, logdet and parameter gradients (float64: 1e-11 relative / 1e-9
// absolute; float32: relative L2 < 1e-4). Returns how many tensors were compared.
inline size_t require_reversible_grads_match(nn::InvertibleSequence& f, Tensor& x, uint64_t probe_seed) {
  auto grads = [&](bool rev) {
    f.set_reversible(rev);
    f.zero_grad();
    x.zero_grad();
    const nn::FlowResult r = f.forward(x);
    flow_probe(r, probe_seed).backward();
    std::vector<Tensor> g{x.grad(), r.y.detach(), r.logdet.detach()};
    for (const Tensor& p : f.parameters()) g.push_back(p.grad());
    return g;
  };
  const auto stored = grads(false), rev = grads(true);
  REQUIRE(stored.size() == rev.size());
  for (size_t i = 0; i < stored.size(); ++i) {
    INFO("tensor " << i << " (0: x grad, 1: y, 2: logdet, then parameter grads)");
    REQUIRE(rev[i].defined());
    REQUIRE(stored[i].defined());
    if (x.dtype() == DType::f64) {
      require_close(rev[i], stored[i], 1e-11, 1e-9);
    } else {
      REQUIRE(rel_l2(rev[i], stored[i]) < 1e-4);
    }
  }
  return stored.size();
}

}  // namespace pg::test
