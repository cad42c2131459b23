#include "models/nn/clip.h"

#include <algorithm>
#include <cmath>

#include "autograd/grad_mode.h"
#include "core/parallel_for.h"
#include "kernels/optim.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/reduce.h"

namespace pg::nn {

namespace {

// The gradients that exist, made contiguous (a non-contiguous gradient is replaced by a
// contiguous copy so the in-place kernels can run on it).
std::vector<Tensor> contiguous_grads(const std::vector<Tensor>& params) {
  std::vector<Tensor> out;
  for (const Tensor& p : params) {
    PG_CHECK(p.defined(), "clip_grad: undefined parameter");
    Tensor g = p.grad();
    if (!g.defined()) continue;
    PG_CHECK(is_floating(g.dtype()), "clip_grad: gradient dtype ", dtype_name(g.dtype()), " is not a float type");
    if (!g.is_contiguous()) {
      Tensor c = empty(g.shape(), g.options());
      detail::copy_raw(c, g);
      p.set_grad(c);
      g = c;
    }
    out.push_back(g);
  }
  return out;
}

double total_norm(const std::vector<Tensor>& grads, double norm_type) {
  PG_CHECK(norm_type > 0.0, "clip_grad_norm_: norm_type must be > 0 (or INFINITY), got ", norm_type);
  NoGradGuard ng;
  const bool inf = std::isinf(norm_type);
  // One partial per (device, dtype) group, so only one host sync per group.
  std::vector<std::vector<Tensor>> groups;
  for (const Tensor& g : grads) {
    if (g.numel() == 0) continue;
    Tensor part;
    if (inf) {
      part = max(abs(g));
    } else if (norm_type == 2.0) {
      part = sum(square(g));
    } else if (norm_type == 1.0) {
      part = sum(abs(g));
    } else {
      part = sum(pow(abs(g), norm_type));
    }
    auto it = std::find_if(groups.begin(), groups.end(), [&](const std::vector<Tensor>& v) {
      return v.front().device() == part.device() && v.front().dtype() == part.dtype();
    });
    if (it == groups.end()) {
      groups.push_back({part});
    } else {
      it->push_back(part);
    }
  }
  double acc = 0.0;
  for (const auto& v : groups) {
    const Tensor s = stack(v);
    const double x = inf ? max(s).item<double>() : sum(s).item<double>();
    acc = inf ? std::max(acc, x) : acc + x;
    if (std::isnan(x)) acc = x;
  }
  if (inf) return acc;
  if (norm_type == 1.0) return acc;
  if (norm_type == 2.0) return std::sqrt(acc);
  return std::pow(acc, 1.0 / norm_type);
}

}  // namespace

double grad_norm(const std::vector<Tensor>& params, double norm_type) {
  return total_norm(contiguous_grads(params), norm_type);
}

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type, bool error_if_nonfinite) {
  PG_CHECK(max_norm >= 0.0, "clip_grad_norm_: max_norm must be >= 0, got ", max_norm);
  const std::vector<Tensor> grads = contiguous_grads(params);
  const double total = total_norm(grads, norm_type);
  if (error_if_nonfinite) {
    PG_CHECK(std::isfinite(total), "clip_grad_norm_: the total norm of order ", norm_type, " of the gradients is ",
             total, " (non-finite); set error_if_nonfinite = false to clip anyway");
  }
  const double coef = max_norm / (total + 1e-6);
  // NaN totals give a NaN coefficient: scale (spreading the NaN) as PyTorch does.
  if (coef < 1.0 || std::isnan(coef)) {
    for (const Tensor& g : grads) {
      on_backend(g.device(), "clip_grad_norm_", [&]<class B>() { kernels::scale_inplace<B>(g, coef); });
      g.bump_version();
    }
  }
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  PG_CHECK(clip_value >= 0.0, "clip_grad_value_: clip_value must be >= 0, got ", clip_value);
  for (const Tensor& g : contiguous_grads(params)) {
    on_backend(g.device(), "clip_grad_value_",
               [&]<class B>() { kernels::clamp_inplace<B>(g, -clip_value, clip_value); });
    g.bump_version();
  }
}

}  // namespace pg::nn
