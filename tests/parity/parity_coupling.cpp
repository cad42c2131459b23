// CUDA vs CPU parity of the affine coupling op beyond the registry's small samples: samples of
// more than one 4096-element chunk (the forward kernel's per-block log-det partials and the
// finishing kernel's chunk-order sum), a last chunk that is partial, forward / inverse values and
// all gradients in float64 and float32; and the coupling flow's reversible backward on the device
// against the CPU's stored-activation gradients.
#include <catch2/catch.hpp>

#include "autograd/engine.h"
#include "models/nn/coupling_block.h"
#include "ops/affine_coupling.h"
#include "test_util.h"

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

struct Run {
  std::vector<Tensor> t;  // y, logdet, inverse, dx, ds, dt, inverse grads dy, ds, dt
};

Run run_op(const Tensor& x0, const Tensor& s0, const Tensor& t0, const Tensor& vy, const Tensor& vl, Device dev) {
  Tensor x = x0.to(dev).detach(), s = s0.to(dev).detach(), t = t0.to(dev).detach();
  x.requires_grad_(true);
  s.requires_grad_(true);
  t.requires_grad_(true);
  const AffineCouplingResult r = affine_coupling(x, s, t, 1.3);
  autograd::backward({r.y, r.logdet}, {vy.to(dev), vl.to(dev)});
  Run out;
  out.t = {r.y.detach(), r.logdet.detach(), Tensor(), x.grad(), s.grad(), t.grad()};
  x.zero_grad();
  s.zero_grad();
  t.zero_grad();
  const Tensor xi = affine_coupling_inverse(x, s, t, 1.3);
  out.t[2] = xi.detach();
  autograd::backward({xi}, {vy.to(dev)});
  out.t.push_back(x.grad());
  out.t.push_back(s.grad());
  out.t.push_back(t.grad());
  for (Tensor& e : out.t) e = e.to(Device::cpu());
  return out;
}

}  // namespace

TEST_CASE("coupling parity CUDA vs CPU: multi-chunk samples, values and gradients", "[parity][coupling]") {
  for (DType dt : {DType::f64, DType::f32}) {
    for (const Shape& sh : {Shape{3, 1500, 3}, Shape{2, 4096, 1}, Shape{1, 1, 1},
                            Shape{test::emu_size<int64_t>(8, 2), test::emu_size<int64_t>(4096, 700), 5}}) {
      INFO("dtype " << dtype_name(dt) << " shape " << shape_str(sh));
      const TensorOptions o(dt);
      const Tensor x = test::uniform(sh, -2, 2, 1, o), s = test::uniform(sh, -4, 4, 2, o);
      const Tensor t = test::uniform(sh, -1, 1, 3, o), vy = test::uniform(sh, -1, 1, 4, o);
      const Tensor vl = test::uniform({sh[0]}, -1, 1, 5, o);
      const Run cpu = run_op(x, s, t, vy, vl, Device::cpu());
      const Run gpu = run_op(x, s, t, vy, vl, kCuda);
      for (size_t k = 0; k < cpu.t.size(); ++k) {
        INFO("tensor " << k << " (y, logdet, inverse, dx, ds, dt, inverse dy, ds, dt)");
        if (dt == DType::f64) {
          test::require_close(gpu.t[k], cpu.t[k], 1e-11, 1e-10);
        } else {
          REQUIRE(test::rel_l2(gpu.t[k], cpu.t[k]) < 1e-5);
        }
      }
    }
  }
}

TEST_CASE("coupling flow parity: reversible backward on CUDA equals the CPU stored mode", "[parity][coupling]") {
  Generator gen(61);
  nn::CouplingBlockOptions co;
  co.hidden = {8};
  co.tensor = TensorOptions(DType::f64);
  co.gen = &gen;
  auto f = nn::make_coupling_flow(4, 3, co);
  const Tensor x0 = test::uniform({2, test::emu_size<int64_t>(300, 40), 4}, -1, 1, 7, TensorOptions(DType::f64));
  const Tensor v = test::uniform(x0.shape(), -1, 1, 8, TensorOptions(DType::f64));
  auto grads = [&](Device dev, bool rev) {
    f->to(dev);
    f->set_reversible(rev);
    f->zero_grad();
    Tensor x = x0.to(dev).detach();
    x.requires_grad_(true);
    const nn::FlowResult r = f->forward(x);
    autograd::backward({r.y, r.logdet}, {v.to(dev), ones({2}, TensorOptions(DType::f64, dev))});
    std::vector<Tensor> g{x.grad().to(Device::cpu()), r.y.detach().to(Device::cpu())};
    for (const Tensor& p : f->parameters()) g.push_back(p.grad().to(Device::cpu()));
    f->to(Device::cpu());
    return g;
  };
  const auto cpu = grads(Device::cpu(), false), gpu = grads(kCuda, true);
  REQUIRE(cpu.size() == gpu.size());
  for (size_t k = 0; k < cpu.size(); ++k) {
    INFO("tensor " << k << " (x grad, y, then parameter grads)");
    test::require_close(gpu[k], cpu[k], 1e-10, 1e-8);
  }
}
