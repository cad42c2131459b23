#include "models/nn/mlp.h"

#include "core/error.h"
#include "models/nn/batchnorm.h"
#include "models/nn/dropout.h"

namespace pg::nn {

namespace {

void check_widths(const std::vector<int64_t>& widths, const MLPOptions& o, const char* who) {
  PG_CHECK(widths.size() >= 2, who, ": need at least two widths (input and one layer), got ", widths.size());
  for (size_t i = 0; i < widths.size(); ++i) {
    PG_CHECK(widths[i] >= 1, who, ": width ", i, " is ", widths[i], " (must be positive)");
  }
  PG_CHECK(o.dropout >= 0.0 && o.dropout < 1.0, who, ": dropout must lie in [0, 1), got ", o.dropout);
}

}  // namespace

LinearInit mlp_init(const MLPOptions& opts) {
  if (opts.init) return *opts.init;
  return parse_activation(opts.activation, opts.negative_slope).kind == ActivationKind::selu ? LinearInit::lecun_normal
                                                                                              : LinearInit::pytorch;
}

std::shared_ptr<Sequential> make_mlp(const std::vector<int64_t>& widths, const MLPOptions& o) {
  check_widths(widths, o, "make_mlp");
  const ActivationSpec act = parse_activation(o.activation, o.negative_slope);
  LinearOptions lo;
  lo.bias = o.bias;
  lo.init = mlp_init(o);
  lo.tensor = o.tensor;
  lo.gen = o.gen;
  BatchNormOptions bo;
  bo.eps = o.bn_eps;
  bo.momentum = o.bn_momentum;
  bo.tensor = o.tensor;
  auto seq = std::make_shared<Sequential>();
  for (size_t i = 1; i < widths.size(); ++i) {
    const bool last = i + 1 == widths.size();
    seq->push_back(std::make_shared<Linear>(widths[i - 1], widths[i], lo));
    if (o.batch_norm && (!last || o.last_batch_norm)) seq->push_back(std::make_shared<BatchNorm1d>(widths[i], bo));
    if (act.kind != ActivationKind::identity && (!last || o.last_activation)) seq->push_back(make_activation(act));
    if (o.dropout > 0.0 && !last) seq->push_back(std::make_shared<Dropout>(o.dropout, o.gen));
  }
  return seq;
}

std::shared_ptr<SharedMLP> make_shared_mlp(const std::vector<int64_t>& widths, const MLPOptions& o) {
  check_widths(widths, o, "make_shared_mlp");
  const ActivationSpec act = parse_activation(o.activation, o.negative_slope);
  SharedMLPConfig c;
  c.batch_norm = o.batch_norm;
  const std::optional<Activation> fused = fused_activation(act);
  c.activation = fused.value_or(Activation::none);
  c.post_activation = fused ? ActivationKind::identity : act.kind;
  c.negative_slope = act.negative_slope;
  c.last_batch_norm = o.last_batch_norm;
  c.last_activation = o.last_activation;
  c.dropout = o.dropout;
  c.bias = o.bias;
  c.init = mlp_init(o);
  c.bn_eps = o.bn_eps;
  c.bn_momentum = o.bn_momentum;
  c.tensor = o.tensor;
  c.gen = o.gen;
  return std::make_shared<SharedMLP>(widths, c);
}

}  // namespace pg::nn
