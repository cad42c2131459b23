// gradcheck (float64, CPU) of op CHAINS: the per-op checks live in the op registry
// (tests/registry); these check that gradients compose through several differentiable ops,
// broadcasting and reductions in one graph (the chain rule across nodes, which a single-op
// entry does not exercise).
#include <catch2/catch.hpp>
#include <vector>

#include "test_util.h"

using namespace pg;
using pg::test::check_grad;
using pg::test::leaf64;

namespace {
using In = std::vector<Tensor>;
}  // namespace

TEST_CASE("gradcheck: elementwise compositions with broadcasting", "[elementwise][gradcheck]") {
  Tensor x = leaf64({4, 3}, -1, 1, 81), w = leaf64({3}, -1, 1, 82), bias = leaf64({1, 3}, -1, 1, 83);
  check_grad([](const In& in) { return sigmoid(in[0] * in[1] + in[2]); }, {x, w, bias});
  check_grad([](const In& in) { return tanh(softplus(in[0]) - square(in[1])) / (exp(in[2]) + 1.0); }, {x, w, bias});
  check_grad([](const In& in) { return sqrt(square(in[0]) + 1.0) * selu(in[1] + 2.0); }, {x, w});
  // the same input on both sides of one op and through operators
  check_grad([](const In& in) { return in[0] + in[1] - in[0] * 2.0; }, {x, bias});
  check_grad([](const In& in) { return mul(in[0], in[0]); }, {x});
  check_grad([](const In& in) { return 3.0 - in[0] / 2.0 + 1.0 / (in[0] + 2.0); }, {x});
}

TEST_CASE("gradcheck: reductions chained (sum of max, mean of logsumexp)", "[reduce][gradcheck]") {
  Tensor x = leaf64({3, 6}, -2.0, 2.0, 108);
  check_grad([](const In& in) { return sum(max(in[0], 1, true), {0}); }, {x});
  check_grad([](const In& in) { return mean(logsumexp(in[0], {0}), {0}); }, {x});
  check_grad([](const In& in) { return max(in[0].permute({1, 0}), 1); }, {x});
}

TEST_CASE("gradcheck: nll_loss after log_softmax, kl_div of two log_softmax", "[nn][gradcheck]") {
  Tensor target = from_vector<int64_t>({2, 0, 4, 1, 4}, {5});
  check_grad([&](const In& in) { return nll_loss(log_softmax(in[0], 1), target); }, {leaf64({5, 6}, -3, 3, 12)});
  check_grad([](const In& in) { return kl_div(log_softmax(in[0], 1), log_softmax(in[1], 1), Reduction::batchmean, true); },
             {leaf64({3, 4}, -1, 1, 23), leaf64({3, 4}, -1, 1, 24)});
}
