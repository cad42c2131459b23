#include "models/nn/shared_mlp.h"

#include <string>

namespace pg::nn {

SharedMLPLayer::SharedMLPLayer(int64_t in, int64_t out, bool batch_norm, Activation act, const SharedMLPConfig& cfg)
    : Module("SharedMLPLayer"), activation(act), negative_slope(cfg.negative_slope), impl(cfg.impl) {
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
  return shared_mlp(x, conv->weight, conv->bias, o);
}

SharedMLP::SharedMLP(const std::vector<int64_t>& widths, SharedMLPConfig cfg) : Module("SharedMLP") {
  PG_CHECK(widths.size() >= 2, "SharedMLP: need at least two widths (input and one layer), got ", widths.size());
  for (size_t i = 1; i < widths.size(); ++i) {
    const bool last = i + 1 == widths.size();
    const bool use_bn = cfg.batch_norm && (!last || cfg.last_batch_norm);
    const Activation act = (!last || cfg.last_activation) ? cfg.activation : Activation::none;
    layers_.push_back(register_module(std::to_string(i - 1),
                                      std::make_shared<SharedMLPLayer>(widths[i - 1], widths[i], use_bn, act, cfg)));
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
