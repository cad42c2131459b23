// Core tensor: dtypes, factories, views (strides/offsets after chains), copies, printing, errors.
#include <catch2/catch.hpp>

#include "core/cuda_context.h"
#include "test_util.h"

using namespace pg;

TEST_CASE("dtype names, sizes and parsing", "[core]") {
  REQUIRE(dtype_size(DType::f32) == 4);
  REQUIRE(dtype_size(DType::f64) == 8);
  REQUIRE(dtype_size(DType::i64) == 8);
  REQUIRE(dtype_size(DType::b8) == 1);
  for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8, DType::b8}) {
    REQUIRE(dtype_from_name(dtype_name(t)) == t);
  }
  REQUIRE_THROWS_AS(dtype_from_name("float16"), Error);
}

TEST_CASE("device parsing", "[core]") {
  REQUIRE(Device::parse("cpu").is_cpu());
  REQUIRE(Device::parse("cuda:1") == Device::cuda(1));
  REQUIRE(Device::parse("cuda").index == 0);
  REQUIRE_THROWS_WITH(Device::parse("gpu"), Catch::Contains("bad device string 'gpu'"));
  REQUIRE_THROWS_AS(Device::parse("cuda:x"), Error);
}

TEST_CASE("factories fill values of every dtype", "[core]") {
  for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8}) {
    Tensor a = full({2, 3}, 7, TensorOptions(t));
    REQUIRE(a.dtype() == t);
    REQUIRE(a.numel() == 6);
    for (double v : a.to_vector<double>()) REQUIRE(v == 7.0);
  }
  Tensor b = full({4}, 2.0, TensorOptions(DType::b8));
  REQUIRE(b.to_vector<uint8_t>() == std::vector<uint8_t>{1, 1, 1, 1});
  REQUIRE(arange(5).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
  REQUIRE(arange(1.0, 2.0, 0.25, DType::f64).to_vector<double>() == std::vector<double>{1.0, 1.25, 1.5, 1.75});
  REQUIRE(zeros({}).numel() == 1);
  REQUIRE(zeros({3, 0}).numel() == 0);
  REQUIRE_THROWS_WITH(empty({2, -1}), Catch::Contains("negative dimension"));
  REQUIRE_THROWS_WITH(from_vector(std::vector<float>{1, 2, 3}, {2, 2}), Catch::Contains("do not fill shape"));
}

TEST_CASE("item and to(dtype)", "[core]") {
  Tensor s = scalar_tensor(3.75, DType::f64);
  REQUIRE(s.item() == 3.75);
  REQUIRE(s.to(DType::i32).item_int() == 3);
  REQUIRE_THROWS_WITH(ones({2}).item(), Catch::Contains("one element"));
  Tensor f = tensor({-1.5, 0.0, 2.5}, DType::f32);
  REQUIRE(f.to(DType::b8).to_vector<uint8_t>() == std::vector<uint8_t>{1, 0, 1});
  REQUIRE(f.to(DType::i64).to_vector<int64_t>() == std::vector<int64_t>{-1, 0, 2});
  REQUIRE_THROWS_WITH(f.data<double>(), Catch::Contains("requested float64 but the tensor is float32"));
}

TEST_CASE("float to integer conversions saturate and map NaN to 0", "[core]") {
  // CUDA's conversion instruction saturates; a plain host cast is undefined out of range (x86
  // gives INT_MIN). Both backends now saturate (tests/parity/parity_defects.cpp compares them).
  Tensor f = tensor({NAN, INFINITY, -INFINITY, 1e10, -1e10, 2.9, -2.9, 2147483648.0, 300.0, -1.0}, DType::f64);
  REQUIRE(f.to(DType::i32).to_vector<int32_t>() ==
          std::vector<int32_t>{0, INT32_MAX, INT32_MIN, INT32_MAX, INT32_MIN, 2, -2, INT32_MAX, 300, -1});
  REQUIRE(f.to(DType::i64).to_vector<int64_t>() ==
          std::vector<int64_t>{0, INT64_MAX, INT64_MIN, 10000000000, -10000000000, 2, -2, 2147483648, 300, -1});
  REQUIRE(f.to(DType::u8).to_vector<uint8_t>() == std::vector<uint8_t>{0, 255, 0, 255, 0, 2, 0, 255, 255, 0});
  REQUIRE(f.to(DType::f32).to(DType::i64).to_vector<int64_t>()[1] == INT64_MAX);  // float32 source too
  REQUIRE(f.to(DType::b8).to_vector<uint8_t>() == std::vector<uint8_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
}

TEST_CASE("view strides and offsets after chains of permute/slice/expand", "[core][views]") {
  Tensor x = arange(0.0, 24.0, 1.0, DType::f32).reshape({2, 3, 4});
  REQUIRE(x.strides() == Shape{12, 4, 1});

  Tensor p = x.permute({2, 0, 1});  // [4, 2, 3]
  REQUIRE(p.shape() == Shape{4, 2, 3});
  REQUIRE(p.strides() == Shape{1, 12, 4});
  REQUIRE_FALSE(p.is_contiguous());

  Tensor s = p.slice(0, 1, 4, 2);  // rows 1 and 3 of the permuted dim
  REQUIRE(s.shape() == Shape{2, 2, 3});
  REQUIRE(s.strides() == Shape{2, 12, 4});
  REQUIRE(s.offset() == 1);
  // s[a][b][c] = x[b][c][1 + 2a]
  const auto v = s.contiguous().to_vector<float>();
  int k = 0;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 3; ++c) REQUIRE(v[k++] == static_cast<float>(b * 12 + c * 4 + 1 + 2 * a));

  Tensor sel = s.select(2, -1);  // c = 2
  REQUIRE(sel.shape() == Shape{2, 2});
  REQUIRE(sel.offset() == 1 + 2 * 4);
  Tensor e = sel.unsqueeze(0).expand({5, 2, 2});
  REQUIRE(e.strides() == Shape{0, 2, 12});
  REQUIRE(e.contiguous().to_vector<float>()[4 * 4 + 3] == static_cast<float>(12 + 8 + 1 + 2));

  Tensor t = x.transpose(0, 2).slice(1, -2, 100);  // negative start, clamped end
  REQUIRE(t.shape() == Shape{4, 2, 2});
  REQUIRE(t.offset() == 4);
  REQUIRE(t.strides() == Shape{1, 4, 12});
}

TEST_CASE("reshape views when possible and copies otherwise", "[core][views]") {
  Tensor x = arange(0.0, 12.0, 1.0, DType::f32).reshape({3, 4});
  Tensor v = x.reshape({2, 6});
  REQUIRE(v.storage() == x.storage());
  REQUIRE(x.reshape({-1}).shape() == Shape{12});
  Tensor tt = x.t();
  REQUIRE_THROWS_WITH(tt.view({12}), Catch::Contains("cannot view"));
  Tensor r = tt.reshape({12});
  REQUIRE(r.storage() != x.storage());
  REQUIRE(r.to_vector<float>()[1] == 4.0f);
  REQUIRE(x.slice(1, 0, 2).reshape({6}).to_vector<float>() == std::vector<float>{0, 1, 4, 5, 8, 9});
  REQUIRE_THROWS_WITH(x.reshape({5, -1}), Catch::Contains("invalid for 12 elements"));
  REQUIRE(x.unsqueeze(1).squeeze(1).shape() == Shape{3, 4});
  REQUIRE(ones({1, 3, 1}).squeeze().shape() == Shape{3});
  REQUIRE(ones({2, 3, 4}).flatten(1).shape() == Shape{2, 12});
}

TEST_CASE("bad view arguments raise errors naming the op", "[core][views][errors]") {
  Tensor x = zeros({2, 3});
  REQUIRE_THROWS_WITH(x.permute({0, 0}), Catch::Contains("permute") && Catch::Contains("repeated"));
  REQUIRE_THROWS_WITH(x.permute({0}), Catch::Contains("permute"));
  REQUIRE_THROWS_WITH(x.select(1, 3), Catch::Contains("select: index 3 out of range"));
  REQUIRE_THROWS_WITH(x.slice(5, 0, 1), Catch::Contains("slice: dim 5 out of range"));
  REQUIRE_THROWS_WITH(x.slice(0, 0, 1, 0), Catch::Contains("step must be positive"));
  REQUIRE_THROWS_WITH(x.expand({4, 3}), Catch::Contains("expand: cannot expand shape [2, 3] to [4, 3]"));
  REQUIRE_THROWS_WITH(x.unsqueeze(4), Catch::Contains("unsqueeze"));
  REQUIRE_THROWS_WITH(x.size(2), Catch::Contains("out of range"));
  REQUIRE_THROWS_WITH(Tensor().shape(), Catch::Contains("undefined tensor"));
}

TEST_CASE("copy_ broadcasts, converts and bumps the version", "[core]") {
  Tensor dst = zeros({2, 3}, DType::f64);
  const uint64_t v0 = dst.version();
  dst.copy_(tensor({1, 2, 3}, DType::i32));
  REQUIRE(dst.version() == v0 + 1);
  REQUIRE(dst.to_vector<double>() == std::vector<double>{1, 2, 3, 1, 2, 3});
  // Writing through a view changes the base.
  dst.select(0, 1).fill_(9);
  REQUIRE(dst.to_vector<double>() == std::vector<double>{1, 2, 3, 9, 9, 9});
  REQUIRE_THROWS_WITH(dst.copy_(zeros({4})), Catch::Contains("cannot broadcast"));
}

TEST_CASE("clone is deep, contiguous is a no-op on contiguous tensors", "[core]") {
  Tensor x = arange(0.0, 6.0, 1.0, DType::f32).reshape({2, 3});
  Tensor c = x.clone();
  REQUIRE(c.storage() != x.storage());
  REQUIRE(x.contiguous().same(x));
  Tensor tc = x.t().contiguous();
  REQUIRE(tc.is_contiguous());
  REQUIRE(tc.to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("printing shows values, shape, dtype and device", "[core]") {
  Tensor x = arange(0.0, 6.0, 1.0, DType::f32).reshape({2, 3});
  const std::string s = x.str();
  REQUIRE_THAT(s, Catch::Contains("[[0, 1, 2]") && Catch::Contains("shape=[2, 3]") &&
                      Catch::Contains("dtype=float32") && Catch::Contains("device=cpu"));
  const std::string big = arange(100).str();
  REQUIRE_THAT(big, Catch::Contains("...") && Catch::Contains("99"));
}

TEST_CASE("CUDA requests fail cleanly without a device", "[core][cuda]") {
  if (cuda::is_available()) return;  // covered by the parity suite
  REQUIRE_FALSE(cuda::unavailable_reason().empty());
  REQUIRE_THAT(cuda::unavailable_reason(), Catch::StartsWith("no CUDA device"));
  REQUIRE_THROWS_AS(zeros({2}, Device::cuda(0)), Error);
  REQUIRE_THROWS_AS(zeros({2}).to(Device::cuda(0)), Error);
}

TEST_CASE("PG_CHECK reports file, line and the failed condition", "[core][errors]") {
  try {
    PG_CHECK(1 + 1 == 3, "demo: value ", 42);
    FAIL("no throw");
  } catch (const Error& e) {
    const std::string w = e.what();
    REQUIRE_THAT(w, Catch::Contains("demo: value 42") && Catch::Contains("test_tensor.cpp:") &&
                        Catch::Contains("1 + 1 == 3"));
  }
}
