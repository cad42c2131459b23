#include "models/nn/grouped_linear.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "models/nn/init.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/view.h"

namespace pg::nn {

Tensor grouped_linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  PG_CHECK(weight.defined() && weight.dim() == 3, "grouped_linear: weight must be [K, in, out], got ",
           weight.defined() ? shape_str(weight.shape()) : std::string("undefined"));
  const int64_t k = weight.size(0), in = weight.size(1), out = weight.size(2);
  PG_CHECK(x.defined() && x.dim() == 3 && x.size(0) == k && x.size(2) == in, "grouped_linear: expected input [", k,
           ", M, ", in, "] for weight ", shape_str(weight.shape()), ", got ",
           x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  const Tensor y = bmm(x, weight);  // one batched GEMM over the K groups
  if (!bias.defined()) return y;
  PG_CHECK(bias.dim() == 2 && bias.size(0) == k && bias.size(1) == out, "grouped_linear: bias must be [", k, ", ", out,
           "], got ", shape_str(bias.shape()));
  return add(y, bias.unsqueeze(1));
}

GroupedLinear::GroupedLinear(int64_t groups, int64_t in_features, int64_t out_features, LinearOptions opts)
    : Module("GroupedLinear"), groups_(groups), in_(in_features), out_(out_features) {
  PG_CHECK(groups > 0 && in_features > 0 && out_features > 0,
           "GroupedLinear: groups, in_features and out_features must be positive, got ", groups, ", ", in_features,
           " and ", out_features);
  PG_CHECK(is_floating(opts.tensor.dtype), "GroupedLinear: parameters must be float32 or float64, got ",
           dtype_name(opts.tensor.dtype));
  NoGradGuard ng;
  Tensor w = empty({groups, in_features, out_features}, opts.tensor);
  Tensor b = opts.bias ? empty({groups, out_features}, opts.tensor) : Tensor();
  // Every group is its own layer with fan_in = in (fans() of a 3-D tensor would mix K in).
  const double fan_in = static_cast<double>(in_features);
  switch (opts.init) {
    case LinearInit::pytorch: {
      const double bound = 1.0 / std::sqrt(fan_in);
      init::uniform_(w, -bound, bound, opts.gen);
      if (b.defined()) init::uniform_(b, -bound, bound, opts.gen);
      break;
    }
    case LinearInit::xavier: {
      const double bound = std::sqrt(6.0 / (fan_in + static_cast<double>(out_features)));
      init::uniform_(w, -bound, bound, opts.gen);
      if (b.defined()) init::zeros_(b);
      break;
    }
    case LinearInit::lecun_normal:
      init::normal_(w, 0.0, 1.0 / std::sqrt(fan_in), opts.gen);
      if (b.defined()) init::zeros_(b);
      break;
    case LinearInit::zeros:
      init::zeros_(w);
      if (b.defined()) init::zeros_(b);
      break;
  }
  weight = register_parameter("weight", w);
  if (opts.bias) bias = register_parameter("bias", b);
}

Tensor GroupedLinear::forward(const Tensor& x) const {
  PG_CHECK(x.defined() && x.dim() == 3 && x.size(0) == groups_ && x.size(2) == in_, "GroupedLinear: expected input [",
           groups_, ", M, ", in_, "], got ", x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  return grouped_linear(x, weight, bias);
}

}  // namespace pg::nn
