#include "models/zoo/neuralqaad.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/chamfer.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/pointnet.h"
#include "ops/reduce.h"
#include "ops/view.h"

namespace pg::models {

namespace {

nn::PatchMLPConfig decoder_config(const NeuralQAADConfig& c) {
  nn::PatchMLPConfig p;
  p.latent = c.latent;
  p.patches = c.patches;
  p.tensor = c.tensor;
  p.gen = c.gen;
  if (c.decoder == "shared") {
    p.shared_widths = {256, 128, 128, 128};
    p.patch_widths = {64, 3};
  } else {
    p.shared_widths = {};
    p.patch_widths = {c.atlas_width, c.atlas_width, c.atlas_width, 3};
  }
  return p;
}

}  // namespace

NeuralQAAD::NeuralQAAD(NeuralQAADConfig cfg, const Tensor& template_points) : nn::Model("NeuralQAAD"), cfg_(std::move(cfg)) {
  PG_CHECK(cfg_.shapes >= 1 && cfg_.points >= 1 && cfg_.latent >= 1 && cfg_.patches >= 1 && cfg_.atlas_width >= 1,
           "NeuralQAAD: shapes, points, latent, patches and atlas_width must be positive, got ", cfg_.shapes, ", ",
           cfg_.points, ", ", cfg_.latent, ", ", cfg_.patches, ", ", cfg_.atlas_width);
  PG_CHECK(cfg_.decoder == "shared" || cfg_.decoder == "atlas", "NeuralQAAD: decoder must be 'shared' or 'atlas', got '",
           cfg_.decoder, "'");
  Tensor tmpl = template_points;
  if (!tmpl.defined()) tmpl = zeros({cfg_.points, 3}, TensorOptions{cfg_.tensor.dtype, Device::cpu()});
  PG_CHECK(tmpl.dim() == 2 && tmpl.size(0) == cfg_.points && tmpl.size(1) == 3, "NeuralQAAD: the template must be [",
           cfg_.points, ", 3], got ", shape_str(tmpl.shape()));
  nn::EmbeddingOptions eo;
  eo.tensor = cfg_.tensor;
  eo.gen = cfg_.gen;
  codes = register_module("codes", std::make_shared<nn::Embedding>(cfg_.shapes, cfg_.latent, eo));
  decoder = register_module("decoder", std::make_shared<nn::PatchMLP>(decoder_config(cfg_), tmpl));
  if (cfg_.encoder) {
    nn::SharedMLPConfig e;
    e.last_batch_norm = false;
    e.last_activation = false;
    e.tensor = cfg_.tensor;
    e.gen = cfg_.gen;
    encoder = register_module("encoder", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{3, 64, 128, 256, cfg_.latent}, e));
  }
  center = register_buffer("center", zeros({3}, cfg_.tensor));
  scale = register_buffer("scale", ones({1}, cfg_.tensor));
  if (cfg_.assignment) {
    // The identity until a training stage sets it.
    std::vector<int64_t> id(static_cast<size_t>(cfg_.shapes * cfg_.points));
    for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<int64_t>(i) % cfg_.points;
    assignment = register_buffer("assignment", from_vector(id, {cfg_.shapes, cfg_.points}).to(cfg_.tensor.device));
  }
}

nn::ModelConfig NeuralQAAD::model_config() const {
  nn::ModelConfig m("neuralqaad");
  m.set_int("shapes", cfg_.shapes)
      .set_int("points", cfg_.points)
      .set_int("latent", cfg_.latent)
      .set_int("patches", cfg_.patches)
      .set("decoder", cfg_.decoder)
      .set_int("atlas_width", cfg_.atlas_width)
      .set_bool("encoder", cfg_.encoder)
      .set_bool("assignment", cfg_.assignment);
  return m;
}

void NeuralQAAD::set_normalisation(const std::vector<double>& c, double s) {
  PG_CHECK(c.size() == 3 && std::isfinite(c[0]) && std::isfinite(c[1]) && std::isfinite(c[2]) && std::isfinite(s) && s > 0.0,
           "NeuralQAAD: the normalisation needs a finite center of 3 values and a scale > 0, got scale ", s);
  NoGradGuard ng;
  center.copy_(from_vector(c, {3}));
  scale.copy_(full({1}, s, TensorOptions(DType::f64)));
}

Tensor NeuralQAAD::to_data_units(const Tensor& x) const {
  return add(mul(x, scale.to(x.dtype())), center.to(x.dtype()));
}

Tensor NeuralQAAD::encode(const Tensor& points) const {
  PG_CHECK(encoder != nullptr, "NeuralQAAD: encode() needs the warm-up encoder (encoder = true)");
  PG_CHECK(points.defined() && points.dim() == 3 && points.size(2) == 3 && points.size(1) >= 1,
           "NeuralQAAD: encoder input must be [B, S, 3] with S >= 1, got ",
           points.defined() ? shape_str(points.shape()) : std::string("undefined"));
  const Tensor normalised = div(sub(points, center.to(points.dtype())), scale.to(points.dtype()));
  return max_pool_points(encoder->forward(normalised)).values;
}

Tensor NeuralQAAD::decode(const Tensor& c) const { return to_data_units(decoder->forward(c)); }

Tensor NeuralQAAD::decode_shapes(const Tensor& index) const { return decode(codes->forward(index)); }

Tensor NeuralQAAD::template_rows(const Tensor& local) const {
  const int64_t k = cfg_.patches, p = decoder->points_per_patch();
  PG_CHECK(local.defined() && local.dim() == 2 && local.size(0) == k && local.dtype() == DType::i64,
           "NeuralQAAD: local template indices must be int64 [", k, ", S]");
  const Tensor host = local.to(Device::cpu()).contiguous();
  const int64_t s = local.size(1);
  std::vector<int64_t> rows(static_cast<size_t>(k * s));
  const int64_t* v = host.data<int64_t>();
  for (int64_t i = 0; i < k * s; ++i) {
    PG_CHECK(v[i] >= 0 && v[i] < p, "NeuralQAAD: local template index ", v[i], " is out of range [0, ", p, ")");
    rows[static_cast<size_t>(i)] = (i / s) * p + v[i];
  }
  return from_vector(rows, {k * s});
}

Tensor NeuralQAAD::decode_rows(const Tensor& c, const Tensor& local) const {
  const Tensor out = decoder->forward_patches(c, decoder->template_points(local));  // [B, K, S, 3]
  return to_data_units(out.reshape({out.size(0), out.size(1) * out.size(2), 3}));
}

int64_t NeuralQAAD::stored_parameter_count() const {
  int64_t n = 0;
  for (const Tensor& t : codes->parameters()) n += t.numel();
  for (const Tensor& t : decoder->parameters()) n += t.numel();
  return n;
}

Tensor augmented_chamfer(const Tensor& a, const Tensor& b) {
  ChamferOptions o;
  o.reduction = ChamferReduction::none;
  const ChamferResult r = chamfer(a, b, o);
  const Tensor da = mean(sqrt(add(r.dist_a, 1e-12)), {1});
  const Tensor db = mean(sqrt(add(r.dist_b, 1e-12)), {1});
  return maximum(da, db);
}

NeuralQAADConfig neuralqaad_config_from(const nn::ModelConfig& m) {
  NeuralQAADConfig c;
  c.shapes = m.get_int("shapes");
  c.points = m.get_int("points");
  c.latent = m.get_int("latent");
  c.patches = m.get_int("patches");
  c.decoder = m.get("decoder");
  c.atlas_width = m.get_int("atlas_width");
  c.encoder = m.get_bool("encoder");
  c.assignment = m.get_bool("assignment");
  return c;
}

ModelFactory neuralqaad_factory() {
  return [](const nn::ModelConfig& m) -> std::shared_ptr<nn::Model> {
    return std::make_shared<NeuralQAAD>(neuralqaad_config_from(m));
  };
}

}  // namespace pg::models
