// softmax family, losses and dropout: validation, dispatch to kernels/nn.h and autograd nodes.
// mse_loss and dropout are compositions of differentiable public ops (their gradients come from
// those ops); softmax, log_softmax, cross_entropy, nll_loss and kl_div have their own nodes.
#include "ops/nn.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/nn.h"
#include "ops/check.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace pg {

const char* reduction_name(Reduction r) {
  switch (r) {
    case Reduction::mean:
      return "mean";
    case Reduction::sum:
      return "sum";
    case Reduction::none:
      return "none";
    case Reduction::batchmean:
      return "batchmean";
  }
  return "?";
}

namespace {

Tensor contiguous_raw(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = empty(t.shape(), t.options());
  detail::copy_raw(out, t);
  return out;
}

Tensor softmax_impl(const Tensor& x, int64_t dim, bool log, SoftmaxImpl impl) {
  const char* op = log ? "log_softmax" : "softmax";
  check::floating(op, "x", x);
  const int64_t nd = x.dim();
  const int64_t d = wrap_dim(dim, std::max<int64_t>(nd, 1), op);
  int64_t outer = 1, D = 1, inner = 1;
  for (int64_t i = 0; i < nd; ++i) {
    if (i < d) outer *= x.size(i);
    if (i == d) D = x.size(i);
    if (i > d) inner *= x.size(i);
  }
  const Tensor xc = contiguous_raw(x);
  Tensor y = empty(x.shape(), x.options());
  const SoftmaxImpl path = impl;
  if (y.numel() > 0) {
    on_backend(x.device(), op, [&]<class B>() { kernels::softmax_forward<B>(xc, y, outer, D, inner, log, path); });
  }
  autograd::record(op, {x}, {y}, {y}, [=](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
    const Tensor& ys = ctx.saved[0];
    const Tensor gy = contiguous_raw(g[0]);
    Tensor gx = empty(ys.shape(), ys.options());
    if (gx.numel() > 0) {
      on_backend(gx.device(), op,
                 [&]<class B>() { kernels::softmax_backward<B>(ys, gy, gx, outer, D, inner, log, path); });
    }
    return std::vector<Tensor>{gx};
  });
  return y;
}

// Validates a [B, C] input and its [B] integer targets (range included).
void check_class_target(const Tensor& input, const Tensor& target, const char* op, const char* iname) {
  check::floating(op, iname, input);
  check::rank(op, iname, input, 2, "[B, C]");
  check::index_dtype(op, "target", target);
  check::same_device(op, "target", target, iname, input);
  PG_CHECK(target.dim() == 1 && target.size(0) == input.size(0), op, ": target must have shape [", input.size(0),
           "] for ", iname, " of shape ", shape_str(input.shape()), ", got ", shape_str(target.shape()));
  const int64_t C = input.size(1);
  PG_CHECK(C >= 1 || input.size(0) == 0, op, ": ", iname, " has no classes (shape ", shape_str(input.shape()), ")");
  check::index_range(op, "target", target, C, "the number of classes");
}

void check_reduction(Reduction r, const char* op) {
  PG_CHECK(r != Reduction::batchmean, op, ": reduction 'batchmean' is only accepted by kl_div");
}

// Reduces per-element loss terms (no recording; callers record their own node).
Tensor reduce_terms(const Tensor& terms, Reduction r) {
  NoGradGuard ng;
  switch (r) {
    case Reduction::mean:
      return mean(terms);
    case Reduction::sum:
      return sum(terms);
    case Reduction::batchmean:
      return mul(sum(terms), 1.0 / static_cast<double>(terms.dim() ? terms.size(0) : 1));
    default:
      return terms;
  }
}

// Shared by cross_entropy (softmax_of_lp) and nll_loss.
Tensor class_loss(const Tensor& input, const Tensor& target, Reduction reduction, double eps, bool from_logits,
                  const char* op) {
  const int64_t B = input.size(0), C = input.size(1);
  const Tensor ic = contiguous_raw(input);
  const Tensor tc = contiguous_raw(target);
  Tensor lp = ic;
  if (from_logits) {
    lp = empty({B, C}, input.options());
    if (lp.numel() > 0) {
      on_backend(input.device(), op,
                 [&]<class Bk>() { kernels::softmax_forward<Bk>(ic, lp, B, C, 1, true, kernels::SoftmaxImpl::Auto); });
    }
  }
  Tensor rows = empty({B}, input.options());
  if (B > 0) on_backend(input.device(), op, [&]<class Bk>() { kernels::nll_rows<Bk>(lp, tc, rows, eps); });
  Tensor loss = reduce_terms(rows, reduction);
  const double scale = reduction == Reduction::mean ? 1.0 / static_cast<double>(B) : 1.0;
  const bool g_scalar = reduction != Reduction::none;
  autograd::record(op, {input}, {loss}, {from_logits ? lp : Tensor(), tc},
                   [=](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                     const Tensor gc = contiguous_raw(g[0]);
                     Tensor gx = empty({B, C}, gc.options());
                     if (gx.numel() > 0) {
                       on_backend(gx.device(), op, [&]<class Bk>() {
                         kernels::nll_backward<Bk>(gx, ctx.saved[0], ctx.saved[1], gc, g_scalar, scale, eps,
                                                   from_logits);
                       });
                     }
                     return std::vector<Tensor>{gx};
                   });
  return loss;
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(x, dim, false, SoftmaxImpl::Auto);
}
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(x, dim, true, SoftmaxImpl::Auto);
}
Tensor softmax(const Tensor& x, int64_t dim, SoftmaxImpl impl) {
  return softmax_impl(x, dim, false, impl);
}
Tensor log_softmax(const Tensor& x, int64_t dim, SoftmaxImpl impl) {
  return softmax_impl(x, dim, true, impl);
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction, double label_smoothing) {
  const char* op = "cross_entropy";
  check_reduction(reduction, op);
  check_class_target(logits, target, op, "logits");
  PG_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, op, ": label_smoothing must lie in [0, 1], got ",
           label_smoothing);
  return class_loss(logits, target, reduction, label_smoothing, true, op);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction) {
  const char* op = "nll_loss";
  check_reduction(reduction, op);
  check_class_target(log_probs, target, op, "log_probs");
  return class_loss(log_probs, target, reduction, 0.0, false, op);
}

Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction, bool log_target) {
  const char* op = "kl_div";
  check::floating(op, "input", input);
  check::floating(op, "target", target);
  check::same_as(op, "input", input, "target", target);
  check::same_shape(op, "input", input, "target", target);
  const Tensor ic = contiguous_raw(input), tc = contiguous_raw(target);
  Tensor terms = empty(input.shape(), input.options());
  const int64_t n = terms.numel();
  if (n > 0) {
    on_backend(input.device(), op, [&]<class B>() { kernels::kl_div_forward<B>(ic, tc, terms, log_target); });
  }
  Tensor loss = reduce_terms(terms, reduction);
  double scale = 1.0;
  if (reduction == Reduction::mean) scale = 1.0 / static_cast<double>(n);
  if (reduction == Reduction::batchmean) scale = 1.0 / static_cast<double>(input.dim() ? input.size(0) : 1);
  const bool g_scalar = reduction != Reduction::none;
  autograd::record(op, {input, target}, {loss}, {ic, tc},
                   [=](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                     const Tensor gc = contiguous_raw(g[0]);
                     const Tensor& is = ctx.saved[0];
                     Tensor gin = ctx.needs_input_grad[0] ? empty(is.shape(), is.options()) : Tensor();
                     Tensor gt = ctx.needs_input_grad[1] ? empty(is.shape(), is.options()) : Tensor();
                     if (is.numel() > 0) {
                       on_backend(is.device(), op, [&]<class B>() {
                         kernels::kl_div_backward<B>(is, ctx.saved[1], gc, g_scalar, scale, gin, gt, log_target);
                       });
                     }
                     return std::vector<Tensor>{gin, gt};
                   });
  return loss;
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  const char* op = "mse_loss";
  check_reduction(reduction, op);
  check::floating(op, "input", input);
  check::floating(op, "target", target);
  check::same_as(op, "input", input, "target", target);
  check::same_shape(op, "input", input, "target", target);
  const Tensor d = sub(input, target);
  const Tensor sq = mul(d, d);
  switch (reduction) {
    case Reduction::mean:
      return mean(sq);
    case Reduction::sum:
      return sum(sq);
    default:
      return sq;
  }
}

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  const char* op = "dropout";
  check::floating(op, "x", x);
  PG_CHECK(std::isfinite(p) && p >= 0.0 && p <= 1.0, op, ": p must lie in [0, 1], got ", p);
  if (!training || p == 0.0) return x;
  if (p == 1.0) return mul(x, 0.0);
  Tensor mask = bernoulli(x.shape(), 1.0 - p, x.options(), gen);
  {
    NoGradGuard ng;
    mask = mul(mask, 1.0 / (1.0 - p));
  }
  return mul(x, mask);
}

}  // namespace pg
