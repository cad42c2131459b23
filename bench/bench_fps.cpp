// bench_fps: farthest point sampling at the sizes of PERFORMANCE.md §2.4.
//   fps.T-FPS-1   B=32, N=1024,  M=256
//   fps.T-FPS-2   B=32, N=8192,  M=2048
//   fps.T-FPS-3   B=32, N=25k, M=6250 (CUDA only; a quarter of the T-FPS-3 size: the global-
//                 field fallback would need ~1 s per run at full size)
//   fps.T-FPS-4   B=1,  N=100k,  M=25k
//   fps.T-FPS-5   seeded completion, B=32, N=1024, m=512 from 256 seeds (ragged counts)
// Rows report time, G point-updates/s (B·N·(M−1) field updates) and per core on the CPU, the
// PERFORMANCE.md target, and the ratio to a naive baseline: CPU = the generic one-thread-per-
// cloud textbook body (FpsImpl::Generic), CUDA = the pointnet2-style kernel (FpsImpl::Baseline).
// The check is the fraction of indices that differ from the baseline (must be 0: FPS is exact).
// --quick shrinks every size by 4–16x. Inputs: uniform in [-1, 1]^3, check_finite off (kernel
// cost; the finite check is one extra reduction).
#include <cmath>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "core/parallel_for.h"
#include "harness.h"
#include "ops/fps.h"
#include "ops/ops.h"

namespace {

using namespace pg;
using namespace pg::bench;

struct FpsCase {
  std::string name;
  int64_t B, N, M;
  int64_t S = 0;                // > 0: seeded completion from S seeds (counts S/2 .. S)
  double target_ms_gpu = kNaN;  // PERFORMANCE.md §2.4 (H100)
  bool cpu = true;
  bool cpu_baseline = true;
};

double mismatch_fraction(const Tensor& a, const Tensor& b) {
  const auto x = a.to(Device::cpu()).to_vector<int64_t>();
  const auto y = b.to(Device::cpu()).to_vector<int64_t>();
  if (x.size() != y.size()) return 1.0;
  size_t bad = 0;
  for (size_t i = 0; i < x.size(); ++i) bad += x[i] != y[i];
  return static_cast<double>(bad) / static_cast<double>(x.size());
}

void run_case(Harness& h, Device dev, const FpsCase& c) {
  const std::string dt = dtype_name(DType::f32);
  if (!h.selected(c.name, dev, dt)) return;
  if (dev.is_cpu() && !c.cpu) {
    std::cerr << "bench_fps: " << c.name << " skipped on the CPU (too long; see PERFORMANCE.md T-FPS-4)\n";
    return;
  }
  const size_t set_bytes = static_cast<size_t>(c.B * c.N * 3 * 4);
  const int nsets = h.rotation_sets(dev, set_bytes, h.quick() ? (size_t(256) << 20) : (size_t(1) << 30));
  std::vector<Tensor> pts, seeds, counts;
  Generator g(1234);
  for (int s = 0; s < nsets; ++s) {
    pts.push_back(rand({c.B, c.N, 3}, TensorOptions(DType::f32, dev), &g) * 2.0 - 1.0);
    if (c.S > 0) {
      seeds.push_back(randint(0, c.N, {c.B, c.S}, TensorOptions(DType::i64, dev), &g));
      counts.push_back(randint(c.S / 2, c.S + 1, {c.B}, TensorOptions(DType::i64, dev), &g));
    }
  }
  auto call = [&](int64_t rep, FpsImpl impl) {
    const size_t k = static_cast<size_t>(rep % nsets);
    FpsOptions o;
    o.impl = impl;
    o.check_finite = false;
    return c.S > 0 ? fps_seeded(pts[k], seeds[k], c.M, counts[k], o) : fps(pts[k], c.M, o);
  };
  Record r;
  r.name = c.name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({c.B, c.N, 3}) + "->" + std::to_string(c.M);
  r.t = h.time(dev, [&](int64_t rep) { call(rep, FpsImpl::Auto); });
  const double updates = static_cast<double>(c.B) * c.N * (c.M - 1);
  const double gups = updates / (r.t.median_ms * 1e-3) / 1e9;
  r.extra.push_back({"g_point_updates_per_s", json_number(gups)});
  if (dev.is_cpu()) {
    // cores at work: clouds in parallel, or one big cloud split over the threads
    const int nt = cpu_num_threads();
    const int used = (c.B >= nt || c.N >= 200000) ? nt : static_cast<int>(c.B);
    r.extra.push_back({"g_point_updates_per_s_per_core", json_number(gups / used)});
    r.extra.push_back({"target_per_core", json_number(2.0)});
  } else if (!std::isnan(c.target_ms_gpu)) {
    r.extra.push_back({"target_ms", json_number(c.target_ms_gpu)});
  }
  const FpsImpl base = dev.is_cuda() ? FpsImpl::Baseline : FpsImpl::Generic;
  if (dev.is_cuda() || c.cpu_baseline) {
    r.baseline = dev.is_cuda() ? "pointnet2_style_cta_per_cloud" : "textbook_thread_per_cloud";
    r.baseline_ms = h.time(dev, [&](int64_t rep) { call(rep, base); }).median_ms;
    r.check_rel_err = mismatch_fraction(call(0, FpsImpl::Auto).indices, call(0, base).indices);
    r.check_tol = 0.0;
  }
  h.emit(r);
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_fps");
  const bool q = h.quick();
  const int64_t s = q ? 4 : 1;
  const std::vector<FpsCase> cases = {
      {"fps.T-FPS-1", 32, 1024, 256, 0, 0.10},
      {"fps.T-FPS-2", 32, 8192 / s, 2048 / s, 0, 1.0},
      {"fps.T-FPS-3", 32, 100000 / (4 * s), 25000 / (4 * s), 0, 40.0, /*cpu=*/false},  // 1/4 size (1/16 quick)
      {"fps.T-FPS-4", 1, 100000 / s, 25000 / s, 0, 40.0, true, /*cpu_baseline=*/false},
      {"fps.T-FPS-5", 32, 1024, 512, 256, 0.2},
  };
  for (Device dev : h.devices()) {
    for (const auto& c : cases) run_case(h, dev, c);
  }
  return h.finish();
}
