// CUDA vs CPU parity for cat / stack / gather / index_select / scatter_add / one_hot, forward
// and backward, over dtypes and index dtypes; host-side range validation of device indices.
#include <catch2/catch.hpp>

#include "test_util.h"

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

Tensor ints(const Shape& s, int64_t lo, int64_t hi, uint64_t seed, DType t = DType::i64) {
  return test::uniform(s, static_cast<double>(lo), static_cast<double>(hi), seed, TensorOptions(DType::f64))
      .to(DType::i64)
      .to(t);
}

void same(const Tensor& dev, const Tensor& host, double atol = 0.0) {
  REQUIRE(dev.is_cuda());
  REQUIRE(dev.shape() == host.shape());
  REQUIRE(dev.dtype() == host.dtype());
  REQUIRE(test::max_abs_diff(dev.to(Device::cpu()), host) <= atol);
}

}  // namespace

TEST_CASE("cat and stack parity", "[parity][index]") {
  for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::b8}) {
    Tensor a = ints({3, 4, 5}, 0, 2, 1).to(t), b = ints({3, 2, 5}, 0, 2, 2).to(t);
    same(cat({a.to(kCuda), b.to(kCuda), a.to(kCuda)}, 1), cat({a, b, a}, 1));
    same(stack({a.to(kCuda), a.to(kCuda).transpose(0, 1).transpose(0, 1)}, 2), stack({a, a}, 2));
  }
  Tensor x = test::uniform({6, 7}, -1, 1, 3);
  same(cat({x.to(kCuda).t(), x.to(kCuda).t()}, 0), cat({x.t(), x.t()}, 0));
}

TEST_CASE("gather / index_select / scatter_add / one_hot parity", "[parity][index]") {
  const Shape xs = {6, 7, 8};
  for (int64_t dim : {0, 1, 2}) {
    for (DType it : {DType::i64, DType::i32}) {
      Shape is = {5, 6, 7};
      is[dim] = 11;
      Tensor index = ints(is, 0, xs[dim], 10 + dim, it);
      Tensor line = ints({13}, 0, xs[dim], 20 + dim, it);
      for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::b8}) {
        Tensor x = ints(xs, 0, 100, 30, DType::i64).to(t);
        same(gather(x.to(kCuda), dim, index.to(kCuda)), gather(x, dim, index));
        same(index_select(x.to(kCuda), dim, line.to(kCuda)), index_select(x, dim, line));
      }
      for (DType t : {DType::i32, DType::i64, DType::f32, DType::f64}) {
        // Integer-valued data: atomics accumulate exactly, in any order.
        Tensor self = ints(xs, 0, 100, 40, DType::i64).to(t);
        Shape ss = xs;
        ss[dim] = 12;
        Tensor src = ints(ss, 0, 100, 41, DType::i64).to(t);
        same(scatter_add(self.to(kCuda), dim, index.to(kCuda), src.to(kCuda)), scatter_add(self, dim, index, src));
      }
    }
  }
  // Random float values: atomics may reorder the sums.
  Tensor self = test::uniform({50, 3}, -1, 1, 50, TensorOptions(DType::f32));
  Tensor src = test::uniform({4000, 3}, -1, 1, 51, TensorOptions(DType::f32));
  Tensor index = ints({4000, 3}, 0, 50, 52);
  same(scatter_add(self.to(kCuda), 0, index.to(kCuda), src.to(kCuda)), scatter_add(self, 0, index, src), 1e-4);
  // Strided operands on the device.
  Tensor x = test::uniform({9, 8}, -1, 1, 53, TensorOptions(DType::f64));
  Tensor idx = ints({8, 12}, 0, 9, 54).slice(1, 0, 12, 3);  // [8, 4]
  same(gather(x.to(kCuda).t(), 1, idx.to(kCuda)), gather(x.t(), 1, idx));
  Tensor labels = ints({3, 17}, 0, 10, 55, DType::i32);
  for (DType t : {DType::f32, DType::i64, DType::b8}) {
    same(one_hot(labels.to(kCuda), 10, t), one_hot(labels, 10, t));
  }
}

TEST_CASE("index backward parity", "[parity][index]") {
  auto run = [](const Tensor& x, const std::function<Tensor(const Tensor&)>& f) {
    Tensor leaf = x.detach();
    leaf.requires_grad_(true);
    Tensor y = f(leaf);
    Tensor w = test::uniform(y.shape(), -1, 1, 77, TensorOptions(DType::f64)).to(y.device());
    sum(mul(y, w)).backward();
    return leaf.grad().to(Device::cpu());
  };
  auto check = [&](const Shape& s, const std::function<Tensor(const Tensor&)>& f) {
    Tensor h = test::uniform(s, -1, 1, 60, TensorOptions(DType::f64));
    REQUIRE(test::max_abs_diff(run(h.to(kCuda), f), run(h, f)) <= 1e-12);
  };
  Tensor index = ints({40, 5}, 0, 30, 61);
  Tensor line = ints({64}, 0, 30, 62, DType::i32);
  check({30, 5}, [index](const Tensor& x) { return gather(x, 0, index.to(x.device())); });
  check({30, 5}, [line](const Tensor& x) { return index_select(x, 0, line.to(x.device())); });
  check({5, 30}, [line](const Tensor& x) { return index_select(x, 1, line.to(x.device())); });
  check({3, 5}, [](const Tensor& x) { return cat({x, x, x.slice(0, 0, 1)}, 0); });
  check({3, 5}, [](const Tensor& x) { return stack({x, x}, 1); });
  Tensor src = test::uniform({40, 5}, -1, 1, 63, TensorOptions(DType::f64));
  check({30, 5}, [index, src](const Tensor& x) { return scatter_add(x, 0, index.to(x.device()), src.to(x.device())); });
  check({40, 5}, [index](const Tensor& s) {
    return scatter_add(zeros({30, 5}, TensorOptions(DType::f64, s.device())), 0, index.to(s.device()), s);
  });
}

TEST_CASE("index ops validate device indices and devices", "[parity][index][errors]") {
  Tensor x = zeros({4, 5}, kCuda);
  REQUIRE_THROWS_WITH(gather(x, 1, tensor({0, 5}, {1, 2}, TensorOptions(DType::i64, kCuda))),
                      Catch::Contains("gather") && Catch::Contains("index 5") && Catch::Contains("0..4"));
  REQUIRE_THROWS_WITH(index_select(x, 0, tensor({-2}, TensorOptions(DType::i32, kCuda))),
                      Catch::Contains("index_select") && Catch::Contains("index -2") && Catch::Contains("0..3"));
  REQUIRE_THROWS_WITH(scatter_add(x, 0, tensor({4}, {1, 1}, TensorOptions(DType::i64, kCuda)), x),
                      Catch::Contains("scatter_add") && Catch::Contains("index 4"));
  REQUIRE_THROWS_WITH(one_hot(tensor({3}, TensorOptions(DType::i64, kCuda)), 3), Catch::Contains("one_hot"));
  REQUIRE_THROWS_WITH(gather(x, 0, zeros({1, 1}, DType::i64)),
                      Catch::Contains("gather") && Catch::Contains("cuda:0") && Catch::Contains("cpu"));
  REQUIRE_THROWS_WITH(cat({x, zeros({4, 5})}, 0), Catch::Contains("cat") && Catch::Contains("cuda:0"));
  REQUIRE_THROWS_WITH(stack({zeros({4, 5}), x}, 0), Catch::Contains("stack") && Catch::Contains("cuda:0"));
  REQUIRE_THROWS_WITH(scatter_add(x, 0, zeros({1, 1}, TensorOptions(DType::i64, kCuda)), zeros({1, 1})),
                      Catch::Contains("src") && Catch::Contains("cpu"));
}
