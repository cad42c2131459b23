// CUDA vs CPU parity of Chamfer and Hausdorff: the tiled bidirectional kernel (both directions
// and one), the generic two-launch baseline, both dtypes, ragged sizes around the tile and CTA
// sizes, losses, per-point outputs, row statistics and the backward.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "ops/chamfer.h"
#include "test_util.h"

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

Tensor cloud(int64_t B, int64_t N, uint64_t seed, DType dt) {
  return test::uniform({B, N, 3}, -1.0, 1.0, seed, TensorOptions(dt));
}

void require_nn_close(const Tensor& dg, const Tensor& ig, const Tensor& dc, const Tensor& ic, double tol) {
  REQUIRE(dg.is_cuda());
  const auto a = dg.to(Device::cpu()).to_vector<double>();
  const auto b = dc.to_vector<double>();
  const auto x = ig.to(Device::cpu()).to_vector<int64_t>();
  const auto y = ic.to_vector<int64_t>();
  size_t mismatches = 0;
  test::require_all(
      a.size(), [&](size_t e) { return std::fabs(a[e] - b[e]) <= tol * (1.0 + b[e]); },
      [&](size_t e) { return "entry " + std::to_string(e) + ": " + std::to_string(a[e]) + " vs " + std::to_string(b[e]); });
  for (size_t e = 0; e < a.size(); ++e) mismatches += x[e] != y[e];
  REQUIRE(mismatches <= 2 + a.size() / 10000);
}

}  // namespace

TEST_CASE("chamfer parity: tiled and generic paths, every direction and reduction", "[parity][chamfer]") {
  struct Case {
    int64_t B, N, M;
  };
  for (DType dt : {DType::f32, DType::f64}) {
    const double tol = dt == DType::f32 ? 1e-5 : 1e-12;
    const std::vector<Case> cases =
        test::emu_size(std::vector<Case>{{1, 1, 1}, {2, 257, 511}, {3, 1000, 513}, {2, 2048, 4100}},
                       std::vector<Case>{{1, 1, 1}, {2, 257, 511}, {1, 1000, 513}});
    for (const Case c : cases) {
      Tensor a = cloud(c.B, c.N, 1 + c.N, dt), b = cloud(c.B, c.M, 2 + c.M, dt);
      Tensor ac = a.to(kCuda), bc = b.to(kCuda);
      for (ChamferDirection dir : {ChamferDirection::both, ChamferDirection::a_to_b, ChamferDirection::b_to_a}) {
        for (ChamferReduction red : {ChamferReduction::mean, ChamferReduction::sum, ChamferReduction::none}) {
          ChamferOptions o;
          o.direction = dir;
          o.reduction = red;
          const ChamferResult cpu = chamfer(a, b, o);
          for (ChamferImpl impl : {ChamferImpl::Auto, ChamferImpl::Tiled, ChamferImpl::Generic}) {
            o.impl = impl;
            INFO(dtype_name(dt) << " B " << c.B << " N " << c.N << " M " << c.M << " dir " << int(dir) << " red "
                                << int(red) << " impl " << int(impl));
            const ChamferResult gpu = chamfer(ac, bc, o);
            REQUIRE(gpu.loss.shape() == cpu.loss.shape());
            REQUIRE(test::rel_l2(gpu.loss.to(Device::cpu()), cpu.loss) < tol * 10);
            REQUIRE(gpu.dist_a.defined() == cpu.dist_a.defined());
            REQUIRE(gpu.dist_b.defined() == cpu.dist_b.defined());
            if (cpu.dist_a.defined()) require_nn_close(gpu.dist_a, gpu.idx_a, cpu.dist_a, cpu.idx_a, tol);
            if (cpu.dist_b.defined()) require_nn_close(gpu.dist_b, gpu.idx_b, cpu.dist_b, cpu.idx_b, tol);
          }
        }
      }
    }
  }
}

TEST_CASE("hausdorff parity (squared, Euclidean, max, sum)", "[parity][chamfer]") {
  Tensor a = cloud(4, 900, 5, DType::f32), b = cloud(4, 1300, 6, DType::f32);
  for (bool squared : {true, false}) {
    for (HausdorffCombine comb : {HausdorffCombine::max, HausdorffCombine::sum}) {
      for (ChamferReduction red : {ChamferReduction::mean, ChamferReduction::none}) {
        HausdorffOptions o;
        o.squared = squared;
        o.combine = comb;
        o.reduction = red;
        const Tensor cpu = hausdorff(a, b, o);
        const Tensor gpu = hausdorff(a.to(kCuda), b.to(kCuda), o);
        REQUIRE(gpu.is_cuda());
        REQUIRE(test::rel_l2(gpu.to(Device::cpu()), cpu) < 1e-5);
      }
    }
  }
}

TEST_CASE("chamfer and hausdorff parity: backward", "[parity][chamfer]") {
  for (DType dt : {DType::f32, DType::f64}) {
    const double tol = dt == DType::f32 ? 1e-4 : 1e-10;
    Tensor a = cloud(2, 700, 7, dt), b = cloud(2, 300, 8, dt);
    auto grads = [&](Device dev, bool haus) {
      Tensor x = a.to(dev).clone(), y = b.to(dev).clone();
      x.requires_grad_(true);
      y.requires_grad_(true);
      if (haus) {
        HausdorffOptions h;
        h.squared = false;
        h.combine = HausdorffCombine::sum;
        hausdorff(x, y, h).backward();
      } else {
        ChamferResult r = chamfer(x, y);
        r.loss.backward();
      }
      return std::pair<Tensor, Tensor>{x.grad().to(Device::cpu()), y.grad().to(Device::cpu())};
    };
    for (bool haus : {false, true}) {
      const auto c = grads(Device::cpu(), haus);
      const auto g = grads(kCuda, haus);
      INFO(dtype_name(dt) << " hausdorff " << haus);
      REQUIRE(test::rel_l2(g.first, c.first) < tol);
      REQUIRE(test::rel_l2(g.second, c.second) < tol);
    }
  }
}
