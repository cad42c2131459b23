// Soft projection (SampleNet) and attention pooling (APSNet), CPU: naive-loop oracles for the
// forward, compositions of existing differentiable ops for the backward, hard mode, the σ floor,
// numerical stability, strided inputs and bad input.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <vector>

#include "ops/attention_pool.h"
#include "ops/soft_projection.h"
#include "test_util.h"

using namespace pg;
using Catch::Matchers::Contains;

namespace {

Tensor cloud(int64_t B, int64_t N, uint64_t seed, DType dt = DType::f64) {
  return test::uniform({B, N, 3}, -1.0, 1.0, seed, TensorOptions(dt));
}

// Float64 uniform values (test::uniform defaults to float32).
Tensor u64(const Shape& shape, double lo, double hi, uint64_t seed) {
  return test::uniform(shape, lo, hi, seed, TensorOptions(DType::f64));
}

Tensor leaf(const Tensor& t) {
  Tensor c = t.detach().clone();
  c.requires_grad_(true);
  return c;
}

Tensor temperature(double v, DType dt = DType::f64, bool as_1d = false) {
  Tensor t = as_1d ? full({1}, v, TensorOptions(dt)) : scalar_tensor(v, TensorOptions(dt));
  t.requires_grad_(true);
  return t;
}

struct NaiveSp {
  std::vector<int64_t> idx;
  std::vector<double> w, r;
};

// Brute force: kNN by sorting (distance, index), then the softmax and the weighted sum.
NaiveSp naive_soft_projection(const std::vector<double>& q, const std::vector<double>& p, int64_t B, int64_t M,
                              int64_t N, int64_t K, double sigma, bool hard) {
  NaiveSp o;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t m = 0; m < M; ++m) {
      const double* qp = &q[(b * M + m) * 3];
      std::vector<std::pair<double, int64_t>> d(N);
      for (int64_t j = 0; j < N; ++j) {
        const double* pp = &p[(b * N + j) * 3];
        const double dx = qp[0] - pp[0], dy = qp[1] - pp[1], dz = qp[2] - pp[2];
        d[j] = {(dx * dx + dy * dy) + dz * dz, j};
      }
      std::sort(d.begin(), d.end());
      double sum = 0.0;
      std::vector<double> e(K);
      for (int64_t s = 0; s < K; ++s) {
        e[s] = hard ? (s == 0 ? 1.0 : 0.0) : std::exp(-(d[s].first - d[0].first) / sigma);
        sum += e[s];
      }
      double r[3] = {0, 0, 0};
      for (int64_t s = 0; s < K; ++s) {
        const double ws = e[s] / sum;
        o.idx.push_back(d[s].second);
        o.w.push_back(ws);
        for (int c = 0; c < 3; ++c) r[c] += ws * p[(b * N + d[s].second) * 3 + c];
      }
      for (double v : r) o.r.push_back(v);
    }
  }
  return o;
}

struct SpOut {
  Tensor projected, weights, sigma;
};

// The same function composed from existing differentiable ops (index_select, softmax, sum, ...).
SpOut composed_soft_projection(const Tensor& q, const Tensor& p, const Tensor& t, const Tensor& idx, double min_sigma) {
  const int64_t B = q.size(0), M = q.size(1), N = p.size(1), K = idx.size(2);
  std::vector<int64_t> gi = idx.to_vector<int64_t>();
  for (size_t e = 0; e < gi.size(); ++e) gi[e] += static_cast<int64_t>(e / (M * K)) * N;
  const Tensor pg_ = index_select(reshape(p, {B * N, 3}), 0, from_vector(gi, {B * M * K})).reshape({B, M, K, 3});
  const Tensor d = sum(square(sub(q.unsqueeze(2), pg_)), {3});
  const Tensor sigma = maximum(reshape(mul(t, t), {}), scalar_tensor(min_sigma, TensorOptions(q.dtype())));
  const Tensor w = softmax(div(neg(d), sigma), -1);
  const Tensor r = sum(mul(w.unsqueeze(3), pg_), {2});
  return {r, w, sigma};
}

Tensor sp_loss(const Tensor& r, const Tensor& w, const Tensor& sigma, const Tensor& cr, const Tensor& cw, double cs) {
  return add(add(sum(mul(r, cr)), sum(mul(w, cw))), mul(sigma, cs));
}

}  // namespace

TEST_CASE("soft_projection forward matches a brute-force oracle (float64)", "[sampling]") {
  struct Case {
    int64_t B, M, N, k;
    double t, min_sigma;
  };
  for (const Case c : {Case{1, 1, 1, 1, 1.0, 0.0}, Case{2, 9, 40, 7, 0.3, 0.0}, Case{3, 33, 500, 16, 0.1, 1e-2},
                       Case{1, 64, 1024, 8, 1.0, 1e-2}, Case{2, 5, 20, 20, 0.05, 0.0}}) {
    INFO("B " << c.B << " M " << c.M << " N " << c.N << " k " << c.k << " t " << c.t);
    Tensor q = cloud(c.B, c.M, 100 + c.M);
    Tensor p = cloud(c.B, c.N, 200 + c.N);
    SoftProjectionOptions o;
    o.k = c.k;
    o.min_sigma = c.min_sigma;
    const double sigma = std::max(c.t * c.t, c.min_sigma);
    for (bool hard : {false, true}) {
      o.hard = hard;
      const SoftProjectionResult res = soft_projection(q, p, scalar_tensor(c.t, TensorOptions(DType::f64)), o);
      const NaiveSp ref =
          naive_soft_projection(q.to_vector<double>(), p.to_vector<double>(), c.B, c.M, c.N, c.k, sigma, hard);
      REQUIRE(res.projected.shape() == Shape{c.B, c.M, 3});
      REQUIRE(res.weights.shape() == Shape{c.B, c.M, c.k});
      REQUIRE(res.idx.shape() == Shape{c.B, c.M, c.k});
      REQUIRE(res.idx.dtype() == DType::i64);
      REQUIRE(res.sigma.dim() == 0);
      REQUIRE(res.sigma.item_double() == Approx(sigma).epsilon(1e-15));
      REQUIRE(res.idx.to_vector<int64_t>() == ref.idx);
      test::require_close(res.weights, from_vector(ref.w, res.weights.shape()), 1e-13, 1e-12);
      test::require_close(res.projected, from_vector(ref.r, res.projected.shape()), 1e-13, 1e-12);
    }
  }
}

TEST_CASE("soft_projection hard mode is the nearest neighbour", "[sampling]") {
  Tensor q = cloud(2, 17, 1);
  Tensor p = cloud(2, 50, 2);
  SoftProjectionOptions o;
  o.k = 5;
  o.hard = true;
  Tensor ql = leaf(q), pl = leaf(p);
  Tensor t = temperature(0.7);
  const SoftProjectionResult res = soft_projection(ql, pl, t, o);
  const KnnResult nn = knn(q, p, 1);
  const auto ix = res.idx.to_vector<int64_t>();
  const auto n1 = nn.idx.to_vector<int64_t>();
  const auto pv = p.to_vector<double>();
  const auto rv = res.projected.to_vector<double>();
  const auto wv = res.weights.to_vector<double>();
  for (int64_t i = 0; i < 2 * 17; ++i) {
    const int64_t b = i / 17;
    REQUIRE(ix[i * 5] == n1[i]);
    for (int c = 0; c < 3; ++c) REQUIRE(rv[i * 3 + c] == pv[(b * 50 + n1[i]) * 3 + c]);
    for (int s = 0; s < 5; ++s) REQUIRE(wv[i * 5 + s] == (s == 0 ? 1.0 : 0.0));
  }
  // Gradient: the upstream gradient of each projected point lands on its nearest neighbour; the
  // query and t get nothing from the projection (t only through sigma).
  Tensor cr = u64({2, 17, 3}, -1, 1, 3);
  sum(mul(res.projected, cr)).backward();
  std::vector<double> expect(2 * 50 * 3, 0.0);
  const auto cv = cr.to_vector<double>();
  for (int64_t i = 0; i < 2 * 17; ++i)
    for (int c = 0; c < 3; ++c) expect[((i / 17) * 50 + n1[i]) * 3 + c] += cv[i * 3 + c];
  test::require_close(pl.grad(), from_vector(expect, p.shape()), 1e-15);
  REQUIRE(test::max_abs_diff(ql.grad(), zeros(q.shape(), TensorOptions(DType::f64))) == 0.0);
  REQUIRE(t.grad().item_double() == 0.0);
  // σ stays differentiable in t in hard mode: d(t²)/dt = 2t.
  Tensor t2 = temperature(0.7);
  soft_projection(q, p, t2, o).sigma.backward();
  REQUIRE(t2.grad().item_double() == Approx(1.4).epsilon(1e-14));
}

TEST_CASE("soft_projection gradients match the composed reference (query, points, t)", "[sampling]") {
  struct Case {
    int64_t B, M, N, k;
    double t, min_sigma;
    bool t_1d;
  };
  for (const Case c : {Case{2, 7, 30, 7, 0.4, 0.0, false}, Case{1, 20, 64, 16, 0.25, 1e-2, true},
                       Case{3, 5, 9, 9, 1.0, 1e-2, false}, Case{2, 12, 40, 8, 0.05, 1e-2, false}}) {
    INFO("B " << c.B << " M " << c.M << " N " << c.N << " k " << c.k << " t " << c.t << " floor " << c.min_sigma);
    const Tensor q = cloud(c.B, c.M, 7 + c.M), p = cloud(c.B, c.N, 8 + c.N);
    const Tensor cr = u64({c.B, c.M, 3}, -1, 1, 9), cw = u64({c.B, c.M, c.k}, -1, 1, 10);
    SoftProjectionOptions o;
    o.k = c.k;
    o.min_sigma = c.min_sigma;
    Tensor q1 = leaf(q), p1 = leaf(p), t1 = temperature(c.t, DType::f64, c.t_1d);
    const SoftProjectionResult res = soft_projection(q1, p1, t1, o);
    sp_loss(res.projected, res.weights, res.sigma, cr, cw, 0.7).backward();
    Tensor q2 = leaf(q), p2 = leaf(p), t2 = temperature(c.t, DType::f64, c.t_1d);
    const SpOut ref = composed_soft_projection(q2, p2, t2, res.idx, c.min_sigma);
    test::require_close(res.projected, ref.projected, 1e-13, 1e-12);
    test::require_close(res.weights, ref.weights, 1e-13, 1e-12);
    sp_loss(ref.projected, ref.weights, ref.sigma, cr, cw, 0.7).backward();
    test::require_close(q1.grad(), q2.grad(), 1e-11, 1e-10);
    test::require_close(p1.grad(), p2.grad(), 1e-11, 1e-10);
    REQUIRE(t1.grad().shape() == t1.shape());
    test::require_close(t1.grad(), t2.grad(), 1e-11, 1e-10);
  }
}

TEST_CASE("soft_projection min_sigma floor zeroes the gradient of t", "[sampling]") {
  const Tensor q = cloud(2, 10, 31), p = cloud(2, 40, 32);
  SoftProjectionOptions o;
  o.min_sigma = 1e-2;
  Tensor t = temperature(0.05);  // t² = 0.0025 < 0.01
  const SoftProjectionResult res = soft_projection(leaf(q), leaf(p), t, o);
  REQUIRE(res.sigma.item_double() == 1e-2);
  add(sum(mul(res.projected, u64({2, 10, 3}, -1, 1, 33))), res.sigma).backward();
  REQUIRE(t.grad().item_double() == 0.0);
  // Above the floor the projection loss alone has gradient 2t; the projection adds to it.
  Tensor t2 = temperature(0.5);
  soft_projection(q, p, t2, o).sigma.backward();
  REQUIRE(t2.grad().item_double() == Approx(1.0).epsilon(1e-14));
  Tensor t3 = temperature(0.5);
  const SoftProjectionResult r3 = soft_projection(q, p, t3, o);
  sum(mul(r3.projected, u64({2, 10, 3}, -1, 1, 34))).backward();
  REQUIRE(t3.grad().item_double() != 0.0);
}

TEST_CASE("soft_projection is stable for tiny sigma and agrees in float32", "[sampling]") {
  const Tensor q = cloud(2, 40, 41), p = cloud(2, 300, 42);
  SoftProjectionOptions o;
  o.k = 16;
  // σ = 1e-8: exp(−d/σ) underflows for every neighbour without the max subtraction.
  const SoftProjectionResult soft = soft_projection(q, p, scalar_tensor(1e-4, TensorOptions(DType::f64)), o);
  o.hard = true;
  const SoftProjectionResult hard = soft_projection(q, p, scalar_tensor(1e-4, TensorOptions(DType::f64)), o);
  test::require_close(soft.projected, hard.projected, 1e-12);
  o.hard = false;
  const SoftProjectionResult r64 = soft_projection(q, p, scalar_tensor(0.2, TensorOptions(DType::f64)), o);
  const SoftProjectionResult r32 =
      soft_projection(q.to(DType::f32), p.to(DType::f32), scalar_tensor(0.2, TensorOptions(DType::f32)), o);
  REQUIRE(r32.projected.dtype() == DType::f32);
  REQUIRE(r32.idx.to_vector<int64_t>() == r64.idx.to_vector<int64_t>());
  REQUIRE(test::rel_l2(r32.projected, r64.projected) < 1e-5);
  REQUIRE(test::rel_l2(r32.weights, r64.weights) < 1e-5);
}

TEST_CASE("soft_projection accepts strided inputs", "[sampling]") {
  const Tensor qt = u64({2, 3, 11}, -1, 1, 51).transpose(1, 2);  // [2, 11, 3], non-contiguous
  const Tensor pt = u64({2, 3, 60}, -1, 1, 52).transpose(1, 2);
  REQUIRE(!qt.is_contiguous());
  const Tensor t = scalar_tensor(0.3, TensorOptions(DType::f64));
  const SoftProjectionResult a = soft_projection(qt, pt, t);
  const SoftProjectionResult b = soft_projection(qt.contiguous(), pt.contiguous(), t);
  REQUIRE(test::max_abs_diff(a.projected, b.projected) == 0.0);
  REQUIRE(test::max_abs_diff(a.weights, b.weights) == 0.0);
}

TEST_CASE("soft_projection rejects bad input", "[sampling]") {
  const Tensor q = cloud(2, 5, 61), p = cloud(2, 7, 62);
  const Tensor t = scalar_tensor(1.0, TensorOptions(DType::f64));
  SoftProjectionOptions o;
  o.k = 8;
  REQUIRE_THROWS_WITH(soft_projection(q, p, t, o), Contains("soft_projection") && Contains("k (8)"));
  o.k = 0;
  REQUIRE_THROWS_WITH(soft_projection(q, p, t, o), Contains("soft_projection") && Contains("k must be >= 1"));
  REQUIRE_THROWS_WITH(soft_projection(q, cloud(3, 7, 63), t), Contains("soft_projection") && Contains("batch sizes"));
  REQUIRE_THROWS_WITH(soft_projection(q, p.to(DType::f32), t), Contains("soft_projection") && Contains("float32"));
  REQUIRE_THROWS_WITH(soft_projection(q, p, scalar_tensor(1.0, TensorOptions(DType::f32))),
                      Contains("soft_projection") && Contains("t is float32"));
  REQUIRE_THROWS_WITH(soft_projection(q, p, full({2}, 1.0, TensorOptions(DType::f64))),
                      Contains("soft_projection") && Contains("scalar"));
  REQUIRE_THROWS_WITH(soft_projection(q, p, full({1, 1}, 1.0, TensorOptions(DType::f64))),
                      Contains("soft_projection") && Contains("scalar"));
  REQUIRE_THROWS_WITH(soft_projection(q, p, scalar_tensor(NAN, TensorOptions(DType::f64))),
                      Contains("soft_projection") && Contains("not finite"));
  REQUIRE_THROWS_WITH(soft_projection(q, p, scalar_tensor(INFINITY, TensorOptions(DType::f64))),
                      Contains("soft_projection") && Contains("not finite"));
  REQUIRE_THROWS_WITH(soft_projection(q, p, scalar_tensor(0.0, TensorOptions(DType::f64))),
                      Contains("soft_projection") && Contains("sigma"));
  REQUIRE_THROWS_WITH(soft_projection(q, p, Tensor()), Contains("soft_projection") && Contains("undefined"));
  SoftProjectionOptions neg;
  neg.min_sigma = -1.0;
  REQUIRE_THROWS_WITH(soft_projection(q, p, t, neg), Contains("soft_projection") && Contains("min_sigma"));
  REQUIRE_THROWS_WITH(soft_projection(empty({2, 5, 2}, TensorOptions(DType::f64)), p, t),
                      Contains("soft_projection") && Contains("[B, n, 3]"));
  REQUIRE_THROWS_WITH(soft_projection(q, empty({2, 0, 3}, TensorOptions(DType::f64)), t),
                      Contains("soft_projection") && Contains("empty"));
  std::vector<double> bad = q.to_vector<double>();
  bad[4] = NAN;
  REQUIRE_THROWS_WITH(soft_projection(from_vector(bad, q.shape()), p, t),
                      Contains("soft_projection") && Contains("NaN"));
  // t = 0 is fine with a floor, and in hard mode.
  SoftProjectionOptions floor;
  floor.min_sigma = 1e-2;
  REQUIRE(soft_projection(q, p, scalar_tensor(0.0, TensorOptions(DType::f64)), floor).sigma.item_double() == 1e-2);
  SoftProjectionOptions hard;
  hard.hard = true;
  REQUIRE(soft_projection(q, p, scalar_tensor(0.0, TensorOptions(DType::f64)), hard).sigma.item_double() == 0.0);
}

// ---------------------------------------------------------------------------------------------
// attention_pool

namespace {

struct NaiveAp {
  std::vector<double> out, w;
};

NaiveAp naive_attention_pool(const std::vector<double>& f, const std::vector<double>& q, const std::vector<double>& x,
                             int64_t B, int64_t T, int64_t N, int64_t C, int64_t D) {
  NaiveAp o;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      std::vector<double> s(N);
      for (int64_t i = 0; i < N; ++i) {
        double v = 0.0;
        for (int64_t c = 0; c < C; ++c) v += f[(b * N + i) * C + c] * q[(b * T + t) * C + c];
        s[i] = v;
      }
      const double m = *std::max_element(s.begin(), s.end());
      double l = 0.0;
      for (double& v : s) l += (v = std::exp(v - m));
      std::vector<double> out(D, 0.0);
      for (int64_t i = 0; i < N; ++i) {
        const double a = s[i] / l;
        o.w.push_back(a);
        for (int64_t d = 0; d < D; ++d) out[d] += a * x[(b * N + i) * D + d];
      }
      o.out.insert(o.out.end(), out.begin(), out.end());
    }
  }
  return o;
}

// Composition: softmax(bmm(query, featuresᵀ)) and bmm with the coordinates.
AttentionPoolResult composed_attention_pool(const Tensor& f, const Tensor& q3, const Tensor& x) {
  const Tensor a = softmax(bmm(q3, f.transpose(1, 2)), -1);
  return {bmm(a, x), a};
}

}  // namespace

TEST_CASE("attention_pool forward matches a naive oracle (float64)", "[sampling]") {
  struct Case {
    int64_t B, T, N, C, D;
  };
  for (const Case c : {Case{1, 1, 1, 1, 1}, Case{2, 3, 17, 5, 3}, Case{3, 8, 100, 128, 3}, Case{2, 4, 33, 40, 7},
                       Case{1, 2, 2000, 16, 3}}) {
    INFO("B " << c.B << " T " << c.T << " N " << c.N << " C " << c.C << " D " << c.D);
    const Tensor f = u64({c.B, c.N, c.C}, -1, 1, 70 + c.N);
    const Tensor q = u64({c.B, c.T, c.C}, -1, 1, 71 + c.T);
    const Tensor x = u64({c.B, c.N, c.D}, -1, 1, 72 + c.D);
    const AttentionPoolResult res = attention_pool(f, q, x);
    REQUIRE(res.output.shape() == Shape{c.B, c.T, c.D});
    REQUIRE(res.weights.shape() == Shape{c.B, c.T, c.N});
    const NaiveAp ref = naive_attention_pool(f.to_vector<double>(), q.to_vector<double>(), x.to_vector<double>(), c.B,
                                             c.T, c.N, c.C, c.D);
    test::require_close(res.output, from_vector(ref.out, res.output.shape()), 1e-13, 1e-11);
    test::require_close(res.weights, from_vector(ref.w, res.weights.shape()), 1e-13, 1e-11);
  }
}

TEST_CASE("attention_pool with a 2-D query squeezes T", "[sampling]") {
  const Tensor f = u64({3, 20, 8}, -1, 1, 81);
  const Tensor q = u64({3, 8}, -1, 1, 82);
  const Tensor x = cloud(3, 20, 83);
  const AttentionPoolResult r2 = attention_pool(f, q, x);
  REQUIRE(r2.output.shape() == Shape{3, 3});
  REQUIRE(r2.weights.shape() == Shape{3, 20});
  const AttentionPoolResult r3 = attention_pool(f, q.reshape({3, 1, 8}), x);
  REQUIRE(r2.output.to_vector<double>() == r3.output.to_vector<double>());
  REQUIRE(r2.weights.to_vector<double>() == r3.weights.to_vector<double>());
}

TEST_CASE("attention_pool gradients match the composed reference", "[sampling]") {
  struct Case {
    int64_t B, T, N, C, D;
    bool q2d;
  };
  for (const Case c : {Case{2, 3, 17, 5, 3, false}, Case{2, 1, 40, 33, 3, true}, Case{1, 6, 50, 64, 6, false}}) {
    INFO("B " << c.B << " T " << c.T << " N " << c.N << " C " << c.C << " D " << c.D);
    const Tensor f = u64({c.B, c.N, c.C}, -1, 1, 90);
    const Tensor q = c.q2d ? u64({c.B, c.C}, -1, 1, 91) : u64({c.B, c.T, c.C}, -1, 1, 91);
    const Tensor x = u64({c.B, c.N, c.D}, -1, 1, 92);
    const Shape out_shape = c.q2d ? Shape{c.B, c.D} : Shape{c.B, c.T, c.D};
    const Shape w_shape = c.q2d ? Shape{c.B, c.N} : Shape{c.B, c.T, c.N};
    const Tensor co = u64(out_shape, -1, 1, 93), cw = u64(w_shape, -1, 1, 94);
    Tensor f1 = leaf(f), q1 = leaf(q), x1 = leaf(x);
    const AttentionPoolResult r1 = attention_pool(f1, q1, x1);
    add(sum(mul(r1.output, co)), sum(mul(r1.weights, cw))).backward();
    Tensor f2 = leaf(f), q2 = leaf(q), x2 = leaf(x);
    const AttentionPoolResult r2 = composed_attention_pool(f2, c.q2d ? q2.reshape({c.B, 1, c.C}) : q2, x2);
    add(sum(mul(r2.output.reshape(out_shape), co)), sum(mul(r2.weights.reshape(w_shape), cw))).backward();
    test::require_close(r1.output, r2.output.reshape(out_shape), 1e-13, 1e-11);
    REQUIRE(q1.grad().shape() == q.shape());
    test::require_close(f1.grad(), f2.grad(), 1e-12, 1e-10);
    test::require_close(q1.grad(), q2.grad(), 1e-12, 1e-10);
    test::require_close(x1.grad(), x2.grad(), 1e-12, 1e-10);
  }
}

TEST_CASE("attention_pool is stable for large scores and agrees in float32", "[sampling]") {
  // Scores of order ±1e4: exp without the max subtraction overflows.
  const Tensor f = mul(u64({2, 64, 16}, -1, 1, 101), 100.0);
  const Tensor q = mul(u64({2, 4, 16}, -1, 1, 102), 100.0);
  const Tensor x = cloud(2, 64, 103);
  const AttentionPoolResult r = attention_pool(f, q, x);
  const auto w = r.weights.to_vector<double>();
  for (double v : w) REQUIRE(std::isfinite(v));
  const auto rows = sum(r.weights, {2}).to_vector<double>();
  for (double v : rows) REQUIRE(v == Approx(1.0).epsilon(1e-12));
  const AttentionPoolResult naive = composed_attention_pool(f, q, x);
  test::require_close(r.output, naive.output, 1e-12, 1e-10);
  const Tensor f2 = u64({2, 300, 32}, -1, 1, 104), q2 = u64({2, 5, 32}, -1, 1, 105);
  const Tensor x2 = cloud(2, 300, 106);
  const AttentionPoolResult r64 = attention_pool(f2, q2, x2);
  const AttentionPoolResult r32 = attention_pool(f2.to(DType::f32), q2.to(DType::f32), x2.to(DType::f32));
  REQUIRE(r32.output.dtype() == DType::f32);
  REQUIRE(test::rel_l2(r32.output, r64.output) < 1e-5);
  REQUIRE(test::rel_l2(r32.weights, r64.weights) < 1e-5);
}

TEST_CASE("attention_pool accepts strided inputs", "[sampling]") {
  const Tensor f = u64({2, 8, 30}, -1, 1, 111).transpose(1, 2);  // [2, 30, 8]
  const Tensor q = u64({2, 8, 3}, -1, 1, 112).transpose(1, 2);   // [2, 3, 8]
  const Tensor x = u64({2, 3, 30}, -1, 1, 113).transpose(1, 2);  // [2, 30, 3]
  const AttentionPoolResult a = attention_pool(f, q, x);
  const AttentionPoolResult b = attention_pool(f.contiguous(), q.contiguous(), x.contiguous());
  REQUIRE(test::max_abs_diff(a.output, b.output) == 0.0);
  REQUIRE(test::max_abs_diff(a.weights, b.weights) == 0.0);
}

TEST_CASE("attention_pool rejects bad input", "[sampling]") {
  const TensorOptions o64(DType::f64);
  const Tensor f = zeros({2, 10, 4}, o64), q = zeros({2, 3, 4}, o64), x = zeros({2, 10, 3}, o64);
  REQUIRE_THROWS_WITH(attention_pool(zeros({10, 4}, o64), q, x), Contains("attention_pool") && Contains("features"));
  REQUIRE_THROWS_WITH(attention_pool(f, zeros({2, 3, 4, 1}, o64), x), Contains("attention_pool") && Contains("query"));
  REQUIRE_THROWS_WITH(attention_pool(f, q, zeros({2, 10}, o64)), Contains("attention_pool") && Contains("coords"));
  REQUIRE_THROWS_WITH(attention_pool(f, zeros({3, 3, 4}, o64), x), Contains("attention_pool") && Contains("batch"));
  REQUIRE_THROWS_WITH(attention_pool(f, q, zeros({2, 11, 3}, o64)), Contains("attention_pool") && Contains("11"));
  REQUIRE_THROWS_WITH(attention_pool(f, zeros({2, 3, 5}, o64), x), Contains("attention_pool") && Contains("channels"));
  REQUIRE_THROWS_WITH(attention_pool(f, q.to(DType::f32), x), Contains("attention_pool") && Contains("float32"));
  REQUIRE_THROWS_WITH(attention_pool(f, q, zeros({2, 10, 3}, TensorOptions(DType::i64))),
                      Contains("attention_pool") && Contains("float32 or float64"));
  REQUIRE_THROWS_WITH(attention_pool(zeros({2, 0, 4}, o64), q, zeros({2, 0, 3}, o64)),
                      Contains("attention_pool") && Contains("empty"));
}
