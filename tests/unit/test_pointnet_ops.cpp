// shared_mlp / batch_norm / max_pool_points: values against naive compositions of existing ops,
// BatchNorm train/eval semantics and running-stat updates against hand-computed numbers, the
// Generic (shared bodies) vs Fast CPU paths, tie rules, errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "ops/pointnet.h"
#include "test_util.h"

using namespace pg;

namespace {

using pg::test::error_of;

// BatchNorm from reduce/elementwise ops over all leading dims (biased variance).
Tensor naive_bn(const Tensor& z, const Tensor& gamma, const Tensor& beta, double eps) {
  std::vector<int64_t> dims;
  for (int64_t d = 0; d + 1 < z.dim(); ++d) dims.push_back(d);
  Tensor m = mean(z, dims, true);
  Tensor c = sub(z, m);
  Tensor v = mean(mul(c, c), dims, true);
  Tensor y = div(c, sqrt(add(v, eps)));
  if (gamma.defined()) y = mul(y, gamma);
  if (beta.defined()) y = add(y, beta);
  return y;
}

Tensor apply_act(const Tensor& u, Activation a, double slope) {
  switch (a) {
    case Activation::relu:
      return relu(u);
    case Activation::leaky_relu:
      return leaky_relu(u, slope);
    case Activation::selu:
      return selu(u);
    default:
      return u;
  }
}

const Activation kActs[] = {Activation::none, Activation::relu, Activation::leaky_relu, Activation::selu};

}  // namespace

TEST_CASE("batch_norm training: hand-computed output and running statistics", "[pointnet_ops]") {
  Tensor x = tensor({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2}, TensorOptions(DType::f64));
  Tensor gamma = tensor({2.0, 0.5}, TensorOptions(DType::f64));
  Tensor beta = tensor({1.0, -1.0}, TensorOptions(DType::f64));
  Tensor rm = zeros({2}, DType::f64), rv = ones({2}, DType::f64);
  const uint64_t v0 = rm.version();
  Tensor y = batch_norm(x, gamma, beta, rm, rv, true, 0.1, 1e-5);
  // Channel 0: 1,3,5,7 → mean 4, biased var 5; channel 1: 2,4,6,8 → mean 5, var 5.
  const double s = std::sqrt(5.0 + 1e-5);
  const auto yv = y.to_vector<double>();
  const double xs[4][2] = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};
  for (int r = 0; r < 4; ++r) {
    REQUIRE(yv[r * 2 + 0] == Approx((xs[r][0] - 4.0) / s * 2.0 + 1.0).epsilon(1e-12));
    REQUIRE(yv[r * 2 + 1] == Approx((xs[r][1] - 5.0) / s * 0.5 - 1.0).epsilon(1e-12));
  }
  // Running: mean 0.9·0 + 0.1·mean; var 0.9·1 + 0.1·(unbiased 20/3).
  test::require_close(rm, tensor({0.4, 0.5}, TensorOptions(DType::f64)), 1e-12);
  test::require_close(rv, tensor({0.9 + 0.1 * 20.0 / 3.0, 0.9 + 0.1 * 20.0 / 3.0}, TensorOptions(DType::f64)), 1e-12);
  REQUIRE(rm.version() > v0);
  // A second step keeps averaging.
  batch_norm(x, gamma, beta, rm, rv, true, 0.5, 1e-5);
  test::require_close(rm, tensor({0.5 * 0.4 + 0.5 * 4.0, 0.5 * 0.5 + 0.5 * 5.0}, TensorOptions(DType::f64)), 1e-12);
}

TEST_CASE("batch_norm eval uses the running statistics; none given → batch statistics", "[pointnet_ops]") {
  Tensor x = tensor({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2}, TensorOptions(DType::f64));
  Tensor gamma = tensor({2.0, 0.5}, TensorOptions(DType::f64));
  Tensor beta = tensor({1.0, -1.0}, TensorOptions(DType::f64));
  Tensor rm = tensor({1.0, 2.0}, TensorOptions(DType::f64)), rv = tensor({4.0, 9.0}, TensorOptions(DType::f64));
  Tensor y = batch_norm(x, gamma, beta, rm, rv, false, 0.1, 1e-5);
  const auto yv = y.to_vector<double>();
  const double xs[4][2] = {{1, 2}, {3, 4}, {5, 6}, {7, 8}};
  for (int r = 0; r < 4; ++r) {
    REQUIRE(yv[r * 2 + 0] == Approx((xs[r][0] - 1.0) / std::sqrt(4.0 + 1e-5) * 2.0 + 1.0).epsilon(1e-12));
    REQUIRE(yv[r * 2 + 1] == Approx((xs[r][1] - 2.0) / std::sqrt(9.0 + 1e-5) * 0.5 - 1.0).epsilon(1e-12));
  }
  // Eval does not touch the running stats.
  test::require_close(rm, tensor({1.0, 2.0}, TensorOptions(DType::f64)), 0.0);
  // No running stats (track_running_stats = False): batch statistics even in eval; no affine.
  Tensor y2 = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), false);
  test::require_close(y2, naive_bn(x, Tensor(), Tensor(), 1e-5), 1e-12);
}

TEST_CASE("batch_norm over points [B, N, C] uses statistics over B·N", "[pointnet_ops]") {
  for (DType t : {DType::f32, DType::f64}) {
    Tensor x = test::uniform({3, 17, 5}, -2, 3, 11, TensorOptions(t));
    Tensor gamma = test::uniform({5}, 0.5, 1.5, 12, TensorOptions(t));
    Tensor beta = test::uniform({5}, -1, 1, 13, TensorOptions(t));
    Tensor rm = zeros({5}, t), rv = ones({5}, t);
    Tensor y = batch_norm(x, gamma, beta, rm, rv, true);
    test::require_close(y, naive_bn(x, gamma, beta, 1e-5), t == DType::f32 ? 1e-5 : 1e-12);
    // Running mean = 0.1 · batch mean over (B, N).
    test::require_close(rm, mul(mean(x, {0, 1}), 0.1), t == DType::f32 ? 1e-6 : 1e-14);
  }
}

TEST_CASE("batch_norm statistics are accurate for a large offset", "[pointnet_ops]") {
  // Values 1e4 + small noise: a naive one-pass Σx² − (Σx)² in float32 would lose the variance.
  Tensor noise = test::uniform({4096, 3}, -1, 1, 21, TensorOptions(DType::f64));
  Tensor x = add(noise, 1e4).to(DType::f32);
  Tensor y = batch_norm(x, Tensor(), Tensor(), Tensor(), Tensor(), true);
  Tensor ref = naive_bn(x.to(DType::f64), Tensor(), Tensor(), 1e-5);
  REQUIRE(test::max_abs_diff(y, ref) < 2e-3);
}

TEST_CASE("shared_mlp equals act(batch_norm(linear(x))) for every activation and BN mode", "[pointnet_ops]") {
  for (DType t : {DType::f32, DType::f64}) {
    const double tol = t == DType::f32 ? 2e-5 : 1e-11;
    Tensor x = test::uniform({2, 33, 6}, -1, 1, 31, TensorOptions(t));
    Tensor w = test::uniform({12, 6}, -0.5, 0.5, 32, TensorOptions(t));
    Tensor b = test::uniform({12}, -0.2, 0.2, 33, TensorOptions(t));
    Tensor gamma = test::uniform({12}, 0.5, 1.5, 34, TensorOptions(t));
    Tensor beta = test::uniform({12}, -0.5, 0.5, 35, TensorOptions(t));
    const Tensor z = linear(x, w, b);
    for (Activation a : kActs) {
      INFO("activation " << activation_name(a) << " dtype " << dtype_name(t));
      SharedMLPOptions o;
      o.activation = a;
      o.negative_slope = 0.2;
      // No BN.
      test::require_close(shared_mlp(x, w, b, o), apply_act(z, a, 0.2), tol);
      test::require_close(shared_mlp(x, w, Tensor(), o), apply_act(linear(x, w), a, 0.2), tol);
      // BN training with running-stat update.
      Tensor rm = zeros({12}, t), rv = ones({12}, t);
      o.bn = BatchNormArgs{gamma, beta, rm, rv, true, 0.1, 1e-5};
      test::require_close(shared_mlp(x, w, b, o), apply_act(naive_bn(z, gamma, beta, 1e-5), a, 0.2), tol);
      test::require_close(rm, mul(mean(z, {0, 1}), 0.1), tol);
      Tensor zc = sub(z, mean(z, {0, 1}, true));
      Tensor unbiased = div(sum(mul(zc, zc), {0, 1}), 65.0);
      test::require_close(rv, add(mul(unbiased, 0.1), 0.9), tol);
      // BN eval with those running stats: equal to batch_norm in eval.
      o.bn->training = false;
      test::require_close(shared_mlp(x, w, b, o), apply_act(batch_norm(z, gamma, beta, rm, rv, false), a, 0.2), tol);
    }
  }
}

TEST_CASE("shared_mlp over feature vectors [B, C] and strided inputs", "[pointnet_ops]") {
  Tensor x = test::uniform({9, 7}, -1, 1, 41, TensorOptions(DType::f64));
  Tensor w = test::uniform({5, 7}, -1, 1, 42, TensorOptions(DType::f64));
  SharedMLPOptions o;
  o.activation = Activation::relu;
  o.bn = BatchNormArgs{};
  test::require_close(shared_mlp(x, w, Tensor(), o), relu(naive_bn(linear(x, w), Tensor(), Tensor(), 1e-5)), 1e-12);
  Tensor xt = test::uniform({7, 9}, -1, 1, 43, TensorOptions(DType::f64)).t();
  test::require_close(shared_mlp(xt, w, Tensor(), o), relu(naive_bn(linear(xt, w), Tensor(), Tensor(), 1e-5)), 1e-12);
}

TEST_CASE("shared_mlp backward: bias before training BN gets a zero gradient", "[pointnet_ops]") {
  Tensor x = test::uniform({2, 10, 4}, -1, 1, 51, TensorOptions(DType::f64));
  Tensor w = test::uniform({3, 4}, -1, 1, 52, TensorOptions(DType::f64)).requires_grad_(true);
  Tensor b = test::uniform({3}, -1, 1, 53, TensorOptions(DType::f64)).requires_grad_(true);
  SharedMLPOptions o;
  o.activation = Activation::relu;
  o.bn = BatchNormArgs{};
  sum(mul(shared_mlp(x, w, b, o), test::uniform({2, 10, 3}, -1, 1, 54, TensorOptions(DType::f64)))).backward();
  REQUIRE(b.grad().defined());
  REQUIRE(test::max_abs_diff(b.grad(), zeros({3}, DType::f64)) == 0.0);
  REQUIRE(max(abs(w.grad())).item() > 0.0);
}

TEST_CASE("shared_mlp backward matches the composition's gradients", "[pointnet_ops]") {
  for (bool training : {true, false}) {
    for (Activation a : kActs) {
      INFO("training " << training << " activation " << activation_name(a));
      auto leaf = [](const Shape& s, double lo, double hi, uint64_t seed) { return test::leaf64(s, lo, hi, seed); };
      Tensor x1 = leaf({3, 8, 5}, -1, 1, 61), w1 = leaf({6, 5}, -1, 1, 62), b1 = leaf({6}, -1, 1, 63);
      Tensor g1 = leaf({6}, 0.5, 1.5, 64), be1 = leaf({6}, -1, 1, 65);
      Tensor x2 = x1.detach().clone().requires_grad_(true), w2 = w1.detach().clone().requires_grad_(true);
      Tensor b2 = b1.detach().clone().requires_grad_(true), g2 = g1.detach().clone().requires_grad_(true);
      Tensor be2 = be1.detach().clone().requires_grad_(true);
      Tensor rm = test::uniform({6}, -0.5, 0.5, 66, TensorOptions(DType::f64));
      Tensor rv = test::uniform({6}, 0.5, 2, 67, TensorOptions(DType::f64));
      Tensor cot = test::uniform({3, 8, 6}, -1, 1, 68, TensorOptions(DType::f64));
      SharedMLPOptions o;
      o.activation = a;
      o.negative_slope = 0.1;
      o.bn = BatchNormArgs{g1, be1, rm.clone(), rv.clone(), training, 0.1, 1e-5};
      sum(mul(shared_mlp(x1, w1, b1, o), cot)).backward();
      Tensor z = linear(x2, w2, b2);
      Tensor n = training ? naive_bn(z, g2, be2, 1e-5) : add(mul(div(sub(z, rm), sqrt(add(rv, 1e-5))), g2), be2);
      sum(mul(apply_act(n, a, 0.1), cot)).backward();
      test::require_close(x1.grad(), x2.grad(), 1e-10);
      test::require_close(w1.grad(), w2.grad(), 1e-10);
      test::require_close(b1.grad(), b2.grad(), 1e-10);
      test::require_close(g1.grad(), g2.grad(), 1e-10);
      test::require_close(be1.grad(), be2.grad(), 1e-10);
    }
  }
}

TEST_CASE("shared_mlp and batch_norm: Generic bodies equal the fast CPU loops", "[pointnet_ops]") {
  for (Activation a : kActs) {
    Tensor x = test::uniform({4, 100, 24}, -1, 1, 71);
    Tensor w = test::uniform({40, 24}, -0.3, 0.3, 72);
    Tensor b = test::uniform({40}, -0.1, 0.1, 73);
    Tensor gamma = test::uniform({40}, 0.5, 1.5, 74), beta = test::uniform({40}, -0.5, 0.5, 75);
    Tensor cot = test::uniform({4, 100, 40}, -1, 1, 76);
    std::vector<Tensor> outs, grads;
    for (PointnetImpl impl : {PointnetImpl::Generic, PointnetImpl::Fast}) {
      Tensor xl = x.clone().requires_grad_(true), wl = w.clone().requires_grad_(true);
      Tensor gl = gamma.clone().requires_grad_(true);
      Tensor rm = zeros({40}), rv = ones({40});
      SharedMLPOptions o;
      o.activation = a;
      o.impl = impl;
      o.bn = BatchNormArgs{gl, beta, rm, rv, true, 0.1, 1e-5};
      Tensor y = shared_mlp(xl, wl, b, o);
      sum(mul(y, cot)).backward();
      outs.push_back(y);
      outs.push_back(rv);
      grads.push_back(xl.grad());
      grads.push_back(wl.grad());
      grads.push_back(gl.grad());
    }
    for (size_t i = 0; i < 2; ++i) REQUIRE(test::rel_l2(outs[i + 2], outs[i]) < 1e-6);
    for (size_t i = 0; i < 3; ++i) REQUIRE(test::rel_l2(grads[i + 3], grads[i]) < 1e-5);
  }
}

TEST_CASE("max_pool_points values and indices equal max/argmax over points", "[pointnet_ops]") {
  for (PointnetImpl impl : {PointnetImpl::Auto, PointnetImpl::Generic}) {
    Tensor x = test::uniform({3, 50, 70}, -5, 5, 81);
    MaxPoolResult r = max_pool_points(x, impl);
    REQUIRE(r.values.shape() == Shape{3, 70});
    REQUIRE(r.indices.dtype() == DType::i64);
    REQUIRE(test::max_abs_diff(r.values, max(x, 1)) == 0.0);
    REQUIRE(test::max_abs_diff(r.indices, argmax(x, 1)) == 0.0);
  }
}

TEST_CASE("max_pool_points ties go to the lowest point index; NaN propagates", "[pointnet_ops]") {
  // Cloud 0: channel 0 has its max 3 at points 1 and 3; channel 1 is constant.
  Tensor x = tensor({0, 7, 3, 7, 1, 7, 3, 7}, {1, 4, 2});
  for (PointnetImpl impl : {PointnetImpl::Auto, PointnetImpl::Generic}) {
    MaxPoolResult r = max_pool_points(x, impl);
    REQUIRE(r.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 0});
    REQUIRE(r.values.to_vector<double>() == std::vector<double>{3, 7});
    Tensor xn = tensor({0, 1, NAN, 2, 5, NAN, NAN, 0}, {1, 4, 2});
    MaxPoolResult rn = max_pool_points(xn, impl);
    REQUIRE(rn.indices.to_vector<int64_t>() == std::vector<int64_t>{1, 2});
    REQUIRE(std::isnan(rn.values.to_vector<double>()[0]));
  }
}

TEST_CASE("max_pool_points backward scatters to the argmax rows", "[pointnet_ops]") {
  Tensor x = tensor({0, 7, 3, 7, 1, 7, 3, 8}, {1, 4, 2}, TensorOptions(DType::f64)).requires_grad_(true);
  MaxPoolResult r = max_pool_points(x);
  REQUIRE_FALSE(r.indices.requires_grad());
  sum(mul(r.values, tensor({2.0, 5.0}, {1, 2}, TensorOptions(DType::f64)))).backward();
  REQUIRE(x.grad().to_vector<double>() == std::vector<double>{0, 0, 2, 0, 0, 0, 0, 5});
}

TEST_CASE("max_pool_points backward with batch > 1 scatters into each cloud's own rows", "[pointnet_ops]") {
  // B = 3, N = 3, C = 2; the argmax rows differ per cloud and per channel, so a backward that
  // ignores the batch offset (or uses another cloud's indices) writes to the wrong elements.
  const std::vector<double> v = {
      5, 0, 1, 2, 0, 9,   // cloud 0: channel 0 max at row 0, channel 1 at row 2
      0, 4, 8, 1, 2, 3,   // cloud 1: channel 0 at row 1, channel 1 at row 0
      1, 1, 2, 6, 7, 5};  // cloud 2: channel 0 at row 2, channel 1 at row 1
  for (PointnetImpl impl : {PointnetImpl::Auto, PointnetImpl::Generic}) {
    INFO("impl " << int(impl));
    Tensor x = from_vector(v, {3, 3, 2}).requires_grad_(true);
    MaxPoolResult r = max_pool_points(x, impl);
    REQUIRE(r.indices.to_vector<int64_t>() == std::vector<int64_t>{0, 2, 1, 0, 2, 1});
    // Distinct upstream gradients per (cloud, channel).
    Tensor g = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {3, 2});
    sum(mul(r.values, g)).backward();
    REQUIRE(x.grad().to_vector<double>() ==
            std::vector<double>{1, 0, 0, 0, 0, 2,    //
                                0, 4, 3, 0, 0, 0,    //
                                0, 0, 0, 6, 5, 0});
  }
}

TEST_CASE("point ops report shape, dtype and channel errors naming the op", "[pointnet_ops]") {
  Tensor x = zeros({2, 5, 3});
  const std::string e = error_of([&] { shared_mlp(x, zeros({8, 4})); });
  REQUIRE(e.find("shared_mlp") != std::string::npos);
  REQUIRE(e.find("channel mismatch") != std::string::npos);
  REQUIRE(e.find("3 input channels") != std::string::npos);
  REQUIRE(e.find("expects 4") != std::string::npos);
  REQUIRE_THROWS_AS(shared_mlp(x, zeros({8, 3}), zeros({7})), Error);
  REQUIRE_THROWS_AS(shared_mlp(x, zeros({8, 3}, DType::f64)), Error);
  REQUIRE_THROWS_AS(shared_mlp(zeros({3}), zeros({8, 3})), Error);
  SharedMLPOptions o;
  o.bn = BatchNormArgs{zeros({5}), Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5};
  const std::string e2 = error_of([&] { shared_mlp(x, zeros({8, 3}), Tensor(), o); });
  REQUIRE(e2.find("gamma") != std::string::npos);
  REQUIRE(e2.find("[8]") != std::string::npos);
  o.bn = BatchNormArgs{};
  o.bn->momentum = 2.0;
  REQUIRE_THROWS_AS(shared_mlp(x, zeros({8, 3}), Tensor(), o), Error);
  // One value per channel in training.
  REQUIRE_THROWS_AS(batch_norm(zeros({1, 4}), Tensor(), Tensor(), Tensor(), Tensor(), true), Error);
  REQUIRE_THROWS_AS(batch_norm(zeros({4, 3}), Tensor(), Tensor(), zeros({3}), Tensor(), true), Error);
  REQUIRE_THROWS_AS(batch_norm(zeros({4, 3}), Tensor(), Tensor(), zeros({3}, DType::f64), ones({3}, DType::f64), true),
                    Error);
  REQUIRE_THROWS_AS(max_pool_points(zeros({2, 3})), Error);
  REQUIRE_THROWS_AS(max_pool_points(zeros({2, 0, 3})), Error);
  REQUIRE_THROWS_AS(max_pool_points(zeros({2, 3, 3}, DType::i64)), Error);
}
