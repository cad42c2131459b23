// bench_knn: brute-force kNN at the sizes of PERFORMANCE.md §3.3.
//   knn.T-KNN-1      B=32, N=M=8192, K=16
//   knn.T-KNN-2      B=32, N=M=1024, K=16
//   knn.T-KNN-3.k64  B=32, N=M=8192, K=64      knn.T-KNN-3.k128  the same with K=128
//   knn.K1           B=8,  N=M=8192, K=1 (the CPU target of 3 G pairs/s/core)
//   knn.T-KNN-2.checked  T-KNN-2 with the NaN/Inf input check on (its cost)
// Rows report time, G pairs/s (B·Q·R distance evaluations) and per core on the CPU, the target,
// and the ratio to the naive baseline (KnnImpl::Generic: thread per query, top-K kept in the
// output rows, no tiling — the PyTorch3D-V0 / torch-cluster structure; on the CPU the generic
// body, timed only for the small cases). The check is the relative L2 error of the distances
// against the baseline. --quick divides N and M by 4.
//
// PG_BENCH_DUMP_DIR also receives the first cloud set of every CPU case (<case>.query/.ref.f32).
//
// Spatial-index rows (issue 14; B = 1, K = 16, query and reference two different clouds of N
// points, bench/large_clouds.h, PG_BENCH_DUMP_DIR dumps them for tools/compare/scipy_knn.py):
//   knn.large.<cube|sphere>.<N>   N = 8192, 100000, 1000000: Auto (the k-d tree at these sizes);
//                                 at N = 8192 also the tiled brute force as baseline (interleaved);
//                                 from 10^5 one warm-up call and --min-repeats timed calls
//   knn.tree_vs_tiled.B<B>.N<N>.k<K>  the threshold evidence of docs/decisions.md: the tree
//                                 (KnnImpl::Tree) timed against the tiled brute force
//                                 (KnnImpl::Tiled) in alternated rounds; ratio < 1: tree faster.
//   knn.grid_vs_brute.N<N>.k<K>   CUDA only (B = 1, Q = R = N, uniform cube): the grid path
//                                 (KnnImpl::Grid) against the brute force (KnnImpl::Register, the
//                                 list path for K > 32), alternated; the evidence that sets
//                                 kGridMinRef / kGridMinQuery in kernels/cuda/knn.cu (not yet
//                                 measured: docs/decisions.md, "CUDA grid kNN").
#include <chrono>
#include <cmath>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "core/parallel_for.h"
#include "harness.h"
#include "large_clouds.h"
#include "ops/knn.h"
#include "ops/ops.h"

namespace {

using namespace pg;
using namespace pg::bench;

struct KnnCase {
  std::string name;
  int64_t B, N, K;
  double target_ms_gpu;
  double target_gpairs_core;  // CPU target per core (PERFORMANCE.md §8)
  bool check_finite = false;
  bool cpu_baseline = false;
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

void run_case(Harness& h, Device dev, const KnnCase& c) {
  const std::string dt = dtype_name(DType::f32);
  if (!h.selected(c.name, dev, dt)) return;
  const size_t set_bytes = static_cast<size_t>(2 * c.B * c.N * 3 * 4 + c.B * c.N * c.K * 12);
  const int nsets = h.rotation_sets(dev, set_bytes, h.quick() ? (size_t(256) << 20) : (size_t(1) << 30));
  std::vector<Tensor> qs, rs;
  Generator g(99);
  for (int s = 0; s < nsets; ++s) {
    qs.push_back(rand({c.B, c.N, 3}, TensorOptions(DType::f32, dev), &g) * 2.0 - 1.0);
    rs.push_back(rand({c.B, c.N, 3}, TensorOptions(DType::f32, dev), &g) * 2.0 - 1.0);
  }
  if (dev.is_cpu()) {  // the first set, for tools/compare/scipy_knn.py (PG_BENCH_DUMP_DIR)
    dump_cloud(c.name + ".query", qs[0]);
    dump_cloud(c.name + ".ref", rs[0]);
  }
  auto call = [&](int64_t rep, KnnImpl impl) {
    const size_t k = static_cast<size_t>(rep % nsets);
    KnnOptions o;
    o.impl = impl;
    o.check_finite = c.check_finite;
    return knn(qs[k], rs[k], c.K, o);
  };
  Record r;
  r.name = c.name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({c.B, c.N, 3}) + "x" + shape_string({c.B, c.N, 3}) + ",k=" + std::to_string(c.K);
  r.t = h.time(dev, [&](int64_t rep) { call(rep, KnnImpl::Auto); });
  const double gpairs = static_cast<double>(c.B) * c.N * c.N / (r.t.median_ms * 1e-3) / 1e9;
  r.extra.push_back({"g_pairs_per_s", json_number(gpairs)});
  if (dev.is_cpu()) {
    r.extra.push_back({"g_pairs_per_s_per_core", json_number(gpairs / cpu_num_threads())});
    r.extra.push_back({"target_per_core", json_number(c.target_gpairs_core)});
  } else {
    r.extra.push_back({"target_ms", json_number(c.target_ms_gpu)});
  }
  if (dev.is_cuda() || c.cpu_baseline) {
    r.baseline = "thread_per_query_untiled";
    r.baseline_ms = h.time(dev, [&](int64_t rep) { call(rep, KnnImpl::Generic); }).median_ms;
    r.check_rel_err = rel_err(call(0, KnnImpl::Auto).dist2, call(0, KnnImpl::Generic).dist2);
    r.check_tol = 1e-5;
  }
  h.emit(r);
}

// B = 1 large clouds, Auto timed alone (N >= 10^5) or interleaved with the tiled brute force
// (time_big: bench/large_clouds.h).

void run_large(Harness& h, const std::string& shape, int64_t N, int64_t K) {
  const Device dev = Device::cpu();
  const std::string name = "knn.large." + shape + "." + std::to_string(N);
  if (!h.selected(name, dev, "float32")) return;
  const Tensor q = large_cloud(shape, N, 1000 + static_cast<uint64_t>(N));
  const Tensor r = large_cloud(shape, N, 2000 + static_cast<uint64_t>(N));
  dump_cloud(name + ".query", q);
  dump_cloud(name + ".ref", r);
  auto call = [&](KnnImpl impl) {
    KnnOptions o;
    o.impl = impl;
    o.check_finite = false;
    return knn(q, r, K, o);
  };
  Record rec;
  rec.name = name;
  rec.device = dev;
  rec.dtype = "float32";
  rec.shape = shape_string({1, N, 3}) + "x" + shape_string({1, N, 3}) + ",k=" + std::to_string(K);
  if (N <= 8192) {
    const std::vector<Stats> st = h.time_interleaved(dev, {[&](int64_t) { call(KnnImpl::Auto); },
                                                           [&](int64_t) { call(KnnImpl::Tiled); }});
    rec.t = st[0];
    rec.baseline = "tiled_brute_force";
    rec.baseline_ms = st[1].median_ms;
    rec.check_rel_err = rel_err(call(KnnImpl::Auto).dist2, call(KnnImpl::Tiled).dist2);
    rec.check_tol = 0.0;  // identical bits
  } else {
    rec.t = time_big(h, [&] { call(KnnImpl::Auto); });
  }
  rec.extra.push_back({"cloud", json_string(shape)});
  h.emit(rec);
}

// Tree against the tiled brute force at the sizes around the Auto threshold.
void run_tree_vs_tiled(Harness& h, int64_t B, int64_t N, int64_t K) {
  const Device dev = Device::cpu();
  const std::string name =
      "knn.tree_vs_tiled.B" + std::to_string(B) + ".N" + std::to_string(N) + ".k" + std::to_string(K);
  if (!h.selected(name, dev, "float32")) return;
  Generator g(5);
  const Tensor q = rand({B, N, 3}, TensorOptions(DType::f32), &g) * 2.0 - 1.0;
  const Tensor r = rand({B, N, 3}, TensorOptions(DType::f32), &g) * 2.0 - 1.0;
  auto call = [&](KnnImpl impl) {
    KnnOptions o;
    o.impl = impl;
    o.check_finite = false;
    return knn(q, r, K, o);
  };
  const std::vector<Stats> st = h.time_interleaved(dev, {[&](int64_t) { call(KnnImpl::Tree); },
                                                         [&](int64_t) { call(KnnImpl::Tiled); }});
  Record rec;
  rec.name = name;
  rec.device = dev;
  rec.dtype = "float32";
  rec.shape = shape_string({B, N, 3}) + "x" + shape_string({B, N, 3}) + ",k=" + std::to_string(K);
  rec.t = st[0];
  rec.baseline = "tiled_brute_force";
  rec.baseline_ms = st[1].median_ms;
  rec.check_rel_err = rel_err(call(KnnImpl::Tree).dist2, call(KnnImpl::Tiled).dist2);
  rec.check_tol = 0.0;
  h.emit(rec);
}

// CUDA grid against the brute force at the sizes around the Auto threshold.
void run_grid_vs_brute(Harness& h, Device dev, int64_t N, int64_t K) {
  const std::string name = "knn.grid_vs_brute.N" + std::to_string(N) + ".k" + std::to_string(K);
  if (!h.selected(name, dev, "float32")) return;
  Generator g(6);
  const Tensor q = (rand({1, N, 3}, TensorOptions(DType::f32), &g) * 2.0 - 1.0).to(dev);
  const Tensor r = (rand({1, N, 3}, TensorOptions(DType::f32), &g) * 2.0 - 1.0).to(dev);
  auto call = [&](KnnImpl impl) {
    KnnOptions o;
    o.impl = impl;
    o.check_finite = false;
    return knn(q, r, K, o);
  };
  const std::vector<Stats> st =
      h.time_interleaved(dev, {[&](int64_t) { call(KnnImpl::Grid); }, [&](int64_t) { call(KnnImpl::Register); }});
  Record rec;
  rec.name = name;
  rec.device = dev;
  rec.dtype = "float32";
  rec.shape = shape_string({1, N, 3}) + "x" + shape_string({1, N, 3}) + ",k=" + std::to_string(K);
  rec.t = st[0];
  rec.baseline = "brute_force";
  rec.baseline_ms = st[1].median_ms;
  rec.check_rel_err = rel_err(call(KnnImpl::Grid).dist2, call(KnnImpl::Register).dist2);
  rec.check_tol = 1e-5;  // nvcc may contract differently in the two kernels
  h.emit(rec);
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_knn");
  const int64_t s = h.quick() ? 4 : 1;
  const std::vector<KnnCase> cases = {
      {"knn.T-KNN-1", 32, 8192 / s, 16, 0.6, 1.5},
      {"knn.T-KNN-2", 32, 1024, 16, 0.025, 1.5, false, true},
      {"knn.T-KNN-2.checked", 32, 1024, 16, 0.025, 1.5, true},
      {"knn.T-KNN-3.k64", 32, 8192 / s, 64, 1.2, kNaN},
      {"knn.T-KNN-3.k128", 32, 8192 / s, 128, 1.2, kNaN},
      {"knn.K1", 8, 8192 / s, 1, kNaN, 3.0, false, true},
  };
  for (Device dev : h.devices()) {
    for (const auto& c : cases) run_case(h, dev, c);
    if (!dev.is_cuda()) continue;
    for (int64_t K : {1, 16, 32}) {
      for (int64_t N : {4096, 8192, 16384, 32768, 100000, 1000000}) run_grid_vs_brute(h, dev, N / s, K);
    }
  }
  if (!h.options().want_cpu) return h.finish();
  for (const char* shape : {"cube", "sphere"}) {
    for (int64_t N : {int64_t(8192), int64_t(100000), int64_t(1000000)}) run_large(h, shape, N / s, 16);
  }
  for (int64_t K : {1, 16, 64}) {
    for (int64_t N : {512, 1024, 2048, 4096, 8192}) run_tree_vs_tiled(h, N <= 1024 ? 32 : 4, N, K);
  }
  return h.finish();
}
