// bench_chamfer: Chamfer distance (both directions, mean) at the sizes of PERFORMANCE.md §3.3.
//   chamfer.T-CD-1.fwd     B=32, N=M=8192, forward
//   chamfer.T-CD-1.fwdbwd  the same, forward + backward (gradients w.r.t. both clouds)
//   chamfer.T-CD-2.fwdbwd  ChamferDistancePytorch README shape: 32×2000 vs 32×1000, fwd+bwd
//   hausdorff.T-CD-2       Hausdorff (squared, max) on the T-CD-2 shape, forward
// Rows report time, G pairs/s (both directions: 2·B·N·M distance evaluations), the target and the
// ratio to the naive baseline (ChamferImpl::Generic: thread per point, untiled, one launch per
// direction; the CPU rows time it on the small case only). Check: relative error of the loss
// against the baseline. --quick divides N and M by 4. Inputs uniform in [-1, 1]^3, finite check
// off.
//
// Spatial-index rows (issue 14; B = 1, both directions, mean; bench/large_clouds.h, dumped with
// PG_BENCH_DUMP_DIR for tools/compare/scipy_knn.py):
//   chamfer.large.<cube|sphere>.<N>   N = M = 8192, 100000, 1000000: Auto (the k-d tree); at
//                                     8192 also the tiled brute force (ChamferImpl::Tiled) as
//                                     baseline, interleaved; from 10^5 one warm-up call and
//                                     --min-repeats timed calls.
#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/parallel_for.h"
#include "harness.h"
#include "large_clouds.h"
#include "ops/chamfer.h"
#include "ops/ops.h"

namespace {

using namespace pg;
using namespace pg::bench;

struct CdCase {
  std::string name;
  int64_t B, N, M;
  bool backward;
  bool hausdorff;
  double target_ms_gpu;
  bool cpu_baseline;
};

void run_case(Harness& h, Device dev, const CdCase& c) {
  const std::string dt = dtype_name(DType::f32);
  if (!h.selected(c.name, dev, dt)) return;
  const size_t set_bytes = static_cast<size_t>(c.B * (c.N + c.M) * 3 * 4 * 3);
  const int nsets = h.rotation_sets(dev, set_bytes, h.quick() ? (size_t(256) << 20) : (size_t(1) << 30));
  std::vector<Tensor> as, bs;
  Generator g(7);
  for (int s = 0; s < nsets; ++s) {
    as.push_back(rand({c.B, c.N, 3}, TensorOptions(DType::f32, dev), &g) * 2.0 - 1.0);
    bs.push_back(rand({c.B, c.M, 3}, TensorOptions(DType::f32, dev), &g) * 2.0 - 1.0);
  }
  auto call = [&](int64_t rep, ChamferImpl impl) -> Tensor {
    const size_t k = static_cast<size_t>(rep % nsets);
    if (c.hausdorff) {
      HausdorffOptions o;
      o.impl = impl;
      o.check_finite = false;
      return hausdorff(as[k], bs[k], o);
    }
    ChamferOptions o;
    o.impl = impl;
    o.check_finite = false;
    if (!c.backward) return chamfer(as[k], bs[k], o).loss;
    Tensor a = as[k].detach(), b = bs[k].detach();
    a.requires_grad_(true);
    b.requires_grad_(true);
    Tensor loss = chamfer(a, b, o).loss;
    loss.backward();
    return loss;
  };
  Record r;
  r.name = c.name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({c.B, c.N, 3}) + "x" + shape_string({c.B, c.M, 3});
  r.t = h.time(dev, [&](int64_t rep) { call(rep, ChamferImpl::Auto); });
  const double gpairs = 2.0 * c.B * c.N * c.M / (r.t.median_ms * 1e-3) / 1e9;
  r.extra.push_back({"g_pairs_per_s", json_number(gpairs)});
  if (dev.is_cpu()) {
    r.extra.push_back({"g_pairs_per_s_per_core", json_number(gpairs / cpu_num_threads())});
  } else {
    r.extra.push_back({"target_ms", json_number(c.target_ms_gpu)});
  }
  if (dev.is_cuda() || c.cpu_baseline) {
    r.baseline = "thread_per_point_untiled_two_launches";
    r.baseline_ms = h.time(dev, [&](int64_t rep) { call(rep, ChamferImpl::Generic); }).median_ms;
    const double x = call(0, ChamferImpl::Auto).item(), y = call(0, ChamferImpl::Generic).item();
    r.check_rel_err = std::fabs(x - y) / std::max(std::fabs(y), 1e-30);
    r.check_tol = 1e-5;
  }
  h.emit(r);
}


void run_large(Harness& h, const std::string& shape, int64_t N) {
  const Device dev = Device::cpu();
  const std::string name = "chamfer.large." + shape + "." + std::to_string(N);
  if (!h.selected(name, dev, "float32")) return;
  const Tensor a = large_cloud(shape, N, 3000 + static_cast<uint64_t>(N));
  const Tensor b = large_cloud(shape, N, 4000 + static_cast<uint64_t>(N));
  dump_cloud(name + ".a", a);
  dump_cloud(name + ".b", b);
  auto call = [&](ChamferImpl impl) {
    ChamferOptions o;
    o.impl = impl;
    o.check_finite = false;
    return chamfer(a, b, o).loss;
  };
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = "float32";
  r.shape = shape_string({1, N, 3}) + "x" + shape_string({1, N, 3});
  if (N <= 8192) {
    const std::vector<Stats> st = h.time_interleaved(dev, {[&](int64_t) { call(ChamferImpl::Auto); },
                                                           [&](int64_t) { call(ChamferImpl::Tiled); }});
    r.t = st[0];
    r.baseline = "tiled_brute_force";
    r.baseline_ms = st[1].median_ms;
    const double x = call(ChamferImpl::Auto).item(), y = call(ChamferImpl::Tiled).item();
    r.check_rel_err = std::fabs(x - y) / std::max(std::fabs(y), 1e-30);
    r.check_tol = 0.0;  // identical nearest neighbours, identical sums
  } else {
    r.t = time_big(h, [&] { call(ChamferImpl::Auto); });
  }
  r.extra.push_back({"cloud", json_string(shape)});
  h.emit(r);
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_chamfer");
  const int64_t s = h.quick() ? 4 : 1;
  const std::vector<CdCase> cases = {
      {"chamfer.T-CD-1.fwd", 32, 8192 / s, 8192 / s, false, false, 0.5, false},
      {"chamfer.T-CD-1.fwdbwd", 32, 8192 / s, 8192 / s, true, false, 0.6, false},
      {"chamfer.T-CD-2.fwdbwd", 32, 2000 / s, 1000 / s, true, false, 0.04, true},
      {"hausdorff.T-CD-2", 32, 2000 / s, 1000 / s, false, true, kNaN, true},
  };
  for (Device dev : h.devices()) {
    for (const auto& c : cases) run_case(h, dev, c);
  }
  if (!h.options().want_cpu) return h.finish();
  for (const char* shape : {"cube", "sphere"}) {
    for (int64_t N : {int64_t(8192), int64_t(100000), int64_t(1000000)}) run_large(h, shape, N / s);
  }
  return h.finish();
}
