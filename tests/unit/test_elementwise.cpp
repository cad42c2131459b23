// Elementwise ops on the CPU: hand-computed values, broadcasting and arbitrary strides
// (permuted, sliced, expanded inputs), integer and bool semantics, comparisons, where, the
// error messages, gradient details at kinks/ties, and the CPU fast loops against the generic
// parallel_for bodies that the CUDA backend runs.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <vector>

#include "kernels/elementwise.h"
#include "test_util.h"

using namespace pg;
using Catch::Matchers::Contains;

namespace {

constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

std::vector<double> vals(const Tensor& t) {
  return t.to_vector<double>();
}
std::vector<uint8_t> bools(const Tensor& t) {
  REQUIRE(t.dtype() == DType::b8);
  return t.to_vector<uint8_t>();
}

bool close(double got, double want, double tol) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::fabs(got - want) <= tol * (1.0 + std::fabs(want));
}

// One assertion per call: reports the first mismatching element.
void require_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-6) {
  const auto v = vals(t);
  REQUIRE(v.size() == expected.size());
  size_t bad = v.size();
  for (size_t i = 0; i < v.size() && bad == v.size(); ++i) {
    if (!close(v[i], expected[i], tol)) bad = i;
  }
  INFO("first mismatch at element " << bad << ": got " << (bad < v.size() ? v[bad] : 0.0) << ", expected "
                                    << (bad < v.size() ? expected[bad] : 0.0));
  REQUIRE(bad == v.size());
}

// out must equal f applied to the broadcast (expanded) host values of a and b.
void require_binary_ref(const Tensor& out, const Tensor& a, const Tensor& b,
                        const std::function<double(double, double)>& f, double tol) {
  const auto av = vals(a.expand(out.shape()));
  const auto bv = vals(b.expand(out.shape()));
  std::vector<double> expected(av.size());
  for (size_t i = 0; i < av.size(); ++i) expected[i] = f(av[i], bv[i]);
  require_values(out, expected, tol);
}

void require_unary_ref(const Tensor& out, const Tensor& x, const std::function<double(double)>& f, double tol) {
  REQUIRE(out.shape() == x.shape());
  const auto xv = vals(x);
  std::vector<double> expected(xv.size());
  for (size_t i = 0; i < xv.size(); ++i) expected[i] = f(xv[i]);
  require_values(out, expected, tol);
}

// Restores the CPU fast-path switch even when an assertion throws.
struct FastPathGuard {
  bool prev = kernels::cpu_fast_paths_enabled();
  explicit FastPathGuard(bool enabled) { kernels::set_cpu_fast_paths(enabled); }
  ~FastPathGuard() { kernels::set_cpu_fast_paths(prev); }
};

const DType kFloatTypes[] = {DType::f32, DType::f64};

}  // namespace

TEST_CASE("elementwise: binary arithmetic values", "[elementwise]") {
  for (DType dt : kFloatTypes) {
    INFO(dtype_name(dt));
    const Tensor a = tensor({1, -2, 3.5, 4}, dt);
    const Tensor b = tensor({2, 4, -0.5, 8}, dt);
    require_values(add(a, b), {3, 2, 3, 12});
    require_values(add(a, b, 2.0), {5, 6, 2.5, 20});
    require_values(sub(a, b), {-1, -6, 4, -4});
    require_values(sub(a, b, 0.5), {0, -4, 3.75, 0});
    require_values(mul(a, b), {2, -8, -1.75, 32});
    require_values(div(a, b), {0.5, -0.5, -7, 0.5});
    require_values(maximum(a, b), {2, 4, 3.5, 8});
    require_values(minimum(a, b), {1, -2, -0.5, 4});
    const Tensor p = tensor({2, 9, 0.25, 1}, dt);
    require_values(pow(p, tensor({3, 0.5, -1, 7}, dt)), {8, 3, 4, 1});
    REQUIRE(add(a, b).dtype() == dt);
    REQUIRE(add(a, b).is_contiguous());
    // operators
    require_values(a + b, {3, 2, 3, 12});
    require_values(a - b, {-1, -6, 4, -4});
    require_values(a * b, {2, -8, -1.75, 32});
    require_values(a / b, {0.5, -0.5, -7, 0.5});
    require_values(-a, {-1, 2, -3.5, -4});
  }
}

TEST_CASE("elementwise: scalar variants", "[elementwise]") {
  for (DType dt : kFloatTypes) {
    INFO(dtype_name(dt));
    const Tensor a = tensor({1, -2, 0.5, 4}, dt);
    require_values(add(a, 1.5), {2.5, -0.5, 2, 5.5});
    require_values(sub(a, 1.0), {0, -3, -0.5, 3});
    require_values(rsub(2.0, a), {1, 4, 1.5, -2});
    require_values(mul(a, -3.0), {-3, 6, -1.5, -12});
    require_values(div(a, 4.0), {0.25, -0.5, 0.125, 1});
    require_values(rdiv(2.0, a), {2, -1, 4, 0.5});
    require_values(pow(a, 2.0), {1, 4, 0.25, 16});
    require_values(pow(a, 3.0), {1, -8, 0.125, 64});
    require_values(pow(tensor({4, 0.25, 9}, dt), 0.5), {2, 0.5, 3});
    require_values(pow(tensor({4, 0.25, 2}, dt), -1.0), {0.25, 4, 0.5});
    require_values(a + 1.5, {2.5, -0.5, 2, 5.5});
    require_values(a - 1.0, {0, -3, -0.5, 3});
    require_values(a * 2.0, {2, -4, 1, 8});
    require_values(a / 2.0, {0.5, -1, 0.25, 2});
    require_values(1.5 + a, {2.5, -0.5, 2, 5.5});
    require_values(2.0 - a, {1, 4, 1.5, -2});
    require_values(2.0 * a, {2, -4, 1, 8});
    require_values(2.0 / a, {2, -1, 4, 0.5});
    require_values(div(a, 0.0), {INFINITY, -INFINITY, INFINITY, INFINITY});
  }
}

TEST_CASE("elementwise: unary math and activations", "[elementwise]") {
  for (DType dt : kFloatTypes) {
    INFO(dtype_name(dt));
    const double tol = dt == DType::f32 ? 2e-6 : 1e-12;
    const Tensor x = tensor({-2, -0.5, 0, 0.5, 3}, dt);
    require_unary_ref(
        exp(x), x, [](double v) { return std::exp(v); }, tol);
    require_unary_ref(
        neg(x), x, [](double v) { return -v; }, tol);
    require_values(abs(x), {2, 0.5, 0, 0.5, 3});
    require_values(abs(tensor({-0.0}, dt)), {0});
    REQUIRE_FALSE(std::signbit(vals(abs(tensor({-0.0}, dt)))[0]));
    require_values(square(x), {4, 0.25, 0, 0.25, 9});
    require_values(sign(x), {-1, -1, 0, 1, 1});
    require_values(relu(x), {0, 0, 0, 0.5, 3});
    require_values(leaky_relu(x, 0.1), {-0.2, -0.05, 0, 0.5, 3});
    require_values(leaky_relu(x), {-0.02, -0.005, 0, 0.5, 3});
    require_unary_ref(
        tanh(x), x, [](double v) { return std::tanh(v); }, tol);
    require_unary_ref(
        sigmoid(x), x, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, tol);

    const Tensor pos = tensor({0.25, 1, 2, 100}, dt);
    require_unary_ref(
        log(pos), pos, [](double v) { return std::log(v); }, tol);
    require_unary_ref(
        sqrt(pos), pos, [](double v) { return std::sqrt(v); }, tol);
    require_values(log(tensor({0, -1}, dt)), {-INFINITY, NAN});
    require_values(sqrt(tensor({-1}, dt)), {NAN});

    // SELU with its exact constants
    require_values(selu(tensor({1, -1, 0, 2.5}, dt)),
                   {kSeluScale, kSeluScale * kSeluAlpha * (std::exp(-1.0) - 1.0), 0, kSeluScale * 2.5}, tol);
    // large negative inputs saturate to -scale*alpha
    require_values(selu(tensor({-100}, dt)), {-kSeluScale * kSeluAlpha}, tol);

    // sigmoid never overflows: exactly 0/1 in the limits, no NaN
    const Tensor big = tensor({-1000, -100, 100, 1000}, dt);
    const auto sg = vals(sigmoid(big));
    for (double v : sg) REQUIRE(std::isfinite(v));
    REQUIRE(sg[0] == 0.0);
    REQUIRE(sg[0] <= sg[1]);
    REQUIRE(sg[1] < 1e-40);
    REQUIRE(sg[2] == 1.0);
    REQUIRE(sg[3] == 1.0);
    require_values(tanh(big), {-1, -1, 1, 1});

    // softplus: PyTorch definition (beta, threshold)
    require_values(softplus(tensor({0}, dt)), {std::log(2.0)}, tol);
    require_values(softplus(tensor({30, -1000}, dt)), {30, 0});
    require_values(softplus(tensor({0.5}, dt), 2.0), {std::log1p(std::exp(1.0)) / 2.0}, tol);
    // beta * x = 24 > threshold 20 → linear
    require_values(softplus(tensor({12}, dt), 2.0, 20.0), {12});
    // beta * x = 18 <= 20 → the log form
    require_values(softplus(tensor({9}, dt), 2.0, 20.0), {std::log1p(std::exp(18.0)) / 2.0}, tol);
    REQUIRE_THROWS_WITH(softplus(x, 0.0), Contains("softplus"));
  }
}

TEST_CASE("elementwise: clamp", "[elementwise]") {
  for (DType dt : {DType::f32, DType::f64, DType::i32, DType::i64}) {
    INFO(dtype_name(dt));
    const Tensor x = tensor({-5, -1, 0, 2, 7}, dt);
    require_values(clamp(x, -1, 3), {-1, -1, 0, 2, 3});
    require_values(clamp_min(x, 0), {0, 0, 0, 2, 7});
    require_values(clamp_max(x, 1), {-5, -1, 0, 1, 1});
    // lo > hi: min(max(x, lo), hi) = hi everywhere
    require_values(clamp(x, 4, 2), {2, 2, 2, 2, 2});
    REQUIRE(clamp(x, -1, 3).dtype() == dt);
  }
  // bounds beyond the integer range saturate
  const Tensor u = tensor({0, 7, 255}, DType::u8);
  require_values(clamp(u, -10, 1000), {0, 7, 255});
  require_values(clamp(u, 5, 300), {5, 7, 255});
  require_values(clamp(tensor({NAN, 1.0}), 0, 0.5), {NAN, 0.5});
}

TEST_CASE("elementwise: broadcasting", "[elementwise]") {
  const Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor row = tensor({10, 20, 30});
  Tensor r = add(a, row);
  REQUIRE(r.shape() == Shape{2, 3});
  require_values(r, {11, 22, 33, 14, 25, 36});

  const Tensor col = tensor({1, 2}, {2, 1});
  const Tensor line = tensor({3, 4, 5}, {1, 3});
  Tensor outer = mul(col, line);
  REQUIRE(outer.shape() == Shape{2, 3});
  require_values(outer, {3, 4, 5, 6, 8, 10});

  Tensor s = sub(scalar_tensor(1.0), a);
  REQUIRE(s.shape() == Shape{2, 3});
  require_values(s, {0, -1, -2, -3, -4, -5});

  const Tensor x = pg::test::uniform({4, 1, 3}, -1, 1, 11);
  const Tensor y = pg::test::uniform({2, 1}, 0.5, 2, 12);
  Tensor d = div(x, y);
  REQUIRE(d.shape() == Shape{4, 2, 3});
  require_binary_ref(
      d, x, y, [](double u, double v) { return u / v; }, 1e-6);

  // size-0 dims broadcast like any other size
  Tensor e = add(empty({0, 3}), row);
  REQUIRE(e.shape() == Shape{0, 3});
  REQUIRE(e.numel() == 0);

  REQUIRE(broadcast_shapes({5, 1, 4}, {3, 1}, "test") == Shape{5, 3, 4});
  REQUIRE(broadcast_shapes({}, {2, 2}, "test") == Shape{2, 2});
  REQUIRE(broadcast_shapes({0}, {1}, "test") == Shape{0});
  REQUIRE_THROWS_WITH(broadcast_shapes({2, 3}, {4}, "myop"), Contains("myop") && Contains("[2, 3]") && Contains("[4]"));
}

TEST_CASE("elementwise: permuted, sliced and expanded inputs", "[elementwise]") {
  for (DType dt : kFloatTypes) {
    INFO(dtype_name(dt));
    const double tol = dt == DType::f32 ? 1e-6 : 1e-12;
    const Tensor base = pg::test::uniform({3, 4, 5}, -2, 2, 21, dt);
    const Tensor other = pg::test::uniform({5, 4, 3}, 0.5, 2, 22, dt);

    // permuted: [3,4,5] → [5,4,3]
    const Tensor perm = base.permute({2, 1, 0});
    REQUIRE_FALSE(perm.is_contiguous());
    require_binary_ref(
        add(perm, other), perm, other, [](double u, double v) { return u + v; }, tol);
    require_binary_ref(
        mul(other, perm), other, perm, [](double u, double v) { return u * v; }, tol);
    require_binary_ref(
        div(perm, other), perm, other, [](double u, double v) { return u / v; }, tol);
    require_unary_ref(
        exp(perm), perm, [](double v) { return std::exp(v); }, tol);
    require_unary_ref(
        relu(perm), perm, [](double v) { return v > 0 ? v : 0.0; }, tol);

    // sliced with a step and an offset
    const Tensor sl = base.slice(2, 1, 5, 2).slice(0, 1, 3);  // [2,4,2]
    REQUIRE(sl.shape() == Shape{2, 4, 2});
    const Tensor rhs = pg::test::uniform({4, 2}, -1, 1, 23, dt);
    require_binary_ref(
        sub(sl, rhs), sl, rhs, [](double u, double v) { return u - v; }, tol);
    require_binary_ref(
        maximum(rhs, sl), rhs, sl, [](double u, double v) { return std::max(u, v); }, tol);
    require_unary_ref(
        sigmoid(sl), sl, [](double v) { return 1.0 / (1.0 + std::exp(-v)); }, tol);

    // expanded (stride 0) against a transposed operand
    const Tensor colv = pg::test::uniform({4, 1}, -1, 1, 24, dt);
    const Tensor ex = colv.expand({4, 3});
    REQUIRE(ex.strides()[1] == 0);
    const Tensor tr = pg::test::uniform({3, 4}, -1, 1, 25, dt).t();
    require_binary_ref(
        mul(ex, tr), ex, tr, [](double u, double v) { return u * v; }, tol);
    require_binary_ref(
        minimum(tr, ex), tr, ex, [](double u, double v) { return std::min(u, v); }, tol);
    require_unary_ref(
        square(ex), ex, [](double v) { return v * v; }, tol);

    // both operands non-contiguous and broadcasting at once
    const Tensor bb = base.select(1, 2).unsqueeze(1);                                  // [3,1,5], strides (20, *, 1)
    const Tensor cc = pg::test::uniform({5, 8}, -1, 1, 26, dt).slice(1, 0, 8, 2).t();  // [4,5], strides (2, 8)
    REQUIRE(cc.shape() == Shape{4, 5});
    REQUIRE_FALSE(cc.is_contiguous());
    Tensor out = add(bb, cc, -1.5);
    REQUIRE(out.shape() == Shape{3, 4, 5});
    require_binary_ref(
        out, bb, cc, [](double u, double v) { return u - 1.5 * v; }, tol);
  }
}

TEST_CASE("elementwise: large strided inputs use the threaded CPU path correctly", "[elementwise]") {
  const Tensor x = pg::test::uniform({300, 257}, -3, 3, 31);  // 77100 elements > the grain
  const Tensor xt = x.t();                                    // [257, 300], non-contiguous
  const Tensor b = pg::test::uniform({300}, -1, 1, 32);
  require_binary_ref(
      add(xt, b), xt, b, [](double u, double v) { return u + v; }, 1e-6);
  require_binary_ref(
      mul(b, xt), b, xt, [](double u, double v) { return u * v; }, 1e-6);
  require_unary_ref(
      tanh(xt), xt, [](double v) { return std::tanh(v); }, 2e-6);
  const Tensor c = pg::test::uniform({257, 1}, -1, 1, 33);
  require_binary_ref(
      sub(c, xt), c, xt, [](double u, double v) { return u - v; }, 1e-6);
  // contiguous large input
  require_unary_ref(
      abs(x), x, [](double v) { return std::fabs(v); }, 0.0);
  const Tensor y = pg::test::uniform({300, 257}, -3, 3, 34);
  require_binary_ref(
      maximum(x, y), x, y, [](double u, double v) { return std::max(u, v); }, 0.0);
}

TEST_CASE("elementwise: integer dtypes", "[elementwise]") {
  for (DType dt : {DType::i32, DType::i64}) {
    INFO(dtype_name(dt));
    const Tensor a = tensor({7, -7, 7, 0, -3}, dt);
    const Tensor b = tensor({2, 2, -2, 5, 4}, dt);
    require_values(add(a, b), {9, -5, 5, 5, 1});
    require_values(add(a, b, 3.0), {13, -1, 1, 15, 9});
    require_values(sub(a, b), {5, -9, 9, -5, -7});
    require_values(mul(a, b), {14, -14, -14, 0, -12});
    require_values(div(a, b), {3, -3, -3, 0, 0});  // truncation toward zero
    require_values(maximum(a, b), {7, 2, 7, 5, 4});
    require_values(minimum(a, b), {2, -7, -2, 0, -3});
    require_values(abs(a), {7, 7, 7, 0, 3});
    require_values(neg(a), {-7, 7, -7, 0, 3});
    require_values(relu(a), {7, 0, 7, 0, 0});
    require_values(sign(a), {1, -1, 1, 0, -1});
    require_values(square(a), {49, 49, 49, 0, 9});
    require_values(add(a, 2.0), {9, -5, 9, 2, -1});
    require_values(sub(a, 1.0), {6, -8, 6, -1, -4});
    require_values(rsub(10.0, a), {3, 17, 3, 10, 13});
    require_values(mul(a, 3.0), {21, -21, 21, 0, -9});
    require_values(div(a, 2.0), {3, -3, 3, 0, -1});
    // integer division by zero is defined as 0 (no trap)
    require_values(div(a, tensor({0}, dt)), {0, 0, 0, 0, 0});
    REQUIRE(add(a, b).dtype() == dt);
  }
  // int64 beyond 2^53 stays exact
  const Tensor big = from_vector<int64_t>({(int64_t{1} << 60) + 1}, {1});
  REQUIRE(add(big, big).to_vector<int64_t>()[0] == (int64_t{1} << 61) + 2);
  REQUIRE(mul(big, 2.0).to_vector<int64_t>()[0] == (int64_t{1} << 61) + 2);
  // INT32_MIN / -1 wraps instead of trapping
  const Tensor mn = from_vector<int32_t>({std::numeric_limits<int32_t>::min()}, {1});
  REQUIRE(div(mn, from_vector<int32_t>({-1}, {1})).to_vector<int32_t>()[0] == std::numeric_limits<int32_t>::min());

  // uint8: modular arithmetic
  const Tensor u = from_vector<uint8_t>({0, 5, 250}, {3});
  REQUIRE(sub(u, 1.0).to_vector<uint8_t>() == std::vector<uint8_t>{255, 4, 249});
  REQUIRE(add(u, from_vector<uint8_t>({1, 1, 10}, {3})).to_vector<uint8_t>() == std::vector<uint8_t>{1, 6, 4});
  REQUIRE(abs(u).to_vector<uint8_t>() == std::vector<uint8_t>{0, 5, 250});
  REQUIRE(sign(u).to_vector<uint8_t>() == std::vector<uint8_t>{0, 1, 1});
  REQUIRE(maximum(u, from_vector<uint8_t>({3, 3, 3}, {3})).to_vector<uint8_t>() == std::vector<uint8_t>{3, 5, 250});
  REQUIRE(div(u, from_vector<uint8_t>({2, 2, 7}, {3})).to_vector<uint8_t>() == std::vector<uint8_t>{0, 2, 35});

  // float-only ops reject integer dtypes, naming the op and the dtype
  const Tensor i = tensor({1, 2}, DType::i32);
  REQUIRE_THROWS_WITH(exp(i), Contains("exp") && Contains("int32"));
  REQUIRE_THROWS_WITH(log(i), Contains("log") && Contains("int32"));
  REQUIRE_THROWS_WITH(sqrt(i), Contains("sqrt"));
  REQUIRE_THROWS_WITH(sigmoid(u), Contains("sigmoid") && Contains("uint8"));
  REQUIRE_THROWS_WITH(tanh(i), Contains("tanh"));
  REQUIRE_THROWS_WITH(selu(i), Contains("selu"));
  REQUIRE_THROWS_WITH(softplus(i), Contains("softplus"));
  REQUIRE_THROWS_WITH(leaky_relu(i), Contains("leaky_relu"));
  REQUIRE_THROWS_WITH(pow(i, i), Contains("pow") && Contains("int32"));
  REQUIRE_THROWS_WITH(pow(i, 2.0), Contains("pow"));
  REQUIRE_THROWS_WITH(rdiv(1.0, i), Contains("rdiv"));
  // arithmetic on bool is rejected
  const Tensor t = gt(tensor({1, -1}), 0.0);
  REQUIRE_THROWS_WITH(add(t, t), Contains("add") && Contains("bool"));
  REQUIRE_THROWS_WITH(neg(t), Contains("neg") && Contains("bool"));
  REQUIRE_THROWS_WITH(relu(t), Contains("relu"));
}

TEST_CASE("elementwise: comparisons produce bool", "[elementwise]") {
  for (DType dt : {DType::f32, DType::f64, DType::i32, DType::i64, DType::u8}) {
    INFO(dtype_name(dt));
    const Tensor a = tensor({1, 2, 3}, dt);
    const Tensor b = tensor({3, 2, 1}, dt);
    REQUIRE(eq(a, b).dtype() == DType::b8);
    REQUIRE(bools(eq(a, b)) == std::vector<uint8_t>{0, 1, 0});
    REQUIRE(bools(ne(a, b)) == std::vector<uint8_t>{1, 0, 1});
    REQUIRE(bools(lt(a, b)) == std::vector<uint8_t>{1, 0, 0});
    REQUIRE(bools(le(a, b)) == std::vector<uint8_t>{1, 1, 0});
    REQUIRE(bools(gt(a, b)) == std::vector<uint8_t>{0, 0, 1});
    REQUIRE(bools(ge(a, b)) == std::vector<uint8_t>{0, 1, 1});
    // broadcast [3,1] vs [3]
    Tensor m = lt(a.reshape({3, 1}), b);
    REQUIRE(m.shape() == Shape{3, 3});
    REQUIRE(bools(m) == std::vector<uint8_t>{1, 1, 0, 1, 0, 0, 0, 0, 0});
  }
  // with a scalar
  const Tensor f = tensor({-1, 1.5, 2, 3});
  REQUIRE(bools(gt(f, 1.5)) == std::vector<uint8_t>{0, 0, 1, 1});
  REQUIRE(bools(lt(f, 2.0)) == std::vector<uint8_t>{1, 1, 0, 0});
  // integers compare against the real scalar, not a truncated one
  const Tensor i = tensor({-3, -2, 2, 3}, DType::i32);
  REQUIRE(bools(gt(i, -2.5)) == std::vector<uint8_t>{0, 1, 1, 1});
  REQUIRE(bools(lt(i, -2.5)) == std::vector<uint8_t>{1, 0, 0, 0});
  REQUIRE(bools(gt(i, 2.5)) == std::vector<uint8_t>{0, 0, 0, 1});
  REQUIRE(bools(lt(i, 2.5)) == std::vector<uint8_t>{1, 1, 1, 0});
  const Tensor u = from_vector<uint8_t>({0, 200, 255}, {3});
  REQUIRE(bools(gt(u, -1.0)) == std::vector<uint8_t>{1, 1, 1});
  REQUIRE(bools(lt(u, -1.0)) == std::vector<uint8_t>{0, 0, 0});
  REQUIRE(bools(lt(u, 300.0)) == std::vector<uint8_t>{1, 1, 1});
  REQUIRE(bools(gt(u, 255.0)) == std::vector<uint8_t>{0, 0, 0});
  REQUIRE(bools(gt(u, 199.5)) == std::vector<uint8_t>{0, 1, 1});
  REQUIRE(bools(gt(i, NAN)) == std::vector<uint8_t>{0, 0, 0, 0});
  // NaN compares unequal to everything
  const Tensor n = tensor({NAN, 1});
  REQUIRE(bools(eq(n, n)) == std::vector<uint8_t>{0, 1});
  REQUIRE(bools(ne(n, n)) == std::vector<uint8_t>{1, 0});
  REQUIRE(bools(gt(n, 0.0)) == std::vector<uint8_t>{0, 1});
  // bool inputs
  const Tensor p = gt(tensor({1, -1, 1}), 0.0), q = gt(tensor({1, 1, -1}), 0.0);
  REQUIRE(bools(eq(p, q)) == std::vector<uint8_t>{1, 0, 0});
  REQUIRE(bools(lt(p, q)) == std::vector<uint8_t>{0, 1, 0});
  // comparisons carry no gradient
  Tensor x = pg::test::leaf64({3}, -1, 1, 41);
  REQUIRE_FALSE(gt(x, 0.0).requires_grad());
  REQUIRE_FALSE(eq(x, x).requires_grad());
}

TEST_CASE("elementwise: where", "[elementwise]") {
  const Tensor c = gt(tensor({1, -1, 2, -2}), 0.0);
  const Tensor a = tensor({10, 20, 30, 40});
  const Tensor b = tensor({-1, -2, -3, -4});
  require_values(where(c, a, b), {10, -2, 30, -4});
  // broadcasting: cond [3,1], a [1,4], b scalar
  const Tensor c2 = gt(tensor({1, -1, 1}, {3, 1}), 0.0);
  const Tensor a2 = tensor({1, 2, 3, 4}, {1, 4});
  Tensor w = where(c2, a2, scalar_tensor(-7.0));
  REQUIRE(w.shape() == Shape{3, 4});
  require_values(w, {1, 2, 3, 4, -7, -7, -7, -7, 1, 2, 3, 4});
  // non-contiguous operands
  const Tensor base = pg::test::uniform({4, 6}, -1, 1, 51);
  const Tensor bt = base.t();  // [6,4]
  Tensor w2 = where(gt(bt, 0.0), bt, neg(bt));
  require_unary_ref(
      w2, bt, [](double v) { return std::fabs(v); }, 0.0);
  // integer and bool payloads
  REQUIRE(where(c, tensor({1, 2, 3, 4}, DType::i64), tensor({5, 6, 7, 8}, DType::i64)).to_vector<int64_t>() ==
          std::vector<int64_t>{1, 6, 3, 8});
  REQUIRE(bools(where(c, c, gt(tensor({1, 1, 1, 1}), 0.0))) == std::vector<uint8_t>{1, 1, 1, 1});
  // errors
  REQUIRE_THROWS_WITH(where(a, a, b), Contains("where") && Contains("bool"));
  REQUIRE_THROWS_WITH(where(c, a, tensor({1, 2, 3, 4}, DType::f64)), Contains("where") && Contains("float64"));
  REQUIRE_THROWS_WITH(where(c, a, tensor({1, 2, 3})), Contains("where"));
}

TEST_CASE("elementwise: mismatch errors name the op, dtypes and shapes", "[elementwise]") {
  const Tensor f32 = zeros({2, 3});
  const Tensor f64 = zeros({2, 3}, DType::f64);
  const Tensor i32 = zeros({2, 3}, DType::i32);
  REQUIRE_THROWS_WITH(add(f32, f64), Contains("add") && Contains("float32") && Contains("float64"));
  REQUIRE_THROWS_WITH(sub(f32, i32), Contains("sub") && Contains("int32"));
  REQUIRE_THROWS_WITH(mul(f64, f32), Contains("mul") && Contains("float32"));
  REQUIRE_THROWS_WITH(div(f32, f64), Contains("div"));
  REQUIRE_THROWS_WITH(pow(f32, f64), Contains("pow"));
  REQUIRE_THROWS_WITH(maximum(f32, f64), Contains("maximum"));
  REQUIRE_THROWS_WITH(minimum(f32, f64), Contains("minimum"));
  REQUIRE_THROWS_WITH(eq(f32, f64), Contains("eq") && Contains("float64"));
  REQUIRE_THROWS_WITH(ge(f32, i32), Contains("ge"));
  REQUIRE_THROWS_WITH(f32 + f64, Contains("add"));
  REQUIRE_THROWS_WITH(add(f32, f64), Contains("[2, 3]") && Contains("cpu"));

  const Tensor wrong = zeros({4});
  REQUIRE_THROWS_WITH(mul(f32, wrong), Contains("mul") && Contains("[2, 3]") && Contains("[4]"));
  REQUIRE_THROWS_WITH(add(f32, wrong), Contains("add") && Contains("not broadcastable"));
  REQUIRE_THROWS_WITH(maximum(wrong, f32), Contains("maximum"));
  REQUIRE_THROWS_WITH(lt(wrong, f32), Contains("lt"));
  REQUIRE_THROWS_WITH(add(Tensor(), f32), Contains("add") && Contains("undefined"));
  REQUIRE_THROWS_WITH(exp(Tensor()), Contains("exp"));
}

TEST_CASE("elementwise: CPU fast loops agree with the generic (CUDA) bodies", "[elementwise]") {
  // The same inputs through both CPU code paths: contiguous, broadcast, permuted, sliced, >grain.
  struct Layout {
    const char* name;
    std::function<Tensor(DType)> a, b;
  };
  const std::vector<Layout> layouts = {
      {"contiguous",
       [](DType d) {
         return pg::test::uniform({37, 11}, 0.2, 2, 61, d);
       },
       [](DType d) {
         return pg::test::uniform({37, 11}, 0.2, 2, 62, d);
       }},
      {"broadcast",
       [](DType d) {
         return pg::test::uniform({5, 1, 7}, 0.2, 2, 63, d);
       },
       [](DType d) {
         return pg::test::uniform({3, 1}, 0.2, 2, 64, d);
       }},
      {"permuted+sliced",
       [](DType d) {
         return pg::test::uniform({9, 8}, 0.2, 2, 65, d).t();
       },
       [](DType d) {
         return pg::test::uniform({8, 18}, 0.2, 2, 66, d).slice(1, 0, 18, 2);
       }},
      {"large", [](DType d) { return pg::test::uniform({40000}, 0.2, 2, 67, d); },
       [](DType d) { return pg::test::uniform({40000}, 0.2, 2, 68, d).slice(0, 0, 40000); }},
  };
  using UFn = std::function<Tensor(const Tensor&)>;
  using BFn = std::function<Tensor(const Tensor&, const Tensor&)>;
  const std::vector<std::pair<const char*, UFn>> unary_ops = {
      {"neg", [](const Tensor& x) { return neg(x); }},
      {"abs", [](const Tensor& x) { return abs(sub(x, 1.0)); }},
      {"exp", [](const Tensor& x) { return exp(x); }},
      {"log", [](const Tensor& x) { return log(x); }},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }},
      {"relu", [](const Tensor& x) { return relu(sub(x, 1.0)); }},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(sub(x, 1.0), 0.2); }},
      {"selu", [](const Tensor& x) { return selu(sub(x, 1.0)); }},
      {"sigmoid", [](const Tensor& x) { return sigmoid(sub(x, 1.0)); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }},
      {"softplus", [](const Tensor& x) { return softplus(x, 3.0, 4.0); }},
      {"clamp", [](const Tensor& x) { return clamp(x, 0.5, 1.5); }},
      {"pow", [](const Tensor& x) { return pow(x, 1.7); }},
      {"rsub", [](const Tensor& x) { return rsub(2.0, x); }},
      {"mul", [](const Tensor& x) { return mul(x, 3.0); }},
      {"rdiv", [](const Tensor& x) { return rdiv(2.0, x); }},
      {"square", [](const Tensor& x) { return square(x); }},
      {"sign", [](const Tensor& x) { return sign(sub(x, 1.0)); }},
  };
  const std::vector<std::pair<const char*, BFn>> binary_ops = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b, 0.5); }},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }},
      {"pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); }},
      {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
      {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
      {"lt", [](const Tensor& a, const Tensor& b) { return lt(a, b); }},
      {"ge", [](const Tensor& a, const Tensor& b) { return ge(a, b); }},
      {"eq", [](const Tensor& a, const Tensor& b) { return eq(a, maximum(a, b)); }},
      {"where", [](const Tensor& a, const Tensor& b) { return where(gt(a, 1.0), a, b); }},
  };
  for (DType dt : {DType::f32, DType::f64}) {
    for (const auto& lay : layouts) {
      const Tensor a = lay.a(dt), b = lay.b(dt);
      for (const auto& [name, fn] : unary_ops) {
        INFO(dtype_name(dt) << " " << lay.name << " " << name);
        Tensor fast, generic;
        {
          FastPathGuard g(true);
          fast = fn(a);
        }
        {
          FastPathGuard g(false);
          generic = fn(a);
        }
        require_values(generic, vals(fast), 1e-6);
      }
      for (const auto& [name, fn] : binary_ops) {
        INFO(dtype_name(dt) << " " << lay.name << " " << name);
        Tensor fast, generic;
        {
          FastPathGuard g(true);
          fast = fn(a, b);
        }
        {
          FastPathGuard g(false);
          generic = fn(a, b);
        }
        require_values(generic, vals(fast), 1e-6);
      }
    }
  }
  // integer dtypes and the fused backward / clamp backward kernels through autograd
  for (DType dt : {DType::i32, DType::i64, DType::u8}) {
    const Tensor a = tensor({1, 7, 3, 250, 0, 9}, {2, 3}, dt);
    const Tensor b = tensor({4, 2, 3}, dt);
    for (bool fastp : {true, false}) {
      FastPathGuard g(fastp);
      INFO(dtype_name(dt) << " fast=" << fastp);
      require_binary_ref(
          add(a, b), a, b, [](double u, double v) { return u + v; }, 0.0);
      require_binary_ref(
          div(a, b), a, b, [](double u, double v) { return std::trunc(u / v); }, 0.0);
      require_binary_ref(
          maximum(a.t().t(), b), a, b, [](double u, double v) { return std::max(u, v); }, 0.0);
      require_values(clamp(a, 2, 8), {2, 7, 3, 8, 2, 8});
      require_values(mul(a, 2.0), {2, 14, 6, dt == DType::u8 ? 244.0 : 500.0, 0, 18});
    }
  }
  for (bool fastp : {true, false}) {
    FastPathGuard g(fastp);
    INFO("fast=" << fastp);
    Tensor x = pg::test::leaf64({3, 5}, -2, 2, 69);
    Tensor y = add(add(relu(x), sigmoid(x)), add(clamp(x, -1, 1), softplus(x)));
    y.backward(ones({3, 5}, DType::f64));
    const auto xv = vals(x), gv = vals(x.grad());
    for (size_t i = 0; i < xv.size(); ++i) {
      const double s = 1.0 / (1.0 + std::exp(-xv[i]));
      const double expected = (xv[i] > 0 ? 1.0 : 0.0) + s * (1 - s) + (std::fabs(xv[i]) <= 1 ? 1.0 : 0.0) + s;
      REQUIRE(gv[i] == Approx(expected).epsilon(1e-12));
    }
  }
}

TEST_CASE("elementwise: gradients at kinks, ties and broadcasts", "[elementwise]") {
  // relu'(0) = 0, abs'(0) = 0, clamp passes the gradient on its bounds
  Tensor x = tensor({-1, 0, 2}, DType::f64);
  x.requires_grad_(true);
  relu(x).backward(ones({3}, DType::f64));
  require_values(x.grad(), {0, 0, 1});
  x.zero_grad();
  abs(x).backward(ones({3}, DType::f64));
  require_values(x.grad(), {-1, 0, 1});
  x.zero_grad();
  clamp(x, 0.0, 2.0).backward(ones({3}, DType::f64));
  require_values(x.grad(), {0, 1, 1});
  x.zero_grad();
  clamp_min(x, 0.0).backward(ones({3}, DType::f64));
  require_values(x.grad(), {0, 1, 1});
  x.zero_grad();
  clamp_max(x, 0.0).backward(ones({3}, DType::f64));
  require_values(x.grad(), {1, 1, 0});

  // maximum/minimum: ties send the gradient to a
  Tensor a = tensor({1, 2, 3}, DType::f64), b = tensor({3, 2, 1}, DType::f64);
  a.requires_grad_(true);
  b.requires_grad_(true);
  maximum(a, b).backward(tensor({10, 20, 30}, DType::f64));
  require_values(a.grad(), {0, 20, 30});
  require_values(b.grad(), {10, 0, 0});
  a.zero_grad();
  b.zero_grad();
  minimum(a, b).backward(tensor({10, 20, 30}, DType::f64));
  require_values(a.grad(), {10, 20, 0});
  require_values(b.grad(), {0, 0, 30});

  // where: gradient to a and b (zeros elsewhere), none to the condition
  a.zero_grad();
  b.zero_grad();
  const Tensor c = gt(tensor({1, -1, 1}), 0.0);
  where(c, a, b).backward(tensor({1, 2, 3}, DType::f64));
  require_values(a.grad(), {1, 0, 3});
  require_values(b.grad(), {0, 2, 0});

  // broadcast inputs get gradients of their own shape (summed over the broadcast dims)
  Tensor m = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, DType::f64);
  Tensor r = tensor({1, 10, 100}, DType::f64);
  Tensor s = scalar_tensor(2.0, DType::f64);
  m.requires_grad_(true);
  r.requires_grad_(true);
  s.requires_grad_(true);
  mul(add(m, r), s).backward(ones({2, 3}, DType::f64));
  REQUIRE(r.grad().shape() == Shape{3});
  REQUIRE(s.grad().shape() == Shape{});
  require_values(m.grad(), {2, 2, 2, 2, 2, 2});
  require_values(r.grad(), {4, 4, 4});
  require_values(s.grad(), {1 + 2 + 3 + 4 + 5 + 6 + 2 * (1 + 10 + 100)});

  // sign has no gradient; integer results never require grad
  Tensor z = pg::test::leaf64({3}, -1, 1, 71);
  REQUIRE_FALSE(sign(z).requires_grad());
  REQUIRE(relu(z).requires_grad());
  REQUIRE(relu(z).grad_fn() != nullptr);
  {
    NoGradGuard ng;
    REQUIRE_FALSE(exp(z).requires_grad());
  }
}
