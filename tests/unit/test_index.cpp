// cat / stack / gather / index_select / scatter_add / one_hot against naive host loops, over
// dtypes, index dtypes, strided operands and every dim; the error messages for bad shapes,
// dtypes and out-of-range indices.
#include <catch2/catch.hpp>

#include "test_util.h"

using namespace pg;

namespace {

Tensor rnd(const Shape& s, uint64_t seed, DType t = DType::f64) {
  return test::uniform(s, -1, 1, seed, TensorOptions(t));
}

// Integer-valued tensor of dtype t with values in [lo, hi).
Tensor ints(const Shape& s, int64_t lo, int64_t hi, uint64_t seed, DType t = DType::i64) {
  return test::uniform(s, static_cast<double>(lo), static_cast<double>(hi), seed, TensorOptions(DType::f64))
      .to(DType::i64)  // truncation toward zero; lo ≥ 0 in every use below
      .to(t);
}

// Row-major strides of a shape (for host-side reference loops).
std::vector<int64_t> cstrides(const Shape& s) {
  return contiguous_strides(s);
}

// Unravels flat index i of shape s.
std::vector<int64_t> coords(int64_t i, const Shape& s) {
  std::vector<int64_t> c(s.size());
  for (int64_t d = static_cast<int64_t>(s.size()) - 1; d >= 0; --d) {
    c[d] = i % s[d];
    i /= s[d];
  }
  return c;
}

int64_t flat(const std::vector<int64_t>& c, const Shape& s) {
  int64_t f = 0;
  const auto st = cstrides(s);
  for (size_t d = 0; d < c.size(); ++d) f += c[d] * st[d];
  return f;
}

Tensor naive_gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const auto xv = x.to_vector<double>();
  const auto iv = index.to_vector<int64_t>();
  std::vector<double> out(iv.size());
  for (size_t i = 0; i < iv.size(); ++i) {
    auto c = coords(static_cast<int64_t>(i), index.shape());
    c[dim] = iv[i];
    out[i] = xv[flat(c, x.shape())];
  }
  return from_vector(out, index.shape());
}

Tensor naive_scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  auto out = self.to_vector<double>();
  const auto iv = index.to_vector<int64_t>();
  const auto sv = src.to_vector<double>();
  for (size_t i = 0; i < iv.size(); ++i) {
    auto c = coords(static_cast<int64_t>(i), index.shape());
    const double v = sv[flat(c, src.shape())];
    c[dim] = iv[i];
    out[flat(c, self.shape())] += v;
  }
  return from_vector(out, self.shape());
}

}  // namespace

TEST_CASE("cat along every dim matches the parts", "[index]") {
  Tensor a = rnd({2, 3, 4}, 1), b = rnd({2, 3, 4}, 2);
  for (int64_t d : {0, 1, 2, -1}) {
    Shape sb = {2, 3, 4};
    const int64_t dd = d < 0 ? d + 3 : d;
    sb[dd] = 5;
    Tensor c = rnd(sb, 3);
    Tensor r = cat({a, c, b}, d);
    Shape expect = {2, 3, 4};
    expect[dd] = a.size(dd) + c.size(dd) + b.size(dd);
    REQUIRE(r.shape() == expect);
    REQUIRE(test::max_abs_diff(r.slice(dd, 0, a.size(dd)), a) == 0.0);
    REQUIRE(test::max_abs_diff(r.slice(dd, a.size(dd), a.size(dd) + c.size(dd)), c) == 0.0);
    REQUIRE(test::max_abs_diff(r.slice(dd, a.size(dd) + c.size(dd), expect[dd]), b) == 0.0);
  }
  // Hand-computed, integer and bool dtypes, non-contiguous and empty inputs.
  Tensor x = tensor({1, 2, 3, 4}, {2, 2}, DType::i32), y = tensor({5, 6}, {2, 1}, DType::i32);
  REQUIRE(cat({x, y}, 1).to_vector<int32_t>() == std::vector<int32_t>{1, 2, 5, 3, 4, 6});
  REQUIRE(cat({x.t(), x}, 0).to_vector<int32_t>() == std::vector<int32_t>{1, 3, 2, 4, 1, 2, 3, 4});
  REQUIRE(cat({x, zeros({0, 2}, DType::i32), x}, 0).shape() == Shape{4, 2});
  Tensor bt = tensor({1, 0}, {2}, DType::b8);
  Tensor bc = cat({bt, bt}, 0);
  REQUIRE(bc.dtype() == DType::b8);
  REQUIRE(bc.to_vector<uint8_t>() == std::vector<uint8_t>{1, 0, 1, 0});
  REQUIRE(cat({tensor({7}, DType::u8)}, 0).to_vector<uint8_t>() == std::vector<uint8_t>{7});
}

TEST_CASE("stack inserts a new dim", "[index]") {
  Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3}), b = tensor({7, 8, 9, 10, 11, 12}, {2, 3});
  Tensor s0 = stack({a, b}, 0);
  REQUIRE(s0.shape() == Shape{2, 2, 3});
  REQUIRE(s0.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  Tensor s1 = stack({a, b}, 1);
  REQUIRE(s1.shape() == Shape{2, 2, 3});
  REQUIRE(s1.to_vector<float>() == std::vector<float>{1, 2, 3, 7, 8, 9, 4, 5, 6, 10, 11, 12});
  Tensor s2 = stack({a, b.t().t()}, -1);
  REQUIRE(s2.shape() == Shape{2, 3, 2});
  REQUIRE(s2.to_vector<float>() == std::vector<float>{1, 7, 2, 8, 3, 9, 4, 10, 5, 11, 6, 12});
  Tensor sc = stack({scalar_tensor(1, DType::i64), scalar_tensor(2, DType::i64), scalar_tensor(3, DType::i64)});
  REQUIRE(sc.to_vector<int64_t>() == std::vector<int64_t>{1, 2, 3});
}

TEST_CASE("cat and stack errors", "[index][errors]") {
  REQUIRE_THROWS_WITH(cat({}, 0), Catch::Contains("cat") && Catch::Contains("non-empty"));
  REQUIRE_THROWS_WITH(cat({zeros({2, 3}), zeros({3, 3})}, 1),
                      Catch::Contains("[3, 3]") && Catch::Contains("[2, 3]") && Catch::Contains("except in dim 1"));
  REQUIRE_THROWS_WITH(cat({zeros({2, 3}), zeros({2, 3, 1})}, 0), Catch::Contains("cat"));
  REQUIRE_THROWS_WITH(cat({zeros({2}), zeros({2}, DType::f64)}, 0),
                      Catch::Contains("float64") && Catch::Contains("float32"));
  REQUIRE_THROWS_WITH(cat({zeros({2})}, 1), Catch::Contains("cat") && Catch::Contains("dim 1"));
  REQUIRE_THROWS_WITH(cat({scalar_tensor(1.0)}, 0), Catch::Contains("zero-dim"));
  REQUIRE_THROWS_WITH(stack({zeros({2, 3}), zeros({3, 2})}, 0),
                      Catch::Contains("stack") && Catch::Contains("[3, 2]") && Catch::Contains("[2, 3]"));
  REQUIRE_THROWS_WITH(stack({zeros({2, 3})}, 3), Catch::Contains("stack"));
}

TEST_CASE("gather matches naive loops for every dim and dtype", "[index]") {
  const Shape xs = {4, 5, 6};
  for (int64_t dim : {0, 1, 2}) {
    for (DType it : {DType::i64, DType::i32}) {
      Shape is = {3, 4, 5};  // smaller than x in the other dims
      is[dim] = 7;           // any size along dim
      Tensor index = ints(is, 0, xs[dim], 10 + dim, it);
      for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64}) {
        Tensor x = ints(xs, 0, 100, 20, t);
        Tensor r = gather(x, dim, index);
        REQUIRE(r.shape() == is);
        REQUIRE(r.dtype() == t);
        REQUIRE(test::max_abs_diff(r, naive_gather(x, dim, index)) == 0.0);
      }
    }
  }
  // Negative dim, strided x and index, bool and uint8 values.
  Tensor x = rnd({6, 8}, 30).t();                             // [8, 6], non-contiguous
  Tensor index = ints({12, 6}, 0, 8, 31).slice(0, 0, 12, 2);  // [6, 6] with a row step
  REQUIRE(test::max_abs_diff(gather(x, -2, index), naive_gather(x, 0, index)) == 0.0);
  Tensor xb = tensor({1, 0, 0, 1}, {2, 2}, DType::b8);
  Tensor ib = tensor({1, 1, 0, 0}, {2, 2}, DType::i64);
  REQUIRE(gather(xb, 1, ib).to_vector<uint8_t>() == std::vector<uint8_t>{0, 0, 0, 0});
  Tensor xu = tensor({10, 20, 30}, {3}, DType::u8);
  REQUIRE(gather(xu, 0, tensor({2, 0, 2, 1}, DType::i32)).to_vector<uint8_t>() == std::vector<uint8_t>{30, 10, 30, 20});
}

TEST_CASE("index_select matches gather with a broadcast index", "[index]") {
  Tensor x = rnd({5, 6, 7}, 40);
  for (int64_t dim : {0, 1, 2, -1}) {
    const int64_t d = dim < 0 ? dim + 3 : dim;
    for (DType it : {DType::i64, DType::i32}) {
      Tensor index = ints({9}, 0, x.size(d), 41 + d, it);
      Tensor r = index_select(x, dim, index);
      Shape expect = x.shape();
      expect[d] = 9;
      REQUIRE(r.shape() == expect);
      const auto iv = index.to_vector<int64_t>();
      for (int64_t j = 0; j < 9; ++j) {
        REQUIRE(test::max_abs_diff(r.select(d, j), x.select(d, iv[j])) == 0.0);
      }
    }
  }
  // Strided x and index, int dtype, empty index.
  Tensor xt = ints({4, 3}, 0, 50, 42, DType::i32).t();                 // [3, 4]
  Tensor idx = tensor({3, 9, 0, 9, 1}, DType::i64).slice(0, 0, 5, 2);  // {3, 0, 1}
  const auto xv = xt.to_vector<int32_t>();
  std::vector<int32_t> expect;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j : {3, 0, 1}) expect.push_back(xv[i * 4 + j]);
  REQUIRE(index_select(xt, 1, idx).to_vector<int32_t>() == expect);
  REQUIRE(index_select(x, 1, zeros({0}, DType::i64)).shape() == Shape{5, 0, 7});
}

TEST_CASE("scatter_add accumulates duplicates", "[index]") {
  // Hand-computed: out[index[j]] += src[j] along dim 0 of a vector.
  Tensor self = tensor({1, 1, 1, 1}, DType::f64);
  Tensor r = scatter_add(self, 0, tensor({0, 2, 0, 3, 0}, DType::i64), tensor({1, 2, 3, 4, 5}, DType::f64));
  REQUIRE(r.to_vector<double>() == std::vector<double>{10, 1, 3, 5});
  REQUIRE(self.to_vector<double>() == std::vector<double>{1, 1, 1, 1});  // self is not modified

  for (int64_t dim : {0, 1, 2}) {
    Shape ss = {4, 5, 6};
    Shape is = {3, 4, 5};
    is[dim] = 9;  // many duplicates along dim
    Shape srcs = {4, 5, 6};
    srcs[dim] = 10;  // src may be larger than index
    for (DType t : {DType::f32, DType::f64, DType::i32, DType::i64}) {
      for (DType it : {DType::i64, DType::i32}) {
        Tensor s = ints(ss, 0, 50, 50, t);
        Tensor index = ints(is, 0, ss[dim], 51 + dim, it);
        Tensor src = ints(srcs, 0, 50, 52, t);
        Tensor out = scatter_add(s, dim, index, src);
        REQUIRE(out.dtype() == t);
        REQUIRE(test::max_abs_diff(out, naive_scatter_add(s, dim, index, src)) == 0.0);
      }
    }
  }
  // Strided self/src/index and a negative dim.
  Tensor s = rnd({6, 5}, 60).t();                           // [5, 6]
  Tensor src = rnd({8, 5}, 61).t();                         // [5, 8]
  Tensor index = ints({5, 8}, 0, 6, 62).slice(1, 0, 8, 2);  // [5, 4]
  test::require_close(scatter_add(s, -1, index, src), naive_scatter_add(s, 1, index, src), 1e-12);
}

TEST_CASE("one_hot", "[index]") {
  Tensor idx = tensor({2, 0, 1, 2}, {2, 2}, DType::i64);
  Tensor oh = one_hot(idx, 3);
  REQUIRE(oh.shape() == Shape{2, 2, 3});
  REQUIRE(oh.dtype() == DType::f32);
  REQUIRE(oh.to_vector<float>() == std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1});
  Tensor oi = one_hot(tensor({1, 3}, DType::i32).slice(0, 0, 2), 4, DType::i64);
  REQUIRE(oi.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 0, 0, 0, 0, 0, 1});
  REQUIRE(one_hot(tensor({0}, DType::i64), 2, DType::b8).to_vector<uint8_t>() == std::vector<uint8_t>{1, 0});
  REQUIRE(one_hot(zeros({0}, DType::i64), 5).shape() == Shape{0, 5});
  REQUIRE(one_hot(scalar_tensor(1, DType::i64), 2).to_vector<float>() == std::vector<float>{0, 1});
}

TEST_CASE("index ops reject out-of-range indices before any work", "[index][errors]") {
  Tensor x = rnd({4, 5}, 70);
  REQUIRE_THROWS_WITH(gather(x, 1, tensor({0, 5, 1, 2}, {2, 2}, DType::i64)),
                      Catch::Contains("gather") && Catch::Contains("index 5") && Catch::Contains("0..4"));
  REQUIRE_THROWS_WITH(gather(x, 0, tensor({-1}, {1, 1}, DType::i32)),
                      Catch::Contains("gather") && Catch::Contains("index -1") && Catch::Contains("0..3"));
  REQUIRE_THROWS_WITH(index_select(x, 0, tensor({0, 4}, DType::i64)),
                      Catch::Contains("index_select") && Catch::Contains("index 4") && Catch::Contains("0..3"));
  REQUIRE_THROWS_WITH(index_select(x, 1, tensor({0, 9, 7}, DType::i64).slice(0, 1, 3, 1)),
                      Catch::Contains("index 9") && Catch::Contains("0..4"));
  REQUIRE_THROWS_WITH(scatter_add(x, 1, tensor({7}, {1, 1}, DType::i64), x),
                      Catch::Contains("scatter_add") && Catch::Contains("index 7") && Catch::Contains("0..4"));
  REQUIRE_THROWS_WITH(one_hot(tensor({3, 1}, DType::i64), 3),
                      Catch::Contains("one_hot") && Catch::Contains("index 3") && Catch::Contains("0..2"));
  REQUIRE_THROWS_WITH(index_select(zeros({0, 2}), 0, tensor({0}, DType::i64)), Catch::Contains("no index is valid"));
}

TEST_CASE("index ops validate shapes and dtypes", "[index][errors]") {
  Tensor x = rnd({4, 5}, 80);
  REQUIRE_THROWS_WITH(gather(x, 1, tensor({0, 1}, DType::f32)), Catch::Contains("gather") && Catch::Contains("int64"));
  REQUIRE_THROWS_WITH(gather(x, 1, zeros({2}, DType::i64)), Catch::Contains("rank"));
  REQUIRE_THROWS_WITH(gather(x, 1, zeros({5, 2}, DType::i64)),
                      Catch::Contains("[5, 2]") && Catch::Contains("[4, 5]") && Catch::Contains("dim 0"));
  REQUIRE_THROWS_WITH(gather(x, 2, zeros({4, 5}, DType::i64)), Catch::Contains("gather") && Catch::Contains("dim 2"));
  REQUIRE_THROWS_WITH(index_select(x, 0, zeros({2, 2}, DType::i64)), Catch::Contains("1-D"));
  REQUIRE_THROWS_WITH(scatter_add(x, 0, zeros({1, 1}, DType::i64), rnd({1, 1}, 1, DType::f32)),
                      Catch::Contains("float64") && Catch::Contains("float32"));
  REQUIRE_THROWS_WITH(scatter_add(x, 0, zeros({3, 3}, DType::i64), rnd({2, 3}, 1)),
                      Catch::Contains("[3, 3]") && Catch::Contains("src"));
  REQUIRE_THROWS_WITH(scatter_add(x, 0, zeros({2, 6}, DType::i64), rnd({2, 6}, 1)),
                      Catch::Contains("[2, 6]") && Catch::Contains("self"));
  REQUIRE_THROWS_WITH(scatter_add(zeros({3}, DType::u8), 0, zeros({1}, DType::i64), zeros({1}, DType::u8)),
                      Catch::Contains("uint8"));
  REQUIRE_THROWS_WITH(one_hot(tensor({1.0}), 3), Catch::Contains("one_hot") && Catch::Contains("float32"));
  REQUIRE_THROWS_WITH(one_hot(tensor({1}, DType::i64), 0), Catch::Contains("num_classes"));
}

TEST_CASE("index ops record autograd nodes", "[index]") {
  Tensor x = test::leaf64({3, 4}, -1, 1, 90);
  Tensor idx = tensor({2, 2, 0}, DType::i64);
  Tensor y = index_select(x, 1, idx);
  REQUIRE(y.requires_grad());
  sum(y).backward();
  // Column 2 selected twice, column 0 once, others never.
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{1, 0, 2, 0, 1, 0, 2, 0, 1, 0, 2, 0});
  REQUIRE_FALSE(one_hot(idx, 3).requires_grad());
  Tensor c = cat({x, rnd({1, 4}, 91)}, 0);
  REQUIRE(c.requires_grad());
}

TEST_CASE("large index ops (multi-threaded CPU paths) match naive loops", "[index]") {
  // > 32768 work items, so the CPU loops run on OpenMP threads.
  Tensor x = rnd({300, 200}, 100);
  Tensor index = ints({300, 200}, 0, 300, 101);
  REQUIRE(test::max_abs_diff(gather(x, 0, index), naive_gather(x, 0, index)) == 0.0);
  Tensor self = ints({40000, 5}, 0, 9, 102, DType::i64);
  Tensor src = ints({40000, 7}, 0, 9, 103, DType::i64);
  Tensor sidx = ints({40000, 7}, 0, 5, 104, DType::i32);
  REQUIRE(test::max_abs_diff(scatter_add(self, 1, sidx, src), naive_scatter_add(self, 1, sidx, src)) == 0.0);
  Tensor line = ints({2000}, 0, 300, 105);
  Tensor sel = index_select(x, 0, line);
  const auto lv = line.to_vector<int64_t>();
  const auto xv = x.to_vector<double>();
  const auto sv = sel.to_vector<double>();
  bool ok = true;
  for (size_t j = 0; j < lv.size() && ok; ++j)
    for (int64_t c = 0; c < 200; ++c) ok = ok && sv[j * 200 + c] == xv[lv[j] * 200 + c];
  REQUIRE(ok);
}
