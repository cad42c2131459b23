// gradcheck (float64, central differences) of cat, stack, gather, index_select and
// scatter_add, with duplicate indices (accumulating backward) and int32 indices.
#include <catch2/catch.hpp>

#include "test_util.h"

using namespace pg;
using test::leaf64;

TEST_CASE("gradcheck cat and stack", "[index][gradcheck]") {
  for (int64_t d : {0, 1, -1}) {
    test::check_grad(
        [d](const std::vector<Tensor>& in) {
          return cat({in[0], in[1], in[0]}, d);
        },
        {leaf64({2, 3}, -1, 1, 1), leaf64({2, 3}, -1, 1, 2)});
    test::check_grad(
        [d](const std::vector<Tensor>& in) {
          return stack({in[0], in[1], in[0]}, d);
        },
        {leaf64({2, 3}, -1, 1, 3), leaf64({2, 3}, -1, 1, 4)});
  }
  test::check_grad(
      [](const std::vector<Tensor>& in) {
        return cat({in[0], in[1]}, 1);
      },
      {leaf64({2, 1}, -1, 1, 5), leaf64({2, 4}, -1, 1, 6)});
  // One input frozen.
  Tensor frozen = test::uniform({3}, -1, 1, 7, TensorOptions(DType::f64));
  test::check_grad(
      [frozen](const std::vector<Tensor>& in) {
        return stack({frozen, in[0]}, 1);
      },
      {leaf64({3}, -1, 1, 8)});
}

TEST_CASE("gradcheck gather with repeated indices", "[index][gradcheck]") {
  Tensor idx1 = tensor({0, 2, 2, 1, 1, 1, 3, 0}, {2, 4}, DType::i64);
  test::check_grad([idx1](const std::vector<Tensor>& in) { return gather(in[0], 1, idx1); },
                   {leaf64({3, 4}, -1, 1, 11)});
  Tensor idx0 = tensor({2, 2, 0, 1, 0, 0}, {2, 3}, DType::i32);
  test::check_grad([idx0](const std::vector<Tensor>& in) { return gather(in[0], 0, idx0); },
                   {leaf64({3, 4}, -1, 1, 12)});
}

TEST_CASE("gradcheck index_select", "[index][gradcheck]") {
  Tensor idx = tensor({1, 1, 0, 3}, DType::i64);
  for (int64_t d : {0, 1, 2}) {
    test::check_grad([idx, d](const std::vector<Tensor>& in) { return index_select(in[0], d, idx); },
                     {leaf64({4, 4, 5}, -1, 1, 20 + d)});
  }
  Tensor idx32 = tensor({2, 0, 2}, DType::i32);
  test::check_grad([idx32](const std::vector<Tensor>& in) { return index_select(in[0].t(), 0, idx32); },
                   {leaf64({2, 3}, -1, 1, 24)});
}

TEST_CASE("gradcheck scatter_add", "[index][gradcheck]") {
  Tensor idx = tensor({0, 2, 0, 1, 1, 1}, {2, 3}, DType::i64);
  test::check_grad([idx](const std::vector<Tensor>& in) { return scatter_add(in[0], 1, idx, in[1]); },
                   {leaf64({2, 4}, -1, 1, 31), leaf64({2, 3}, -1, 1, 32)});
  test::check_grad([idx](const std::vector<Tensor>& in) { return scatter_add(in[0], 0, idx, in[1]); },
                   {leaf64({3, 3}, -1, 1, 33), leaf64({2, 3}, -1, 1, 34)});
  // src larger than index: elements outside the index's extent get a zero gradient.
  test::check_grad([idx](const std::vector<Tensor>& in) { return scatter_add(in[0], 1, idx, in[1]); },
                   {leaf64({2, 4}, -1, 1, 35), leaf64({3, 5}, -1, 1, 36)});
}
