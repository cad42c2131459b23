#include "models/nn/dropout.h"

#include "ops/nn.h"

namespace pg::nn {

Dropout::Dropout(double p, Generator* gen) : Module("Dropout"), p_(p), gen_(gen) {
  PG_CHECK(p >= 0.0 && p <= 1.0, "Dropout: p must lie in [0, 1], got ", p);
}

Tensor Dropout::forward(const Tensor& x) const {
  return dropout(x, p_, is_training(), gen_);
}

}  // namespace pg::nn
