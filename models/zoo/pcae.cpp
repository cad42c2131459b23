#include "models/zoo/pcae.h"

#include "core/error.h"
#include "models/nn/mlp.h"
#include "ops/ops.h"

namespace pg::models {

PCAEStacks make_pcae_stacks(int64_t bottleneck, int64_t out_dim, double bn_eps, double bn_momentum,
                            const TensorOptions& tensor, Generator* gen) {
  nn::MLPOptions enc;
  enc.batch_norm = enc.last_batch_norm = enc.last_activation = true;
  enc.init = nn::LinearInit::xavier;
  enc.bn_eps = bn_eps;
  enc.bn_momentum = bn_momentum;
  enc.tensor = tensor;
  enc.gen = gen;
  PCAEStacks s;
  s.encoder = nn::make_shared_mlp({3, 64, 128, 128, 256, bottleneck}, enc);
  nn::MLPOptions dec;
  dec.init = nn::LinearInit::xavier;
  dec.tensor = tensor;
  dec.gen = gen;
  s.decoder = nn::make_mlp({bottleneck, 256, 256, out_dim}, dec);
  return s;
}

PCAE::PCAE(PCAEConfig cfg) : nn::Model("PCAE"), cfg_(cfg) {
  PG_CHECK(cfg.points >= 1, "PCAE: points must be positive, got ", cfg.points);
  PG_CHECK(cfg.bottleneck >= 1, "PCAE: bottleneck must be positive, got ", cfg.bottleneck);
  PCAEStacks stacks = make_pcae_stacks(cfg.bottleneck, cfg.points * 3, cfg.bn_eps, cfg.bn_momentum, cfg.tensor, cfg.gen);
  encoder = register_module("encoder", stacks.encoder);
  decoder = register_module("decoder", stacks.decoder);
}

Tensor PCAE::encode(const Tensor& points) const {
  PG_CHECK(points.defined() && points.dim() == 3 && points.size(2) == 3 && points.size(1) >= 1 && points.size(0) >= 1,
           "PCAE: expected points [B, N, 3], got ", points.defined() ? shape_str(points.shape()) : "undefined");
  PG_CHECK(!is_training() || points.size(0) >= 2,
           "PCAE: training mode needs a batch of at least 2 clouds (BatchNorm statistics), got ",
           shape_str(points.shape()));
  return max_pool_points(encoder->forward(points)).values;
}

Tensor PCAE::decode(const Tensor& code) const {
  PG_CHECK(code.dim() == 2 && code.size(1) == cfg_.bottleneck, "PCAE: expected a code [B, ", cfg_.bottleneck, "], got ",
           shape_str(code.shape()));
  return reshape(decoder->forward(code), {code.size(0), cfg_.points, 3});
}

Tensor PCAE::forward(const Tensor& points) const {
  return decode(encode(points));
}

Tensor PCAE::loss(const Tensor& reconstruction, const Tensor& target, bool per_shape) {
  ChamferOptions o;
  o.reduction = per_shape ? ChamferReduction::none : ChamferReduction::mean;
  return chamfer(reconstruction, target, o).loss;
}

void PCAE::set_bn_momentum(double m) {
  encoder->set_bn_momentum(m);
}

nn::ModelConfig PCAE::model_config() const {
  nn::ModelConfig m("pcae");
  m.set_int("points", cfg_.points).set_int("bottleneck", cfg_.bottleneck);
  m.set_double("bn_eps", cfg_.bn_eps).set_double("bn_momentum", cfg_.bn_momentum);
  return m;
}

PCAEConfig pcae_config_from(const nn::ModelConfig& m) {
  PG_CHECK(m.name() == "pcae", "PCAE: the config describes model '", m.name(), "', not 'pcae'");
  PCAEConfig c;
  if (m.has("points")) c.points = m.get_int("points");
  if (m.has("bottleneck")) c.bottleneck = m.get_int("bottleneck");
  if (m.has("bn_eps")) c.bn_eps = m.get_double("bn_eps");
  if (m.has("bn_momentum")) c.bn_momentum = m.get_double("bn_momentum");
  return c;
}

ModelFactory pcae_factory() {
  return [](const nn::ModelConfig& m) -> std::shared_ptr<nn::Model> {
    return std::make_shared<PCAE>(pcae_config_from(m));
  };
}

}  // namespace pg::models
