// gradcheck: compares the analytic vector-Jacobian product of `fn` with float64 central
// differences. With a fixed random cotangent v (same shape as fn's output), the analytic side is
// one backward of v; the numeric side is (v·f(x + eps e_j) − v·f(x − eps e_j)) / 2eps for every
// element j of every input that requires grad. An element passes when
// |analytic − numeric| ≤ atol + rtol·|numeric|. The result names the worst element.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
  uint64_t seed = 1234;  // of the random cotangent
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_err = 0.0;  // over all checked elements
  double max_rel_err = 0.0;
  int worst_input = -1;      // input index of the element with the worst (err − tol) margin
  int64_t worst_index = -1;  // flat element index in that input
  double worst_analytic = 0.0;
  double worst_numeric = 0.0;
  int64_t checked = 0;       // number of elements compared
  std::string message;       // human-readable summary (also on success)
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

// `inputs` must be float64; those with requires_grad() are checked. The inputs are not
// modified (perturbations act on private copies).
GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions opts = {});

}  // namespace pg::autograd
