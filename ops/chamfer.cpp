// chamfer / hausdorff: validation, dispatch, loss assembly and the autograd nodes. The backward
// turns the incoming gradients into one coefficient per (point, direction) and runs the
// nearest-neighbour backward of kernels/knn.h in each direction.
#include "ops/chamfer.h"
#include "ops/view.h"
#include "ops/check.h"

#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/chamfer.h"
#include "kernels/knn.h"
#include "ops/knn.h"

namespace pg {

namespace {

struct NnPair {
  Tensor a, b;  // contiguous inputs (with autograd history)
  Tensor dist_a, idx_a, dist_b, idx_b;
};

NnPair nearest(const char* op, const Tensor& a, const Tensor& b, ChamferDirection dir, bool check_finite,
               ChamferImpl impl) {
  check::cloud_pair(op, "a", a, "b", b);
  if (check_finite) {
    check::finite(op, "a", a);
    check::finite(op, "b", b);
  }
  NnPair p;
  p.a = a.contiguous();
  p.b = b.contiguous();
  const int64_t B = a.size(0), N = a.size(1), M = b.size(1);
  const TensorOptions iopt(DType::i64, a.device());
  if (dir != ChamferDirection::b_to_a) {
    p.dist_a = empty({B, N}, p.a.options());
    p.idx_a = empty({B, N}, iopt);
  }
  if (dir != ChamferDirection::a_to_b) {
    p.dist_b = empty({B, M}, p.a.options());
    p.idx_b = empty({B, M}, iopt);
  }
  const ChamferImpl path = impl;
  on_backend(a.device(), op,
             [&]<class Bk>() { kernels::chamfer_nn<Bk>(p.a, p.b, p.dist_a, p.idx_a, p.dist_b, p.idx_b, path); });
  return p;
}

// grad_a / grad_b from per-point coefficients of the two directions (either undefined).
std::vector<Tensor> nn_grads(const autograd::BackwardContext& ctx, const Tensor& a, const Tensor& b,
                             const Tensor& idx_a, const Tensor& coef_a, const Tensor& idx_b, const Tensor& coef_b) {
  Tensor ga = ctx.needs_input_grad[0] ? zeros(a.shape(), a.options()) : Tensor();
  Tensor gb = ctx.needs_input_grad[1] ? zeros(b.shape(), b.options()) : Tensor();
  on_backend(a.device(), "chamfer_backward", [&]<class Bk>() {
    if (coef_a.defined()) kernels::nn_backward<Bk>(ga, gb, a, b, idx_a, coef_a);
    if (coef_b.defined()) kernels::nn_backward<Bk>(gb, ga, b, a, idx_b, coef_b);
  });
  return {ga, gb};
}

}  // namespace

ChamferResult chamfer(const Tensor& a, const Tensor& b, const ChamferOptions& opts) {
  NnPair p = nearest("chamfer", a, b, opts.direction, opts.check_finite, opts.impl);
  const int64_t B = a.size(0), N = a.size(1), M = b.size(1);
  const int mode = kernels::chamfer_int(opts.reduction);
  ChamferResult res;
  res.dist_a = p.dist_a;
  res.idx_a = p.idx_a;
  res.dist_b = p.dist_b;
  res.idx_b = p.idx_b;
  res.loss = empty(mode == 2 ? Shape{B} : Shape{}, p.a.options());
  on_backend(a.device(), "chamfer", [&]<class Bk>() {
    Tensor sum_a, sum_b;
    if (p.dist_a.defined()) {
      sum_a = empty({B}, p.a.options());
      kernels::row_stats<Bk>(p.dist_a, sum_a, Tensor(), Tensor());
    }
    if (p.dist_b.defined()) {
      sum_b = empty({B}, p.a.options());
      kernels::row_stats<Bk>(p.dist_b, sum_b, Tensor(), Tensor());
    }
    kernels::chamfer_loss<Bk>(res.loss, sum_a, sum_b, N, M, mode);
  });

  std::vector<Tensor> outputs{res.loss};
  if (p.dist_a.defined()) outputs.push_back(p.dist_a);
  if (p.dist_b.defined()) outputs.push_back(p.dist_b);
  const bool has_a = p.dist_a.defined(), has_b = p.dist_b.defined();
  const double scale_a = mode == 0 ? 1.0 / static_cast<double>(B * N) : mode == 1 ? 1.0 : 1.0 / static_cast<double>(N);
  const double scale_b = mode == 0 ? 1.0 / static_cast<double>(B * M) : mode == 1 ? 1.0 : 1.0 / static_cast<double>(M);
  autograd::record("chamfer", {p.a, p.b}, outputs, {p.a, p.b, p.idx_a, p.idx_b},
                   [=](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                     const Tensor& as = ctx.saved[0];
                     const Tensor& bs = ctx.saved[1];
                     const Tensor g_loss = g[0].contiguous();
                     Tensor coef_a, coef_b;
                     size_t k = 1;
                     on_backend(as.device(), "chamfer_backward", [&]<class Bk>() {
                       if (has_a) {
                         coef_a = empty({B, N}, as.options());
                         kernels::chamfer_coef<Bk>(coef_a, g[k++].contiguous(), g_loss, mode, scale_a);
                       }
                       if (has_b) {
                         coef_b = empty({B, M}, as.options());
                         kernels::chamfer_coef<Bk>(coef_b, g[k++].contiguous(), g_loss, mode, scale_b);
                       }
                     });
                     return nn_grads(ctx, as, bs, ctx.saved[2], coef_a, ctx.saved[3], coef_b);
                   });
  return res;
}

Tensor hausdorff(const Tensor& a, const Tensor& b, const HausdorffOptions& opts) {
  NnPair p = nearest("hausdorff", a, b, opts.direction, opts.check_finite, opts.impl);
  const int64_t B = a.size(0);
  const int mode = kernels::chamfer_int(opts.reduction);
  const int combine = kernels::chamfer_int(opts.combine);
  const bool squared = opts.squared;
  const TensorOptions fopt = p.a.options();
  const TensorOptions iopt(DType::i64, a.device());
  Tensor max_a, arg_a, max_b, arg_b;
  Tensor out = empty(mode == 2 ? Shape{B} : Shape{}, fopt);
  Tensor per_cloud = empty({B}, fopt);
  Tensor which = empty({B}, TensorOptions(DType::i32, a.device()));
  on_backend(a.device(), "hausdorff", [&]<class Bk>() {
    if (p.dist_a.defined()) {
      max_a = empty({B}, fopt);
      arg_a = empty({B}, iopt);
      kernels::row_stats<Bk>(p.dist_a, Tensor(), max_a, arg_a);
    }
    if (p.dist_b.defined()) {
      max_b = empty({B}, fopt);
      arg_b = empty({B}, iopt);
      kernels::row_stats<Bk>(p.dist_b, Tensor(), max_b, arg_b);
    }
    kernels::hausdorff_combine<Bk>(out, per_cloud, which, max_a, max_b, combine, squared, mode);
  });
  autograd::record(
      "hausdorff", {p.a, p.b}, {out}, {p.a, p.b, p.idx_a, p.idx_b, arg_a, arg_b, max_a, max_b, which},
      [=](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
        const Tensor& as = ctx.saved[0];
        const Tensor& bs = ctx.saved[1];
        const Tensor& wh = ctx.saved[8];
        const Tensor g_out = g[0].contiguous();
        Tensor coef_a, coef_b;
        on_backend(as.device(), "hausdorff_backward", [&]<class Bk>() {
          if (ctx.saved[2].defined()) {
            coef_a = empty({B, as.size(1)}, as.options());
            kernels::hausdorff_coef<Bk>(coef_a, g_out, ctx.saved[4], ctx.saved[6], wh, 0, combine, squared, mode);
          }
          if (ctx.saved[3].defined()) {
            coef_b = empty({B, bs.size(1)}, as.options());
            kernels::hausdorff_coef<Bk>(coef_b, g_out, ctx.saved[5], ctx.saved[7], wh, 1, combine, squared, mode);
          }
        });
        return nn_grads(ctx, as, bs, ctx.saved[2], coef_a, ctx.saved[3], coef_b);
      });
  return out;
}

}  // namespace pg
