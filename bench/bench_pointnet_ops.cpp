// bench_pointnet_ops: the fused shared-MLP layer and the global max-pool of PERFORMANCE.md §6.
//   mlp.<layer>.infer     forward, no grad, bias + ReLU, no BN (the BN-folded inference form)
//   mlp.<layer>.bn_train  forward, BatchNorm with batch statistics + running update + ReLU
//   mlp.<layer>.fwd_bwd   forward + backward (BN training + ReLU; dW, dx, dgamma, dbeta)
//     layers (PointNet trunk, B=32, N=1024): 3→64, 64→64 (three times in the vanilla trunk),
//     64→128, 128→1024 (T-MLP-4's sizes)
//     Baseline: the raw GEMMs alone through the same vendor call (kernels::gemm_strided_batched:
//     OpenBLAS / cuBLAS) — one GEMM for the forward rows, three (z, dx, dW) for fwd_bwd — so
//     ratio_to_baseline − 1 is the overhead of the fused epilogue / statistics / backward kernels.
//     GFLOP/s counts the GEMM flops only (2·R·Cin·Cout per GEMM).
//   maxpool.N<N>          max_pool_points B=32, C=1024, N=1024 / 8192: GB/s (read B·N·C, write
//     values + int64 indices) against the measured copy ceiling; baseline: the Generic path (one
//     work item per (b, c), the shared body). check: the indices equal the baseline's.
// --quick divides N by 4.
#include <cmath>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/parallel_for.h"
#include "harness.h"
#include "kernels/blas.h"
#include "ops/ops.h"
#include "ops/pointnet.h"

namespace {

using namespace pg;
using namespace pg::bench;

struct Layer {
  std::string name;
  int64_t cin, cout;
};

double rel_err(const Tensor& a, const Tensor& b) {
  const auto x = a.to(Device::cpu()).to_vector<double>();
  const auto y = b.to(Device::cpu()).to_vector<double>();
  double num = 0, den = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    num += (x[i] - y[i]) * (x[i] - y[i]);
    den += y[i] * y[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

// c[m, n] = op(a) · op(b), row-major contiguous operands, on the vendor library.
void raw_gemm(const Tensor& c, const Tensor& a, bool ta, const Tensor& b, bool tb, int64_t m, int64_t n, int64_t k) {
  kernels::GemmBatch g;
  g.dtype = c.dtype();
  g.device = c.device().is_cuda() ? c.device().index : 0;
  g.trans_a = ta;
  g.trans_b = tb;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a.raw_data();
  g.lda = ta ? m : k;
  g.b = b.raw_data();
  g.ldb = tb ? k : n;
  g.c = c.raw_data();
  g.ldc = n;
  on_backend(c.device(), "bench gemm", [&]<class B>() { kernels::gemm_strided_batched<B>(g); });
}

enum class Mode { infer, bn_train, fwd_bwd };

void run_mlp(Harness& h, Device dev, const Layer& L, Mode mode, int64_t B, int64_t N) {
  const std::string dt = dtype_name(DType::f32);
  const char* suffix = mode == Mode::infer ? ".infer" : mode == Mode::bn_train ? ".bn_train" : ".fwd_bwd";
  const std::string name = "mlp." + L.name + suffix;
  if (!h.selected(name, dev, dt)) return;
  const int64_t R = B * N;
  const TensorOptions o(DType::f32, dev);
  Generator g(7);
  Tensor x = rand({B, N, L.cin}, o, &g) * 2.0 - 1.0;
  Tensor w = (rand({L.cout, L.cin}, o, &g) * 2.0 - 1.0) * (1.0 / std::sqrt(static_cast<double>(L.cin)));
  Tensor b = rand({L.cout}, o, &g) * 0.1;
  Tensor gamma = ones({L.cout}, o), beta = zeros({L.cout}, o);
  Tensor rm = zeros({L.cout}, o), rv = ones({L.cout}, o);
  Tensor cot = rand({B, N, L.cout}, o, &g) - 0.5;
  SharedMLPOptions opts;
  opts.activation = Activation::relu;
  if (mode != Mode::infer) opts.bn = BatchNormArgs{gamma, beta, rm, rv, true, 0.1, 1e-5};
  if (mode == Mode::fwd_bwd) {
    x.requires_grad_(true);
    w.requires_grad_(true);
    gamma.requires_grad_(true);
    beta.requires_grad_(true);
    opts.bn = BatchNormArgs{gamma, beta, rm, rv, true, 0.1, 1e-5};
  }
  auto op = [&](int64_t) {
    if (mode == Mode::fwd_bwd) {
      x.zero_grad();
      w.zero_grad();
      gamma.zero_grad();
      beta.zero_grad();
      shared_mlp(x, w, Tensor(), opts).backward(cot);
    } else {
      NoGradGuard ng;
      shared_mlp(x, w, mode == Mode::infer ? b : Tensor(), opts);
    }
  };
  Tensor z = empty({R, L.cout}, o), gx = empty({R, L.cin}, o), gw = empty({L.cout, L.cin}, o);
  const Tensor xd = x.detach(), wd = w.detach(), cd = cot.detach();
  auto base = [&](int64_t) {
    raw_gemm(z, xd, false, wd, true, R, L.cout, L.cin);
    if (mode == Mode::fwd_bwd) {
      raw_gemm(gx, cd, false, wd, false, R, L.cin, L.cout);
      raw_gemm(gw, cd, true, xd, false, L.cout, L.cin, R);
    }
  };
  const auto st = h.time_interleaved(dev, {op, base});
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({B, N, L.cin}) + "->" + std::to_string(L.cout);
  r.t = st[0];
  const double flops = 2.0 * R * L.cin * L.cout * (mode == Mode::fwd_bwd ? 3 : 1);
  r.gflops = flops / (r.t.median_ms * 1e-3) / 1e9;
  r.baseline = mode == Mode::fwd_bwd ? "raw_gemm_x3" : "raw_gemm";
  r.baseline_ms = st[1].median_ms;
  r.extra.push_back({"baseline_gflops", json_number(flops / (st[1].median_ms * 1e-3) / 1e9)});
  r.extra.push_back({"epilogue_overhead_ms", json_number(st[0].median_ms - st[1].median_ms)});
  if (mode == Mode::infer) {
    // Check: the op against the composition on the same device.
    NoGradGuard ng;
    r.check_rel_err = rel_err(shared_mlp(x, w, b, opts), relu(linear(x, w, b)));
    r.check_tol = 1e-5;
  }
  h.emit(r);
}

void run_maxpool(Harness& h, Device dev, int64_t B, int64_t N, int64_t C) {
  const std::string dt = dtype_name(DType::f32);
  const std::string name = "maxpool.N" + std::to_string(N);
  if (!h.selected(name, dev, dt)) return;
  const TensorOptions o(DType::f32, dev);
  const size_t set_bytes = static_cast<size_t>(B * N * C * 4);
  const int nsets = h.rotation_sets(dev, set_bytes, size_t(1) << 30);
  std::vector<Tensor> xs;
  Generator g(3);
  for (int s = 0; s < nsets; ++s) xs.push_back(rand({B, N, C}, o, &g));
  NoGradGuard ng;
  auto op = [&](int64_t rep) { max_pool_points(xs[rep % nsets]); };
  auto base = [&](int64_t rep) { max_pool_points(xs[rep % nsets], PointnetImpl::Generic); };
  const auto st = h.time_interleaved(dev, {op, base});
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({B, N, C});
  r.t = st[0];
  const double bytes = static_cast<double>(B) * N * C * 4 + static_cast<double>(B) * C * (4 + 8);
  r.gbps = bytes / (r.t.median_ms * 1e-3) / 1e9;
  r.ceiling = h.copy_ceiling_gbps(dev);
  r.ceiling_name = "copy";
  r.baseline = "generic_thread_per_channel";
  r.baseline_ms = st[1].median_ms;
  r.check_rel_err = rel_err(max_pool_points(xs[0]).indices.to(DType::f64),
                            max_pool_points(xs[0], PointnetImpl::Generic).indices.to(DType::f64));
  r.check_tol = 0.0;
  h.emit(r);
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_pointnet_ops");
  const int64_t s = h.quick() ? 4 : 1;
  const std::vector<Layer> layers = {
      {"3-64", 3, 64}, {"64-64", 64, 64}, {"64-128", 64, 128}, {"128-1024", 128, 1024}};
  for (Device dev : h.devices()) {
    for (const auto& L : layers) {
      for (Mode m : {Mode::infer, Mode::bn_train, Mode::fwd_bwd}) run_mlp(h, dev, L, m, 32, 1024 / s);
    }
    run_maxpool(h, dev, 32, 1024 / s, 1024);
    run_maxpool(h, dev, 32, 8192 / s, 1024);
  }
  return h.finish();
}
