#include "models/nn/batchnorm.h"

#include <cmath>

#include "autograd/grad_mode.h"

namespace pg::nn {

BatchNorm1d::BatchNorm1d(int64_t num_features, BatchNormOptions opts)
    : Module("BatchNorm1d"), c_(num_features), opts_(opts) {
  PG_CHECK(num_features > 0, "BatchNorm1d: num_features must be positive, got ", num_features);
  PG_CHECK(std::isfinite(opts.eps) && opts.eps > 0.0, "BatchNorm1d: eps must be > 0, got ", opts.eps);
  PG_CHECK(opts.momentum >= 0.0 && opts.momentum <= 1.0, "BatchNorm1d: momentum must lie in [0, 1], got ",
           opts.momentum);
  PG_CHECK(is_floating(opts.tensor.dtype), "BatchNorm1d: dtype must be float32 or float64, got ",
           dtype_name(opts.tensor.dtype));
  NoGradGuard ng;
  if (opts.affine) {
    weight = register_parameter("weight", ones({num_features}, opts.tensor));
    bias = register_parameter("bias", zeros({num_features}, opts.tensor));
  }
  if (opts.track_running_stats) {
    running_mean = register_buffer("running_mean", zeros({num_features}, opts.tensor));
    running_var = register_buffer("running_var", ones({num_features}, opts.tensor));
  }
}

void BatchNorm1d::set_momentum(double m) {
  PG_CHECK(m >= 0.0 && m <= 1.0, "BatchNorm1d: momentum must lie in [0, 1], got ", m);
  opts_.momentum = m;
}

BatchNormArgs BatchNorm1d::args() const {
  BatchNormArgs a;
  a.gamma = weight;
  a.beta = bias;
  a.running_mean = running_mean;
  a.running_var = running_var;
  a.training = is_training();
  a.momentum = opts_.momentum;
  a.eps = opts_.eps;
  return a;
}

Tensor BatchNorm1d::forward(const Tensor& x) const {
  PG_CHECK(x.defined() && x.dim() >= 2 && x.size(-1) == c_, "BatchNorm1d: expected input [..., ", c_,
           "] with at least 2 dims (channels last), got ",
           x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  return batch_norm(x, args());
}

void set_bn_momentum(Module& model, double momentum) {
  for (auto& [name, m] : model.named_modules(/*include_frozen=*/false)) {
    if (auto* bn = dynamic_cast<BatchNorm1d*>(m.get())) bn->set_momentum(momentum);
  }
}

}  // namespace pg::nn
