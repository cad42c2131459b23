// Determinism check shared by the train-step benches: two models built and trained from the
// same seed must end with identical parameters.
#pragma once

#include "models/nn/module.h"

namespace pg::bench {

// Largest |a − b| over all parameters of two models of the same architecture (inf on NaN).
double max_param_diff(const nn::Module& a, const nn::Module& b);

// max |a − b| / max(1, max |b|) over two tensors of equal size (any device): an absolute error for
// values of order one, relative above; infinity for a size mismatch or a NaN difference.
double scaled_max_diff(const Tensor& a, const Tensor& b);

}  // namespace pg::bench
