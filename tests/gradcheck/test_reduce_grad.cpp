// gradcheck (float64, CPU, central differences) for the differentiable reductions. Max/min
// inputs are continuous random values (no ties, gaps far above the finite-difference step).
#include <catch2/catch.hpp>

#include "test_util.h"

using namespace pg;
using pg::test::check_grad;
using pg::test::leaf64;

TEST_CASE("gradcheck: sum", "[reduce][gradcheck]") {
  Tensor x = leaf64({3, 4, 5}, -1.0, 1.0, 101);
  check_grad([](const std::vector<Tensor>& in) { return sum(in[0]); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return sum(in[0], {1}); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return sum(in[0], {0, 2}, true); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return sum(in[0], {-1, 0}); }, {x});
}

TEST_CASE("gradcheck: sum of a non-contiguous input", "[reduce][gradcheck]") {
  Tensor x = leaf64({4, 6}, -1.0, 1.0, 102);
  check_grad([](const std::vector<Tensor>& in) { return sum(in[0].t(), {1}); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return mean(in[0].slice(1, 0, 6, 2), {0}, true); }, {x});
}

TEST_CASE("gradcheck: mean", "[reduce][gradcheck]") {
  Tensor x = leaf64({3, 4, 5}, -1.0, 1.0, 103);
  check_grad([](const std::vector<Tensor>& in) { return mean(in[0]); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return mean(in[0], {2}); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return mean(in[0], {0, 1}, true); }, {x});
}

TEST_CASE("gradcheck: logsumexp", "[reduce][gradcheck]") {
  Tensor x = leaf64({3, 4, 5}, -3.0, 3.0, 104);
  check_grad([](const std::vector<Tensor>& in) { return logsumexp(in[0], {1}); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return logsumexp(in[0], {0, 2}, true); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return logsumexp(in[0], {}); }, {x});
  // large magnitudes: the max shift keeps the gradient finite
  Tensor big = leaf64({2, 6}, 500.0, 510.0, 105);
  check_grad([](const std::vector<Tensor>& in) { return logsumexp(in[0], {1}); }, {big});
}

TEST_CASE("gradcheck: max/min along a dim and over all elements", "[reduce][gradcheck]") {
  Tensor x = leaf64({4, 5, 3}, -1.0, 1.0, 106);
  check_grad([](const std::vector<Tensor>& in) { return max(in[0], 1); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return max(in[0], -1, true); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return min(in[0], 0); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return min(in[0], 2, true); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return max(in[0]); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return min(in[0]); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return max(in[0].permute({2, 0, 1}), 2); }, {x});
}

TEST_CASE("gradcheck: sum_to_shape", "[reduce][gradcheck]") {
  Tensor x = leaf64({2, 3, 4}, -1.0, 1.0, 107);
  check_grad([](const std::vector<Tensor>& in) { return sum_to_shape(in[0], {3, 1}); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return sum_to_shape(in[0], {4}); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return sum_to_shape(in[0], {2, 1, 4}); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return sum_to_shape(in[0], {}); }, {x});
}

TEST_CASE("gradcheck: reductions chained (sum of max, mean of logsumexp)", "[reduce][gradcheck]") {
  Tensor x = leaf64({3, 6}, -2.0, 2.0, 108);
  check_grad([](const std::vector<Tensor>& in) { return sum(max(in[0], 1, true), {0}); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return mean(logsumexp(in[0], {0}), {0}); }, {x});
}
