#include "autograd/gradcheck.h"

#include <cmath>
#include <random>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"

namespace pg::autograd {

namespace {

double dot_host(const Tensor& out, const std::vector<double>& v) {
  const std::vector<double> o = out.to_vector<double>();
  PG_CHECK(o.size() == v.size(), "gradcheck: the function's output size changed between calls");
  double s = 0.0;
  for (size_t i = 0; i < o.size(); ++i) s += o[i] * v[i];
  return s;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions opts) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) continue;
    PG_CHECK(!inputs[i].requires_grad() || inputs[i].dtype() == DType::f64, "gradcheck: input ", i,
             " requires grad but is ", dtype_name(inputs[i].dtype()), " (gradcheck needs float64)");
  }
  GradcheckResult res;

  // Analytic side: fresh leaves so the caller's .grad is untouched.
  std::vector<Tensor> leaves;
  for (const auto& t : inputs) {
    if (!t.defined()) {
      leaves.emplace_back();
      continue;
    }
    Tensor c = empty(t.shape(), t.options());
    detail::copy_raw(c, t);
    if (t.requires_grad()) c.requires_grad_(true);
    leaves.push_back(c);
  }
  Tensor out;
  {
    const bool prev = grad_enabled();
    set_grad_enabled(true);
    out = fn(leaves);
    set_grad_enabled(prev);
  }
  PG_CHECK(out.defined(), "gradcheck: the function returned an undefined tensor");
  PG_CHECK(out.dtype() == DType::f64, "gradcheck: the function must return float64, got ", dtype_name(out.dtype()));
  std::mt19937_64 rng(opts.seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> v(static_cast<size_t>(out.numel()));
  for (double& x : v) x = dist(rng);
  if (out.requires_grad()) {
    Tensor vt = empty(out.shape(), TensorOptions(DType::f64, out.device()));
    detail::copy_raw(vt, from_vector(v, out.shape()));
    backward(out, vt);
  }

  double worst_margin = -INFINITY;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    const Tensor g = leaves[i].grad();
    std::vector<double> analytic(static_cast<size_t>(inputs[i].numel()), 0.0);
    if (g.defined()) analytic = g.to_vector<double>();

    // Numeric side: perturb a private contiguous host copy element by element.
    std::vector<double> base = inputs[i].to_vector<double>();
    std::vector<Tensor> args;
    for (size_t k = 0; k < inputs.size(); ++k) args.push_back(inputs[k].defined() ? inputs[k].detach() : Tensor());
    NoGradGuard ng;
    for (size_t j = 0; j < base.size(); ++j) {
      auto eval = [&](double delta) {
        std::vector<double> p = base;
        p[j] += delta;
        Tensor pt = empty(inputs[i].shape(), TensorOptions(DType::f64, inputs[i].device()));
        detail::copy_raw(pt, from_vector(p, inputs[i].shape()));
        args[i] = pt;
        return dot_host(fn(args), v);
      };
      const double numeric = (eval(opts.eps) - eval(-opts.eps)) / (2.0 * opts.eps);
      const double a = analytic[j];
      const double abs_err = std::fabs(a - numeric);
      const double rel_err = abs_err / std::max(std::fabs(numeric), 1e-12);
      const double tol = opts.atol + opts.rtol * std::fabs(numeric);
      res.checked++;
      res.max_abs_err = std::max(res.max_abs_err, abs_err);
      if (abs_err > opts.atol) res.max_rel_err = std::max(res.max_rel_err, rel_err);
      if (!(abs_err <= tol)) res.ok = false;  // NaN fails too
      const double margin = std::isnan(abs_err) ? INFINITY : abs_err - tol;
      if (margin > worst_margin) {
        worst_margin = margin;
        res.worst_input = static_cast<int>(i);
        res.worst_index = static_cast<int64_t>(j);
        res.worst_analytic = a;
        res.worst_numeric = numeric;
      }
    }
  }
  std::ostringstream os;
  os << (res.ok ? "gradcheck passed" : "gradcheck FAILED") << ": " << res.checked << " elements, max abs err "
     << res.max_abs_err << ", max rel err " << res.max_rel_err;
  if (res.worst_input >= 0) {
    os << "; worst: input " << res.worst_input << " element " << res.worst_index << " analytic " << res.worst_analytic
       << " numeric " << res.worst_numeric;
  }
  res.message = os.str();
  return res;
}

}  // namespace pg::autograd
