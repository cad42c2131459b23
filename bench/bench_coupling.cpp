// bench_coupling: the fused affine_coupling op (ops/affine_coupling.h) against the unfused
// composition of public ops it replaces, and the coupling flow's reversible mode against its
// stored-activation mode (PERFORMANCE.md §7, T-AC-2 / T-AC-4). float32, channels-last [B, N, C2].
//   coupling.B<B>.N<N>.C<C>.fwd            affine_coupling, no grad (y and the per-sample log-det)
//   coupling.B<B>.N<N>.C<C>.fwd.unfused    the same from sigmoid, mul, sub, exp, add, sum (baseline)
//   coupling.B<B>.N<N>.C<C>.fwd_bwd        forward with grad + backward of Σ y·v + Σ logdet·w into
//                                          x2, ŝ and t (gradients zeroed each repeat)
//   coupling.B<B>.N<N>.C<C>.fwd_bwd.unfused the same through the composed ops (baseline)
//   flow.K<K>.fwd_bwd.reversible           make_coupling_flow(C = 8, K blocks, hidden {32}) on
//   flow.K<K>.fwd_bwd.stored               [4, 1024, 8]: forward + backward, reversible mode vs
//                                          stored activations (baseline; T-AC-4 asks ≤ 1.4×)
// Each fused / baseline pair is timed interleaved (Harness::time_interleaved): the ratio is
// measured under the same machine load. pct_of_ceiling of the forward rows: bytes moved (x2, ŝ, t
// read, y written: 16 B per element) against the measured copy bandwidth.
// check: fused against unfused on the bench's inputs (untimed; max |Δ| / max(1, max |unfused|)
// over y and logdet, or over the three gradients), tolerance 1e-4; reversible against stored
// over the input and parameter gradients, tolerance 1e-3.
// --quick: the small coupling size and K = 4 only.
#include <algorithm>
#include <string>
#include <vector>

#include "harness.h"
#include "models/nn/coupling_block.h"
#include "ops/ops.h"
#include "param_check.h"

namespace {

using namespace pg;
using namespace pg::bench;

AffineCouplingResult unfused(const Tensor& x, const Tensor& sr, const Tensor& t) {
  const Tensor s = sub(mul(sigmoid(sr), 2.0), 1.0);  // clamp 1
  return {add(mul(x, exp(s)), t), sum(s, {1, 2})};
}

void coupling_case(Harness& h, Device dev, int64_t B, int64_t N, int64_t C, bool bwd) {
  const std::string dt = dtype_name(DType::f32);
  const std::string base = "coupling.B" + std::to_string(B) + ".N" + std::to_string(N) + ".C" + std::to_string(C) +
                           (bwd ? ".fwd_bwd" : ".fwd");
  if (!h.selected(base, dev, dt) && !h.selected(base + ".unfused", dev, dt)) return;
  Generator g(9100 + B + N + C);
  const TensorOptions o(DType::f32, dev);
  Tensor x = rand({B, N, C}, o, &g) * 2.0 - 1.0;
  Tensor sr = rand({B, N, C}, o, &g) * 6.0 - 3.0;
  Tensor t = rand({B, N, C}, o, &g) * 2.0 - 1.0;
  const Tensor v = rand({B, N, C}, o, &g) * 2.0 - 1.0;
  const Tensor w = rand({B}, o, &g) * 2.0 - 1.0;
  if (bwd) {
    x.requires_grad_(true);
    sr.requires_grad_(true);
    t.requires_grad_(true);
  }
  auto run = [&](bool fused) {
    const AffineCouplingResult r = fused ? affine_coupling(x, sr, t) : unfused(x, sr, t);
    return r;
  };
  auto step = [&](bool fused) {
    if (bwd) {
      x.zero_grad();
      sr.zero_grad();
      t.zero_grad();
      const AffineCouplingResult r = run(fused);
      autograd::backward({r.y, r.logdet}, {v, w});
    } else {
      NoGradGuard ng;
      run(fused);
    }
  };
  const std::vector<Stats> st =
      h.time_interleaved(dev, {[&](int64_t) { step(true); }, [&](int64_t) { step(false); }});

  double err = 0;
  if (bwd) {
    step(true);
    const std::vector<Tensor> fg{x.grad().clone(), sr.grad().clone(), t.grad().clone()};
    step(false);
    err = std::max({scaled_max_diff(fg[0], x.grad()), scaled_max_diff(fg[1], sr.grad()),
                    scaled_max_diff(fg[2], t.grad())});
  } else {
    NoGradGuard ng;
    const AffineCouplingResult a = run(true), b = run(false);
    err = std::max(scaled_max_diff(a.y, b.y), scaled_max_diff(a.logdet, b.logdet));
  }
  const double bytes = 16.0 * static_cast<double>(B * N * C);
  for (int k = 0; k < 2; ++k) {
    Record r;
    r.name = k == 0 ? base : base + ".unfused";
    r.device = dev;
    r.dtype = dt;
    r.shape = shape_string({B, N, C});
    r.t = st[k];
    if (!bwd) {
      r.gbps = bytes / (st[k].median_ms * 1e-3) * 1e-9;
      r.ceiling = h.copy_ceiling_gbps(dev);
      r.ceiling_name = "copy_bandwidth";
    }
    if (k == 0) {
      r.baseline = base + ".unfused";
      r.baseline_ms = st[1].median_ms;
      r.check_rel_err = err;
      r.check_tol = 1e-4;
    }
    h.emit(r);
  }
}

void flow_case(Harness& h, Device dev, int64_t K) {
  const std::string dt = dtype_name(DType::f32);
  const std::string base = "flow.K" + std::to_string(K) + ".fwd_bwd";
  if (!h.selected(base + ".reversible", dev, dt) && !h.selected(base + ".stored", dev, dt)) return;
  const int64_t B = 4, N = 1024, C = 8;
  Generator g(9300 + K);
  nn::CouplingBlockOptions co;
  co.hidden = {32};
  co.tensor = TensorOptions(DType::f32, dev);
  co.gen = &g;
  auto flow = nn::make_coupling_flow(C, K, co);
  const TensorOptions o(DType::f32, dev);
  Tensor x = rand({B, N, C}, o, &g) * 2.0 - 1.0;
  x.requires_grad_(true);
  const Tensor v = (rand({B, N, C}, o, &g) * 2.0 - 1.0) * (1.0 / static_cast<double>(B * N));
  const Tensor w = full({B}, 0.01, o);
  const std::vector<Tensor> params = flow->parameters();
  auto step = [&](bool rev) {
    flow->set_reversible(rev);
    flow->zero_grad();
    x.zero_grad();
    const nn::FlowResult r = flow->forward(x);
    autograd::backward({r.y, r.logdet}, {v, w});
  };
  const std::vector<Stats> st =
      h.time_interleaved(dev, {[&](int64_t) { step(true); }, [&](int64_t) { step(false); }});
  step(true);
  std::vector<Tensor> rg{x.grad().clone()};
  for (const Tensor& p : params) rg.push_back(p.grad().clone());
  step(false);
  double err = scaled_max_diff(rg[0], x.grad());
  for (size_t k = 0; k < params.size(); ++k) err = std::max(err, scaled_max_diff(rg[k + 1], params[k].grad()));
  for (int k = 0; k < 2; ++k) {
    Record r;
    r.name = base + (k == 0 ? ".reversible" : ".stored");
    r.device = dev;
    r.dtype = dt;
    r.shape = shape_string({B, N, C});
    r.t = st[k];
    if (k == 0) {
      r.baseline = base + ".stored";
      r.baseline_ms = st[1].median_ms;
      r.check_rel_err = err;
      r.check_tol = 1e-3;
    }
    r.extra.push_back({"blocks", std::to_string(K)});
    h.emit(r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_coupling");
  struct Size {
    int64_t B, N, C;
  };
  std::vector<Size> sizes{{8, 1024, 4}};
  if (!h.quick()) sizes.push_back({16, 4096, 32});
  const std::vector<int64_t> depths = h.quick() ? std::vector<int64_t>{4} : std::vector<int64_t>{4, 16};
  for (Device dev : h.devices()) {
    for (const Size& s : sizes)
      for (bool bwd : {false, true}) coupling_case(h, dev, s.B, s.N, s.C, bwd);
    for (int64_t K : depths) flow_case(h, dev, K);
  }
  return h.finish();
}
