// Registry entries of ops/reduce.h (sum, mean, logsumexp (incl. large magnitudes), max/min along
// a dim and over all elements, argmax/argmin, sum_to_shape) and ops/view.h (every view, copy and
// conversion). max/min/argmax/argmin inputs are spread: distinct values ≥ 1/(2·numel) apart, so
// no extremum is tied and no finite-difference step switches the winner.
#include <catch2/catch.hpp>

#include "ops/reduce.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

using V = std::vector<Tensor>;

std::vector<Sample> cube_samples() {
  return {{"[4, 5, 3]", {spread64({4, 5, 3}, -1, 1, 501)}},
          {"strided [3, 7, 2]", {strided(spread64({3, 2, 7}, -1, 1, 502))}},
          {"[2, 3, 33]", {spread64({2, 3, 33}, -1, 1, 503)}}};
}

void reduce_entry(const std::string& name, const std::string& covers, std::function<V(const Tensor&)> f, bool grad = true,
                  std::function<std::vector<Sample>()> samples = cube_samples) {
  Registrar({.name = name,
             .covers = {covers},
             .family = "reduce",
             .samples = std::move(samples),
             .fn = [f](const V& x) { return f(x[0]); },
             .differentiable = grad ? std::vector<int>{0} : std::vector<int>{}});
}

void view_entry(const std::string& name, std::function<V(const Tensor&)> f, bool grad = true) {
  Registrar({.name = name,
             .family = "view",
             .samples =
                 [] {
                   return std::vector<Sample>{{"[2, 3, 4]", {uniform64({2, 3, 4}, -1, 1, 511)}},
                                              {"strided [2, 4, 3]", {strided(uniform64({2, 3, 4}, -1, 1, 512))}}};
                 },
             .fn = [f](const V& x) { return f(x[0]); },
             .differentiable = grad ? std::vector<int>{0} : std::vector<int>{}});
}

const bool registered = [] {
  reduce_entry("sum", "sum", [](const Tensor& x) { return V{sum(x), sum(x, {1}), sum(x, {0, 2}, true), sum(x, {-1, 0})}; });
  reduce_entry("mean", "mean", [](const Tensor& x) { return V{mean(x), mean(x, {2}), mean(x, {0, 1}, true)}; });
  reduce_entry("logsumexp", "logsumexp", [](const Tensor& x) { return V{logsumexp(x, {1}), logsumexp(x, {0, 2}, true), logsumexp(x, {})}; });
  reduce_entry("logsumexp large magnitudes", "logsumexp", [](const Tensor& x) { return V{logsumexp(x, {1})}; }, true,
               [] { return std::vector<Sample>{{"[2, 6] in [500, 510)", {uniform64({2, 6}, 500, 510, 504)}}}; });
  reduce_entry("max", "max", [](const Tensor& x) { return V{max(x, 1), max(x, -1, true), max(x)}; });
  reduce_entry("min", "min", [](const Tensor& x) { return V{min(x, 0), min(x, 2, true), min(x)}; });
  reduce_entry("argmax", "argmax", [](const Tensor& x) { return V{argmax(x, 1), argmax(x, 0, true)}; }, false);
  reduce_entry("argmin", "argmin", [](const Tensor& x) { return V{argmin(x, 2), argmin(x, -2, true)}; }, false);
  reduce_entry("sum_to_shape", "sum_to_shape", [](const Tensor& x) {
    const int64_t c = x.size(1), d = x.size(2);
    return V{sum_to_shape(x, {c, 1}), sum_to_shape(x, {d}), sum_to_shape(x, {x.size(0), 1, d}), sum_to_shape(x, {})};
  });
  // ---- views and copies ----
  view_entry("reshape", [](const Tensor& x) { return V{reshape(x, {6, -1}), reshape(x, {-1})}; });
  view_entry("view", [](const Tensor& x) { return V{view(contiguous(x), {x.size(0), -1})}; });
  view_entry("permute", [](const Tensor& x) { return V{permute(x, {2, 0, 1})}; });
  view_entry("transpose", [](const Tensor& x) { return V{transpose(x, 0, 2)}; });
  view_entry("slice", [](const Tensor& x) { return V{slice(x, 1, 0, 3, 2), slice(x, -1, -2, 100)}; });
  view_entry("select", [](const Tensor& x) { return V{select(x, 1, 1), select(x, 0, -1)}; });
  view_entry("expand", [](const Tensor& x) { return V{expand(unsqueeze(x, 1), {-1, 3, -1, -1})}; });
  view_entry("squeeze", [](const Tensor& x) { return V{squeeze(unsqueeze(x, 2), 2), squeeze(unsqueeze(x, 0))}; });
  view_entry("unsqueeze", [](const Tensor& x) { return V{unsqueeze(x, -1)}; });
  view_entry("flatten", [](const Tensor& x) { return V{flatten(x), flatten(x, 1)}; });
  view_entry("contiguous", [](const Tensor& x) { return V{contiguous(x)}; });
  view_entry("clone", [](const Tensor& x) { return V{clone(x)}; });
  view_entry("to", [](const Tensor& x) { return V{to(x, x.dtype(), x.device()), to(x, DType::i64, x.device())}; }, false);
  // In place and not differentiable: write into fresh tensors and return them.
  view_entry("copy_into", [](const Tensor& x) {
    Tensor dst = zeros(x.shape(), x.options());
    copy_into(dst, x);
    return V{dst};
  }, false);
  view_entry("copy_", [](const Tensor& x) {
    Tensor dst = zeros({2, x.size(0), x.size(1), x.size(2)}, x.options());  // broadcast src
    copy_(dst, x);
    Tensor dst64 = zeros(x.shape(), TensorOptions(DType::f64, x.device()));  // converts dtype
    copy_(dst64, x);
    return V{dst, dst64};
  }, false);
  entries().back().f64_outputs = {1};
  view_entry("fill_", [](const Tensor& x) {
    Tensor dst = empty(x.shape(), x.options());
    fill_(dst, -2.5);
    Tensor part = zeros(x.shape(), x.options());
    fill_(slice(part, 1, 0, 2), 1.25);  // a strided destination
    return V{dst, part};
  }, false);
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("reduce")
PG_REGISTRY_FAMILY("view")

}  // namespace pg::test::registry
