// softmax / log_softmax, cross_entropy (label smoothing), nll_loss, kl_div, mse_loss, dropout:
// values against compositions of existing ops and hand-computed numbers, reductions, errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "ops/nn.h"
#include "test_util.h"

using namespace pg;

namespace {

Tensor softmax_ref(const Tensor& x, int64_t dim) {
  Tensor m = max(x, dim, true);
  Tensor e = exp(sub(x, m));
  return div(e, sum(e, {dim}, true));
}

using pg::test::error_of;

}  // namespace

TEST_CASE("softmax and log_softmax match the composition along every dim", "[nn]") {
  for (DType t : {DType::f32, DType::f64}) {
    Tensor x = test::uniform({3, 4, 5}, -3, 3, 1, TensorOptions(t));
    for (int64_t d : {0, 1, 2, -1}) {
      INFO("dim " << d << " dtype " << dtype_name(t));
      Tensor ref = softmax_ref(x, d);
      test::require_close(softmax(x, d), ref, 1e-6);
      test::require_close(log_softmax(x, d), log(ref), 1e-5);
      // Rows sum to one.
      test::require_close(sum(softmax(x, d), {d}), ones(sum(x, {d}).shape(), TensorOptions(DType::f64)), 1e-6);
    }
  }
}

TEST_CASE("softmax handles strided inputs, 1-D and 0-dim tensors", "[nn]") {
  Tensor x = test::uniform({5, 6}, -2, 2, 2, TensorOptions(DType::f64));
  test::require_close(softmax(x.t(), 1), softmax_ref(x.t(), 1), 1e-12);
  Tensor v = tensor({1.0, 2.0, 3.0}, TensorOptions(DType::f64));
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  test::require_close(softmax(v, 0),
                      tensor({std::exp(1.0) / z, std::exp(2.0) / z, std::exp(3.0) / z}, TensorOptions(DType::f64)),
                      1e-12);
  REQUIRE(softmax(scalar_tensor(4.0)).item() == Approx(1.0));
  REQUIRE(log_softmax(scalar_tensor(4.0)).item() == Approx(0.0).margin(1e-7));
}

TEST_CASE("softmax is numerically stable for large logits", "[nn]") {
  Tensor x = tensor({1000.0, 1001.0, 999.0, -1000.0}, {1, 4});
  const auto y = softmax(x, 1).to_vector<double>();
  const auto ly = log_softmax(x, 1).to_vector<double>();
  const double z = std::exp(-1.0) + 1.0 + std::exp(-2.0);
  REQUIRE(y[1] == Approx(1.0 / z).epsilon(1e-6));
  REQUIRE(ly[1] == Approx(-std::log(z)).epsilon(1e-6));
  REQUIRE(ly[3] == Approx(-2001.0 - std::log(z)).epsilon(1e-6));
  for (double v : y) REQUIRE(std::isfinite(v));
}

TEST_CASE("softmax of a long row (more than 1024 classes)", "[nn]") {
  Tensor x = test::uniform({3, 3000}, -5, 5, 3, TensorOptions(DType::f64));
  test::require_close(softmax(x, 1), softmax_ref(x, 1), 1e-14);
}

TEST_CASE("cross_entropy equals hand-computed values and reductions", "[nn]") {
  Tensor logits = tensor({1.0, 2.0, 0.5, -1.0, 0.0, 3.0}, {2, 3}, TensorOptions(DType::f64));
  Tensor target = from_vector<int64_t>({1, 2}, {2});
  const double l0 = -(2.0 - std::log(std::exp(1.0) + std::exp(2.0) + std::exp(0.5)));
  const double l1 = -(3.0 - std::log(std::exp(-1.0) + std::exp(0.0) + std::exp(3.0)));
  REQUIRE(cross_entropy(logits, target).item() == Approx((l0 + l1) / 2).epsilon(1e-12));
  REQUIRE(cross_entropy(logits, target, Reduction::sum).item() == Approx(l0 + l1).epsilon(1e-12));
  Tensor none = cross_entropy(logits, target, Reduction::none);
  REQUIRE(none.shape() == Shape{2});
  test::require_close(none, tensor({l0, l1}, TensorOptions(DType::f64)), 1e-12);
  // int32 targets work too.
  REQUIRE(cross_entropy(logits, target.to(DType::i32)).item() == Approx((l0 + l1) / 2).epsilon(1e-12));
  // cross_entropy == nll_loss(log_softmax).
  REQUIRE(nll_loss(log_softmax(logits, 1), target).item() == Approx((l0 + l1) / 2).epsilon(1e-12));
}

TEST_CASE("cross_entropy label smoothing matches the hand computation", "[nn]") {
  Tensor logits = tensor({1.0, 2.0, 0.5, -1.0, 0.0, 3.0}, {2, 3}, TensorOptions(DType::f64));
  Tensor target = from_vector<int64_t>({0, 2}, {2});
  const double eps = 0.2;
  const auto lp = log_softmax(logits, 1).to_vector<double>();
  double total = 0.0;
  for (int i = 0; i < 2; ++i) {
    const int t = i == 0 ? 0 : 2;
    double s = 0.0;
    for (int j = 0; j < 3; ++j) s += lp[i * 3 + j];
    total += -(1 - eps) * lp[i * 3 + t] - eps / 3.0 * s;
  }
  REQUIRE(cross_entropy(logits, target, Reduction::mean, eps).item() == Approx(total / 2).epsilon(1e-12));
  REQUIRE(cross_entropy(logits, target, Reduction::sum, eps).item() == Approx(total).epsilon(1e-12));
  // The gradient: softmax − (1 − ε)·onehot − ε/C, divided by B for the mean.
  Tensor lg = logits.clone().requires_grad_(true);
  cross_entropy(lg, target, Reduction::mean, eps).backward();
  const auto sm = softmax(logits, 1).to_vector<double>();
  const auto g = lg.grad().to_vector<double>();
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 3; ++j) {
      const int t = i == 0 ? 0 : 2;
      const double want = (sm[i * 3 + j] - (j == t ? 1 - eps : 0.0) - eps / 3.0) / 2.0;
      REQUIRE(g[i * 3 + j] == Approx(want).margin(1e-12));
    }
  }
}

TEST_CASE("nll_loss picks the target log-probabilities", "[nn]") {
  Tensor lp = tensor({-0.1, -2.0, -3.0, -1.5, -0.7, -0.2}, {2, 3});
  Tensor target = from_vector<int64_t>({2, 0}, {2});
  REQUIRE(nll_loss(lp, target, Reduction::sum).item() == Approx(4.5));
  REQUIRE(nll_loss(lp, target).item() == Approx(2.25));
  test::require_close(nll_loss(lp, target, Reduction::none), tensor({3.0, 1.5}), 1e-6);
}

TEST_CASE("class losses reject bad targets naming the value", "[nn]") {
  Tensor logits = zeros({2, 3});
  const std::string e1 = error_of([&] { cross_entropy(logits, from_vector<int64_t>({0, 3}, {2})); });
  REQUIRE(e1.find("cross_entropy") != std::string::npos);
  REQUIRE(e1.find("target 3 is out of range for the number of classes = 3 (valid range 0..2)") != std::string::npos);
  const std::string e2 = error_of([&] { nll_loss(logits, from_vector<int64_t>({-1, 0}, {2})); });
  REQUIRE(e2.find("target -1") != std::string::npos);
  REQUIRE_THROWS_AS(cross_entropy(logits, zeros({2})), Error);                      // float target
  REQUIRE_THROWS_AS(cross_entropy(logits, from_vector<int64_t>({0}, {1})), Error);  // wrong length
  REQUIRE_THROWS_AS(cross_entropy(zeros({2, 3, 4}), from_vector<int64_t>({0, 0}, {2})), Error);
  REQUIRE_THROWS_AS(cross_entropy(logits, from_vector<int64_t>({0, 1}, {2}), Reduction::mean, 1.5), Error);
  REQUIRE_THROWS_AS(cross_entropy(logits, from_vector<int64_t>({0, 1}, {2}), Reduction::batchmean), Error);
}

TEST_CASE("kl_div follows PyTorch's KLDivLoss semantics", "[nn]") {
  // Two rows of distributions; p has a zero entry (contributes 0).
  Tensor p = tensor({0.5, 0.5, 0.0, 0.2, 0.3, 0.5}, {2, 3}, TensorOptions(DType::f64));
  Tensor q = tensor({0.25, 0.25, 0.5, 0.4, 0.4, 0.2}, {2, 3}, TensorOptions(DType::f64));
  const auto pv = p.to_vector<double>(), qv = q.to_vector<double>();
  double total = 0.0;
  std::vector<double> terms;
  for (size_t i = 0; i < pv.size(); ++i) {
    const double t = pv[i] > 0 ? pv[i] * (std::log(pv[i]) - std::log(qv[i])) : 0.0;
    terms.push_back(t);
    total += t;
  }
  Tensor lq = log(q);
  REQUIRE(kl_div(lq, p, Reduction::sum).item() == Approx(total).epsilon(1e-12));
  REQUIRE(kl_div(lq, p, Reduction::mean).item() == Approx(total / 6).epsilon(1e-12));
  REQUIRE(kl_div(lq, p, Reduction::batchmean).item() == Approx(total / 2).epsilon(1e-12));
  test::require_close(kl_div(lq, p, Reduction::none), from_vector(terms, {2, 3}), 1e-12);
  // log_target: the same value from log p (the zero entry becomes exp(-inf) = 0 · (…)).
  Tensor p2 = tensor({0.5, 0.5, 0.2, 0.3, 0.5, 0.2}, {2, 3}, TensorOptions(DType::f64));
  REQUIRE(kl_div(lq, log(p2), Reduction::sum, true).item() ==
          Approx(kl_div(lq, p2, Reduction::sum).item()).epsilon(1e-12));
  // KL(p ‖ p) = 0.
  REQUIRE(kl_div(log(p2), p2, Reduction::batchmean).item() == Approx(0.0).margin(1e-15));
  // Gradient w.r.t. the input: −p / B for batchmean.
  Tensor lqg = lq.clone().requires_grad_(true);
  kl_div(lqg, p, Reduction::batchmean).backward();
  test::require_close(lqg.grad(), mul(p, -0.5), 1e-15);
  REQUIRE_THROWS_AS(kl_div(lq, zeros({3, 2}, DType::f64)), Error);
  REQUIRE_THROWS_AS(kl_div(lq, zeros({2, 3})), Error);  // dtype mismatch
}

TEST_CASE("mse_loss values and reductions", "[nn]") {
  Tensor a = tensor({1.0, 2.0, 3.0, 4.0}, {2, 2});
  Tensor b = tensor({0.0, 2.0, 5.0, 1.0}, {2, 2});
  REQUIRE(mse_loss(a, b).item() == Approx((1.0 + 0.0 + 4.0 + 9.0) / 4));
  REQUIRE(mse_loss(a, b, Reduction::sum).item() == Approx(14.0));
  test::require_close(mse_loss(a, b, Reduction::none), tensor({1.0, 0.0, 4.0, 9.0}, {2, 2}), 1e-6);
  REQUIRE_THROWS_AS(mse_loss(a, zeros({4})), Error);
}

TEST_CASE("dropout: seeded, scaled by 1/(1-p), identity in eval", "[nn]") {
  Tensor x = ones({200, 50});
  Generator g1(42), g2(42), g3(43);
  Tensor a = dropout(x, 0.3, true, &g1);
  Tensor b = dropout(x, 0.3, true, &g2);
  Tensor c = dropout(x, 0.3, true, &g3);
  REQUIRE(test::max_abs_diff(a, b) == 0.0);
  REQUIRE(test::max_abs_diff(a, c) > 0.0);
  const auto v = a.to_vector<double>();
  int64_t zeros_n = 0;
  for (double e : v) {
    if (e == 0.0) {
      ++zeros_n;
    } else {
      REQUIRE(e == Approx(1.0 / 0.7).epsilon(1e-6));
    }
  }
  const double frac = static_cast<double>(zeros_n) / static_cast<double>(v.size());
  REQUIRE(frac > 0.27);
  REQUIRE(frac < 0.33);
  // The expectation is preserved.
  REQUIRE(mean(a).item() == Approx(1.0).epsilon(0.03));
  // Eval and p = 0: the input itself.
  REQUIRE(dropout(x, 0.3, false, &g1).same(x));
  REQUIRE(dropout(x, 0.0, true, &g1).same(x));
  REQUIRE(max(abs(dropout(x, 1.0, true, &g1))).item() == 0.0);
  REQUIRE_THROWS_AS(dropout(x, 1.5, true), Error);
  REQUIRE_THROWS_AS(dropout(x, -0.1, true), Error);
}

TEST_CASE("dropout gradient is the scaled mask", "[nn]") {
  Tensor x = test::uniform({10, 10}, -1, 1, 5, TensorOptions(DType::f64));
  x.requires_grad_(true);
  Generator g(7);
  Tensor y = dropout(x, 0.5, true, &g);
  sum(y).backward();
  const auto yv = y.to_vector<double>(), gv = x.grad().to_vector<double>();
  for (size_t i = 0; i < yv.size(); ++i) REQUIRE(gv[i] == (yv[i] == 0.0 ? 0.0 : 2.0));
}

TEST_CASE("nn ops validate dtypes and devices", "[nn]") {
  REQUIRE_THROWS_AS(softmax(zeros({3}, DType::i64)), Error);
  REQUIRE_THROWS_AS(softmax(zeros({3, 2}), 2), Error);
  const std::string e = error_of([] { mse_loss(zeros({2}), zeros({2}, DType::f64)); });
  REQUIRE(e.find("mse_loss") != std::string::npos);
  REQUIRE(e.find("float64") != std::string::npos);
}
