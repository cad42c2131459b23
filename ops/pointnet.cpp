// shared_mlp / batch_norm / max_pool_points: validation, GEMMs (ops/raw_gemm.h), dispatch of the
// fused epilogue and backward kernels (kernels/pointnet.h) and the autograd nodes.
//
// shared_mlp and batch_norm share one pipeline on a [R, C] matrix z (the GEMM output, or x
// itself for batch_norm):  [channel_stats] → bn_fold (per-channel scale/shift/center/invstd,
// running-stat update) → affine_act (y = act(scale·z + shift)). The backward is
// act_backward_reduce (Σ gu, Σ gu·x̂, and dz in the same pass when BN is not in training mode)
// → [bn_backward_coef → bn_backward_apply] → GEMMs for dW and dx.
#include "ops/pointnet.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/pointnet.h"
#include "ops/check.h"
#include "ops/raw_gemm.h"
#include "ops/elementwise.h"

namespace pg {

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::none:
      return "none";
    case Activation::relu:
      return "relu";
    case Activation::leaky_relu:
      return "leaky_relu";
    case Activation::selu:
      return "selu";
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

// A fresh (autograd-free) contiguous view of contiguous `t` with another shape.
Tensor raw_view(const Tensor& t, const Shape& shape) {
  return detail::make_view(t, shape, contiguous_strides(shape), t.offset());
}

// An optional per-channel [C] tensor.
void check_channel_vec(const Tensor& t, int64_t C, const Tensor& ref, const char* op, const char* name,
                       const char* what) {
  if (!t.defined()) return;
  check::floating(op, name, t);
  check::same_as(op, name, t, "x", ref);
  PG_CHECK(t.dim() == 1 && t.size(0) == C, op, ": ", name, " must have shape [", C, "] (", what, "), got ",
           shape_str(t.shape()));
}

void check_bn_args(const BatchNormArgs& a, int64_t C, int64_t R, const Tensor& x, const char* op, const char* what) {
  check_channel_vec(a.gamma, C, x, op, "gamma (weight)", what);
  check_channel_vec(a.beta, C, x, op, "beta (bias)", what);
  check_channel_vec(a.running_mean, C, x, op, "running_mean", what);
  check_channel_vec(a.running_var, C, x, op, "running_var", what);
  PG_CHECK(a.running_mean.defined() == a.running_var.defined(), op,
           ": running_mean and running_var must be both given or both undefined");
  if (a.running_mean.defined()) {
    check::contiguous_buffer(op, "running_mean", a.running_mean);
    check::contiguous_buffer(op, "running_var", a.running_var);
  }
  PG_CHECK(std::isfinite(a.momentum) && a.momentum >= 0.0 && a.momentum <= 1.0, op,
           ": momentum must lie in [0, 1], got ", a.momentum);
  PG_CHECK(std::isfinite(a.eps) && a.eps > 0.0, op, ": eps must be > 0, got ", a.eps);
  const bool batch_stats = a.training || !a.running_mean.defined();
  PG_CHECK(!batch_stats || R > 1, op, ": expected more than 1 value per channel when using batch statistics, got ", R,
           " rows (input shape ", shape_str(x.shape()), ")");
}

struct Fold {
  Tensor scale, shift, center, invstd;  // [C]
  bool batch_stats = false;
};

// Per-channel statistics (when BN uses the batch), running-stat update and the folded affine.
Fold fold(const Tensor& z, const Tensor& bias, const BatchNormArgs* bn, PointnetImpl path, const char* op) {
  const int64_t R = z.size(0), C = z.size(1);
  Fold f;
  f.scale = empty({C}, z.options());
  f.shift = empty({C}, z.options());
  f.center = empty({C}, z.options());
  f.invstd = empty({C}, z.options());
  kernels::BnFoldArgs a;
  a.bn = bn != nullptr;
  a.bias = bias;
  a.rows = R;
  if (bn) {
    a.gamma = bn->gamma;
    a.beta = bn->beta;
    a.running_mean = bn->running_mean;
    a.running_var = bn->running_var;
    a.momentum = bn->momentum;
    a.eps = bn->eps;
    f.batch_stats = bn->training || !bn->running_mean.defined();
    a.update_running = bn->training && bn->running_mean.defined();
    if (f.batch_stats) {
      a.batch_mean = empty({C}, z.options());
      a.batch_var = empty({C}, z.options());
      on_backend(z.device(), op, [&]<class B>() { kernels::channel_stats<B>(z, a.batch_mean, a.batch_var, path); });
    }
  }
  on_backend(z.device(), op, [&]<class B>() { kernels::bn_fold<B>(a, C, f.scale, f.shift, f.center, f.invstd); });
  if (a.update_running) {
    bn->running_mean.bump_version();
    bn->running_var.bump_version();
  }
  return f;
}

struct AffineGrads {
  Tensor gz, dbias, dgamma, dbeta;
};

// Gradients of y = act(scale·z + shift) (with the BN / bias semantics of `fold`) given gy [R, C].
AffineGrads affine_backward(const Tensor& gy, const Tensor& z, const Fold& f, Activation act, double slope, bool bn,
                            bool need_gz, bool need_bias, bool need_gamma, bool need_beta, PointnetImpl path,
                            const char* op) {
  const int64_t R = z.size(0), C = z.size(1);
  AffineGrads r;
  const Device dev = z.device();
  if (bn && f.batch_stats) {
    Tensor sum_g = empty({C}, z.options()), sum_gx = empty({C}, z.options());
    on_backend(dev, op, [&]<class B>() {
      kernels::act_backward_reduce<B>(gy, z, f.scale, f.shift, f.center, f.invstd, act, slope, sum_g, sum_gx, Tensor(),
                                      Tensor(), path);
    });
    if (need_gz) {
      Tensor cb = empty({C}, z.options()), cd = empty({C}, z.options());
      r.gz = empty({R, C}, z.options());
      on_backend(dev, op, [&]<class B>() {
        kernels::bn_backward_coef<B>(sum_g, sum_gx, f.scale, R, cb, cd);
        kernels::bn_backward_apply<B>(gy, z, f.scale, f.shift, f.center, f.invstd, act, slope, cb, cd, r.gz, path);
      });
    }
    if (need_bias) r.dbias = zeros({C}, z.options());  // a bias before training BN has no effect
    if (need_gamma) r.dgamma = sum_gx;
    if (need_beta) r.dbeta = sum_g;
    return r;
  }
  // No BN, or BN with running statistics: dz = coef·gu with coef = scale (BN) or 1.
  if (!bn && act == Activation::none && !need_bias) {
    if (need_gz) r.gz = gy;
    return r;
  }
  const bool identity_gz = !bn && act == Activation::none;
  Tensor sum_g = empty({C}, z.options());
  Tensor sum_gx = need_gamma ? empty({C}, z.options()) : Tensor();
  Tensor gz = need_gz && !identity_gz ? empty({R, C}, z.options()) : Tensor();
  on_backend(dev, op, [&]<class B>() {
    kernels::act_backward_reduce<B>(gy, z, f.scale, f.shift, f.center, f.invstd, act, slope, sum_g, sum_gx, gz,
                                    bn ? f.scale : Tensor(), path);
  });
  r.gz = identity_gz && need_gz ? gy : gz;
  if (need_bias) {
    NoGradGuard ng;
    r.dbias = bn ? mul(sum_g, f.scale) : sum_g;
  }
  r.dgamma = sum_gx;
  if (need_beta) r.dbeta = sum_g;
  return r;
}

// c[m, n] = op(a) · op(b) for contiguous row-major operands (op(a) m×k, op(b) k×n).
void gemm(const Tensor& c, const Tensor& a, bool ta, const Tensor& b, bool tb, int64_t m, int64_t n, int64_t k,
          const char* op) {
  detail::raw_gemm(c, a, std::max<int64_t>(1, ta ? m : k), ta, b, std::max<int64_t>(1, tb ? k : n), tb, m, n, k, 0.0, op);
}

Shape with_last(const Shape& s, int64_t last) {
  Shape out(s);
  out.back() = last;
  return out;
}

}  // namespace

Tensor shared_mlp(const Tensor& x, const Tensor& weight, const Tensor& bias, const SharedMLPOptions& opts) {
  const char* op = "shared_mlp";
  check::floating(op, "x", x);
  check::floating(op, "weight", weight);
  PG_CHECK(x.dim() >= 2, op, ": x must have shape [..., Cin] with at least 2 dims (e.g. [B, N, Cin]), got ",
           shape_str(x.shape()));
  PG_CHECK(weight.dim() == 2, op, ": weight must have shape [Cout, Cin], got ", shape_str(weight.shape()));
  check::same_as(op, "weight", weight, "x", x);
  const int64_t Cin = x.size(-1), Cout = weight.size(0);
  PG_CHECK(weight.size(1) == Cin, op, ": channel mismatch: x has ", Cin, " input channels (shape ",
           shape_str(x.shape()), ") but weight expects ", weight.size(1), " (shape ", shape_str(weight.shape()), ")");
  check_channel_vec(bias, Cout, x, op, "bias", "Cout of weight");
  const int64_t R = x.numel() / std::max<int64_t>(Cin, 1);
  const int64_t rows = Cin == 0 ? shape_numel(Shape(x.shape().begin(), x.shape().end() - 1)) : R;
  const BatchNormArgs* bn = opts.bn ? &*opts.bn : nullptr;
  if (bn) check_bn_args(*bn, Cout, rows, x, op, "Cout of weight");
  PG_CHECK(std::isfinite(opts.negative_slope), op, ": negative_slope must be finite, got ", opts.negative_slope);
  const Activation act = opts.activation;
  const double slope = opts.negative_slope;
  const PointnetImpl path = opts.impl;

  const Tensor xc = raw_view(contiguous_raw(x), {rows, Cin});
  const Tensor wc = contiguous_raw(weight);
  const Tensor gamma = bn ? bn->gamma : Tensor(), beta = bn ? bn->beta : Tensor();
  const std::vector<Tensor> inputs{x, weight, bias, gamma, beta};
  const bool need_grad = autograd::any_requires_grad(inputs);

  Tensor z = empty({rows, Cout}, x.options());
  gemm(z, xc, false, wc, true, rows, Cout, Cin, op);
  const Fold f = fold(z, bias, bn, path, op);
  // The backward reads z only through the activation derivative and x̂: without BN and without
  // an activation it is not saved, and the epilogue (bias only) runs in place.
  const bool save_z = bn != nullptr || act != Activation::none;
  Tensor y = z;
  if (bn || bias.defined() || act != Activation::none) {
    if (need_grad && save_z) y = empty({rows, Cout}, x.options());
    on_backend(x.device(), op, [&]<class B>() { kernels::affine_act<B>(z, f.scale, f.shift, y, act, slope, path); });
  }
  Tensor out = raw_view(y, with_last(x.shape(), Cout));
  const Shape xshape = x.shape();
  const bool has_bn = bn != nullptr;
  const bool batch_stats = f.batch_stats;
  autograd::record(op, inputs, {out}, {xc, wc, save_z ? z : Tensor(), f.scale, f.shift, f.center, f.invstd},
                   [act, slope, has_bn, batch_stats, path, rows, Cin, Cout, xshape](
                       const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                     const Tensor& xs = ctx.saved[0];
                     const Tensor& ws = ctx.saved[1];
                     const Tensor gy = raw_view(contiguous_raw(g[0]), {rows, Cout});
                     // Unsaved z (no BN, no activation): the kernels then read no z value; gy stands in.
                     const Tensor& zs = ctx.saved[2].defined() ? ctx.saved[2] : gy;
                     const Fold fs{ctx.saved[3], ctx.saved[4], ctx.saved[5], ctx.saved[6], batch_stats};
                     const bool need_gz = ctx.needs_input_grad[0] || ctx.needs_input_grad[1];
                     AffineGrads r =
                         affine_backward(gy, zs, fs, act, slope, has_bn, need_gz, ctx.needs_input_grad[2],
                                         ctx.needs_input_grad[3], ctx.needs_input_grad[4], path, "shared_mlp backward");
                     std::vector<Tensor> out(5);
                     if (ctx.needs_input_grad[0]) {
                       Tensor gx = empty({rows, Cin}, gy.options());
                       gemm(gx, r.gz, false, ws, false, rows, Cin, Cout, "shared_mlp backward");
                       out[0] = raw_view(gx, xshape);
                     }
                     if (ctx.needs_input_grad[1]) {
                       Tensor gw = empty({Cout, Cin}, gy.options());
                       gemm(gw, r.gz, true, xs, false, Cout, Cin, rows, "shared_mlp backward");
                       out[1] = gw;
                     }
                     out[2] = r.dbias;
                     out[3] = r.dgamma;
                     out[4] = r.dbeta;
                     return out;
                   });
  return out;
}

Tensor batch_norm(const Tensor& x, const BatchNormArgs& args, PointnetImpl impl) {
  const char* op = "batch_norm";
  check::floating(op, "x", x);
  PG_CHECK(x.dim() >= 2, op, ": x must have shape [B, C] or [B, N, C] (channels last), got ", shape_str(x.shape()));
  const int64_t C = x.size(-1);
  const int64_t R = shape_numel(Shape(x.shape().begin(), x.shape().end() - 1));
  check_bn_args(args, C, R, x, op, "C = last dim of x");
  const PointnetImpl path = impl;
  const Tensor xc = raw_view(contiguous_raw(x), {R, C});
  const Fold f = fold(xc, Tensor(), &args, path, op);
  Tensor y = empty({R, C}, x.options());
  on_backend(x.device(), op,
             [&]<class B>() { kernels::affine_act<B>(xc, f.scale, f.shift, y, Activation::none, 0.0, path); });
  Tensor out = raw_view(y, x.shape());
  const Shape xshape = x.shape();
  const bool batch_stats = f.batch_stats;
  autograd::record(
      op, {x, args.gamma, args.beta}, {out}, {xc, f.scale, f.shift, f.center, f.invstd},
      [batch_stats, path, R, C, xshape](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
        const Fold fs{ctx.saved[1], ctx.saved[2], ctx.saved[3], ctx.saved[4], batch_stats};
        const Tensor gy = raw_view(contiguous_raw(g[0]), {R, C});
        AffineGrads r =
            affine_backward(gy, ctx.saved[0], fs, Activation::none, 0.0, true, ctx.needs_input_grad[0], false,
                            ctx.needs_input_grad[1], ctx.needs_input_grad[2], path, "batch_norm backward");
        std::vector<Tensor> out(3);
        if (ctx.needs_input_grad[0]) out[0] = raw_view(contiguous_raw(r.gz), xshape);
        out[1] = r.dgamma;
        out[2] = r.dbeta;
        return out;
      });
  return out;
}

Tensor batch_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps) {
  BatchNormArgs a;
  a.gamma = gamma;
  a.beta = beta;
  a.running_mean = running_mean;
  a.running_var = running_var;
  a.training = training;
  a.momentum = momentum;
  a.eps = eps;
  return batch_norm(x, a);
}

MaxPoolResult max_pool_points(const Tensor& x, PointnetImpl impl) {
  const char* op = "max_pool_points";
  check::floating(op, "x", x);
  PG_CHECK(x.dim() == 3, op, ": x must have shape [B, N, C], got ", shape_str(x.shape()));
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
  PG_CHECK(N >= 1, op, ": cannot max-pool over zero points (x has shape ", shape_str(x.shape()), ")");
  const Tensor xc = contiguous_raw(x);
  MaxPoolResult r;
  r.values = empty({B, C}, x.options());
  r.indices = empty({B, C}, TensorOptions(DType::i64, x.device()));
  on_backend(x.device(), op,
             [&]<class Bk>() { kernels::max_pool_points<Bk>(xc, r.values, r.indices, impl, 0); });
  const Shape xshape = x.shape();
  autograd::record(op, {x}, {r.values}, {r.indices},
                   [xshape](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                     Tensor gx = empty(xshape, g[0].options());
                     const Tensor gc = contiguous_raw(g[0]);
                     on_backend(gx.device(), "max_pool_points backward",
                                [&]<class Bk>() { kernels::max_pool_points_backward<Bk>(gc, ctx.saved[0], gx); });
                     return std::vector<Tensor>{gx};
                   });
  return r;
}

}  // namespace pg
