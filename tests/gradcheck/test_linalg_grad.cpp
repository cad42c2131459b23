// gradcheck (float64, central differences) of matmul, bmm and linear, including broadcast
// batch dims, 1-D promotion, transposed operands and the folded shared-weight path.
#include <catch2/catch.hpp>

#include "test_util.h"

using namespace pg;
using test::leaf64;

TEST_CASE("gradcheck matmul 2-D and transposed", "[linalg][gradcheck]") {
  test::check_grad([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
                   {leaf64({3, 4}, -1, 1, 1), leaf64({4, 5}, -1, 1, 2)});
  test::check_grad([](const std::vector<Tensor>& in) { return matmul(in[0].t(), in[1].t()); },
                   {leaf64({4, 3}, -1, 1, 3), leaf64({5, 4}, -1, 1, 4)});
  test::check_grad([](const std::vector<Tensor>& in) { return matmul(in[0].slice(1, 1, 5), in[1]); },
                   {leaf64({3, 6}, -1, 1, 5), leaf64({4, 2}, -1, 1, 6)});
}

TEST_CASE("gradcheck matmul broadcasting batch dims", "[linalg][gradcheck]") {
  test::check_grad([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
                   {leaf64({2, 1, 3, 4}, -1, 1, 11), leaf64({3, 4, 2}, -1, 1, 12)});
  // Shared weight (the folded path forward, the folded grad_b backward).
  test::check_grad([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
                   {leaf64({2, 5, 3}, -1, 1, 13), leaf64({3, 4}, -1, 1, 14)});
  // Shared left operand broadcast over b's batch.
  test::check_grad([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); },
                   {leaf64({3, 4}, -1, 1, 15), leaf64({2, 4, 2}, -1, 1, 16)});
}

TEST_CASE("gradcheck matmul 1-D promotion", "[linalg][gradcheck]") {
  auto mm = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); };
  test::check_grad(mm, {leaf64({4}, -1, 1, 21), leaf64({4}, -1, 1, 22)});
  test::check_grad(mm, {leaf64({4}, -1, 1, 23), leaf64({4, 3}, -1, 1, 24)});
  test::check_grad(mm, {leaf64({3, 4}, -1, 1, 25), leaf64({4}, -1, 1, 26)});
  test::check_grad(mm, {leaf64({4}, -1, 1, 27), leaf64({2, 4, 3}, -1, 1, 28)});
  test::check_grad(mm, {leaf64({2, 3, 4}, -1, 1, 29), leaf64({4}, -1, 1, 30)});
}

TEST_CASE("gradcheck matmul with one input frozen", "[linalg][gradcheck]") {
  Tensor frozen = test::uniform({4, 3}, -1, 1, 31, TensorOptions(DType::f64));
  test::check_grad([frozen](const std::vector<Tensor>& in) { return matmul(in[0], frozen); },
                   {leaf64({2, 4}, -1, 1, 32)});
}

TEST_CASE("gradcheck bmm", "[linalg][gradcheck]") {
  test::check_grad([](const std::vector<Tensor>& in) { return bmm(in[0], in[1]); },
                   {leaf64({3, 2, 4}, -1, 1, 41), leaf64({3, 4, 5}, -1, 1, 42)});
  test::check_grad([](const std::vector<Tensor>& in) { return bmm(in[0].transpose(1, 2), in[1]); },
                   {leaf64({2, 3, 2}, -1, 1, 43), leaf64({2, 3, 3}, -1, 1, 44)});
}

TEST_CASE("gradcheck linear", "[linalg][gradcheck]") {
  auto lin_b = [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); };
  auto lin = [](const std::vector<Tensor>& in) { return linear(in[0], in[1]); };
  test::check_grad(lin_b, {leaf64({3, 4}, -1, 1, 51), leaf64({5, 4}, -1, 1, 52), leaf64({5}, -1, 1, 53)});
  test::check_grad(lin_b, {leaf64({2, 3, 4}, -1, 1, 54), leaf64({5, 4}, -1, 1, 55), leaf64({5}, -1, 1, 56)});
  test::check_grad(lin_b, {leaf64({4}, -1, 1, 57), leaf64({2, 4}, -1, 1, 58), leaf64({2}, -1, 1, 59)});
  test::check_grad(lin, {leaf64({2, 2, 3}, -1, 1, 60), leaf64({4, 3}, -1, 1, 61)});
  test::check_grad([](const std::vector<Tensor>& in) { return linear(in[0].transpose(0, 1), in[1]); },
                   {leaf64({3, 4}, -1, 1, 62), leaf64({2, 3}, -1, 1, 63)});
}
