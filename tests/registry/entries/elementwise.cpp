// Registry entries of ops/elementwise.h: every binary op (same shape, broadcast, strided),
// scalar variant, unary math op, activation, comparison and where. Kink/tie avoidance: inputs
// are spread (distinct values ≥ step/4 from every grid point, so ≥ 0.08 from 0 and from the
// clamp bounds ±0.5), log/sqrt/pow/div see positive inputs in [0.5, 2], softplus inputs stay
// far below its threshold, and maximum/minimum operands come from independent spreads.
#include <catch2/catch.hpp>

#include "ops/elementwise.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

using V = std::vector<Tensor>;
using Unary = std::function<Tensor(const Tensor&)>;
using Binary = std::function<Tensor(const Tensor&, const Tensor&)>;

std::vector<Sample> signed_samples() {
  return {{"odd [3, 5]", {spread64({3, 5}, -2, 2, 301)}},
          {"strided [4, 6]", {strided(spread64({4, 6}, -2, 2, 302))}},
          {"[2, 3, 7]", {spread64({2, 3, 7}, -2, 2, 303)}}};
}
std::vector<Sample> positive_samples() {
  return {{"odd [3, 5]", {uniform64({3, 5}, 0.5, 2, 304)}},
          {"strided [4, 6]", {strided(uniform64({4, 6}, 0.5, 2, 305))}}};
}
std::vector<Sample> pair_samples(double lo, double hi) {
  return {{"same shape [3, 5]", {uniform64({3, 5}, lo, hi, 306), uniform64({3, 5}, lo, hi, 307)}},
          {"broadcast [2, 3, 4] with [4]", {uniform64({2, 3, 4}, lo, hi, 308), uniform64({4}, lo, hi, 309)}},
          {"broadcast [3, 1] with [1, 5], strided", {strided(uniform64({1, 3}, lo, hi, 310)).reshape({3, 1}),
                                                      uniform64({1, 5}, lo, hi, 311)}},
          {"strided both", {strided(uniform64({4, 3}, lo, hi, 312)), strided(uniform64({4, 3}, lo, hi, 313))}}};
}

void unary(const std::string& name, Unary f, bool positive, bool grad = true) {
  Registrar({.name = name,
             .covers = {name},
             .family = "elementwise",
             .samples = positive ? positive_samples : signed_samples,
             .fn = [f](const V& x) { return V{f(x[0])}; },
             .differentiable = grad ? std::vector<int>{0} : std::vector<int>{}});
}

void binary(const std::string& name, Binary f, double lo, double hi, bool grad = true) {
  Registrar({.name = name,
             .covers = {name},
             .family = "elementwise",
             .samples = [lo, hi] { return pair_samples(lo, hi); },
             .fn = [f](const V& x) { return V{f(x[0], x[1])}; },
             .differentiable = grad ? std::vector<int>{0, 1} : std::vector<int>{}});
}

void scalar(const std::string& entry, const std::string& covers, Unary f, bool positive) {
  Registrar({.name = entry,
             .covers = {covers},
             .family = "elementwise",
             .samples = positive ? positive_samples : signed_samples,
             .fn = [f](const V& x) { return V{f(x[0])}; },
             .differentiable = {0}});
}

const bool registered = [] {
  binary("add", [](const Tensor& a, const Tensor& b) { return add(a, b, 0.7); }, -1, 1);
  binary("sub", [](const Tensor& a, const Tensor& b) { return sub(a, b, 1.3); }, -1, 1);
  binary("mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }, -1, 1);
  binary("div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, 0.5, 2);
  Registrar({.name = "div negative divisor",
             .covers = {"div"},
             .family = "elementwise",
             .samples = [] { return pair_samples(-2, -0.5); },
             .fn = [](const V& x) { return V{div(x[0], x[1])}; },
             .differentiable = {0, 1}});
  binary("pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5, 2);
  binary("maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }, -1, 1);
  binary("minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }, -1, 1);
  binary("lt", [](const Tensor& a, const Tensor& b) { return lt(a, b); }, -1, 1, false);
  binary("le", [](const Tensor& a, const Tensor& b) { return le(a, b); }, -1, 1, false);
  binary("gt", [](const Tensor& a, const Tensor& b) { return gt(a, b); }, -1, 1, false);
  binary("ge", [](const Tensor& a, const Tensor& b) { return ge(a, b); }, -1, 1, false);
  // eq / ne need equal elements: b copies a where a > 0 (exact copies survive float32 conversion).
  for (const char* nm : {"eq", "ne"}) {
    const bool is_eq = std::string(nm) == "eq";
    Registrar({.name = nm,
               .family = "elementwise",
               .samples =
                   [] {
                     auto a = uniform64({4, 5}, -1, 1, 314).to_vector<double>();
                     auto b = uniform64({4, 5}, -1, 1, 315).to_vector<double>();
                     for (size_t i = 0; i < a.size(); ++i) {
                       if (a[i] > 0) b[i] = a[i];
                     }
                     Tensor ta = from_vector(a, {4, 5}), tb = from_vector(b, {4, 5});
                     return std::vector<Sample>{{"half equal", {ta, tb}}, {"strided", {strided(ta), strided(tb)}}};
                   },
               .fn = [is_eq](const V& x) { return V{is_eq ? eq(x[0], x[1]) : ne(x[0], x[1])}; }});
  }
  Registrar({.name = "where",
             .family = "elementwise",
             .samples =
                 [] {
                   Tensor c = gt(uniform64({3, 5}, -1, 1, 316), 0.0);
                   return std::vector<Sample>{
                       {"same shape", {c, uniform64({3, 5}, -1, 1, 317), uniform64({3, 5}, -1, 1, 318)}},
                       {"broadcast b, strided a", {c, strided(uniform64({5, 3}, -1, 1, 319)).reshape({3, 5}),
                                                   uniform64({5}, -1, 1, 320)}},
                       {"broadcast cond [3, 1], a [4], b 0-dim", {gt(from_vector<double>({1, -1, 1}, {3, 1}), 0.0),
                                                                  uniform64({4}, -1, 1, 321), uniform64({}, -1, 1, 322)}}};
                 },
             .fn = [](const V& x) { return V{where(x[0], x[1], x[2])}; },
             .differentiable = {1, 2}});
  // scalar variants
  scalar("add scalar", "add", [](const Tensor& a) { return add(a, 0.3); }, false);
  scalar("sub scalar", "sub", [](const Tensor& a) { return sub(a, 0.3); }, false);
  scalar("rsub", "rsub", [](const Tensor& a) { return rsub(0.3, a); }, false);
  scalar("mul scalar", "mul", [](const Tensor& a) { return mul(a, -1.7); }, false);
  scalar("div scalar", "div", [](const Tensor& a) { return div(a, 3.0); }, false);
  scalar("rdiv", "rdiv", [](const Tensor& a) { return rdiv(2.0, a); }, true);
  for (double e : {2.0, 3.0, 1.0, 0.5, -1.5, 2.7, 0.0}) {
    scalar("pow scalar " + std::to_string(e), "pow", [e](const Tensor& a) { return pow(a, e); }, true);
  }
  // integer exponents accept negative bases
  scalar("pow scalar 3 signed base", "pow", [](const Tensor& a) { return pow(a, 3.0); }, false);
  unary("gt scalar", [](const Tensor& a) { return gt(a, 0.1); }, false, false);
  entries().back().covers = {"gt"};
  unary("lt scalar", [](const Tensor& a) { return lt(a, 0.1); }, false, false);
  entries().back().covers = {"lt"};
  // unary
  unary("neg", [](const Tensor& a) { return neg(a); }, false);
  unary("exp", [](const Tensor& a) { return exp(a); }, false);
  unary("log", [](const Tensor& a) { return log(a); }, true);
  unary("sqrt", [](const Tensor& a) { return sqrt(a); }, true);
  unary("abs", [](const Tensor& a) { return abs(a); }, false);
  unary("square", [](const Tensor& a) { return square(a); }, false);
  unary("sign", [](const Tensor& a) { return sign(a); }, false, false);
  unary("clamp", [](const Tensor& a) { return clamp(a, -0.5, 0.5); }, false);
  unary("clamp_min", [](const Tensor& a) { return clamp_min(a, -0.5); }, false);
  unary("clamp_max", [](const Tensor& a) { return clamp_max(a, 0.5); }, false);
  unary("relu", [](const Tensor& a) { return relu(a); }, false);
  unary("leaky_relu", [](const Tensor& a) { return leaky_relu(a, 0.2); }, false);
  unary("selu", [](const Tensor& a) { return selu(a); }, false);
  unary("sigmoid", [](const Tensor& a) { return sigmoid(a); }, false);
  unary("tanh", [](const Tensor& a) { return tanh(a); }, false);
  unary("softplus", [](const Tensor& a) { return softplus(a, 1.5, 20.0); }, false);
  // both sides of softplus's threshold (beta·x = 20 at x = 10 for beta 2), ≥ 0.5 away from it
  Registrar({.name = "softplus threshold",
             .covers = {"softplus"},
             .family = "elementwise",
             .samples = [] { return std::vector<Sample>{{"around x = 10", {from_vector<double>({12.0, 9.0, 11.5, -4.0, 8.0, 10.5}, {2, 3})}}}; },
             .fn = [](const V& x) { return V{softplus(x[0], 2.0, 20.0)}; },
             .differentiable = {0}});
  // large magnitudes: the overflow-free sigmoid keeps value and gradient finite
  Registrar({.name = "sigmoid large magnitudes",
             .covers = {"sigmoid"},
             .family = "elementwise",
             .samples = [] { return std::vector<Sample>{{"|x| in [20, 40]", {from_vector<double>({25.0, -31.0, 38.5, -22.0, 20.5, -39.0}, {2, 3})}}}; },
             .fn = [](const V& x) { return V{sigmoid(x[0])}; },
             .differentiable = {0}});
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("elementwise")

}  // namespace pg::test::registry
