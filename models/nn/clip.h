// Gradient clipping (PyTorch's torch.nn.utils semantics), in place on the parameters' .grad.
// Parameters without a gradient are ignored. Runs without recording (no autograd).
//
// clip_grad_norm_(params, max_norm, norm_type): the total norm is the norm_type-norm of the
//   vector of all gradient elements (= the norm of the per-parameter norms); norm_type may be
//   any p > 0 or INFINITY (max |g|). When total > max_norm every gradient is multiplied by
//   max_norm / (total + 1e-6). Returns the total norm BEFORE clipping (0 when no gradient).
//   With error_if_nonfinite a NaN/Inf total norm throws (and nothing is scaled).
// clip_grad_value_(params, v): every gradient element is clamped to [−v, v] (v >= 0).
#pragma once

#include <vector>

#include "core/tensor.h"

namespace pg::nn {

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);
// The total gradient norm without clipping (same definition as clip_grad_norm_).
double grad_norm(const std::vector<Tensor>& params, double norm_type = 2.0);

}  // namespace pg::nn
