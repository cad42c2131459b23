#include "models/nn/shared_mlp.h"

#include <string>

namespace pg::nn {

SharedMLPLayer::SharedMLPLayer(int64_t in, int64_t out, bool batch_norm, Activation act, const SharedMLPConfig& cfg,
                               ActivationKind post, double dropout)
    : Module("SharedMLPLayer"), activation(act), post_activation(post), negative_slope(cfg.negative_slope),
      impl(cfg.impl) {
  PG_CHECK(post == ActivationKind::identity || act == Activation::none, "SharedMLPLayer: a post activation (",
           activation_kind_name(post), ") needs the fused activation none, got ", activation_name(act));
  LinearOptions lo;
  lo.bias = cfg.bias;
  lo.init = cfg.init;
  lo.tensor = cfg.tensor;
  lo.gen = cfg.gen;
  conv = register_module("conv", std::make_shared<Linear>(in, out, lo));
  if (batch_norm) {
    BatchNormOptions bo;
    bo.eps = cfg.bn_eps;
    bo.momentum = cfg.bn_momentum;
    bo.tensor = cfg.tensor;
    bn = register_module("bn", std::make_shared<BatchNorm1d>(out, bo));
  }
  if (dropout > 0.0) drop = register_module("drop", std::make_shared<Dropout>(dropout, cfg.gen));
}

Tensor SharedMLPLayer::forward(const Tensor& x) const {
  PG_CHECK(x.defined() && x.dim() >= 2 && x.size(-1) == conv->in_features(), "SharedMLPLayer: expected input [..., ",
           conv->in_features(), "] with at least 2 dims, got ",
           x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  SharedMLPOptions o;
  if (bn) o.bn = bn->args();
  o.activation = activation;
  o.negative_slope = negative_slope;
  o.impl = impl;
  Tensor y = shared_mlp(x, conv->weight, conv->bias, o);
  if (post_activation != ActivationKind::identity) y = activate(y, ActivationSpec{post_activation, negative_slope});
  if (drop) y = drop->forward(y);
  return y;
}

SharedMLP::SharedMLP(const std::vector<int64_t>& widths, SharedMLPConfig cfg) : Module("SharedMLP") {
  PG_CHECK(widths.size() >= 2, "SharedMLP: need at least two widths (input and one layer), got ", widths.size());
  for (size_t i = 1; i < widths.size(); ++i) {
    const bool last = i + 1 == widths.size();
    const bool use_bn = cfg.batch_norm && (!last || cfg.last_batch_norm);
    const bool use_act = !last || cfg.last_activation;
    const Activation act = use_act ? cfg.activation : Activation::none;
    const ActivationKind post = use_act ? cfg.post_activation : ActivationKind::identity;
    layers_.push_back(register_module(
        std::to_string(i - 1),
        std::make_shared<SharedMLPLayer>(widths[i - 1], widths[i], use_bn, act, cfg, post, last ? 0.0 : cfg.dropout)));
  }
}

Tensor SharedMLP::forward(const Tensor& x) const {
  Tensor h = x;
  for (const auto& l : layers_) h = l->forward(h);
  return h;
}

void SharedMLP::set_bn_momentum(double m) {
  for (const auto& l : layers_) {
    if (l->bn) l->bn->set_momentum(m);
  }
}

}  // namespace pg::nn
