// Registry entries of ops/linalg.h (matmul with 2-D, transposed, broadcast batch and 1-D
// operands; bmm; linear with and without bias) and ops/index.h (cat, stack, gather and
// index_select with repeated int64/int32 indices, scatter_add (src larger than index),
// one_hot). All smooth: no tie or kink avoidance needed.
#include <catch2/catch.hpp>

#include "ops/index.h"
#include "ops/linalg.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

using V = std::vector<Tensor>;

Sample pair(const std::string& label, const Shape& a, const Shape& b, uint64_t seed, bool strided_a = false) {
  Tensor ta = uniform64(a, -1, 1, seed);
  return {label, {strided_a ? strided(ta) : ta, uniform64(b, -1, 1, seed + 1)}};
}

const bool registered = [] {
  Registrar({.name = "matmul",
             .family = "linalg",
             .samples =
                 [] {
                   return std::vector<Sample>{pair("2-D odd", {3, 5}, {5, 7}, 401),
                                              pair("transposed a", {4, 3}, {3, 2}, 403, true),
                                              pair("broadcast batch", {2, 1, 3, 4}, {3, 4, 2}, 405),
                                              pair("shared weight", {2, 5, 3}, {3, 4}, 407),
                                              pair("shared left", {3, 4}, {2, 4, 2}, 409),
                                              pair("vector · vector", {4}, {4}, 411),
                                              pair("vector · matrix", {4}, {4, 3}, 413),
                                              pair("batch · vector", {2, 3, 4}, {4}, 415),
                                              pair("vector · batch", {4}, {2, 4, 3}, 417)};
                 },
             .fn = [](const V& x) { return V{matmul(x[0], x[1])}; },
             .differentiable = {0, 1}});
  Registrar({.name = "bmm",
             .family = "linalg",
             .samples =
                 [] {
                   return std::vector<Sample>{pair("odd", {3, 2, 5}, {3, 5, 7}, 421),
                                              pair("strided a", {2, 3, 2}, {2, 2, 3}, 423, true)};
                 },
             .fn = [](const V& x) { return V{bmm(x[0], x[1])}; },
             .differentiable = {0, 1}});
  Registrar({.name = "linear",
             .family = "linalg",
             .samples =
                 [] {
                   auto s = [](const std::string& l, const Shape& x, int64_t out, uint64_t seed, bool st = false) {
                     const int64_t in = x.back();
                     Tensor tx = uniform64(x, -1, 1, seed);
                     return Sample{l, {st ? strided(tx) : tx, uniform64({out, in}, -1, 1, seed + 1), uniform64({out}, -1, 1, seed + 2)}};
                   };
                   return std::vector<Sample>{s("2-D", {3, 4}, 5, 431), s("3-D", {2, 3, 4}, 5, 434),
                                              s("1-D", {4}, 2, 437), s("strided", {3, 4}, 2, 440, true)};
                 },
             .fn = [](const V& x) { return V{linear(x[0], x[1], x[2]), linear(x[0], x[1])}; },
             .differentiable = {0, 1, 2}});
  // ---- index ----
  Registrar({.name = "cat",
             .family = "index",
             .samples = [] { return std::vector<Sample>{pair("[2, 3] ×2", {2, 3}, {2, 3}, 451), pair("strided a", {2, 3}, {2, 3}, 453, true)}; },
             .fn = [](const V& x) { return V{cat({x[0], x[1], x[0]}, 0), cat({x[0], x[1]}, 1), cat({x[1], x[0]}, -1)}; },
             .differentiable = {0, 1}});
  Registrar({.name = "stack",
             .family = "index",
             .samples = [] { return std::vector<Sample>{pair("[2, 3] ×2", {2, 3}, {2, 3}, 455), pair("strided a", {3, 2}, {3, 2}, 457, true)}; },
             .fn = [](const V& x) { return V{stack({x[0], x[1], x[0]}, 0), stack({x[0], x[1]}, 2)}; },
             .differentiable = {0, 1}});
  Registrar({.name = "gather",
             .family = "index",
             .samples =
                 [] {
                   // values < 3 so the same index is valid along dim 0 and dim 1 of a [3, 4] input
                   Tensor i64 = from_vector<int64_t>({0, 2, 2, 1, 1, 1, 2, 0}, {2, 4});
                   Tensor i32 = from_vector<int32_t>({2, 2, 0, 1, 0, 0, 1, 2}, {2, 4});
                   return std::vector<Sample>{{"repeated int64", {uniform64({3, 4}, -1, 1, 461), i64}},
                                              {"int32, strided", {strided(uniform64({3, 4}, -1, 1, 462)), i32}}};
                 },
             .fn = [](const V& x) { return V{gather(x[0], 1, x[1]), gather(x[0], 0, x[1])}; },
             .differentiable = {0}});
  Registrar({.name = "index_select",
             .family = "index",
             .samples =
                 [] {
                   return std::vector<Sample>{{"repeated int64", {uniform64({4, 4, 5}, -1, 1, 463), from_vector<int64_t>({1, 1, 0, 3}, {4})}},
                                              {"int32, strided", {strided(uniform64({4, 5, 4}, -1, 1, 464)), from_vector<int32_t>({2, 0, 2}, {3})}}};
                 },
             .fn = [](const V& x) { return V{index_select(x[0], 0, x[1]), index_select(x[0], 1, x[1]), index_select(x[0], 2, x[1])}; },
             .differentiable = {0}});
  Registrar({.name = "scatter_add",
             .family = "index",
             .samples =
                 [] {
                   Tensor idx = from_vector<int64_t>({0, 2, 0, 1, 1, 1}, {2, 3});
                   return std::vector<Sample>{{"same extent", {uniform64({3, 4}, -1, 1, 465), idx, uniform64({2, 3}, -1, 1, 466)}},
                                              {"src larger, strided self", {strided(uniform64({4, 3}, -1, 1, 467)), idx, uniform64({3, 5}, -1, 1, 468)}}};
                 },
             .fn = [](const V& x) { return V{scatter_add(x[0], 1, x[1], x[2]), scatter_add(x[0], 0, x[1], x[2])}; },
             .differentiable = {0, 2}});
  Registrar({.name = "one_hot",
             .family = "index",
             .samples = [] { return std::vector<Sample>{{"labels", {from_vector<int64_t>({3, 0, 4, 4, 1}, {5})}}, {"2-D", {randint64({2, 3}, 6, 469)}}}; },
             .fn = [](const V& x) { return V{one_hot(x[0], 6, DType::f64), one_hot(x[0], 7, DType::f32), one_hot(x[0], 6, DType::i64)}; },
             .f64_outputs = {0}});  // the dtype is an argument, not the input's
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("linalg")
PG_REGISTRY_FAMILY("index")

}  // namespace pg::test::registry
