#include "models/nn/linear.h"

#include "autograd/grad_mode.h"
#include "models/nn/init.h"
#include "ops/linalg.h"

namespace pg::nn {

const char* linear_init_name(LinearInit init) {
  switch (init) {
    case LinearInit::pytorch:
      return "pytorch";
    case LinearInit::xavier:
      return "xavier";
    case LinearInit::zeros:
      return "zeros";
    case LinearInit::lecun_normal:
      return "lecun_normal";
  }
  return "?";
}

LinearInit parse_linear_init(const std::string& name) {
  for (LinearInit i : {LinearInit::pytorch, LinearInit::xavier, LinearInit::zeros, LinearInit::lecun_normal}) {
    if (name == linear_init_name(i)) return i;
  }
  PG_FAIL("Linear: unknown init '", name, "' (expected pytorch, xavier, zeros or lecun_normal)");
}

void init_linear_params(const Tensor& weight, const Tensor& bias, LinearInit init, Generator* gen) {
  switch (init) {
    case LinearInit::pytorch:
      init::default_linear_init_(weight, bias, gen);
      return;
    case LinearInit::xavier:
      init::xavier_linear_init_(weight, bias, gen);
      return;
    case LinearInit::lecun_normal:
      init::lecun_linear_init_(weight, bias, gen);
      return;
    case LinearInit::zeros:
      init::zeros_(weight);
      if (bias.defined()) init::zeros_(bias);
      return;
  }
  PG_FAIL("init_linear_params: unknown LinearInit");
}

Linear::Linear(int64_t in_features, int64_t out_features, LinearOptions opts)
    : Module("Linear"), in_(in_features), out_(out_features) {
  PG_CHECK(in_features > 0 && out_features > 0, "Linear: in_features and out_features must be positive, got ",
           in_features, " and ", out_features);
  PG_CHECK(is_floating(opts.tensor.dtype), "Linear: parameters must be float32 or float64, got ",
           dtype_name(opts.tensor.dtype));
  NoGradGuard ng;
  Tensor w = empty({out_features, in_features}, opts.tensor);
  Tensor b = opts.bias ? empty({out_features}, opts.tensor) : Tensor();
  init_linear_params(w, b, opts.init, opts.gen);
  weight = register_parameter("weight", w);
  if (opts.bias) bias = register_parameter("bias", b);
}

Tensor Linear::forward(const Tensor& x) const {
  PG_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == in_, "Linear: expected input [..., ", in_, "], got ",
           x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  return linear(x, weight, bias);
}

}  // namespace pg::nn
