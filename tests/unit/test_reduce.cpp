// Reductions on the CPU backend against naive loops and hand-computed values: every dim subset,
// keepdim, negative dims, non-contiguous inputs, ties, empty dims, integer dtypes, the chunked
// (large R) and column (strided R) execution paths, and the validation errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/parallel_for.h"
#include "ops/ops.h"

namespace {

using namespace pg;

// Deterministic pseudo-random doubles in [lo, hi) (xorshift), independent of core/random.
std::vector<double> host_values(int64_t n, double lo, double hi, uint64_t seed) {
  std::vector<double> v(static_cast<size_t>(n));
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (auto& x : v) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    x = lo + (hi - lo) * static_cast<double>(s >> 11) * (1.0 / 9007199254740992.0);
  }
  return v;
}

Tensor make(const Shape& shape, DType dt, uint64_t seed, double lo = -2.0, double hi = 2.0) {
  return from_vector(host_values(shape_numel(shape), lo, hi, seed), shape).to(dt);
}

enum class Op { Sum, Mean, Lse, Max, Min };

// Naive reduction of the row-major values `v` of `shape` over `dims` (sorted, wrapped).
// Returns values and (for Max/Min) the row-major index of the first extremum within the
// reduced index space.
void naive(const std::vector<double>& v, const Shape& shape, const std::vector<int64_t>& dims, Op op,
           std::vector<double>& out, std::vector<int64_t>& idx) {
  const size_t nd = shape.size();
  std::vector<bool> red(nd, false);
  for (int64_t d : dims) red[d] = true;
  Shape osz, rsz;
  for (size_t d = 0; d < nd; ++d) (red[d] ? rsz : osz).push_back(shape[d]);
  const int64_t n_out = shape_numel(osz), R = shape_numel(rsz);
  const Shape st = contiguous_strides(shape);
  out.assign(n_out, 0.0);
  idx.assign(n_out, -1);
  for (int64_t o = 0; o < n_out; ++o) {
    // offset of the output's first element
    int64_t rem = o, base = 0;
    for (int64_t d = static_cast<int64_t>(nd) - 1; d >= 0; --d) {
      if (red[d]) continue;
      base += (rem % shape[d]) * st[d];
      rem /= shape[d];
    }
    double acc = 0.0, best = 0.0, m = -INFINITY;
    int64_t bi = -1;
    for (int64_t r = 0; r < R; ++r) {
      int64_t rr = r, off = base;
      for (int64_t d = static_cast<int64_t>(nd) - 1; d >= 0; --d) {
        if (!red[d]) continue;
        off += (rr % shape[d]) * st[d];
        rr /= shape[d];
      }
      const double x = v[off];
      acc += x;
      m = std::max(m, x);
      if (bi < 0 || (op == Op::Max && x > best) || (op == Op::Min && x < best)) {
        best = x;
        bi = r;
      }
    }
    if (op == Op::Lse) {
      double s = 0.0;
      for (int64_t r = 0; r < R; ++r) {
        int64_t rr = r, off = base;
        for (int64_t d = static_cast<int64_t>(nd) - 1; d >= 0; --d) {
          if (!red[d]) continue;
          off += (rr % shape[d]) * st[d];
          rr /= shape[d];
        }
        s += std::exp(v[off] - m);
      }
      out[o] = m + std::log(s);
    } else if (op == Op::Sum) {
      out[o] = acc;
    } else if (op == Op::Mean) {
      out[o] = acc / static_cast<double>(R);
    } else {
      out[o] = best;
      idx[o] = bi;
    }
  }
}

Shape reduced_shape(const Shape& s, const std::vector<int64_t>& dims, bool keepdim) {
  Shape out;
  for (size_t d = 0; d < s.size(); ++d) {
    const bool r = std::find(dims.begin(), dims.end(), static_cast<int64_t>(d)) != dims.end();
    if (!r) out.push_back(s[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

void require_values(const Tensor& t, const std::vector<double>& want, double tol) {
  const auto got = t.to_vector<double>();
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i << ": " << got[i] << " vs " << want[i]);
    REQUIRE(std::fabs(got[i] - want[i]) <= tol * (1.0 + std::fabs(want[i])));
  }
}

// Checks every reduction of `x` over `dims` against the naive loops.
void check_all_ops(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, double tol) {
  const auto v = x.to_vector<double>();
  const Shape want_shape = reduced_shape(x.shape(), dims, keepdim);
  std::vector<double> ref;
  std::vector<int64_t> ridx;
  INFO("shape " << shape_str(x.shape()) << " dims " << dims.size() << " keepdim " << keepdim);

  naive(v, x.shape(), dims, Op::Sum, ref, ridx);
  Tensor s = sum(x, dims, keepdim);
  REQUIRE(s.shape() == want_shape);
  REQUIRE(s.dtype() == x.dtype());
  require_values(s, ref, tol);

  naive(v, x.shape(), dims, Op::Mean, ref, ridx);
  require_values(mean(x, dims, keepdim), ref, tol);

  naive(v, x.shape(), dims, Op::Lse, ref, ridx);
  Tensor l = logsumexp(x, dims, keepdim);
  REQUIRE(l.shape() == want_shape);
  require_values(l, ref, tol);

  if (dims.size() == 1) {
    for (Op op : {Op::Max, Op::Min}) {
      naive(v, x.shape(), dims, op, ref, ridx);
      Tensor m = op == Op::Max ? max(x, dims[0], keepdim) : min(x, dims[0], keepdim);
      Tensor a = op == Op::Max ? argmax(x, dims[0], keepdim) : argmin(x, dims[0], keepdim);
      REQUIRE(m.shape() == want_shape);
      REQUIRE(a.shape() == want_shape);
      REQUIRE(a.dtype() == DType::i64);
      require_values(m, ref, 0.0);
      REQUIRE(a.to_vector<int64_t>() == ridx);
    }
  }
}

std::vector<std::vector<int64_t>> all_subsets(int64_t nd) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t mask = 1; mask < (int64_t(1) << nd); ++mask) {
    std::vector<int64_t> s;
    for (int64_t d = 0; d < nd; ++d)
      if (mask & (int64_t(1) << d)) s.push_back(d);
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST_CASE("reduce: every dim subset of contiguous 3-D and 4-D tensors matches naive loops", "[reduce]") {
  for (DType dt : {DType::f64, DType::f32}) {
    const double tol = dt == DType::f64 ? 1e-12 : 2e-6;
    for (const Shape& shape : {Shape{3, 4, 5}, Shape{2, 3, 1, 4}, Shape{7, 1, 33}}) {
      Tensor x = make(shape, dt, 11);
      for (const auto& dims : all_subsets(static_cast<int64_t>(shape.size()))) {
        for (bool keepdim : {false, true}) check_all_ops(x, dims, keepdim, tol);
      }
    }
  }
}

TEST_CASE("reduce: non-contiguous inputs (permuted, sliced, expanded)", "[reduce]") {
  Tensor base = make({6, 5, 8}, DType::f64, 3);
  // permuted [8, 6, 5]
  Tensor perm = detail::make_view(base, {8, 6, 5}, {1, 40, 8}, 0);
  // sliced: every second row of dim 0 and a window of dim 2 → [3, 5, 4] with offset
  Tensor sl = detail::make_view(base, {3, 5, 4}, {80, 8, 2}, 1);
  // expanded (stride 0) dim
  Tensor ex = detail::make_view(base, {6, 3, 8}, {40, 0, 1}, 0);
  for (const Tensor& x : {perm, sl, ex}) {
    REQUIRE_FALSE(x.is_contiguous());
    for (const auto& dims : all_subsets(3)) {
      for (bool keepdim : {false, true}) check_all_ops(x, dims, keepdim, 1e-12);
    }
  }
}

TEST_CASE("reduce: hand-computed values, negative dims, keepdim and all-dims", "[reduce]") {
  Tensor x = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, DType::f32);
  REQUIRE(sum(x).shape() == Shape{});
  REQUIRE(sum(x).item() == 21.0);
  REQUIRE(sum(x, {}, true).shape() == Shape({1, 1}));
  REQUIRE(sum(x, {-1}).to_vector<double>() == std::vector<double>{6, 15});
  REQUIRE(sum(x, {0}, true).shape() == Shape({1, 3}));
  REQUIRE(sum(x, {0}, true).to_vector<double>() == std::vector<double>{5, 7, 9});
  REQUIRE(sum(x, {-2, -1}).item() == 21.0);
  REQUIRE(mean(x, {1}).to_vector<double>() == std::vector<double>{2, 5});
  REQUIRE(max(x, -1).to_vector<double>() == std::vector<double>{3, 6});
  REQUIRE(min(x, 0).to_vector<double>() == std::vector<double>{1, 2, 3});
  REQUIRE(max(x).item() == 6.0);
  REQUIRE(min(x).item() == 1.0);
  REQUIRE(max(x).shape() == Shape{});
  REQUIRE(argmax(x, 1, true).shape() == Shape({2, 1}));
  REQUIRE(argmax(x, 1).to_vector<int64_t>() == std::vector<int64_t>{2, 2});
  REQUIRE(argmin(x, -2).to_vector<int64_t>() == std::vector<int64_t>{0, 0, 0});
  Tensor l = logsumexp(x, {1});
  REQUIRE(l.to_vector<double>()[0] == Approx(std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0))).epsilon(1e-6));
}

TEST_CASE("reduce: 0-dim tensors", "[reduce]") {
  Tensor s = scalar_tensor(2.5, DType::f64);
  REQUIRE(sum(s).item() == 2.5);
  REQUIRE(sum(s, {0}).item() == 2.5);
  REQUIRE(mean(s).item() == 2.5);
  REQUIRE(max(s, 0).item() == 2.5);
  REQUIRE(max(s, -1, true).shape() == Shape{});
  REQUIRE(argmax(s, 0).item_int() == 0);
  REQUIRE(max(s).item() == 2.5);
  REQUIRE(logsumexp(s, {0}).item() == Approx(2.5));
}

TEST_CASE("reduce: ties resolve to the lowest index; NaN wins max/min", "[reduce]") {
  Tensor x = tensor({1, 3, 3, 2, 0, 0, 5, 0}, {2, 4}, DType::f32);
  REQUIRE(argmax(x, 1).to_vector<int64_t>() == std::vector<int64_t>{1, 2});
  REQUIRE(argmin(x, 1).to_vector<int64_t>() == std::vector<int64_t>{0, 0});
  Tensor xi = tensor({4, 4, 4, 4, 1, 7, 7, 1}, {2, 4}, DType::i64);
  REQUIRE(argmax(xi, 1).to_vector<int64_t>() == std::vector<int64_t>{0, 1});
  REQUIRE(argmin(xi, 1).to_vector<int64_t>() == std::vector<int64_t>{0, 0});
  // long tie run: exercises the 4-lane CPU loop and the combine tie rule
  std::vector<double> v(1000, 1.0);
  v[517] = 2.0;
  v[900] = 2.0;
  Tensor t = from_vector(v, {1000});
  REQUIRE(argmax(t, 0).item_int() == 517);
  REQUIRE(argmin(t, 0).item_int() == 0);
  // NaN propagates like PyTorch: max/min return NaN at the first NaN
  Tensor n = tensor({1, NAN, 3, NAN}, {4}, DType::f64);
  REQUIRE(std::isnan(max(n).item()));
  REQUIRE(std::isnan(min(n, 0).item()));
  REQUIRE(argmax(n, 0).item_int() == 1);
  REQUIRE(argmin(n, 0).item_int() == 1);
  REQUIRE(std::isnan(sum(n).item()));
  REQUIRE(std::isnan(logsumexp(n, {0}).item()));
}

TEST_CASE("reduce: max/min gradient goes to the first extremum", "[reduce]") {
  Tensor x = tensor({1, 3, 3, 2, 5, 0, 5, 0}, {2, 4}, DType::f64);
  x.requires_grad_(true);
  Tensor m = max(x, 1);
  m.backward(tensor({10, 20}, {2}, DType::f64));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{0, 10, 0, 0, 20, 0, 0, 0});
  x.zero_grad();
  min(x).backward();
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{0, 0, 0, 0, 0, 1, 0, 0});
  x.zero_grad();
  max(x, 0, true).backward(tensor({1, 2, 3, 4}, {1, 4}, DType::f64));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{0, 2, 0, 4, 1, 0, 3, 0});
}

TEST_CASE("reduce: integer and bool sums return int64 exactly", "[reduce]") {
  std::vector<uint8_t> u(300, 255);
  Tensor xu = from_vector(u, {300});
  Tensor su = sum(xu);
  REQUIRE(su.dtype() == DType::i64);
  REQUIRE(su.item_int() == 300 * 255);
  std::vector<int32_t> w{2000000000, 2000000000, -7, 1};
  Tensor s32 = sum(from_vector(w, {2, 2}), {1});
  REQUIRE(s32.dtype() == DType::i64);
  REQUIRE(s32.to_vector<int64_t>() == std::vector<int64_t>{4000000000LL, -6});
  Tensor b = tensor({1, 0, 1, 1}, {4}, DType::b8);
  REQUIRE(sum(b).dtype() == DType::i64);
  REQUIRE(sum(b).item_int() == 3);
  Tensor xi = tensor({5, -2, 7, 7}, {4}, DType::i64);
  REQUIRE(max(xi).item_int() == 7);
  REQUIRE(min(xi, 0).item_int() == -2);
  REQUIRE(max(xi).dtype() == DType::i64);
  Tensor xu8 = tensor({5, 200, 7}, {3}, DType::u8);
  REQUIRE(max(xu8, 0).item_int() == 200);
  REQUIRE(argmin(xu8, 0).item_int() == 0);
}

TEST_CASE("reduce: empty dims", "[reduce]") {
  Tensor e = zeros({3, 0}, DType::f32);
  REQUIRE(sum(e, {1}).to_vector<double>() == std::vector<double>{0, 0, 0});
  REQUIRE(sum(e).item() == 0.0);
  const auto mn = mean(e, {1}).to_vector<double>();
  REQUIRE(mn.size() == 3);
  REQUIRE(std::isnan(mn[0]));
  REQUIRE(std::isinf(logsumexp(e, {1}).to_vector<double>()[0]));
  REQUIRE(logsumexp(e, {1}).to_vector<double>()[0] < 0);
  // reducing the non-empty dim of an empty tensor gives an empty result, not an error
  REQUIRE(max(e, 0).shape() == Shape{0});
  REQUIRE(sum(e, {0}).shape() == Shape{0});
  REQUIRE_THROWS_WITH(max(e, 1), Catch::Contains("max") && Catch::Contains("size 0"));
  REQUIRE_THROWS_WITH(argmin(e, -1), Catch::Contains("argmin") && Catch::Contains("size 0"));
  REQUIRE_THROWS_WITH(min(e), Catch::Contains("min") && Catch::Contains("empty"));
}

TEST_CASE("reduce: logsumexp is numerically stable", "[reduce]") {
  Tensor big = tensor({1000, 1000, -1e30, 1000}, {2, 2}, DType::f32);
  const auto l = logsumexp(big, {1}).to_vector<double>();
  REQUIRE(l[0] == Approx(1000 + std::log(2.0)));
  REQUIRE(l[1] == Approx(1000));
  const double inf = std::numeric_limits<double>::infinity();
  Tensor ninf = tensor({-inf, -inf, -inf, 0.0}, {2, 2}, DType::f64);
  const auto ln = logsumexp(ninf, {1}).to_vector<double>();
  REQUIRE(ln[0] == -inf);
  REQUIRE(ln[1] == Approx(0.0).margin(1e-15));
  Tensor pinf = tensor({inf, 1.0, -inf, inf}, {4}, DType::f64);
  REQUIRE(logsumexp(pinf, {0}).item() == inf);
  Tensor tiny = tensor({-1000, -1001}, {2}, DType::f64);
  REQUIRE(logsumexp(tiny, {0}).item() == Approx(-1000 + std::log1p(std::exp(-1.0))));
}

TEST_CASE("reduce: large reductions take the chunked path and are thread-count independent", "[reduce]") {
  const int64_t n = 3'000'000;
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>((i % 1000) * 0.001);
  Tensor x = from_vector(v, {n});
  double want = 0.0;
  for (float f : v) want += f;
  const int saved = cpu_num_threads();
  set_cpu_num_threads(1);
  const float s1 = sum(x).item<float>();
  const int64_t a1 = argmax(x, 0).item_int();
  const float l1 = logsumexp(x, {0}).item<float>();
  set_cpu_num_threads(2);
  const float s2 = sum(x).item<float>();
  const float l2 = logsumexp(x, {0}).item<float>();
  set_cpu_num_threads(saved);
  REQUIRE(s1 == s2);  // bit-identical
  REQUIRE(l1 == l2);
  REQUIRE(s1 == Approx(want).epsilon(1e-7));
  REQUIRE(a1 == 999);
  REQUIRE(max(x).item() == Approx(0.999));
  // few outputs, large R: [2, 1.5M] over dim 1 and [1.5M, 2] over dim 0 (column, chunked)
  Tensor r = detail::make_view(x, {2, n / 2}, {n / 2, 1}, 0);
  Tensor c = detail::make_view(x, {n / 2, 2}, {2, 1}, 0);
  std::vector<double> rs(2, 0.0), cs(2, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    rs[i / (n / 2)] += v[i];
    cs[i % 2] += v[i];
  }
  require_values(sum(r, {1}), rs, 1e-7);
  require_values(sum(c, {0}), cs, 1e-7);
  REQUIRE(argmax(c, 0).to_vector<int64_t>() == std::vector<int64_t>{499, 499});
}

TEST_CASE("reduce: column layout (strided R, contiguous outputs) with wide rows", "[reduce]") {
  // [300, 150] over dim 0 → column tiles of 64 (3 tiles per row incl. a partial one)
  Tensor x = make({300, 150}, DType::f64, 21);
  check_all_ops(x, {0}, false, 1e-12);
  // [40, 9000] over dim 0: wide column and few rows; [3, 20000, 5] over dims (0, 1)
  check_all_ops(make({40, 9000}, DType::f64, 22), {0}, true, 1e-12);
  check_all_ops(make({3, 20000, 5}, DType::f64, 23), {0, 1}, false, 1e-12);
  check_all_ops(make({3, 20000, 5}, DType::f32, 24), {1}, false, 2e-6);
}

TEST_CASE("reduce: sum_to_shape", "[reduce]") {
  Tensor x = make({2, 3, 4}, DType::f64, 5);
  const auto v = x.to_vector<double>();
  Tensor a = sum_to_shape(x, {3, 1});
  REQUIRE(a.shape() == Shape({3, 1}));
  std::vector<double> want(3, 0.0);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) want[j] += v[(i * 3 + j) * 4 + k];
  require_values(a, want, 1e-12);
  Tensor b = sum_to_shape(x, {4});
  REQUIRE(b.shape() == Shape{4});
  Tensor c = sum_to_shape(x, {});
  REQUIRE(c.shape() == Shape{});
  REQUIRE(c.item() == Approx(sum(x).item()).epsilon(1e-14));
  Tensor d = sum_to_shape(x, {1, 3, 4});
  REQUIRE(d.shape() == Shape({1, 3, 4}));
  REQUIRE(sum_to_shape(x, {2, 3, 4}).same(x));
  Tensor one = make({1, 3}, DType::f32, 6);
  REQUIRE(sum_to_shape(one, {3}).to_vector<double>() == one.to_vector<double>());
  REQUIRE_THROWS_WITH(sum_to_shape(x, {3}), Catch::Contains("sum_to_shape") && Catch::Contains("[2, 3, 4]"));
  REQUIRE_THROWS_WITH(sum_to_shape(x, {1, 2, 3, 4}), Catch::Contains("sum_to_shape"));
  // gradient: broadcast back
  Tensor l = make({2, 3}, DType::f64, 7);
  l.requires_grad_(true);
  sum_to_shape(l, {1, 3}).backward(tensor({1, 2, 3}, {1, 3}, DType::f64));
  REQUIRE(l.grad().to_vector<double>() == std::vector<double>{1, 2, 3, 1, 2, 3});
}

TEST_CASE("reduce: sum/mean/logsumexp gradients have the input's shape", "[reduce]") {
  Tensor x = make({2, 3}, DType::f64, 8);
  x.requires_grad_(true);
  sum(x, {1}).backward(tensor({1, 2}, {2}, DType::f64));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{1, 1, 1, 2, 2, 2});
  x.zero_grad();
  mean(x, {0}, true).backward(tensor({2, 4, 6}, {1, 3}, DType::f64));
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{1, 2, 3, 1, 2, 3});
  x.zero_grad();
  logsumexp(x, {0, 1}).backward();
  const auto g = x.grad().to_vector<double>();
  double total = 0.0;
  for (double e : g) total += e;
  REQUIRE(total == Approx(1.0).epsilon(1e-12));  // softmax sums to one
  // integer results record nothing
  Tensor xi = tensor({1, 2}, {2}, DType::i64);
  REQUIRE_FALSE(sum(xi).requires_grad());
}

TEST_CASE("reduce: validation errors name the op and the values", "[reduce]") {
  Tensor x = make({2, 3}, DType::f32, 9);
  REQUIRE_THROWS_WITH(sum(x, {2}), Catch::Contains("sum") && Catch::Contains("dim 2"));
  REQUIRE_THROWS_WITH(mean(x, {-3}), Catch::Contains("mean") && Catch::Contains("dim -3"));
  REQUIRE_THROWS_WITH(sum(x, {1, -1}), Catch::Contains("sum") && Catch::Contains("more than once") &&
                                           Catch::Contains("[1, -1]"));
  REQUIRE_THROWS_WITH(logsumexp(x, {0, 0}), Catch::Contains("logsumexp") && Catch::Contains("more than once"));
  REQUIRE_THROWS_WITH(max(x, 5), Catch::Contains("max") && Catch::Contains("dim 5"));
  REQUIRE_THROWS_WITH(argmax(x, -4), Catch::Contains("argmax") && Catch::Contains("dim -4"));
  Tensor xi = tensor({1, 2}, {2}, DType::i64);
  REQUIRE_THROWS_WITH(mean(xi), Catch::Contains("mean") && Catch::Contains("int64"));
  REQUIRE_THROWS_WITH(logsumexp(xi, {0}), Catch::Contains("logsumexp") && Catch::Contains("int64"));
  Tensor b = tensor({1, 0}, {2}, DType::b8);
  REQUIRE_THROWS_WITH(argmax(b, 0), Catch::Contains("argmax") && Catch::Contains("bool"));
  REQUIRE_THROWS_WITH(max(b), Catch::Contains("max") && Catch::Contains("bool"));
  REQUIRE_THROWS_WITH(sum(Tensor()), Catch::Contains("sum") && Catch::Contains("undefined"));
}
