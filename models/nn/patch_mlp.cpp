#include "models/nn/patch_mlp.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "kernels/emd.h"
#include "models/nn/init.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/view.h"

namespace pg::nn {

namespace {

bool is_power_of_two(int64_t k) { return k > 0 && (k & (k - 1)) == 0; }

int64_t numel_of(const Module& m) {
  int64_t n = 0;
  for (const Tensor& p : m.parameters()) n += p.numel();
  return n;
}

}  // namespace

std::vector<int64_t> kd_patch_order(const Tensor& points, int64_t k) {
  PG_CHECK(points.defined() && points.dim() == 2 && points.size(1) == 3, "kd_patch_order: expected points [M, 3], got ",
           points.defined() ? shape_str(points.shape()) : std::string("undefined"));
  const int64_t m = points.size(0);
  PG_CHECK(is_power_of_two(k), "kd_patch_order: the number of patches must be a power of two, got ", k);
  PG_CHECK(m >= k && m % k == 0, "kd_patch_order: ", k, " patches do not divide ", m, " points into equal patches");
  const Tensor xyz = points.to(DType::f64, Device::cpu()).contiguous();
  const double* p = xyz.data<double>();
  for (int64_t i = 0; i < 3 * m; ++i) {
    PG_CHECK(std::isfinite(p[i]), "kd_patch_order: point ", i / 3, " has a non-finite coordinate ", p[i]);
  }
  std::vector<int64_t> order(static_cast<size_t>(m)), unused(static_cast<size_t>(m));
  const std::vector<int64_t> offsets = kernels::kd_balanced_order(p, p, m, m / k, order.data(), unused.data());
  PG_CHECK(static_cast<int64_t>(offsets.size()) == k + 1, "kd_patch_order: expected ", k, " leaves, got ",
           offsets.size() - 1);
  for (int64_t l = 0; l < k; ++l) {
    PG_CHECK(offsets[l + 1] - offsets[l] == m / k, "kd_patch_order: leaf ", l, " has ", offsets[l + 1] - offsets[l],
             " points, expected ", m / k);
  }
  return order;
}

PatchMLP::PatchMLP(PatchMLPConfig cfg, const Tensor& template_points) : Module("PatchMLP"), cfg_(std::move(cfg)) {
  PG_CHECK(cfg_.latent > 0, "PatchMLP: latent must be positive, got ", cfg_.latent);
  PG_CHECK(!cfg_.patch_widths.empty(), "PatchMLP: needs at least one per-patch layer");
  PG_CHECK(cfg_.patch_widths.back() == 3, "PatchMLP: the last per-patch width must be 3 (points), got ",
           cfg_.patch_widths.back());
  for (int64_t w : cfg_.shared_widths) PG_CHECK(w > 0, "PatchMLP: shared widths must be positive, got ", w);
  for (int64_t w : cfg_.patch_widths) PG_CHECK(w > 0, "PatchMLP: per-patch widths must be positive, got ", w);
  const std::vector<int64_t> order = kd_patch_order(template_points, cfg_.patches);
  m_ = template_points.size(0);

  NoGradGuard ng;
  const Tensor idx = from_vector(order, {m_});
  Q = register_parameter("Q", index_select(template_points.to(cfg_.tensor.dtype, Device::cpu()), 0, idx)
                                  .contiguous()
                                  .to(cfg_.tensor.device)
                                  .clone());

  LinearOptions lo;
  lo.init = LinearInit::lecun_normal;
  lo.tensor = cfg_.tensor;
  lo.gen = cfg_.gen;
  shared = register_module("shared", std::make_shared<ModuleList>());
  patch = register_module("patch", std::make_shared<ModuleList>());
  if (cfg_.shared_widths.empty()) {  // no sharing: the first per-patch layer reads [l, q]
    int64_t in = cfg_.latent + 3;
    for (int64_t w : cfg_.patch_widths) {
      patch->push_back(std::make_shared<GroupedLinear>(cfg_.patches, in, w, lo));
      in = w;
    }
    return;
  }
  const int64_t h0 = cfg_.shared_widths[0];
  in_q = register_module("in_q", std::make_shared<Linear>(3, h0, lo));
  LinearOptions lo_code = lo;
  lo_code.bias = false;
  in_code = register_module("in_code", std::make_shared<Linear>(cfg_.latent, h0, lo_code));
  // One layer on [q, l]: LeCun-normal with fan_in = 3 + L for both halves.
  const double std0 = 1.0 / std::sqrt(static_cast<double>(3 + cfg_.latent));
  init::normal_(in_q->weight, 0.0, std0, cfg_.gen);
  init::normal_(in_code->weight, 0.0, std0, cfg_.gen);

  for (size_t i = 1; i < cfg_.shared_widths.size(); ++i) {
    shared->push_back(std::make_shared<Linear>(cfg_.shared_widths[i - 1], cfg_.shared_widths[i], lo));
  }
  int64_t in = cfg_.shared_widths.back() + 3;
  for (int64_t w : cfg_.patch_widths) {
    patch->push_back(std::make_shared<GroupedLinear>(cfg_.patches, in, w, lo));
    in = w;
  }
}

int64_t PatchMLP::shared_parameter_count() const {
  int64_t n = in_q ? numel_of(*in_q) + numel_of(*in_code) : 0;
  for (const auto& m : *shared) n += numel_of(*m);
  return n;
}

int64_t PatchMLP::patch_parameter_count() const {
  int64_t n = 0;
  for (const auto& m : *patch) n += numel_of(*m);
  return n;
}

Tensor PatchMLP::template_points(const Tensor& local) const {
  const int64_t k = cfg_.patches, p = points_per_patch();
  PG_CHECK(local.defined() && local.dim() == 2 && local.size(0) == k && local.dtype() == DType::i64,
           "PatchMLP: local template indices must be int64 [", k, ", S], got ",
           local.defined() ? dtype_name(local.dtype()) + std::string(" ") + shape_str(local.shape())
                           : std::string("undefined"));
  const Tensor host = local.to(Device::cpu()).contiguous();
  const int64_t s = local.size(1);
  std::vector<int64_t> rows(static_cast<size_t>(k * s));
  const int64_t* v = host.data<int64_t>();
  for (int64_t i = 0; i < k * s; ++i) {
    PG_CHECK(v[i] >= 0 && v[i] < p, "PatchMLP: local template index ", v[i], " (patch ", i / s, ") is out of range [0, ",
             p, ")");
    rows[static_cast<size_t>(i)] = (i / s) * p + v[i];
  }
  return index_select(Q, 0, from_vector(rows, {k * s}).to(Q.device())).reshape({k, s, 3});
}

Tensor PatchMLP::forward(const Tensor& codes) const {
  const Tensor out = forward_patches(codes, Q.reshape({cfg_.patches, points_per_patch(), 3}));
  return out.reshape({out.size(0), m_, 3});
}

Tensor PatchMLP::forward_patches(const Tensor& codes, const Tensor& q) const {
  const int64_t k = cfg_.patches;
  PG_CHECK(codes.defined() && codes.dim() == 2 && codes.size(1) == cfg_.latent, "PatchMLP: codes must be [B, ",
           cfg_.latent, "], got ", codes.defined() ? shape_str(codes.shape()) : std::string("undefined"));
  PG_CHECK(q.defined() && q.dim() == 3 && q.size(0) == k && q.size(2) == 3, "PatchMLP: template points must be [", k,
           ", S, 3], got ", q.defined() ? shape_str(q.shape()) : std::string("undefined"));
  const int64_t b = codes.size(0), s = q.size(1);
  Tensor h;  // [K, B·S, features] entering the per-patch part
  if (cfg_.shared_widths.empty()) {
    h = expand(codes.reshape({1, b, 1, cfg_.latent}), {k, b, s, cfg_.latent}).reshape({k, b * s, cfg_.latent});
  } else {
    const int64_t h0 = cfg_.shared_widths[0];
    // First layer: per template point + per shape, broadcast to [K, B, S, h0].
    const Tensor hq = in_q->forward(q).unsqueeze(1);                  // [K, 1, S, h0]
    const Tensor hl = in_code->forward(codes).reshape({1, b, 1, h0});  // [1, B, 1, h0]
    h = selu(add(hq, hl)).reshape({k, b * s, h0});
    for (const auto& m : *shared) h = selu(std::static_pointer_cast<Linear>(m)->forward(h));
  }
  const Tensor q_rep = expand(q.unsqueeze(1), {k, b, s, 3}).reshape({k, b * s, 3});
  Tensor g = cat({h, q_rep}, 2);
  for (size_t j = 0; j < patch->size(); ++j) {
    g = patch->at<GroupedLinear>(j)->forward(g);
    if (j + 1 < patch->size()) g = selu(g);
  }
  return permute(g.reshape({k, b, s, 3}), {1, 0, 2, 3}).contiguous();  // [B, K, S, 3]
}

}  // namespace pg::nn
