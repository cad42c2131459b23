// Dropout: in training, zeroes each element with probability p and scales the rest by 1/(1 − p)
// (ops/nn.h dropout, seeded from `gen` or the default generator); identity in eval mode.
// TF's keep_prob k corresponds to p = 1 − k (PointNet: keep 0.7 → p = 0.3).
#pragma once

#include "core/random.h"
#include "models/nn/module.h"

namespace pg::nn {

class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }
  double p() const { return p_; }
  // The generator used for the masks (null: the default generator). Not owned.
  void set_generator(Generator* gen) { gen_ = gen; }

 private:
  double p_;
  Generator* gen_;
};

}  // namespace pg::nn
