// CUDA vs CPU parity of soft_projection and attention_pool, forward and backward, float32 and
// float64: sizes that are not multiples of the warp / block sizes, large N, T = 1 (2-D query)
// and T > 1, C below and above the warp-per-point threshold (32), D > 4 (several coordinate
// groups). CUDA sums in a different order (block reductions, atomicAdd scatter), so results
// agree to rounding; float32 kNN near-ties may pick a different k-th neighbour for a few
// queries, hence relative-L2 comparisons there.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "ops/attention_pool.h"
#include "ops/soft_projection.h"
#include "test_util.h"

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

Tensor leaf_on(const Tensor& host, Device dev) {
  Tensor t = host.to(dev).detach();
  t.requires_grad_(true);
  return t;
}

struct SpGrads {
  SoftProjectionResult res;
  Tensor gq, gp, gt;
};

SpGrads run_sp(const Tensor& q, const Tensor& p, double tv, const SoftProjectionOptions& o, const Tensor& cr,
               const Tensor& cw, Device dev) {
  Tensor ql = leaf_on(q, dev), pl = leaf_on(p, dev);
  Tensor t = scalar_tensor(tv, TensorOptions(q.dtype(), dev));
  t.requires_grad_(true);
  SpGrads g;
  g.res = soft_projection(ql, pl, t, o);
  add(add(sum(mul(g.res.projected, cr.to(dev))), sum(mul(g.res.weights, cw.to(dev)))), g.res.sigma).backward();
  g.gq = ql.grad().to(Device::cpu());
  g.gp = pl.grad().to(Device::cpu());
  g.gt = t.grad().to(Device::cpu());
  return g;
}

}  // namespace

TEST_CASE("soft_projection parity CUDA vs CPU (forward and backward)", "[parity][sampling]") {
  struct Case {
    int64_t B, M, N, k;
    double t, min_sigma;
    bool hard;
  };
  for (DType dt : {DType::f64, DType::f32}) {
    for (const Case c : {Case{1, 1, 1, 1, 1.0, 0.0, false}, Case{1, 5, 300, 7, 1.0, 1e-2, false},
                         Case{3, 33, 1000, 16, 0.3, 0.0, false}, Case{2, 1000, 2049, 8, 0.1, 1e-2, false},
                         Case{2, 257, 20000, 7, 0.08, 0.0, false}, Case{4, 64, 1024, 33, 0.5, 1e-2, false},
                         Case{2, 100, 777, 7, 1.0, 0.0, true}, Case{2, 31, 500, 5, 0.05, 1e-2, false}}) {
      INFO("dtype " << dtype_name(dt) << " B " << c.B << " M " << c.M << " N " << c.N << " k " << c.k << " t " << c.t
                    << " hard " << c.hard);
      const Tensor q = test::uniform({c.B, c.M, 3}, -1, 1, 1 + c.M, TensorOptions(dt));
      const Tensor p = test::uniform({c.B, c.N, 3}, -1, 1, 2 + c.N, TensorOptions(dt));
      const Tensor cr = test::uniform({c.B, c.M, 3}, -1, 1, 3, TensorOptions(dt));
      const Tensor cw = test::uniform({c.B, c.M, c.k}, -1, 1, 4, TensorOptions(dt));
      SoftProjectionOptions o;
      o.k = c.k;
      o.min_sigma = c.min_sigma;
      o.hard = c.hard;
      const SpGrads cpu = run_sp(q, p, c.t, o, cr, cw, Device::cpu());
      const SpGrads gpu = run_sp(q, p, c.t, o, cr, cw, kCuda);
      REQUIRE(gpu.res.projected.is_cuda());
      REQUIRE(gpu.res.sigma.item_double() == cpu.res.sigma.item_double());
      const auto ig = gpu.res.idx.to(Device::cpu()).to_vector<int64_t>();
      const auto ic = cpu.res.idx.to_vector<int64_t>();
      size_t mismatches = 0;
      for (size_t e = 0; e < ig.size(); ++e) mismatches += ig[e] != ic[e];
      if (dt == DType::f64) {
        REQUIRE(mismatches == 0);
        test::require_close(gpu.res.projected.to(Device::cpu()), cpu.res.projected, 1e-12, 1e-10);
        test::require_close(gpu.res.weights.to(Device::cpu()), cpu.res.weights, 1e-12, 1e-10);
        test::require_close(gpu.gq, cpu.gq, 1e-10, 1e-8);
        test::require_close(gpu.gp, cpu.gp, 1e-10, 1e-8);
        test::require_close(gpu.gt, cpu.gt, 1e-9, 1e-8);
      } else {
        REQUIRE(mismatches <= 2 + ig.size() / 10000);
        REQUIRE(test::rel_l2(gpu.res.projected.to(Device::cpu()), cpu.res.projected) < 1e-4);
        REQUIRE(test::rel_l2(gpu.res.weights.to(Device::cpu()), cpu.res.weights) < 1e-3);
        REQUIRE(test::rel_l2(gpu.gq, cpu.gq) < 1e-3);
        REQUIRE(test::rel_l2(gpu.gp, cpu.gp) < 1e-3);
        REQUIRE(std::fabs(gpu.gt.item_double() - cpu.gt.item_double()) <=
                1e-3 * (1.0 + std::fabs(cpu.gt.item_double())));
      }
    }
  }
}

TEST_CASE("attention_pool parity CUDA vs CPU (forward and backward)", "[parity][sampling]") {
  struct Case {
    int64_t B, T, N, C, D;
    bool q2d;
  };
  for (DType dt : {DType::f64, DType::f32}) {
    for (const Case c :
         {Case{1, 1, 1, 1, 1, false}, Case{1, 1, 5, 3, 3, true}, Case{2, 7, 1000, 128, 3, false},
          Case{3, 1, 4097, 64, 3, true}, Case{2, 33, 257, 33, 5, false}, Case{1, 3, 100000, 16, 3, false},
          Case{5, 32, 1024, 31, 3, false}, Case{2, 4, 300, 200, 9, false}}) {
      INFO("dtype " << dtype_name(dt) << " B " << c.B << " T " << c.T << " N " << c.N << " C " << c.C << " D " << c.D
                    << " 2-D query " << c.q2d);
      const TensorOptions o(dt);
      const Tensor f = test::uniform({c.B, c.N, c.C}, -1, 1, 10 + c.N, o);
      const Tensor q = c.q2d ? test::uniform({c.B, c.C}, -1, 1, 11, o) : test::uniform({c.B, c.T, c.C}, -1, 1, 11, o);
      const Tensor x = test::uniform({c.B, c.N, c.D}, -1, 1, 12 + c.D, o);
      const Shape out_shape = c.q2d ? Shape{c.B, c.D} : Shape{c.B, c.T, c.D};
      const Shape w_shape = c.q2d ? Shape{c.B, c.N} : Shape{c.B, c.T, c.N};
      const Tensor co = test::uniform(out_shape, -1, 1, 13, o);
      const Tensor cw = test::uniform(w_shape, -1, 1, 14, o);
      std::vector<Tensor> out, w, gf, gq, gx;
      for (Device dev : {Device::cpu(), kCuda}) {
        Tensor fl = leaf_on(f, dev), ql = leaf_on(q, dev), xl = leaf_on(x, dev);
        const AttentionPoolResult r = attention_pool(fl, ql, xl);
        REQUIRE(r.output.device() == dev);
        REQUIRE(r.output.shape() == out_shape);
        add(sum(mul(r.output, co.to(dev))), sum(mul(r.weights, cw.to(dev)))).backward();
        out.push_back(r.output.to(Device::cpu()));
        w.push_back(r.weights.to(Device::cpu()));
        gf.push_back(fl.grad().to(Device::cpu()));
        gq.push_back(ql.grad().to(Device::cpu()));
        gx.push_back(xl.grad().to(Device::cpu()));
      }
      const double tol = dt == DType::f64 ? 1e-11 : 2e-4;
      REQUIRE(test::rel_l2(out[1], out[0]) < tol);
      REQUIRE(test::rel_l2(w[1], w[0]) < tol);
      REQUIRE(test::rel_l2(gf[1], gf[0]) < tol);
      REQUIRE(test::rel_l2(gq[1], gq[0]) < tol);
      REQUIRE(test::rel_l2(gx[1], gx[0]) < tol);
      if (dt == DType::f64) {
        test::require_close(out[1], out[0], 1e-12, 1e-10);
        test::require_close(w[1], w[0], 1e-13, 1e-10);
      }
    }
  }
}
