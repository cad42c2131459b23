// CUDA vs CPU parity of the NN ops: softmax / log_softmax forward and backward on every launch
// path (WarpRow, BlockRow, Column, Auto; kernel-level calls write into NaN-poisoned outputs),
// cross_entropy with label smoothing, nll_loss, kl_div, mse_loss (values and gradients), dropout
// masks (the same seed gives the same mask on both devices).
#include <catch2/catch.hpp>
#include <cmath>

#include "core/parallel_for.h"
#include "kernels/nn.h"
#include "ops/nn.h"
#include "test_util.h"

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

double tol_for(DType t) {
  return t == DType::f32 ? 2e-6 : 1e-13;
}

struct Shape3 {
  Shape shape;
  int64_t dim;
};

// Row shapes that pick every path: short rows (warp), long rows (block), a middle dim (column).
const Shape3 kShapes[] = {{{37, 40}, 1}, {{5, 3000}, 1}, {{4, 7, 9}, 1}, {{3, 1}, 1}, {{6, 5}, 0}, {{2, 1500, 3}, 1}};

}  // namespace

TEST_CASE("softmax kernels: every path writes the CPU values into poisoned outputs", "[parity][nn]") {
  using kernels::SoftmaxImpl;
  for (DType t : {DType::f32, DType::f64}) {
    for (const auto& s : kShapes) {
      Tensor x = test::uniform(s.shape, -4, 4, 1, TensorOptions(t));
      Tensor gy = test::uniform(s.shape, -1, 1, 2, TensorOptions(t));
      int64_t outer = 1, D = s.shape[s.dim], inner = 1;
      for (int64_t i = 0; i < s.dim; ++i) outer *= s.shape[i];
      for (size_t i = s.dim + 1; i < s.shape.size(); ++i) inner *= s.shape[i];
      for (bool log : {false, true}) {
        Tensor y_cpu = empty(s.shape, TensorOptions(t));
        kernels::softmax_forward<CpuBackend>(x, y_cpu, outer, D, inner, log, SoftmaxImpl::Auto);
        Tensor gx_cpu = empty(s.shape, TensorOptions(t));
        kernels::softmax_backward<CpuBackend>(y_cpu, gy, gx_cpu, outer, D, inner, log, SoftmaxImpl::Auto);
        const Tensor xc = x.to(kCuda), gyc = gy.to(kCuda), yc_in = y_cpu.to(kCuda);
        for (SoftmaxImpl p : {SoftmaxImpl::Auto, SoftmaxImpl::WarpRow, SoftmaxImpl::BlockRow, SoftmaxImpl::Column}) {
          INFO("shape " << shape_str(s.shape) << " dim " << s.dim << " log " << log << " path " << int(p) << " "
                        << dtype_name(t));
          Tensor y = full(s.shape, NAN, TensorOptions(t, kCuda));
          kernels::softmax_forward<CudaBackend>(xc, y, outer, D, inner, log, p);
          test::require_close(test::to_cpu(y), y_cpu, tol_for(t), tol_for(t));
          Tensor gx = full(s.shape, NAN, TensorOptions(t, kCuda));
          kernels::softmax_backward<CudaBackend>(yc_in, gyc, gx, outer, D, inner, log, p);
          test::require_close(test::to_cpu(gx), gx_cpu, tol_for(t), tol_for(t));
        }
      }
    }
  }
}

TEST_CASE("softmax ops parity with autograd on every impl", "[parity][nn]") {
  for (SoftmaxImpl impl : {SoftmaxImpl::Auto, SoftmaxImpl::WarpRow, SoftmaxImpl::BlockRow, SoftmaxImpl::Column}) {
    Tensor x = test::uniform({6, 50}, -3, 3, 3, TensorOptions(DType::f64));
    Tensor cot = test::uniform({6, 50}, -1, 1, 4, TensorOptions(DType::f64));
    for (bool log : {false, true}) {
      Tensor a = x.clone().requires_grad_(true);
      Tensor b = x.to(kCuda).requires_grad_(true);
      Tensor ya = log ? log_softmax(a, 1, impl) : softmax(a, 1, impl);
      Tensor yb = log ? log_softmax(b, 1, impl) : softmax(b, 1, impl);
      sum(mul(ya, cot)).backward();
      sum(mul(yb, cot.to(kCuda))).backward();
      test::require_close(test::to_cpu(yb), ya, 1e-13);
      test::require_close(test::to_cpu(b.grad()), a.grad(), 1e-13);
    }
  }
}

TEST_CASE("NaN and -inf rows behave like the CPU on the device", "[parity][nn]") {
  Tensor x = tensor({1.0, NAN, 2.0, -INFINITY, -INFINITY, -INFINITY, 0.0, -INFINITY, 1.0}, {3, 3});
  for (SoftmaxImpl impl : {SoftmaxImpl::WarpRow, SoftmaxImpl::BlockRow, SoftmaxImpl::Column}) {
    const auto a = softmax(x, 1).to_vector<double>();
    const auto b = test::to_cpu(softmax(x.to(kCuda), 1, impl)).to_vector<double>();
    for (size_t i = 0; i < a.size(); ++i) {
      INFO("element " << i);
      REQUIRE(std::isnan(a[i]) == std::isnan(b[i]));
      if (!std::isnan(a[i])) REQUIRE(std::fabs(a[i] - b[i]) < 1e-6);
    }
  }
}

TEST_CASE("cross_entropy / nll_loss parity: values and gradients", "[parity][nn]") {
  Generator g(11);
  Tensor target = randint(0, 40, {33}, TensorOptions(DType::i64), &g);
  for (DType t : {DType::f32, DType::f64}) {
    Tensor logits = test::uniform({33, 40}, -5, 5, 12, TensorOptions(t));
    for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
      for (double eps : {0.0, 0.2}) {
        INFO(dtype_name(t) << " " << reduction_name(r) << " eps " << eps);
        Tensor a = logits.clone().requires_grad_(true);
        Tensor b = logits.to(kCuda).requires_grad_(true);
        Tensor la = cross_entropy(a, target, r, eps);
        Tensor lb = cross_entropy(b, target.to(kCuda), r, eps);
        test::require_close(test::to_cpu(lb), la, t == DType::f32 ? 1e-5 : 1e-12, tol_for(t));
        sum(la).backward();
        sum(lb).backward();
        test::require_close(test::to_cpu(b.grad()), a.grad(), tol_for(t), tol_for(t));
        Tensor na = nll_loss(log_softmax(logits, 1), target, r);
        Tensor nb = nll_loss(log_softmax(logits.to(kCuda), 1), target.to(kCuda).to(DType::i32), r);
        test::require_close(test::to_cpu(nb), na, t == DType::f32 ? 1e-5 : 1e-12, tol_for(t));
      }
    }
  }
  // Out-of-range device targets are reported.
  REQUIRE_THROWS_AS(
      cross_entropy(zeros({2, 3}, TensorOptions(DType::f32, kCuda)), from_vector<int64_t>({0, 3}, {2}, kCuda)), Error);
  REQUIRE_THROWS_AS(cross_entropy(zeros({2, 3}, TensorOptions(DType::f32, kCuda)), from_vector<int64_t>({0, 1}, {2})),
                    Error);  // target on the CPU
}

TEST_CASE("kl_div and mse_loss parity: values and both gradients", "[parity][nn]") {
  Tensor p = softmax(test::uniform({8, 10}, -2, 2, 21, TensorOptions(DType::f64)), 1);
  Tensor zeros_in = p.clone();
  zeros_in.slice(1, 0, 2).zero_();  // zero probabilities (xlogy convention)
  Tensor lq = log_softmax(test::uniform({8, 10}, -2, 2, 22, TensorOptions(DType::f64)), 1);
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none, Reduction::batchmean}) {
    for (bool log_target : {false, true}) {
      const Tensor tgt = log_target ? log(p) : zeros_in;
      Tensor a = lq.clone().requires_grad_(true), ta = tgt.clone().requires_grad_(true);
      Tensor b = lq.to(kCuda).requires_grad_(true), tb = tgt.to(kCuda).requires_grad_(true);
      Tensor la = kl_div(a, ta, r, log_target), lb = kl_div(b, tb, r, log_target);
      test::require_close(test::to_cpu(lb), la, 1e-13, 1e-12);
      sum(la).backward();
      sum(lb).backward();
      test::require_close(test::to_cpu(b.grad()), a.grad(), 1e-14, 1e-12);
      test::require_close(test::to_cpu(tb.grad()), ta.grad(), 1e-14, 1e-12);
    }
  }
  Tensor x = test::uniform({5, 7}, -1, 1, 23), y = test::uniform({5, 7}, -1, 1, 24);
  test::require_close(test::to_cpu(mse_loss(x.to(kCuda), y.to(kCuda))), mse_loss(x, y), 1e-6);
  REQUIRE_THROWS_AS(kl_div(lq.to(kCuda), p), Error);  // mixed devices
}

TEST_CASE("dropout: the same seed gives the same mask on the CPU and on CUDA", "[parity][nn]") {
  Tensor x = test::uniform({64, 33}, -1, 1, 31);
  Generator g1(1234), g2(1234);
  Tensor a = dropout(x, 0.3, true, &g1);
  Tensor b = dropout(x.to(kCuda), 0.3, true, &g2);
  REQUIRE(test::max_abs_diff(test::to_cpu(b), a) == 0.0);
  Tensor xb = x.to(kCuda).requires_grad_(true);
  Generator g3(5);
  sum(dropout(xb, 0.5, true, &g3)).backward();
  const auto gv = test::to_cpu(xb.grad()).to_vector<double>();
  for (double v : gv) REQUIRE((v == 0.0 || v == 2.0));
}
