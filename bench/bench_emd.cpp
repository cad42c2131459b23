// bench_emd: auction EMD, EM-kD and the exact assignment at the sizes of PERFORMANCE.md §4.6.
//   emd.T-EMD-1        MSN semantics, eps 0.005, 50 iterations, B=32, n=8192 (quick: B=4, n=2048)
//   emkd.T-EMD-2.auction  NeuralQAAD leaves: 64 problems × 1024 points, MSN eps 1, 100 iterations,
//                      coordinates in [0, 100]^3 (16 shapes × 4096; quick: 16 problems)
//   emkd.T-EMD-2.full  the same through emkd() end to end (host k-d ordering included)
//   emd.T-EMD-3        MSN "test" setting, eps 0.002, 10000 iterations, early exit
//                      (CUDA only; quick: B=4, n=2048, 2000 iterations)
//   emd.T-EMD-4        bijective mode, default ε-scaling (CUDA: B=32, n=8192; CPU: B=4, n=4096;
//                      quick: B=2, n=1024); check = cost vs the exact LSAP on cloud 0 (n ≤ 4096),
//                      tolerance 1%; extra ratio_to_T-EMD-1 (target ≤ 10 on the GPU)
//   lsap.nN            exact LSAP (Jonker–Volgenant), dense Euclidean cost of two uniform clouds,
//                      n = 512, 1024, 2048 (quick: 512, 1024); no baseline in this binary
//   emd.sparse.nN      bijective emd() on the CPU, sparse vs dense bids (same assignment),
//                      uniform cube n = 1024, 2048, 4096 (quick: 1024); baseline = the dense path
// Peers that live in Python are compared in the same run on the same clouds by scripts in
// tools/compare/, never against constants measured elsewhere: SciPy's exact assignment against
// the auction by tools/compare/scipy_emd.py (driver bench/emd_compare_io.cpp).
// CUDA rows of T-EMD-1/2/3 have the naive 7-launch MSN-style decomposition
// (kernels::emd_msn_baseline_cuda) as baseline. Extras: unassigned (forced) fraction,
// many-to-one fraction, mean EMD (mean over points of the Euclidean distance).
// Uniform random clouds in [0,1]^3 unless stated; inputs rotate over sets larger than the cache.
#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "core/parallel_for.h"
#include "harness.h"
#include "kernels/emd.h"
#include "ops/emd.h"
#include "ops/emkd.h"
#include "ops/lsap.h"
#include "ops/ops.h"

namespace {

using namespace pg;
using namespace pg::bench;

const std::string kF32 = "f32";
std::map<std::string, double> g_t1_ms;  // T-EMD-1 median per device, for T-EMD-4's ratio

struct Stats2 {
  double unassigned_frac = 0, many_to_one_frac = 0, mean_emd = 0;
};

Stats2 quality(const Tensor& x1, const Tensor& x2, const Tensor& assignment, const Tensor& unassigned) {
  const int64_t B = x1.size(0), n = x1.size(1);
  const auto a = assignment.to(Device::cpu()).to_vector<int64_t>();
  const auto p1 = x1.to(Device::cpu()).to_vector<double>(), p2 = x2.to(Device::cpu()).to_vector<double>();
  Stats2 s;
  int64_t dup = 0;
  double sum = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int> cnt(n, 0);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t k = a[b * n + j];
      if (cnt[k]++ > 0) ++dup;
      double d = 0;
      for (int c = 0; c < 3; ++c) {
        const double t = p1[3 * (b * n + j) + c] - p2[3 * (b * n + k) + c];
        d += t * t;
      }
      sum += std::sqrt(d);
    }
  }
  if (unassigned.defined()) {
    int64_t u = 0;
    for (int64_t v : unassigned.to(Device::cpu()).to_vector<int64_t>()) u += v;
    s.unassigned_frac = static_cast<double>(u) / static_cast<double>(B * n);
  }
  s.many_to_one_frac = static_cast<double>(dup) / static_cast<double>(B * n);
  s.mean_emd = sum / static_cast<double>(B * n);
  return s;
}

void add_quality(Record& r, const Stats2& s, const std::string& prefix = "") {
  r.extra.push_back({prefix + "unassigned_frac", json_number(s.unassigned_frac)});
  r.extra.push_back({prefix + "many_to_one_frac", json_number(s.many_to_one_frac)});
  r.extra.push_back({prefix + "mean_emd", json_number(s.mean_emd)});
}

std::vector<std::pair<Tensor, Tensor>> make_sets(Harness& h, Device dev, int64_t B, int64_t n, double scale,
                                                 uint64_t seed) {
  const size_t bytes = static_cast<size_t>(2 * B * n * 3 * 4);
  const int k = h.rotation_sets(dev, bytes, h.quick() ? (size_t(256) << 20) : (size_t(1) << 30));
  Generator g(seed);
  std::vector<std::pair<Tensor, Tensor>> sets;
  for (int i = 0; i < k; ++i) {
    sets.push_back({rand({B, n, 3}, TensorOptions(DType::f32, dev), &g) * scale,
                    rand({B, n, 3}, TensorOptions(DType::f32, dev), &g) * scale});
  }
  return sets;
}

struct MsnCase {
  std::string name;
  int64_t B, n;
  double eps;
  int64_t iters;
  double scale = 1.0;
  double target_ms = kNaN;  // H100, PERFORMANCE.md §4.6
  bool cpu = true;
};

// T-EMD-1 / T-EMD-2 (auction) / T-EMD-3: MSN-mode emd() vs the 7-launch baseline on CUDA.
void run_msn_case(Harness& h, Device dev, const MsnCase& c) {
  if (!h.selected(c.name, dev, kF32)) return;
  if (dev.is_cpu() && !c.cpu) {
    std::cerr << "bench_emd: " << c.name << " skipped on the CPU (10^4 iterations; GPU target)\n";
    return;
  }
  auto sets = make_sets(h, dev, c.B, c.n, c.scale, 77);
  const EmdOptions o = EmdOptions::msn(c.eps, c.iters);
  Record r;
  r.name = c.name;
  r.device = dev;
  r.dtype = kF32;
  r.shape = shape_string({c.B, c.n, 3}) + " eps=" + json_number(c.eps) + " iters=" + std::to_string(c.iters);
  r.t = h.time(dev, [&](int64_t rep) {
    const auto& s = sets[rep % sets.size()];
    EmdResult res = emd(s.first, s.second, o);
  });
  const EmdResult res = emd(sets[0].first, sets[0].second, o);
  const Stats2 q = quality(sets[0].first, sets[0].second, res.assignment, res.unassigned);
  add_quality(r, q);
  const double pairs = static_cast<double>(c.B) * c.n * c.n;
  r.extra.push_back({"full_scan_equivalents_per_ms", json_number(1.0 / r.t.median_ms)});
  r.extra.push_back({"pairs_per_scan", json_number(pairs)});
  if (!std::isnan(c.target_ms) && dev.is_cuda()) r.extra.push_back({"target_ms", json_number(c.target_ms)});
#if PG_WITH_CUDA
  if (dev.is_cuda() && c.n % 1024 == 0 && c.B <= 512) {
    Tensor a = empty({c.B, c.n}, TensorOptions(DType::i32, dev));
    r.baseline = "msn_7_launch";
    r.baseline_ms =
        h.time(dev, [&](int64_t rep) {
           const auto& s = sets[rep % sets.size()];
           kernels::emd_msn_baseline_cuda(s.first, s.second, static_cast<float>(c.eps), static_cast<int>(c.iters), a);
         }).median_ms;
    kernels::emd_msn_baseline_cuda(sets[0].first, sets[0].second, static_cast<float>(c.eps), static_cast<int>(c.iters),
                                   a);
    const Stats2 qb = quality(sets[0].first, sets[0].second, a.to(DType::i64), Tensor());
    r.extra.push_back({"baseline_many_to_one_frac", json_number(qb.many_to_one_frac)});
    r.extra.push_back({"baseline_mean_emd", json_number(qb.mean_emd)});
    r.extra.push_back({"mean_emd_rel_diff_vs_baseline", json_number((q.mean_emd - qb.mean_emd) / qb.mean_emd)});
  }
#endif
  if (c.name == "emd.T-EMD-1") g_t1_ms[dev.str()] = r.t.median_ms;
  h.emit(r);
}

// T-EMD-2 end to end through emkd().
void run_emkd_full(Harness& h, Device dev, int64_t shapes, int64_t n) {
  const std::string name = "emkd.T-EMD-2.full";
  if (!h.selected(name, dev, kF32)) return;
  auto sets = make_sets(h, dev, shapes, n, 100.0, 78);
  EmkdOptions o;
  o.leaf_size = 1024;
  o.emd = EmdOptions::msn(1.0, 100);
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = kF32;
  r.shape = shape_string({shapes, n, 3}) + " leaf=1024 eps=1 iters=100";
  r.t = h.time(dev, [&](int64_t rep) {
    const auto& s = sets[rep % sets.size()];
    EmkdResult res = emkd(s.first, s.second, o);
  });
  const EmkdResult res = emkd(sets[0].first, sets[0].second, o);
  add_quality(r, quality(sets[0].first, sets[0].second, res.assignment, res.unassigned));
  if (dev.is_cuda()) r.extra.push_back({"target_ms_auction_only", json_number(0.5)});
  h.emit(r);
}

// T-EMD-4: bijective mode, default ε-scaling; accuracy against the exact LSAP.
void run_bijective(Harness& h, Device dev, int64_t B, int64_t n) {
  const std::string name = "emd.T-EMD-4";
  if (!h.selected(name, dev, kF32)) return;
  auto sets = make_sets(h, dev, B, n, 1.0, 79);
  const EmdOptions o = EmdOptions::bijective();
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = kF32;
  r.shape = shape_string({B, n, 3}) + " bijective";
  r.t = h.time(dev, [&](int64_t rep) {
    const auto& s = sets[rep % sets.size()];
    EmdResult res = emd(s.first, s.second, o);
  });
  const EmdResult res = emd(sets[0].first, sets[0].second, o);
  const Stats2 q = quality(sets[0].first, sets[0].second, res.assignment, res.unassigned);
  add_quality(r, q);
  if (n <= 4096) {  // exact optimum of cloud 0
    const Tensor c1 = sets[0].first.slice(0, 0, 1).to(Device::cpu()),
                 c2 = sets[0].second.slice(0, 0, 1).to(Device::cpu());
    const Stats2 ex = quality(c1, c2, emd_exact_assignment(c1, c2), Tensor());
    const Stats2 ours = quality(c1, c2, res.assignment.slice(0, 0, 1), Tensor());
    r.baseline = "exact_lsap_cost";
    r.check_rel_err = (ours.mean_emd - ex.mean_emd) / ex.mean_emd;
    r.check_tol = 0.01;
  }
  const auto it = g_t1_ms.find(dev.str());
  if (it != g_t1_ms.end()) r.extra.push_back({"ratio_to_T-EMD-1", json_number(r.t.median_ms / it->second)});
  h.emit(r);
}

// Exact LSAP (uniform cube, Euclidean); SciPy's time comes from tools/compare/scipy_emd.py.
void run_lsap(Harness& h, int64_t n) {
  const std::string name = "lsap.n" + std::to_string(n);
  const Device cpu = Device::cpu();
  if (!h.selected(name, cpu, "f64")) return;
  Generator g(80 + n);
  const Tensor a = rand({n, 3}, TensorOptions(DType::f64), &g), b = rand({n, 3}, TensorOptions(DType::f64), &g);
  const auto pa = a.to_vector<double>(), pb = b.to_vector<double>();
  std::vector<double> cost(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t k = 0; k < n; ++k) {
      double d = 0;
      for (int c = 0; c < 3; ++c) d += (pa[3 * i + c] - pb[3 * k + c]) * (pa[3 * i + c] - pb[3 * k + c]);
      cost[i * n + k] = std::sqrt(d);
    }
  std::vector<int64_t> sol(n);
  Record r;
  r.name = name;
  r.device = cpu;
  r.dtype = "f64";
  r.shape = shape_string({n, n});
  r.t = h.time(cpu, [&](int64_t) { kernels::lsap_dense(cost.data(), n, sol.data()); });
  // Through the public op too (adds the tensor → float64 copy of the cost matrix).
  const Tensor ct = from_vector(cost, {n, n});
  r.extra.push_back(
      {"op_median_ms", json_number(h.time(cpu, [&](int64_t) { Tensor s = linear_sum_assignment(ct); }).median_ms)});
  h.emit(r);
}

// Bijective emd() with sparse bids (the automatic CPU path) against the dense path, one cloud
// pair; extras: objects evaluated per sparse bid (dense: n), and whether both paths returned the
// same assignment (they must).
void run_sparse(Harness& h, int64_t n) {
  const std::string name = "emd.sparse.n" + std::to_string(n);
  const Device cpu = Device::cpu();
  if (!h.selected(name, cpu, kF32)) return;
  Generator g(90 + n);
  const Tensor x1 = rand({1, n, 3}, TensorOptions(DType::f32), &g), x2 = rand({1, n, 3}, TensorOptions(DType::f32), &g);
  EmdOptions sparse = EmdOptions::bijective(), dense = EmdOptions::bijective();
  sparse.cpu_path = EmdCpuPath::Sparse;
  dense.cpu_path = EmdCpuPath::Dense;
  Record r;
  r.name = name;
  r.device = cpu;
  r.dtype = kF32;
  r.shape = shape_string({1, n, 3}) + " bijective";
  r.t = h.time(cpu, [&](int64_t) { EmdResult res = emd(x1, x2, sparse); });
  r.baseline = "dense_bids";
  r.baseline_ms = h.time(cpu, [&](int64_t) { EmdResult res = emd(x1, x2, dense); }).median_ms;
  const kernels::AuctionBidCounts c0 = kernels::emd_cpu_bid_counts();
  const EmdResult a = emd(x1, x2, sparse);
  const kernels::AuctionBidCounts c1 = kernels::emd_cpu_bid_counts();
  const EmdResult b = emd(x1, x2, dense);
  r.extra.push_back({"sparse_pairs_per_bid", json_number(static_cast<double>(c1.pairs - c0.pairs) /
                                                         static_cast<double>(c1.bids - c0.bids))});
  r.extra.push_back({"same_assignment_as_dense",
                     json_number(a.assignment.to_vector<int64_t>() == b.assignment.to_vector<int64_t>() ? 1 : 0)});
  h.emit(r);
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_emd");
  const bool q = h.quick();
  for (Device dev : h.devices()) {
    run_msn_case(h, dev, {"emd.T-EMD-1", q ? 4 : 32, q ? 2048 : 8192, 0.005, 50, 1.0, 5.0});
    run_msn_case(h, dev, {"emkd.T-EMD-2.auction", q ? 16 : 64, 1024, 1.0, 100, 100.0, 0.5});
    run_emkd_full(h, dev, q ? 4 : 16, 4096);
    run_msn_case(h, dev, {"emd.T-EMD-3", q ? 4 : 32, q ? 2048 : 8192, 0.002, q ? 2000 : 10000, 1.0, kNaN, false});
    if (dev.is_cuda()) {
      run_bijective(h, dev, q ? 2 : 32, q ? 1024 : 8192);
    } else {
      run_bijective(h, dev, q ? 2 : 4, q ? 1024 : 4096);
    }
  }
  if (h.options().want_cpu) {
    run_lsap(h, 512);
    run_lsap(h, 1024);
    if (!q) run_lsap(h, 2048);
    for (int64_t n : {1024, 2048, 4096}) {
      if (q && n > 1024) break;
      run_sparse(h, n);
    }
  }
  return h.finish();
}
