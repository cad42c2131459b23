// gradcheck (float64, CPU, central differences) for every differentiable elementwise op, with
// broadcast and non-contiguous operands. Inputs stay away from kinks and ties: relu/abs/selu/
// leaky_relu inputs are bounded away from 0, clamp inputs away from the bounds, softplus inputs
// away from its threshold, log/sqrt/pow bases positive, divisors away from 0, and
// maximum/minimum operands separated by a gap far above the finite-difference step.
#include <catch2/catch.hpp>
#include <vector>

#include "test_util.h"

using namespace pg;
using pg::test::check_grad;
using pg::test::leaf64;

namespace {

using In = std::vector<Tensor>;

// Float64 leaf with |x| in [lo, hi] and alternating signs (never near 0).
Tensor signed_leaf(const Shape& shape, double lo, double hi, uint64_t seed) {
  auto v = pg::test::uniform(shape, lo, hi, seed, TensorOptions(DType::f64)).to_vector<double>();
  for (size_t i = 0; i < v.size(); ++i) {
    if (i % 2 == 1) v[i] = -v[i];
  }
  Tensor t = from_vector(v, shape);
  t.requires_grad_(true);
  return t;
}

// Float64 leaf with the given values.
Tensor leaf_of(const std::vector<double>& v, const Shape& shape) {
  Tensor t = from_vector(v, shape);
  t.requires_grad_(true);
  return t;
}

}  // namespace

TEST_CASE("gradcheck: add and sub", "[elementwise][gradcheck]") {
  Tensor a = leaf64({2, 3}, -1, 1, 1), b = leaf64({2, 3}, -1, 1, 2);
  check_grad([](const In& in) { return add(in[0], in[1]); }, {a, b});
  check_grad([](const In& in) { return add(in[0], in[1], 2.5); }, {a, b});
  check_grad([](const In& in) { return sub(in[0], in[1]); }, {a, b});
  check_grad([](const In& in) { return sub(in[0], in[1], -0.75); }, {a, b});
  check_grad([](const In& in) { return in[0] + in[1] - in[0] * 2.0; }, {a, b});
  // broadcasting: [2,3] + [3], [4,1] - [1,3], scalar tensors
  Tensor r = leaf64({3}, -1, 1, 3), c = leaf64({4, 1}, -1, 1, 4), l = leaf64({1, 3}, -1, 1, 5);
  Tensor s = leaf64({}, -1, 1, 6);
  check_grad([](const In& in) { return add(in[0], in[1]); }, {a, r});
  check_grad([](const In& in) { return add(in[1], in[0], 0.5); }, {a, r});
  check_grad([](const In& in) { return sub(in[0], in[1], 1.5); }, {c, l});
  check_grad([](const In& in) { return sub(in[0], in[1]); }, {s, a});
}

TEST_CASE("gradcheck: mul and div", "[elementwise][gradcheck]") {
  Tensor a = leaf64({3, 4}, -1, 1, 11), b = leaf64({3, 4}, -1, 1, 12);
  Tensor d = signed_leaf({3, 4}, 0.5, 2.0, 13);
  check_grad([](const In& in) { return mul(in[0], in[1]); }, {a, b});
  check_grad([](const In& in) { return mul(in[0], in[0]); }, {a});
  check_grad([](const In& in) { return div(in[0], in[1]); }, {a, d});
  // broadcasting [2,1,3] * [4,1], [3,4] / [4]
  Tensor x = leaf64({2, 1, 3}, -1, 1, 14), y = leaf64({4, 1}, -1, 1, 15);
  Tensor row = signed_leaf({4}, 0.5, 2.0, 16);
  check_grad([](const In& in) { return mul(in[0], in[1]); }, {x, y});
  check_grad([](const In& in) { return div(in[0], in[1]); }, {a, row});
  check_grad([](const In& in) { return div(in[1], in[0]); }, {row, leaf64({2, 4}, -1, 1, 17)});
  // non-contiguous operands
  check_grad([](const In& in) { return mul(in[0].t(), in[1]); }, {a, leaf64({4, 3}, -1, 1, 18)});
  check_grad([](const In& in) { return div(in[0].slice(1, 0, 4, 2), in[1].t()); },
             {a, signed_leaf({2, 3}, 0.5, 2.0, 19)});
}

TEST_CASE("gradcheck: pow (tensor, tensor)", "[elementwise][gradcheck]") {
  Tensor a = leaf64({3, 4}, 0.5, 2.0, 21), b = leaf64({3, 4}, -1.5, 1.5, 22);
  check_grad([](const In& in) { return pow(in[0], in[1]); }, {a, b});
  Tensor e = leaf64({4}, -1.5, 2.5, 23), base = leaf64({2, 1, 4}, 0.5, 2.0, 24);
  check_grad([](const In& in) { return pow(in[0], in[1]); }, {base, e});
  check_grad([](const In& in) { return pow(in[0], in[1]); }, {leaf64({3, 1}, 0.5, 2.0, 25), e});
}

TEST_CASE("gradcheck: maximum and minimum", "[elementwise][gradcheck]") {
  // b = a ± a gap of at least 0.1 (random sign) so no pair is within the step of a tie.
  Tensor a = leaf64({3, 5}, -1, 1, 31);
  auto av = a.to_vector<double>();
  auto offs = pg::test::uniform({3, 5}, 0.1, 0.5, 32, TensorOptions(DType::f64)).to_vector<double>();
  for (size_t i = 0; i < av.size(); ++i) av[i] += (i % 3 == 0 ? -offs[i] : offs[i]);
  Tensor b = leaf_of(av, {3, 5});
  check_grad([](const In& in) { return maximum(in[0], in[1]); }, {a, b});
  check_grad([](const In& in) { return minimum(in[0], in[1]); }, {a, b});
  // broadcasting: [3,5] vs [5] with values well separated from a
  Tensor r = leaf_of({-2.0, 2.0, 0.35, -0.45, 3.0}, {5});
  Tensor a2 = leaf_of({-0.9, 0.1, 0.8, -0.2, 0.5, 0.0, 0.6, -0.7, 0.25, 0.95, -0.55, 0.7, 0.05, -0.1, 0.15}, {3, 5});
  check_grad([](const In& in) { return maximum(in[0], in[1]); }, {a2, r});
  check_grad([](const In& in) { return minimum(in[1], in[0]); }, {a2, r});
}

TEST_CASE("gradcheck: scalar variants", "[elementwise][gradcheck]") {
  Tensor a = leaf64({2, 5}, -1, 1, 41);
  Tensor p = leaf64({2, 5}, 0.5, 2.0, 42);
  Tensor nz = signed_leaf({2, 5}, 0.5, 2.0, 43);
  check_grad([](const In& in) { return add(in[0], 1.5); }, {a});
  check_grad([](const In& in) { return sub(in[0], 0.5); }, {a});
  check_grad([](const In& in) { return rsub(2.0, in[0]); }, {a});
  check_grad([](const In& in) { return mul(in[0], -3.0); }, {a});
  check_grad([](const In& in) { return div(in[0], 4.0); }, {a});
  check_grad([](const In& in) { return rdiv(2.0, in[0]); }, {nz});
  check_grad([](const In& in) { return 3.0 - in[0] / 2.0 + 1.0 / in[0]; }, {nz});
  for (double e : {2.0, 3.0, 1.0, 0.5, -1.5, 2.7}) {
    INFO("exponent " << e);
    check_grad([e](const In& in) { return pow(in[0], e); }, {p});
  }
  // exponent 0: constant output, zero gradient (checked against the numeric zero)
  check_grad([](const In& in) { return add(pow(in[0], 0.0), in[0]); }, {p});
  // integer exponents work for negative bases
  check_grad([](const In& in) { return pow(in[0], 3.0); }, {nz});
}

TEST_CASE("gradcheck: unary math", "[elementwise][gradcheck]") {
  Tensor a = leaf64({3, 4}, -2, 2, 51);
  Tensor p = leaf64({3, 4}, 0.2, 3.0, 52);
  Tensor nz = signed_leaf({3, 4}, 0.2, 2.0, 53);
  check_grad([](const In& in) { return neg(in[0]); }, {a});
  check_grad([](const In& in) { return exp(in[0]); }, {a});
  check_grad([](const In& in) { return log(in[0]); }, {p});
  check_grad([](const In& in) { return sqrt(in[0]); }, {p});
  check_grad([](const In& in) { return abs(in[0]); }, {nz});
  check_grad([](const In& in) { return square(in[0]); }, {a});
  check_grad([](const In& in) { return -in[0]; }, {a});
  // through non-contiguous views
  check_grad([](const In& in) { return exp(in[0].t()); }, {a});
  check_grad([](const In& in) { return log(in[0].slice(1, 1, 4, 2)); }, {p});
}

TEST_CASE("gradcheck: clamp", "[elementwise][gradcheck]") {
  // values at least 0.05 away from the bounds -0.5 and 0.5
  Tensor x = leaf_of({-1.2, -0.7, -0.3, 0.1, 0.45, 0.6, 0.9, -0.05, 0.3, -0.42, 1.5, -2.0}, {3, 4});
  check_grad([](const In& in) { return clamp(in[0], -0.5, 0.5); }, {x});
  check_grad([](const In& in) { return clamp_min(in[0], -0.5); }, {x});
  check_grad([](const In& in) { return clamp_max(in[0], 0.5); }, {x});
  check_grad([](const In& in) { return clamp(in[0].t(), -0.5, 0.5); }, {x});
}

TEST_CASE("gradcheck: activations", "[elementwise][gradcheck]") {
  Tensor a = leaf64({3, 4}, -3, 3, 61);
  Tensor nz = signed_leaf({3, 4}, 0.1, 2.5, 62);
  check_grad([](const In& in) { return relu(in[0]); }, {nz});
  check_grad([](const In& in) { return leaky_relu(in[0]); }, {nz});
  check_grad([](const In& in) { return leaky_relu(in[0], 0.2); }, {nz});
  check_grad([](const In& in) { return selu(in[0]); }, {nz});
  check_grad([](const In& in) { return sigmoid(in[0]); }, {a});
  check_grad([](const In& in) { return tanh(in[0]); }, {a});
  check_grad([](const In& in) { return softplus(in[0]); }, {a});
  check_grad([](const In& in) { return softplus(in[0], 2.0); }, {a});
  // both sides of the threshold (beta*x = 20): x = 12 (linear) and x = 9 (log form) for beta 2
  Tensor th = leaf_of({12.0, 9.0, 11.5, -4.0, 8.0, 10.5}, {2, 3});
  check_grad([](const In& in) { return softplus(in[0], 2.0, 20.0); }, {th});
  // large magnitudes: the overflow-free sigmoid keeps the gradient finite
  Tensor big = signed_leaf({2, 3}, 20.0, 40.0, 63);
  check_grad([](const In& in) { return sigmoid(in[0]); }, {big});
  check_grad([](const In& in) { return relu(in[0].t()); }, {nz});
  check_grad([](const In& in) { return sigmoid(in[0].slice(0, 0, 3, 2)); }, {a});
}

TEST_CASE("gradcheck: where", "[elementwise][gradcheck]") {
  Tensor a = leaf64({3, 4}, -1, 1, 71), b = leaf64({3, 4}, -1, 1, 72);
  const Tensor cond = gt(pg::test::uniform({3, 4}, -1, 1, 73), 0.0);
  check_grad([cond](const In& in) { return where(cond, in[0], in[1]); }, {a, b});
  // broadcasting: cond [3,1], a [4], b scalar
  const Tensor c2 = gt(tensor({1, -1, 1}, {3, 1}), 0.0);
  Tensor r = leaf64({4}, -1, 1, 74), s = leaf64({}, -1, 1, 75);
  check_grad([c2](const In& in) { return where(c2, in[0], in[1]); }, {r, s});
  check_grad([c2](const In& in) { return where(c2, in[1], in[0]); }, {a, s});
}

TEST_CASE("gradcheck: compositions", "[elementwise][gradcheck]") {
  Tensor x = leaf64({4, 3}, -1, 1, 81), w = leaf64({3}, -1, 1, 82), bias = leaf64({1, 3}, -1, 1, 83);
  check_grad([](const In& in) { return sigmoid(in[0] * in[1] + in[2]); }, {x, w, bias});
  check_grad([](const In& in) { return tanh(softplus(in[0]) - square(in[1])) / (exp(in[2]) + 1.0); }, {x, w, bias});
  check_grad([](const In& in) { return sqrt(square(in[0]) + 1.0) * selu(in[1] + 2.0); }, {x, w});
}
