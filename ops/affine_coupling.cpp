// affine_coupling / affine_coupling_inverse: validation, dispatch of the fused passes
// (kernels/coupling.h) and the autograd nodes.
#include "ops/affine_coupling.h"

#include <cmath>

#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/coupling.h"
#include "ops/check.h"
#include "ops/view.h"

namespace pg {

namespace {

void validate(const char* op, const char* in_name, const Tensor& in, const Tensor& s_raw, const Tensor& t,
              double clamp) {
  check::floating(op, in_name, in);
  check::floating(op, "s_raw", s_raw);
  check::floating(op, "t", t);
  check::same_as(op, "s_raw", s_raw, in_name, in);
  check::same_as(op, "t", t, in_name, in);
  PG_CHECK(in.dim() >= 2, op, ": ", in_name, " must have rank >= 2 ([B, ...], e.g. [B, N, C2]), got shape ",
           shape_str(in.shape()));
  check::same_shape(op, "s_raw", s_raw, in_name, in);
  check::same_shape(op, "t", t, in_name, in);
  PG_CHECK(in.numel() > 0, op, ": empty input ", in_name, " of shape ", shape_str(in.shape()));
  PG_CHECK(std::isfinite(clamp) && clamp > 0.0, op, ": clamp must be finite and > 0, got ", clamp);
}

}  // namespace

AffineCouplingResult affine_coupling(const Tensor& x2, const Tensor& s_raw, const Tensor& t, double clamp) {
  constexpr const char* kOp = "affine_coupling";
  validate(kOp, "x2", x2, s_raw, t, clamp);
  const Tensor xc = x2.contiguous(), sc = s_raw.contiguous(), tc = t.contiguous();
  const int64_t B = x2.size(0);
  AffineCouplingResult r;
  r.y = empty(x2.shape(), x2.options());
  r.logdet = empty({B}, x2.options());
  on_backend(x2.device(), kOp, [&]<class Bk>() {
    kernels::coupling_forward<Bk>(xc, sc, tc, r.y, r.logdet, clamp, false);
  });
  autograd::record(kOp, {x2, s_raw, t}, {r.y, r.logdet}, {xc, sc},
                   [clamp](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                     const Tensor& xs = ctx.saved[0];
                     const Tensor& ss = ctx.saved[1];
                     const Tensor gy = g[0].contiguous(), gld = g[1].contiguous();
                     Tensor dx = empty(xs.shape(), xs.options()), ds = empty(xs.shape(), xs.options());
                     on_backend(xs.device(), "affine_coupling backward", [&]<class Bk>() {
                       kernels::coupling_backward<Bk>(xs, ss, gy, gld, dx, ds, Tensor(), clamp, false);
                     });
                     const std::vector<bool>& need = ctx.needs_input_grad;
                     return std::vector<Tensor>{need[0] ? dx : Tensor(), need[1] ? ds : Tensor(),
                                                need[2] ? gy : Tensor()};
                   });
  return r;
}

Tensor affine_coupling_inverse(const Tensor& y2, const Tensor& s_raw, const Tensor& t, double clamp) {
  constexpr const char* kOp = "affine_coupling_inverse";
  validate(kOp, "y2", y2, s_raw, t, clamp);
  const Tensor yc = y2.contiguous(), sc = s_raw.contiguous(), tc = t.contiguous();
  Tensor x = empty(y2.shape(), y2.options());
  on_backend(y2.device(), kOp, [&]<class Bk>() {
    kernels::coupling_forward<Bk>(yc, sc, tc, x, Tensor(), clamp, true);
  });
  autograd::record(kOp, {y2, s_raw, t}, {x}, {x, sc},
                   [clamp](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                     const Tensor& xs = ctx.saved[0];
                     const Tensor& ss = ctx.saved[1];
                     const Tensor gx = g[0].contiguous();
                     Tensor dy = empty(xs.shape(), xs.options()), ds = empty(xs.shape(), xs.options());
                     Tensor dt = empty(xs.shape(), xs.options());
                     on_backend(xs.device(), "affine_coupling_inverse backward", [&]<class Bk>() {
                       kernels::coupling_backward<Bk>(xs, ss, gx, Tensor(), dy, ds, dt, clamp, true);
                     });
                     const std::vector<bool>& need = ctx.needs_input_grad;
                     return std::vector<Tensor>{need[0] ? dy : Tensor(), need[1] ? ds : Tensor(),
                                                need[2] ? dt : Tensor()};
                   });
  return x;
}

}  // namespace pg
