// The CUDA driver of the op registry (tests/registry/registry.h), run by every family's
// "op registry: <family>" test case in pg_cuda_tests. For each entry with `cuda` and each sample,
// in float64 and (unless the entry is float64-only) float32:
//   1. the CPU result;
//   2. the CUDA result with the allocator in poison mode (core/allocator.h: every fresh block
//      is 0xFF bytes = NaN / -1), so an output element a kernel never writes cannot pass as a
//      stale plausible value; inputs keep their (possibly strided) layout on the device;
//   3. outputs compared (floating within the entry's CUDA tolerance, integers equal up to the
//      entry's near-tie allowance), then the gradients of the differentiable inputs for one
//      fixed random cotangent per differentiable output.
#include <catch2/catch.hpp>

#include <cmath>

#include "autograd/engine.h"
#include "core/allocator.h"
#include "core/cuda_context.h"
#include "core/random.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {

namespace {

const Device kCuda = Device::cuda(0);

// Poison mode for the lifetime of the guard (restores the previous setting).
class PoisonGuard {
 public:
  PoisonGuard() : prev_(allocator_poison()) { set_allocator_poison(true); }
  ~PoisonGuard() { set_allocator_poison(prev_); }
  PoisonGuard(const PoisonGuard&) = delete;
  PoisonGuard& operator=(const PoisonGuard&) = delete;

 private:
  bool prev_;
};

// Floating inputs in `dt` on `device`; a non-contiguous input stays non-contiguous.
std::vector<Tensor> place(const std::vector<Tensor>& in, DType dt, Device device) {
  std::vector<Tensor> out;
  for (const Tensor& x : in) {
    if (!x.defined()) {
      out.push_back(x);
      continue;
    }
    Tensor y = x.to(is_floating(x.dtype()) ? dt : x.dtype(), device);
    if (!x.is_contiguous() && x.dim() >= 2) y = strided(y);
    out.push_back(y);
  }
  return out;
}

void compare(const OpInfo& op, const Tensor& gpu, const Tensor& cpu, const std::string& what, double atol, double rtol) {
  INFO(what);
  REQUIRE(gpu.defined() == cpu.defined());
  if (!cpu.defined()) return;
  REQUIRE(gpu.is_cuda());
  REQUIRE(gpu.shape() == cpu.shape());
  REQUIRE(gpu.dtype() == cpu.dtype());
  const auto g = gpu.to(Device::cpu()).to_vector<double>();
  const auto c = cpu.to_vector<double>();
  if (is_floating(cpu.dtype())) {
    for (size_t i = 0; i < c.size(); ++i) {
      if (std::isinf(c[i]) && g[i] == c[i]) continue;
      INFO("element " << i << ": cuda " << g[i] << " vs cpu " << c[i]);
      REQUIRE(std::fabs(g[i] - c[i]) <= atol + rtol * std::fabs(c[i]));
    }
  } else {
    size_t diff = 0;
    for (size_t i = 0; i < c.size(); ++i) diff += g[i] != c[i] ? 1 : 0;
    INFO(diff << " of " << c.size() << " integer elements differ");
    REQUIRE(static_cast<double>(diff) <= op.int_mismatch_frac * static_cast<double>(c.size()));
  }
}

// Runs the op with the differentiable inputs as leaves, backpropagates Σ_o <v_o, out_o> and
// returns {outputs..., input grads...}.
std::vector<Tensor> run_with_grads(const OpInfo& op, std::vector<Tensor> in) {
  for (int i : op.differentiable) in.at(static_cast<size_t>(i)) = in[static_cast<size_t>(i)].detach().requires_grad_(true);
  std::vector<Tensor> outs = op.fn(in);
  if (op.differentiable.empty()) return outs;
  std::vector<int> gouts = op.grad_outputs;
  if (gouts.empty()) {
    for (size_t o = 0; o < outs.size(); ++o) {
      if (outs[o].defined() && is_floating(outs[o].dtype())) gouts.push_back(static_cast<int>(o));
    }
  }
  std::vector<Tensor> roots, grads;
  for (int o : gouts) {
    const Tensor& y = outs.at(static_cast<size_t>(o));
    if (!y.requires_grad()) continue;
    Generator g(1000 + static_cast<uint64_t>(o));
    Tensor v = rand(y.shape(), TensorOptions(y.dtype(), Device::cpu()), &g).to(y.device());
    roots.push_back(y);
    grads.push_back(v);
  }
  if (!roots.empty()) autograd::backward(roots, grads);
  std::vector<Tensor> result;
  for (const Tensor& y : outs) result.push_back(y.defined() ? y.detach() : y);
  for (int i : op.differentiable) result.push_back(in[static_cast<size_t>(i)].grad());
  return result;
}

}  // namespace

void run_family(const std::string& family) {
  int ran = 0;
  for (const OpInfo& op : entries()) {
    if (op.family != family || !op.cuda) continue;
    ++ran;
    for (const Sample& s : op.samples()) {
      for (DType dt : {DType::f64, DType::f32}) {
        if (dt == DType::f32 && !op.f32) continue;
        INFO("op " << op.name << ", sample '" << s.label << "', " << dtype_name(dt));
        const std::vector<Tensor> cpu = run_with_grads(op, place(s.inputs, dt, Device::cpu()));
        std::vector<Tensor> gpu;
        {
          PoisonGuard poison;
          gpu = run_with_grads(op, place(s.inputs, dt, kCuda));
          cuda::synchronize();
        }
        REQUIRE(gpu.size() == cpu.size());
        // float64: the entry's CUDA tolerance; float32: twice its float32-vs-float64 tolerance
        // (both backends are within f32_* of the float64 result; FMA and summation order differ).
        const double atol = dt == DType::f64 ? op.cuda_atol : 2.0 * op.f32_atol;
        const double rtol = dt == DType::f64 ? op.cuda_rtol : 2.0 * op.f32_rtol;
        for (size_t o = 0; o < cpu.size(); ++o) compare(op, gpu[o], cpu[o], "result " + std::to_string(o), atol, rtol);
      }
    }
  }
  INFO("family " << family << " has no CUDA entry");
  // Families whose every op is CPU-only have nothing to compare (reported, not failed).
  if (ran == 0) WARN("registry: family " << family << ": no CUDA entries");
}

}  // namespace pg::test::registry
