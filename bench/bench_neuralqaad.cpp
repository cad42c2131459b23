// bench_neuralqaad: NeuralQAAD's building blocks (issue 13), float32.
//   patch_mlp.B<B>.K<K>.S<S>.fwd_bwd   PatchMLP::forward_patches + backward of Σ out·v at the
//       paper's D-FAUST setting (L = 256, K = 128 patches, B = 16 shapes, 4,096 points per shape
//       = S = 32 per patch; default widths 256-128-128-128 | 64-3), gradients into codes,
//       template points and every weight. Baseline (timed in alternated rounds): the same network
//       with the per-patch layers run as a loop of K ordinary linears (select, linear, stack).
//       check: max |grouped − loop| over the output gradients of codes and q, scaled.
//   embedding_adam.N<N>.L<L>.B<B>   one lazy (row-sparse) Adam step on an [N, L] table whose
//       gradient touches B rows; baseline: a dense Adam step on the same table. No check row
//       (the equality of the lazy rows with dense per-row Adam is a test, [embedding]).
//   qaad_greedy.n<n>   QAAD_GREEDY on one shape of n points (1,024-point leaves, the paper's
//       auction: MSN mode, ε = 1, 100 rounds; coordinates in [0, 100)³, a jittered shuffled copy
//       of the target as the prediction). Extra: kept and repaired counts.
//   emkd_vs_emd.n<n>   EM-kD (leaves of 1,024) vs one whole-cloud auction EMD on the same pair
//       (both bijective); extra: the two values and EM-kD's relative excess.
// --quick: K = 16, n = 16,384 (greedy), 4,096 (EM-kD vs EMD).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "harness.h"
#include "param_check.h"
#include "models/nn/nn.h"
#include "models/zoo/neuralqaad_assign.h"
#include "ops/ops.h"

namespace {

using namespace pg;
using namespace pg::bench;

// The per-patch layers as a loop of ordinary linears (the baseline of the grouped GEMM).
Tensor loop_patches(const nn::PatchMLP& m, const Tensor& codes, const Tensor& q) {
  const int64_t k = m.config().patches, b = codes.size(0), s = q.size(1), h0 = m.config().shared_widths[0];
  const Tensor hq = m.in_q->forward(q).unsqueeze(1);
  const Tensor hl = m.in_code->forward(codes).reshape({1, b, 1, h0});
  Tensor h = selu(add(hq, hl)).reshape({k, b * s, h0});
  for (const auto& l : *m.shared) h = selu(std::static_pointer_cast<nn::Linear>(l)->forward(h));
  const Tensor g0 = cat({h, expand(q.unsqueeze(1), {k, b, s, 3}).reshape({k, b * s, 3})}, 2);
  std::vector<Tensor> outs;
  for (int64_t kk = 0; kk < k; ++kk) {
    Tensor g = g0.select(0, kk);
    for (size_t j = 0; j < m.patch->size(); ++j) {
      const auto gl = m.patch->at<nn::GroupedLinear>(j);
      g = linear(g, gl->weight.select(0, kk).transpose(0, 1), gl->bias.select(0, kk));
      if (j + 1 < m.patch->size()) g = selu(g);
    }
    outs.push_back(g);
  }
  return permute(stack(outs, 0).reshape({k, b, s, 3}), {1, 0, 2, 3}).contiguous();
}

void patch_mlp_case(Harness& h, Device dev, int64_t B, int64_t K, int64_t S) {
  const std::string dt = dtype_name(DType::f32);
  const std::string name = "patch_mlp.B" + std::to_string(B) + ".K" + std::to_string(K) + ".S" + std::to_string(S) + ".fwd_bwd";
  if (!h.selected(name, dev, dt)) return;
  Generator g(1300 + K);
  const TensorOptions o(DType::f32, dev);
  nn::PatchMLPConfig c;
  c.latent = 256;
  c.patches = K;
  c.tensor = o;
  c.gen = &g;
  const int64_t M = K * 64;
  nn::PatchMLP m(c, rand({M, 3}, o, &g));
  Tensor codes = (rand({B, 256}, o, &g) * 0.02 - 0.01).detach();
  codes.requires_grad_(true);
  Tensor q = rand({K, S, 3}, o, &g).detach();
  q.requires_grad_(true);
  const Tensor v = (rand({B, K, S, 3}, o, &g) * 2.0 - 1.0) * (1.0 / static_cast<double>(B * K * S));
  auto zero = [&] {
    codes.zero_grad();
    q.zero_grad();
    m.zero_grad();
  };
  auto grouped = [&](int64_t) {
    zero();
    m.forward_patches(codes, q).backward(v);
  };
  auto looped = [&](int64_t) {
    zero();
    loop_patches(m, codes, q).backward(v);
  };
  const std::vector<Stats> st = h.time_interleaved(dev, {grouped, looped});
  grouped(0);
  const Tensor gc = codes.grad().clone(), gq = q.grad().clone();
  looped(0);
  const double err = std::max(scaled_max_diff(gc, codes.grad()), scaled_max_diff(gq, q.grad()));
  Record base;
  base.name = name + ".loop_baseline";
  base.device = dev;
  base.dtype = dt;
  base.shape = shape_string({B, K, S, 3});
  base.t = st[1];
  h.emit(base);
  Record r = base;
  r.name = name;
  r.t = st[0];
  r.baseline = base.name;
  r.baseline_ms = st[1].median_ms;
  r.check_rel_err = err;
  r.check_tol = 1e-4;
  r.extra.push_back({"shared_params", std::to_string(m.shared_parameter_count())});
  r.extra.push_back({"patch_params", std::to_string(m.patch_parameter_count())});
  r.extra.push_back({"points_per_s", json_number(static_cast<double>(B * K * S) / (st[0].median_ms * 1e-3))});
  h.emit(r);
}

void embedding_adam_case(Harness& h, Device dev, int64_t N, int64_t L, int64_t B) {
  const std::string dt = dtype_name(DType::f32);
  const std::string name = "embedding_adam.N" + std::to_string(N) + ".L" + std::to_string(L) + ".B" + std::to_string(B);
  if (!h.selected(name, dev, dt)) return;
  Generator g(1400);
  nn::EmbeddingOptions eo;
  eo.tensor = TensorOptions(DType::f32, dev);
  eo.gen = &g;
  nn::Embedding lazy_t(N, L, eo), dense_t(N, L, eo);
  nn::Adam lazy({lazy_t.weight}), dense({dense_t.weight});
  lazy.set_row_sparse(lazy_t.weight);
  const Tensor idx = randint(0, N, {B}, TensorOptions(DType::i64), &g);
  const Tensor v = rand({B, L}, TensorOptions(DType::f32, dev), &g);
  // The gradient is built once per table (the step alone is timed); steps keep it.
  sum(mul(lazy_t.forward(idx), v)).backward();
  sum(mul(dense_t.forward(idx), v)).backward();
  const std::vector<Stats> st = h.time_interleaved(dev, {[&](int64_t) { lazy.step(); }, [&](int64_t) { dense.step(); }});
  Record base;
  base.name = name + ".dense_baseline";
  base.device = dev;
  base.dtype = dt;
  base.shape = shape_string({N, L});
  base.t = st[1];
  h.emit(base);
  Record r = base;
  r.name = name;
  r.t = st[0];
  r.baseline = base.name;
  r.baseline_ms = st[1].median_ms;
  h.emit(r);
}

void greedy_case(Harness& h, Device dev, int64_t n) {
  const std::string dt = dtype_name(DType::f32);
  const std::string name = "qaad_greedy.n" + std::to_string(n);
  if (!h.selected(name, dev, dt)) return;
  Generator g(1500);
  const TensorOptions o(DType::f32, dev);
  const Tensor target = rand({1, n, 3}, o, &g) * 100.0;
  const Tensor shuffled = index_select(target.select(0, 0), 0, randperm(n, TensorOptions(DType::i64, dev), &g));
  const Tensor pred = add(shuffled.unsqueeze(0), rand({1, n, 3}, o, &g) * 2.0 - 1.0);
  models::QaadGreedyResult res;
  const Stats st = h.time(dev, [&](int64_t) { res = models::qaad_greedy(pred, target); });
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({1, n, 3});
  r.t = st;
  r.extra.push_back({"kept", std::to_string(res.kept.item_int())});
  r.extra.push_back({"repaired", std::to_string(res.repaired.item_int())});
  r.extra.push_back({"is_permutation", models::is_permutation_rows(res.perm) ? "true" : "false"});
  h.emit(r);
}

// EM-kD (leaves of 1,024, bijective leaf auctions) against one whole-cloud bijective auction on
// the same pair of clouds (uniform in [0, 100)³; the paper reports EM-kD ×36 faster than a full
// EMD). Extra: both values and EM-kD's relative excess over the whole-cloud EMD.
void emkd_vs_emd_case(Harness& h, Device dev, int64_t n) {
  const std::string dt = dtype_name(DType::f32);
  const std::string name = "emkd_vs_emd.n" + std::to_string(n);
  if (!h.selected(name, dev, dt)) return;
  Generator g(1600);
  const TensorOptions o(DType::f32, dev);
  const Tensor x = rand({1, n, 3}, o, &g) * 100.0, y = rand({1, n, 3}, o, &g) * 100.0;
  EmkdOptions ko;
  ko.leaf_size = 1024;
  ko.emd = EmdOptions::bijective();
  double v_kd = 0.0, v_full = 0.0;
  const std::vector<Stats> st = h.time_interleaved(
      dev, {[&](int64_t) { v_kd = emkd(x, y, ko).value.to(DType::f64, Device::cpu()).item<double>(); },
            [&](int64_t) { v_full = sum(sqrt(emd(x, y, EmdOptions::bijective()).dist)).to(DType::f64, Device::cpu()).item<double>(); }});
  Record base;
  base.name = name + ".full_emd_baseline";
  base.device = dev;
  base.dtype = dt;
  base.shape = shape_string({1, n, 3});
  base.t = st[1];
  h.emit(base);
  Record r = base;
  r.name = name;
  r.t = st[0];
  r.baseline = base.name;
  r.baseline_ms = st[1].median_ms;
  r.extra.push_back({"emkd", json_number(v_kd)});
  r.extra.push_back({"full_emd", json_number(v_full)});
  r.extra.push_back({"emkd_excess_rel", json_number(v_kd / v_full - 1.0)});
  h.emit(r);
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_neuralqaad");
  for (Device dev : h.devices()) {
    patch_mlp_case(h, dev, 16, h.quick() ? 16 : 128, 32);
    embedding_adam_case(h, dev, 10000, 256, 16);
    greedy_case(h, dev, h.quick() ? 16384 : 100000);
    emkd_vs_emd_case(h, dev, h.quick() ? 4096 : 16384);
  }
  return h.finish();
}
