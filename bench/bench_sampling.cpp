// bench_sampling: the sampling / upsampling ops of issue 4 at the sizes of the papers.
//   softproj.M<M>.k<k>.{fwd,fwd_bwd}   soft_projection (SampleNet), B=32, N=1024, M=64/512,
//       k=7/16, t=0.5, min_sigma=1e-2; fwd_bwd = forward + backward of the projected points
//       (gradients to query, points and t). Baseline: the same result composed from unfused ops
//       (pg::knn for the indices, gather, sub/square/sum, softmax over −d/σ, mul + sum).
//       Check: max |pg − composed| over projected and weights (fwd) or over the three gradients
//       (fwd_bwd), divided by max(1, max |composed|).
//   attnpool.T<T>.{fwd,fwd_bwd}   attention_pool (APSNet), B=32, N=1024, C=128, D=3, T=1/32
//       (T=1: one decode step; T=32: several queries batched). Baseline: bmm(query, featuresᵀ) →
//       softmax → bmm(weights, coords). Check as above (output + weights, or the three gradients).
//   match.m<m>   match_and_complete, B=32, N=1024, M'=m ∈ {32, 128, 512} (generated points
//       uniform in the input's box, so 1-NN collides and FPS completes). Baseline: the reference
//       repos' per-shape host loop (METHODS §1.4; their NumPy version takes 44–515 ms), written
//       here: brute-force 1-NN per generated point, first-occurrence unique, then pg::fps_seeded
//       on that shape alone (B=1). On CUDA the baseline runs on host copies (as the reference
//       does). Check: fraction of indices that differ (must be 0).
//   ballquery.r0.07.s20   ball_query(pred, pred, 0.07, 20), B=32, N=4096 points on the unit
//       sphere (PU-GAN's repulsion neighbourhood, METHODS §9.2). Baseline (CPU rows): a serial
//       textbook loop (one query after the other, early exit at nsample). Check: fraction of
//       indices that differ from that loop (0 on both devices: CPU and CUDA agree bit for bit).
//   repulsion.pugan.{fwd,fwd_bwd}   repulsion_loss (PU-GAN variant), same cloud. Baseline (fwd,
//       CPU rows): a serial host loop of the TF code (ball, slot distances, 5 smallest minus self,
//       hinge). Check (both rows): relative difference of the loss value from that loop.
//   uniform.{fwd,fwd_bwd}   uniform_loss (PU-GAN code form), same cloud. No baseline (the op is
//       itself a composition of library ops); check: relative difference between the float32
//       loss and the float64 loss on the same points.
//   p2f.mesh   point_to_mesh_distance of 8192 points (sampled on the surface + noise) against the
//       largest .off file in $PG_PUGAN_MESHES (default /work/shared/data/pu_gan_test/meshes);
//       skipped with a note on stderr when no mesh is there.
//   p2f.sphere the same against a generated UV sphere (256 × 128 → 65,024 triangles).
//       Baseline (p2f): the BruteForce option on a subset of the points (≈8M point-triangle
//       pairs); baseline_ms is its time scaled to all points (per-point time ratio), the
//       measured subset time is in baseline_subset_ms. Check: max |Auto − BruteForce| on the
//       subset divided by max(1e-12, max distance).
// --quick divides B by 4 (B=32 → 8) and N by 4 for the PU-GAN cases and p2f.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "core/parallel_for.h"
#include "datasets/mesh_tensors.h"
#include "harness.h"
#include "param_check.h"
#include "ops/ops.h"

namespace {

using namespace pg;
using namespace pg::bench;

// ---- comparisons ----

double mismatch_fraction(const std::vector<int64_t>& x, const std::vector<int64_t>& y) {
  if (x.size() != y.size()) return 1.0;
  size_t bad = 0;
  for (size_t i = 0; i < x.size(); ++i) bad += x[i] != y[i];
  return static_cast<double>(bad) / static_cast<double>(std::max<size_t>(x.size(), 1));
}

int input_sets(const Harness& h, Device dev, size_t bytes) {
  return h.rotation_sets(dev, bytes, h.quick() ? (size_t(256) << 20) : (size_t(1) << 30));
}

// Points on the unit sphere (PU-GAN normalises shapes to it) with a little radial noise.
Tensor sphere_cloud(int64_t B, int64_t N, DType dt, Device dev, Generator* g) {
  Tensor x = randn({B, N, 3}, TensorOptions(DType::f64), g);
  Tensor n = sqrt(sum(square(x), {2}, true));
  Tensor r = rand({B, N, 1}, TensorOptions(DType::f64), g) * 0.02 + 0.99;
  return (x / n * r).to(dt, dev);
}

// =============================== soft projection ===============================

struct SoftProjCase {
  int64_t B, N, M, k;
  bool bwd;
};

constexpr double kTemp = 0.5, kMinSigma = 1e-2;

struct SoftProjOut {
  Tensor projected, weights;
};

// The composition the fused op replaces: knn for the indices only, then differentiable
// gather → squared distances → softmax(−d/σ) → weighted sum.
SoftProjOut soft_projection_composed(const Tensor& q, const Tensor& p, const Tensor& t, int64_t k) {
  const int64_t B = q.size(0), M = q.size(1);
  Tensor idx;
  {
    NoGradGuard ng;
    KnnOptions ko;
    ko.check_finite = true;  // the fused op checks too
    idx = knn(q.detach(), p.detach(), k, ko).idx;
  }
  const Tensor gi = idx.reshape({B, M * k, 1}).expand({B, M * k, 3});
  const Tensor nb = gather(p, 1, gi).reshape({B, M, k, 3});
  const Tensor d = sum(square(nb - unsqueeze(q, 2)), {3});  // [B, M, k]
  const Tensor sigma = clamp_min(t * t, kMinSigma);
  const Tensor w = softmax(neg(d) / sigma, -1);
  return {sum(unsqueeze(w, 3) * nb, {2}), w};
}

void run_soft_projection(Harness& h, Device dev, const SoftProjCase& c) {
  const std::string dt = dtype_name(DType::f32);
  const std::string name =
      "softproj.M" + std::to_string(c.M) + ".k" + std::to_string(c.k) + (c.bwd ? ".fwd_bwd" : ".fwd");
  if (!h.selected(name, dev, dt)) return;
  const TensorOptions o(DType::f32, dev);
  const size_t set_bytes = static_cast<size_t>(4 * (c.B * c.N * 3 * (c.bwd ? 2 : 1) + c.B * c.M * 3 * 3));
  const int nsets = input_sets(h, dev, set_bytes);
  struct Set {
    Tensor q, p, cot;
  };
  std::vector<Set> sets;
  Generator g(4001);
  for (int s = 0; s < nsets; ++s) {
    Set st{rand({c.B, c.M, 3}, o, &g) * 2.0 - 1.0, rand({c.B, c.N, 3}, o, &g) * 2.0 - 1.0,
           rand({c.B, c.M, 3}, o, &g) - 0.5};
    if (c.bwd) {
      st.q.requires_grad_(true);
      st.p.requires_grad_(true);
    }
    sets.push_back(st);
  }
  Tensor t = scalar_tensor(kTemp, o);
  if (c.bwd) t.requires_grad_(true);
  SoftProjectionOptions so;
  so.k = c.k;
  so.min_sigma = kMinSigma;

  auto zero = [&](const Set& s) {
    s.q.zero_grad();
    s.p.zero_grad();
    t.zero_grad();
  };
  auto fused = [&](int64_t rep) {
    const Set& s = sets[static_cast<size_t>(rep % nsets)];
    if (c.bwd) {
      zero(s);
      soft_projection(s.q, s.p, t, so).projected.backward(s.cot);
    } else {
      NoGradGuard ng;
      soft_projection(s.q, s.p, t, so);
    }
  };
  auto composed = [&](int64_t rep) {
    const Set& s = sets[static_cast<size_t>(rep % nsets)];
    if (c.bwd) {
      zero(s);
      soft_projection_composed(s.q, s.p, t, c.k).projected.backward(s.cot);
    } else {
      NoGradGuard ng;
      soft_projection_composed(s.q, s.p, t, c.k);
    }
  };
  const auto st = h.time_interleaved(dev, {fused, composed});

  // Correctness on set 0.
  double err = 0;
  const Set& s0 = sets[0];
  if (c.bwd) {
    zero(s0);
    soft_projection(s0.q, s0.p, t, so).projected.backward(s0.cot);
    const Tensor gq = s0.q.grad().clone(), gp = s0.p.grad().clone(), gt = t.grad().clone();
    zero(s0);
    soft_projection_composed(s0.q, s0.p, t, c.k).projected.backward(s0.cot);
    err = std::max({scaled_max_diff(gq, s0.q.grad()), scaled_max_diff(gp, s0.p.grad()),
                    scaled_max_diff(gt, t.grad())});
    zero(s0);
  } else {
    NoGradGuard ng;
    const auto a = soft_projection(s0.q, s0.p, t, so);
    const auto b = soft_projection_composed(s0.q, s0.p, t, c.k);
    err = std::max(scaled_max_diff(a.projected, b.projected), scaled_max_diff(a.weights, b.weights));
  }
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({c.B, c.M, 3}) + "x" + shape_string({c.B, c.N, 3}) + ",k=" + std::to_string(c.k);
  r.t = st[0];
  r.baseline = "composed_knn_gather_softmax_sum";
  r.baseline_ms = st[1].median_ms;
  r.check_rel_err = err;
  r.check_tol = c.bwd ? 1e-4 : 1e-5;
  r.extra.push_back({"check_metric", json_string("max_abs_diff/max(1,max|ref|)")});
  h.emit(r);
}

// =============================== attention pooling ===============================

struct AttnCase {
  int64_t B, N, C, T;
  bool bwd;
};

Tensor attention_pool_composed(const Tensor& f, const Tensor& q, const Tensor& x, Tensor* weights = nullptr) {
  const Tensor a = softmax(bmm(q, transpose(f, 1, 2)), -1);  // [B, T, N]
  if (weights) *weights = a;
  return bmm(a, x);  // [B, T, D]
}

void run_attention_pool(Harness& h, Device dev, const AttnCase& c) {
  const std::string dt = dtype_name(DType::f32);
  const std::string name = "attnpool.T" + std::to_string(c.T) + (c.bwd ? ".fwd_bwd" : ".fwd");
  if (!h.selected(name, dev, dt)) return;
  const TensorOptions o(DType::f32, dev);
  const size_t set_bytes = static_cast<size_t>(4 * (c.B * c.N * (c.C + 3) * (c.bwd ? 2 : 1) + c.B * c.T * c.C * 2));
  const int nsets = input_sets(h, dev, set_bytes);
  struct Set {
    Tensor f, q, x, cot;
  };
  std::vector<Set> sets;
  Generator g(4002);
  const double fs = 1.0 / std::sqrt(static_cast<double>(c.C));  // scores of order a few units
  for (int s = 0; s < nsets; ++s) {
    Set st{(rand({c.B, c.N, c.C}, o, &g) * 2.0 - 1.0), (rand({c.B, c.T, c.C}, o, &g) * 2.0 - 1.0) * (4.0 * fs),
           rand({c.B, c.N, 3}, o, &g) * 2.0 - 1.0, rand({c.B, c.T, 3}, o, &g) - 0.5};
    if (c.bwd) {
      st.f.requires_grad_(true);
      st.q.requires_grad_(true);
      st.x.requires_grad_(true);
    }
    sets.push_back(st);
  }
  auto zero = [](const Set& s) {
    s.f.zero_grad();
    s.q.zero_grad();
    s.x.zero_grad();
  };
  auto fused = [&](int64_t rep) {
    const Set& s = sets[static_cast<size_t>(rep % nsets)];
    if (c.bwd) {
      zero(s);
      attention_pool(s.f, s.q, s.x).output.backward(s.cot);
    } else {
      NoGradGuard ng;
      attention_pool(s.f, s.q, s.x);
    }
  };
  auto composed = [&](int64_t rep) {
    const Set& s = sets[static_cast<size_t>(rep % nsets)];
    if (c.bwd) {
      zero(s);
      attention_pool_composed(s.f, s.q, s.x).backward(s.cot);
    } else {
      NoGradGuard ng;
      attention_pool_composed(s.f, s.q, s.x);
    }
  };
  const auto st = h.time_interleaved(dev, {fused, composed});

  double err = 0;
  const Set& s0 = sets[0];
  if (c.bwd) {
    zero(s0);
    attention_pool(s0.f, s0.q, s0.x).output.backward(s0.cot);
    const Tensor gf = s0.f.grad().clone(), gq = s0.q.grad().clone(), gx = s0.x.grad().clone();
    zero(s0);
    attention_pool_composed(s0.f, s0.q, s0.x).backward(s0.cot);
    err = std::max({scaled_max_diff(gf, s0.f.grad()), scaled_max_diff(gq, s0.q.grad()),
                    scaled_max_diff(gx, s0.x.grad())});
    zero(s0);
  } else {
    NoGradGuard ng;
    const auto a = attention_pool(s0.f, s0.q, s0.x);
    Tensor w;
    const Tensor out = attention_pool_composed(s0.f, s0.q, s0.x, &w);
    err = std::max(scaled_max_diff(a.output, out), scaled_max_diff(a.weights, w));
  }
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({c.B, c.N, c.C}) + "." + shape_string({c.B, c.T, c.C}) + "->" + shape_string({c.B, c.T, 3});
  r.t = st[0];
  r.baseline = "bmm_softmax_bmm";
  r.baseline_ms = st[1].median_ms;
  r.check_rel_err = err;
  r.check_tol = 1e-5;
  r.extra.push_back({"check_metric", json_string("max_abs_diff/max(1,max|ref|)")});
  h.emit(r);
}

// =============================== matching + FPS completion ===============================

// The reference repos' per-shape loop: 1-NN by brute force, first-occurrence unique, then FPS
// completion of that one shape. Inputs on the CPU, contiguous float32.
std::vector<int64_t> match_host_loop(const Tensor& gen, const Tensor& pts, int64_t m) {
  const int64_t B = pts.size(0), N = pts.size(1), G = gen.size(1);
  const float* gp = gen.data<float>();
  const float* pp = pts.data<float>();
  std::vector<int64_t> out(static_cast<size_t>(B * m));
  std::vector<char> seen(static_cast<size_t>(N));
  std::vector<int64_t> uniq;
  for (int64_t b = 0; b < B; ++b) {
    std::fill(seen.begin(), seen.end(), 0);
    uniq.clear();
    const float* P = pp + b * N * 3;
    for (int64_t j = 0; j < G; ++j) {
      const float* q = gp + (b * G + j) * 3;
      float best = std::numeric_limits<float>::infinity();
      int64_t bi = 0;
      for (int64_t i = 0; i < N; ++i) {
        const float dx = q[0] - P[i * 3], dy = q[1] - P[i * 3 + 1], dz = q[2] - P[i * 3 + 2];
        const float d = dx * dx + dy * dy + dz * dz;
        if (d < best) {
          best = d;
          bi = i;
        }
      }
      if (!seen[static_cast<size_t>(bi)]) {
        seen[static_cast<size_t>(bi)] = 1;
        uniq.push_back(bi);
      }
    }
    int64_t* row = out.data() + b * m;
    const int64_t u = static_cast<int64_t>(uniq.size());
    if (u >= m) {
      std::copy(uniq.begin(), uniq.begin() + m, row);
    } else {
      const Tensor seeds = from_vector<int64_t>(uniq, {1, u});
      const auto idx = fps_seeded(pts.slice(0, b, b + 1), seeds, m).indices.to_vector<int64_t>();
      std::copy(idx.begin(), idx.end(), row);
    }
  }
  return out;
}

void run_match(Harness& h, Device dev, int64_t B, int64_t N, int64_t m) {
  const std::string dt = dtype_name(DType::f32);
  const std::string name = "match.m" + std::to_string(m);
  if (!h.selected(name, dev, dt)) return;
  const TensorOptions o(DType::f32, dev);
  const int nsets = input_sets(h, dev, static_cast<size_t>(4 * B * (N + m) * 3));
  std::vector<Tensor> gens, pts, gens_h, pts_h;
  Generator g(4003);
  for (int s = 0; s < nsets; ++s) {
    gens.push_back(rand({B, m, 3}, o, &g) * 2.0 - 1.0);
    pts.push_back(rand({B, N, 3}, o, &g) * 2.0 - 1.0);
    gens_h.push_back(gens.back().to(Device::cpu()).contiguous());
    pts_h.push_back(pts.back().to(Device::cpu()).contiguous());
  }
  auto fused = [&](int64_t rep) {
    const size_t k = static_cast<size_t>(rep % nsets);
    match_and_complete(gens[k], pts[k], m);
  };
  auto host = [&](int64_t rep) {
    const size_t k = static_cast<size_t>(rep % nsets);
    match_host_loop(gens_h[k], pts_h[k], m);
  };
  Stats t, tb;
  if (dev.is_cpu()) {
    const auto st = h.time_interleaved(dev, {fused, host});
    t = st[0];
    tb = st[1];
  } else {
    t = h.time(dev, fused);
    tb = h.time(Device::cpu(), host);
  }
  const MatchResult res = match_and_complete(gens[0], pts[0], m);
  const auto got = res.indices.to(Device::cpu()).to_vector<int64_t>();
  const auto nu = res.num_unique.to(Device::cpu()).to_vector<int64_t>();
  double mean_unique = 0;
  for (int64_t v : nu) mean_unique += static_cast<double>(v) / static_cast<double>(nu.size());
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({B, m, 3}) + "x" + shape_string({B, N, 3}) + "->" + std::to_string(m);
  r.t = t;
  r.baseline = "host_per_shape_loop";
  r.baseline_ms = tb.median_ms;
  r.check_rel_err = mismatch_fraction(got, match_host_loop(gens_h[0], pts_h[0], m));
  r.check_tol = 0.0;
  r.extra.push_back({"mean_num_unique", json_number(mean_unique)});
  h.emit(r);
}

// =============================== ball query and PU-GAN losses ===============================

constexpr double kRepRadius = 0.07;
constexpr int64_t kRepNsample = 20, kRepNeighbors = 4;
constexpr double kRepH = 0.001;

// Serial textbook ball query (pointnet2 semantics) on contiguous float32 host data.
void ball_query_host(const float* pts, int64_t B, int64_t N, double radius, int64_t S, std::vector<int64_t>& idx) {
  const float r2 = static_cast<float>(radius * radius);
  idx.assign(static_cast<size_t>(B * N * S), 0);
  for (int64_t b = 0; b < B; ++b) {
    const float* P = pts + b * N * 3;
    for (int64_t i = 0; i < N; ++i) {
      int64_t* out = idx.data() + (b * N + i) * S;
      int64_t c = 0;
      for (int64_t j = 0; j < N && c < S; ++j) {
        const float dx = P[i * 3] - P[j * 3], dy = P[i * 3 + 1] - P[j * 3 + 1], dz = P[i * 3 + 2] - P[j * 3 + 2];
        const float d = (dx * dx + dy * dy) + dz * dz;
        if (d < r2) out[c++] = j;
      }
      for (int64_t s = c; s < S; ++s) out[s] = c > 0 ? out[0] : 0;
    }
  }
}

// PU-GAN get_repulsion_loss as a serial host loop (double accumulation).
double repulsion_host(const Tensor& pred_h) {
  const int64_t B = pred_h.size(0), N = pred_h.size(1), S = kRepNsample, K = kRepNeighbors;
  const float* P = pred_h.data<float>();
  std::vector<int64_t> idx;
  ball_query_host(P, B, N, kRepRadius, S, idx);
  std::vector<float> d2(static_cast<size_t>(S));
  double acc = 0;
  for (int64_t b = 0; b < B; ++b) {
    const float* C = P + b * N * 3;
    for (int64_t i = 0; i < N; ++i) {
      const int64_t* row = idx.data() + (b * N + i) * S;
      for (int64_t s = 0; s < S; ++s) {
        const float* q = C + row[s] * 3;
        const float dx = q[0] - C[i * 3], dy = q[1] - C[i * 3 + 1], dz = q[2] - C[i * 3 + 2];
        d2[static_cast<size_t>(s)] = dx * dx + dy * dy + dz * dz;
      }
      std::partial_sort(d2.begin(), d2.begin() + K + 1, d2.end());
      for (int64_t j = 1; j <= K; ++j) acc += std::max(0.0, kRepH - static_cast<double>(d2[static_cast<size_t>(j)]));
    }
  }
  return acc / static_cast<double>(B * N * K);
}

enum class PuKind { ball_query, repulsion, uniform };

void run_pu(Harness& h, Device dev, PuKind kind, bool bwd, int64_t B, int64_t N) {
  const std::string dt = dtype_name(DType::f32);
  std::string name = kind == PuKind::ball_query  ? "ballquery.r0.07.s20"
                     : kind == PuKind::repulsion ? "repulsion.pugan"
                                                 : "uniform";
  if (kind != PuKind::ball_query) name += bwd ? ".fwd_bwd" : ".fwd";
  if (!h.selected(name, dev, dt)) return;
  const int nsets = input_sets(h, dev, static_cast<size_t>(4 * B * N * 3 * (bwd ? 2 : 1)));
  std::vector<Tensor> pts;
  Generator g(4004);
  for (int s = 0; s < nsets; ++s) {
    pts.push_back(sphere_cloud(B, N, DType::f32, dev, &g));
    if (bwd) pts.back().requires_grad_(true);
  }
  const Tensor host0 = pts[0].detach().to(Device::cpu()).contiguous();
  auto op = [&](int64_t rep) {
    const Tensor& p = pts[static_cast<size_t>(rep % nsets)];
    if (kind == PuKind::ball_query) {
      ball_query(p, p, kRepRadius, kRepNsample);
      return;
    }
    if (bwd) {
      p.zero_grad();
      (kind == PuKind::repulsion ? repulsion_loss(p) : uniform_loss(p)).backward();
    } else {
      NoGradGuard ng;
      kind == PuKind::repulsion ? repulsion_loss(p) : uniform_loss(p);
    }
  };
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({B, N, 3});
  // A host baseline only where it is meaningful: CPU rows, forward.
  const bool host_baseline = dev.is_cpu() && !bwd && kind != PuKind::uniform;
  std::vector<Tensor> hosts;
  if (host_baseline) {
    for (const auto& p : pts) hosts.push_back(p.detach().contiguous());
    std::vector<int64_t> scratch;
    auto base = [&](int64_t rep) {
      const Tensor& p = hosts[static_cast<size_t>(rep % nsets)];
      if (kind == PuKind::ball_query) {
        ball_query_host(p.data<float>(), B, N, kRepRadius, kRepNsample, scratch);
      } else {
        repulsion_host(p);
      }
    };
    const auto st = h.time_interleaved(dev, {op, base});
    r.t = st[0];
    r.baseline = kind == PuKind::ball_query ? "serial_textbook_loop" : "serial_host_loop_tf_semantics";
    r.baseline_ms = st[1].median_ms;
  } else {
    r.t = h.time(dev, op);
  }
  NoGradGuard ng;
  const Tensor p0 = pts[0].detach();
  if (kind == PuKind::ball_query) {
    std::vector<int64_t> ref;
    ball_query_host(host0.data<float>(), B, N, kRepRadius, kRepNsample, ref);
    const BallQueryResult bq = ball_query(p0, p0, kRepRadius, kRepNsample);
    r.check_rel_err = mismatch_fraction(bq.idx.to(Device::cpu()).to_vector<int64_t>(), ref);
    r.check_tol = 0.0;
    double mean_count = 0;
    for (int64_t v : bq.count.to(Device::cpu()).to_vector<int64_t>()) mean_count += static_cast<double>(v);
    r.extra.push_back({"mean_hits", json_number(mean_count / static_cast<double>(B * N))});
  } else if (kind == PuKind::repulsion) {
    const double got = repulsion_loss(p0).item<double>();
    const double ref = repulsion_host(host0);
    r.check_rel_err = std::abs(got - ref) / std::max(std::abs(ref), 1e-30);
    r.check_tol = 1e-4;
    r.extra.push_back({"loss", json_number(got)});
  } else {
    const double got = uniform_loss(p0).item<double>();
    const double ref = uniform_loss(p0.to(DType::f64)).item<double>();
    r.check_rel_err = std::abs(got - ref) / std::max(std::abs(ref), 1e-30);
    r.check_tol = 1e-3;
    r.extra.push_back({"loss", json_number(got)});
    r.extra.push_back({"check_metric", json_string("|f32-f64|/|f64|")});
  }
  h.emit(r);
}

// =============================== point-to-mesh distance ===============================

datasets::MeshTensors uv_sphere(int64_t seg, int64_t rings) {
  std::vector<float> v;
  std::vector<int64_t> f;
  v.insert(v.end(), {0.f, 0.f, 1.f});  // north pole: 0
  for (int64_t r = 1; r < rings; ++r) {
    const double th = std::numbers::pi * static_cast<double>(r) / static_cast<double>(rings);
    for (int64_t s = 0; s < seg; ++s) {
      const double ph = 2.0 * std::numbers::pi * static_cast<double>(s) / static_cast<double>(seg);
      v.insert(v.end(), {static_cast<float>(std::sin(th) * std::cos(ph)), static_cast<float>(std::sin(th) * std::sin(ph)),
                         static_cast<float>(std::cos(th))});
    }
  }
  const int64_t south = static_cast<int64_t>(v.size() / 3);
  v.insert(v.end(), {0.f, 0.f, -1.f});
  auto ring = [&](int64_t r, int64_t s) { return 1 + (r - 1) * seg + (s % seg); };
  for (int64_t s = 0; s < seg; ++s) {
    f.insert(f.end(), {0, ring(1, s), ring(1, s + 1)});
    f.insert(f.end(), {south, ring(rings - 1, s + 1), ring(rings - 1, s)});
    for (int64_t r = 1; r + 1 < rings; ++r) {
      f.insert(f.end(), {ring(r, s), ring(r + 1, s), ring(r + 1, s + 1)});
      f.insert(f.end(), {ring(r, s), ring(r + 1, s + 1), ring(r, s + 1)});
    }
  }
  const int64_t V = static_cast<int64_t>(v.size() / 3), F = static_cast<int64_t>(f.size() / 3);
  return {from_vector<float>(v, {V, 3}), from_vector<int64_t>(f, {F, 3})};
}

// N points on random faces (uniform barycentric) displaced by Gaussian noise of `sigma`·(bbox diagonal).
Tensor sample_near_mesh(const datasets::MeshTensors& mesh, int64_t N, double sigma, uint64_t seed) {
  const auto V = mesh.vertices.to_vector<double>();
  const auto F = mesh.faces.to_vector<int64_t>();
  const int64_t nf = mesh.faces.size(0);
  double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
  for (size_t i = 0; i < V.size(); ++i) {
    lo[i % 3] = std::min(lo[i % 3], V[i]);
    hi[i % 3] = std::max(hi[i % 3], V[i]);
  }
  const double diag = std::sqrt((hi[0] - lo[0]) * (hi[0] - lo[0]) + (hi[1] - lo[1]) * (hi[1] - lo[1]) +
                                (hi[2] - lo[2]) * (hi[2] - lo[2]));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, nf - 1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> n(0.0, sigma * diag);
  std::vector<float> out;
  out.reserve(static_cast<size_t>(N * 3));
  for (int64_t i = 0; i < N; ++i) {
    const int64_t fi = pick(rng);
    double a = u(rng), b = u(rng);
    if (a + b > 1) {
      a = 1 - a;
      b = 1 - b;
    }
    for (int d = 0; d < 3; ++d) {
      const double p0 = V[static_cast<size_t>(F[static_cast<size_t>(fi * 3)] * 3 + d)];
      const double p1 = V[static_cast<size_t>(F[static_cast<size_t>(fi * 3 + 1)] * 3 + d)];
      const double p2 = V[static_cast<size_t>(F[static_cast<size_t>(fi * 3 + 2)] * 3 + d)];
      out.push_back(static_cast<float>(p0 + a * (p1 - p0) + b * (p2 - p0) + n(rng)));
    }
  }
  return from_vector<float>(out, {N, 3});
}

std::string largest_off_mesh() {
  const char* env = std::getenv("PG_PUGAN_MESHES");
  const std::filesystem::path dir = env ? env : "/work/shared/data/pu_gan_test/meshes";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return {};
  std::string best;
  uintmax_t best_size = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".off") continue;
    const uintmax_t sz = e.file_size(ec);
    if (!ec && (best.empty() || sz > best_size || (sz == best_size && e.path().string() < best))) {
      best = e.path().string();
      best_size = sz;
    }
  }
  return best;
}

void run_p2f(Harness& h, Device dev, const std::string& name, const datasets::MeshTensors& mesh_h,
             const std::string& mesh_name, int64_t N) {
  const std::string dt = dtype_name(DType::f32);
  if (!h.selected(name, dev, dt)) return;
  const int64_t F = mesh_h.faces.size(0);
  const Tensor pts = sample_near_mesh(mesh_h, N, 0.01, 4005).to(dev);
  const Tensor V = mesh_h.vertices.to(dev), Fc = mesh_h.faces.to(dev);
  const int64_t sub = std::clamp<int64_t>(static_cast<int64_t>(8e6 / static_cast<double>(F)), 64, N);
  const Tensor pts_sub = pts.slice(0, 0, sub).contiguous();
  P2fOptions brute;
  brute.impl = P2fImpl::BruteForce;
  auto op = [&](int64_t) { point_to_mesh_distance(pts, V, Fc); };
  auto base = [&](int64_t) { point_to_mesh_distance(pts_sub, V, Fc, brute); };
  const auto st = h.time_interleaved(dev, {op, base});
  const Tensor a = point_to_mesh_distance(pts_sub, V, Fc);
  const Tensor b = point_to_mesh_distance(pts_sub, V, Fc, brute);
  const auto x = a.to(Device::cpu()).to_vector<double>(), y = b.to(Device::cpu()).to_vector<double>();
  double md = 0, mref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    md = std::max(md, std::abs(x[i] - y[i]));
    mref = std::max(mref, std::abs(y[i]));
  }
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({N, 3}) + "xF=" + std::to_string(F);
  r.t = st[0];
  r.baseline = "brute_force_per_point_scaled";
  r.baseline_ms = st[1].median_ms * static_cast<double>(N) / static_cast<double>(sub);
  r.check_rel_err = md / std::max(mref, 1e-12);
  r.check_tol = 1e-6;
  r.extra.push_back({"mesh", json_string(mesh_name)});
  r.extra.push_back({"vertices", std::to_string(mesh_h.vertices.size(0))});
  r.extra.push_back({"us_per_point", json_number(st[0].median_ms * 1e3 / static_cast<double>(N))});
  r.extra.push_back({"baseline_subset", std::to_string(sub)});
  r.extra.push_back({"baseline_subset_ms", json_number(st[1].median_ms)});
  r.extra.push_back({"baseline_us_per_point", json_number(st[1].median_ms * 1e3 / static_cast<double>(sub))});
  h.emit(r);
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_sampling");
  const bool q = h.quick();
  const int64_t B = q ? 8 : 32;
  const int64_t Npu = q ? 1024 : 4096, Np2f = q ? 2048 : 8192;

  // Meshes load once (CPU tensors); a missing directory skips p2f.mesh with a note.
  const std::string off = largest_off_mesh();
  datasets::MeshTensors mesh;
  if (off.empty()) {
    std::cerr << "bench_sampling: p2f.mesh skipped: no .off mesh in $PG_PUGAN_MESHES or "
                 "/work/shared/data/pu_gan_test/meshes\n";
  } else {
    mesh = datasets::load_mesh_tensors(off, DType::f32);
  }
  const datasets::MeshTensors sphere = uv_sphere(256, 128);

  for (Device dev : h.devices()) {
    for (bool bwd : {false, true})
      for (int64_t M : {64, 512})
        for (int64_t k : {7, 16}) run_soft_projection(h, dev, {B, 1024, M, k, bwd});
    for (bool bwd : {false, true})
      for (int64_t T : {1, 32}) run_attention_pool(h, dev, {B, 1024, 128, T, bwd});
    for (int64_t m : {32, 128, 512}) run_match(h, dev, B, 1024, m);
    run_pu(h, dev, PuKind::ball_query, false, B, Npu);
    for (bool bwd : {false, true}) run_pu(h, dev, PuKind::repulsion, bwd, B, Npu);
    for (bool bwd : {false, true}) run_pu(h, dev, PuKind::uniform, bwd, B, Npu);
    if (!off.empty()) {
      run_p2f(h, dev, "p2f.mesh", mesh, std::filesystem::path(off).filename().string(), Np2f);
    }
    run_p2f(h, dev, "p2f.sphere", sphere, "uv_sphere_256x128", Np2f);
  }
  return h.finish();
}
