// CUDA vs CPU parity for the core: transfers, strided copies, dtype conversions, fills, views.
#include <catch2/catch.hpp>

#include "test_util.h"

using namespace pg;

namespace {
const Device kCuda = Device::cuda(0);
}

TEST_CASE("transfers round-trip every dtype", "[parity][core]") {
  for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::b8}) {
    Tensor host = test::uniform({7, 5}, -50, 50, 3).to(t);
    Tensor back = host.to(kCuda).to(Device::cpu());
    REQUIRE(back.dtype() == t);
    REQUIRE(test::max_abs_diff(back, host) == 0.0);
  }
}

TEST_CASE("strided copies and conversions match the CPU", "[parity][core]") {
  Tensor x = test::uniform({6, 5, 4}, -3, 3, 5, TensorOptions(DType::f64));
  Tensor xc = x.to(kCuda);
  auto check = [&](const std::function<Tensor(const Tensor&)>& f) {
    Tensor a = f(x);
    Tensor b = f(xc);
    REQUIRE(b.is_cuda());
    REQUIRE(test::max_abs_diff(b.to(Device::cpu()), a) == 0.0);
  };
  check([](const Tensor& t) { return t.permute({2, 0, 1}).contiguous(); });
  check([](const Tensor& t) { return t.slice(1, 1, 5, 2).transpose(0, 2).contiguous(); });
  check([](const Tensor& t) { return t.select(0, 3).unsqueeze(0).expand({3, 5, 4}).contiguous(); });
  check([](const Tensor& t) { return t.to(DType::f32).to(DType::f64); });
  check([](const Tensor& t) { return t.to(DType::i32).to(DType::f64); });
  check([](const Tensor& t) { return t.reshape({30, 4}).t().reshape({-1}); });
}

TEST_CASE("copy_ across devices into strided destinations", "[parity][core]") {
  Tensor src = test::uniform({4, 3}, -1, 1, 9);
  Tensor dst_cpu = zeros({3, 4}, DType::f64);
  Tensor dst_cuda = zeros({3, 4}, TensorOptions(DType::f64, kCuda));
  dst_cpu.t().copy_(src);
  dst_cuda.t().copy_(src);  // host f32 → device f64 through a transposed view
  REQUIRE(test::max_abs_diff(dst_cuda.to(Device::cpu()), dst_cpu) == 0.0);
  Tensor back = zeros({4, 3});
  back.copy_(dst_cuda.t());  // device → host from a strided view
  REQUIRE(test::max_abs_diff(back, src) < 1e-7);
}

TEST_CASE("fill, arange, item and printing on the device", "[parity][core]") {
  Tensor f = full({3, 3}, 2.5, TensorOptions(DType::f32, kCuda));
  f.slice(1, 0, 3, 2).fill_(-1.0);
  REQUIRE(f.to_vector<float>() == std::vector<float>{-1, 2.5, -1, -1, 2.5, -1, -1, 2.5, -1});
  REQUIRE(arange(0.0, 5.0, 1.0, TensorOptions(DType::i64, kCuda)).to_vector<int64_t>() ==
          std::vector<int64_t>{0, 1, 2, 3, 4});
  REQUIRE(f.select(0, 1).select(0, 1).item() == 2.5);
  REQUIRE_THAT(f.str(), Catch::Contains("device=cuda:0"));
}

TEST_CASE("mixing devices is an error", "[parity][core][errors]") {
  Tensor a = ones({3});
  Tensor b = ones({3}, kCuda);
  REQUIRE_THROWS_WITH(add(a, b), Catch::Contains("add") && Catch::Contains("cuda:0"));
}

TEST_CASE("views of device tensors carry gradients back to the device", "[parity][core][autograd]") {
  Tensor x = test::uniform({4, 5}, -1, 1, 13, TensorOptions(DType::f64, kCuda));
  x.requires_grad_();
  Tensor y = sum(x.t().slice(0, 1, 5, 2).reshape({-1}) * 3.0);
  y.backward();
  REQUIRE(x.grad().is_cuda());
  const auto g = x.grad().to_vector<double>();
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 5; ++c) REQUIRE(g[r * 5 + c] == (c % 2 == 1 ? 3.0 : 0.0));
}
