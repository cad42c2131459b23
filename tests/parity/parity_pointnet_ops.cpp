// CUDA vs CPU parity of the point-cloud layer ops: shared_mlp (no BN / BN training / BN eval,
// every activation, Generic and Fast paths, split and unsplit channel reductions, vectorised and
// scalar epilogues) forward, backward and running-stat updates; batch_norm; max_pool_points on
// every launch configuration (kernel-level calls into NaN-poisoned outputs, forced point splits)
// with ties resolved exactly like the CPU.
#include <catch2/catch.hpp>
#include <cmath>

#include "core/parallel_for.h"
#include "kernels/pointnet.h"
#include "ops/pointnet.h"
#include "test_util.h"

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

struct MlpCase {
  Shape x;
  int64_t cout;
};

// R = 40 rows (one split, C % 4 != 0 → scalar epilogue), R = 32768 rows × 64 channels (many
// splits, vectorised epilogue), a [B, C] feature batch.
const MlpCase kCases[] = {{{2, 20, 5}, 70}, {{32, 1024, 8}, 64}, {{16, 12}, 32}};

const Activation kActs[] = {Activation::none, Activation::relu, Activation::leaky_relu, Activation::selu};

struct Run {
  Tensor y, gx, gw, gb, gg, gbeta, rm, rv;
};

Run run_mlp(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& gamma, const Tensor& beta,
            const Tensor& cot, int bn_mode, Activation a, PointnetImpl impl, Device dev) {
  Run r;
  // detach(): on the CPU to(dev) returns the tensor itself, which must not become a leaf that
  // requires grad (the next device's copy would then be a non-leaf without .grad).
  Tensor xl = x.to(dev).detach().requires_grad_(true), wl = w.to(dev).detach().requires_grad_(true);
  Tensor bl = b.to(dev).detach().requires_grad_(true);
  Tensor gl = gamma.to(dev).detach().requires_grad_(true), bel = beta.to(dev).detach().requires_grad_(true);
  r.rm = full({w.size(0)}, 0.1, TensorOptions(x.dtype(), dev));
  r.rv = full({w.size(0)}, 1.5, TensorOptions(x.dtype(), dev));
  SharedMLPOptions o;
  o.activation = a;
  o.negative_slope = 0.05;
  o.impl = impl;
  if (bn_mode > 0) o.bn = BatchNormArgs{gl, bel, r.rm, r.rv, bn_mode == 1, 0.1, 1e-5};
  r.y = shared_mlp(xl, wl, bl, o);
  sum(mul(r.y, cot.to(dev))).backward();
  r.gx = xl.grad();
  r.gw = wl.grad();
  r.gb = bl.grad();
  if (bn_mode > 0) {
    r.gg = gl.grad();
    r.gbeta = bel.grad();
  }
  return r;
}

void require_rel(const Tensor& a, const Tensor& b, double tol) {
  REQUIRE(a.defined() == b.defined());
  if (!a.defined()) return;
  REQUIRE(test::rel_l2(test::to_cpu(a), test::to_cpu(b)) <= tol);
}

}  // namespace

TEST_CASE("shared_mlp parity: forward, backward and running stats on every path", "[parity][pointnet_ops]") {
  for (DType t : {DType::f32, DType::f64}) {
    const double tol = t == DType::f32 ? 1e-5 : 1e-12;
    for (const auto& c : kCases) {
      const int64_t cin = c.x.back();
      Shape yshape = c.x;
      yshape.back() = c.cout;
      Tensor x = test::uniform(c.x, -1, 1, 1, TensorOptions(t));
      Tensor w = test::uniform({c.cout, cin}, -0.5, 0.5, 2, TensorOptions(t));
      Tensor b = test::uniform({c.cout}, -0.2, 0.2, 3, TensorOptions(t));
      Tensor gamma = test::uniform({c.cout}, 0.5, 1.5, 4, TensorOptions(t));
      Tensor beta = test::uniform({c.cout}, -0.5, 0.5, 5, TensorOptions(t));
      Tensor cot = test::uniform(yshape, -1, 1, 6, TensorOptions(t));
      for (int bn_mode : {0, 1, 2}) {  // none, training, eval
        for (Activation a : kActs) {
          const Run ref = run_mlp(x, w, b, gamma, beta, cot, bn_mode, a, PointnetImpl::Auto, Device::cpu());
          for (PointnetImpl impl : {PointnetImpl::Fast, PointnetImpl::Generic}) {
            INFO(dtype_name(t) << " x " << shape_str(c.x) << " cout " << c.cout << " bn " << bn_mode << " act "
                               << activation_name(a) << " impl " << int(impl));
            const Run got = run_mlp(x, w, b, gamma, beta, cot, bn_mode, a, impl, kCuda);
            require_rel(got.y, ref.y, tol);
            require_rel(got.gx, ref.gx, tol);
            require_rel(got.gw, ref.gw, tol);
            if (bn_mode == 1) {
              REQUIRE(test::max_abs_diff(test::to_cpu(got.gb), ref.gb) == 0.0);  // exactly zero
            } else {
              require_rel(got.gb, ref.gb, tol);
            }
            require_rel(got.gg, ref.gg, tol);
            require_rel(got.gbeta, ref.gbeta, tol);
            require_rel(got.rm, ref.rm, tol);
            require_rel(got.rv, ref.rv, tol);
          }
        }
      }
    }
  }
}

TEST_CASE("shared_mlp parity is exact for integer-valued float32 without BN", "[parity][pointnet_ops]") {
  Generator g(7);
  Tensor x = randint(-4, 5, {4, 64, 16}, TensorOptions(DType::i64), &g).to(DType::f32);
  Tensor w = randint(-3, 4, {32, 16}, TensorOptions(DType::i64), &g).to(DType::f32);
  Tensor b = randint(-3, 4, {32}, TensorOptions(DType::i64), &g).to(DType::f32);
  for (Activation a : {Activation::none, Activation::relu}) {
    SharedMLPOptions o;
    o.activation = a;
    Tensor y_cpu = shared_mlp(x, w, b, o);
    Tensor y_gpu = shared_mlp(x.to(kCuda), w.to(kCuda), b.to(kCuda), o);
    REQUIRE(test::max_abs_diff(test::to_cpu(y_gpu), y_cpu) == 0.0);
  }
}

TEST_CASE("batch_norm parity over points and features", "[parity][pointnet_ops]") {
  for (const Shape& s : {Shape{8, 300, 24}, Shape{32, 512}}) {
    const int64_t C = s.back();
    Tensor x = test::uniform(s, -3, 5, 11, TensorOptions(DType::f64));
    Tensor gamma = test::uniform({C}, 0.5, 1.5, 12, TensorOptions(DType::f64));
    Tensor beta = test::uniform({C}, -1, 1, 13, TensorOptions(DType::f64));
    Tensor cot = test::uniform(s, -1, 1, 14, TensorOptions(DType::f64));
    for (bool training : {true, false}) {
      std::vector<Tensor> res[2];
      int k = 0;
      for (Device dev : {Device::cpu(), kCuda}) {
        Tensor xl = x.to(dev).detach().requires_grad_(true), gl = gamma.to(dev).detach().requires_grad_(true);
        Tensor rm = full({C}, 0.3, TensorOptions(DType::f64, dev)), rv = full({C}, 2.0, TensorOptions(DType::f64, dev));
        Tensor y = batch_norm(xl, gl, beta.to(dev), rm, rv, training, 0.2, 1e-3);
        sum(mul(y, cot.to(dev))).backward();
        res[k++] = {y, xl.grad(), gl.grad(), rm, rv};
      }
      for (size_t i = 0; i < res[0].size(); ++i) {
        INFO("shape " << shape_str(s) << " training " << training << " output " << i);
        REQUIRE(test::rel_l2(test::to_cpu(res[1][i]), res[0][i]) < 1e-12);
      }
    }
  }
}

TEST_CASE("max_pool_points kernels: every split, poisoned outputs, exact ties", "[parity][pointnet_ops]") {
  using kernels::PointnetImpl;
  Generator g(21);
  // Small integer values: many ties, which must resolve to the CPU's lowest index.
  for (const Shape& s : {Shape{4, 1000, 70}, Shape{1, 5000, 1024}, Shape{32, 1024, 64}, Shape{3, 1, 5}}) {
    for (DType t : {DType::f32, DType::f64}) {
      Tensor x = randint(0, 20, s, TensorOptions(DType::i64), &g).to(t);
      const int64_t B = s[0], C = s[2];
      Tensor v_cpu = empty({B, C}, TensorOptions(t)), i_cpu = empty({B, C}, TensorOptions(DType::i64));
      kernels::max_pool_points<CpuBackend>(x, v_cpu, i_cpu, PointnetImpl::Auto, 0);
      const Tensor xc = x.to(kCuda);
      struct Cfg {
        PointnetImpl path;
        int split;
      };
      for (Cfg cfg : {Cfg{PointnetImpl::Fast, 0}, Cfg{PointnetImpl::Fast, 1}, Cfg{PointnetImpl::Fast, 3},
                      Cfg{PointnetImpl::Fast, 64}, Cfg{PointnetImpl::Generic, 0}}) {
        INFO("shape " << shape_str(s) << " " << dtype_name(t) << " path " << int(cfg.path) << " split " << cfg.split);
        Tensor v = full({B, C}, NAN, TensorOptions(t, kCuda));
        Tensor i = full({B, C}, -7, TensorOptions(DType::i64, kCuda));
        kernels::max_pool_points<CudaBackend>(xc, v, i, cfg.path, cfg.split);
        REQUIRE(test::max_abs_diff(test::to_cpu(v), v_cpu) == 0.0);
        REQUIRE(test::max_abs_diff(test::to_cpu(i), i_cpu) == 0.0);
      }
    }
  }
}

TEST_CASE("max_pool_points op parity with NaN and backward", "[parity][pointnet_ops]") {
  Tensor x = test::uniform({5, 300, 40}, -1, 1, 31, TensorOptions(DType::f64));
  x.select(1, 17).select(1, 3).fill_(NAN);
  x.select(1, 5).select(1, 3).fill_(NAN);
  Tensor cot = test::uniform({5, 40}, -1, 1, 32, TensorOptions(DType::f64));
  Tensor a = x.clone().requires_grad_(true), b = x.to(kCuda).requires_grad_(true);
  MaxPoolResult ra = max_pool_points(a), rb = max_pool_points(b);
  REQUIRE(test::max_abs_diff(test::to_cpu(rb.indices), ra.indices) == 0.0);
  REQUIRE(rb.indices.to_vector<int64_t>()[3] == 5);  // the lowest NaN index
  sum(mul(ra.values, cot)).backward();
  sum(mul(rb.values, cot.to(kCuda))).backward();
  REQUIRE(test::max_abs_diff(test::to_cpu(b.grad()), a.grad()) == 0.0);
}

TEST_CASE("point ops reject mixed devices", "[parity][pointnet_ops]") {
  Tensor x = zeros({2, 5, 3}, TensorOptions(DType::f32, kCuda));
  REQUIRE_THROWS_AS(shared_mlp(x, zeros({4, 3})), Error);
  REQUIRE_THROWS_AS(batch_norm(x, ones({3}), Tensor(), Tensor(), Tensor(), true), Error);
}
