// soft_projection: validation, kNN, dispatch of the fused kernels and the autograd node.
#include "ops/soft_projection.h"

#include <cmath>

#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/soft_projection.h"
#include "ops/elementwise.h"
#include "ops/knn.h"
#include "ops/view.h"
#include "ops/check.h"

namespace pg {

SoftProjectionResult soft_projection(const Tensor& query, const Tensor& points, const Tensor& t,
                                     const SoftProjectionOptions& opts) {
  constexpr const char* op = "soft_projection";
  check::cloud_pair(op, "query", query, "points", points);
  const int64_t B = query.size(0), M = query.size(1), N = points.size(1), k = opts.k;
  PG_CHECK(k >= 1, "soft_projection: k must be >= 1, got ", k);
  PG_CHECK(k <= N, "soft_projection: k (", k, ") is larger than the input cloud (", N, " points)");
  PG_CHECK(std::isfinite(opts.min_sigma) && opts.min_sigma >= 0.0,
           "soft_projection: min_sigma must be finite and >= 0, got ", opts.min_sigma);
  check::defined(op, "t", t);
  PG_CHECK(t.numel() == 1 && t.dim() <= 1, "soft_projection: t must be a scalar (0-d or [1]) tensor, got shape ",
           shape_str(t.shape()));
  check::same_as(op, "t", t, "query", query);
  check::finite(op, "query", query);
  check::finite(op, "points", points);
  const double tv = t.item_double();
  PG_CHECK(std::isfinite(tv), "soft_projection: the temperature t is not finite (", tv, ")");
  const double t2 = tv * tv;
  const double sigma = t2 > opts.min_sigma ? t2 : opts.min_sigma;
  const bool hard = opts.hard;
  const bool sigma_positive = query.dtype() == DType::f32 ? static_cast<float>(sigma) > 0.0f : sigma > 0.0;
  PG_CHECK(hard || sigma_positive, "soft_projection: sigma = max(t^2, min_sigma) is 0 in ", dtype_name(query.dtype()),
           " (t = ", tv, ", min_sigma = ", opts.min_sigma, "); soft weights need sigma > 0");
  const double dsigma_dt = t2 > opts.min_sigma ? 2.0 * tv : 0.0;

  const Tensor q = query.contiguous();
  const Tensor p = points.contiguous();
  KnnOptions ko;
  ko.check_finite = false;  // checked above
  SoftProjectionResult res;
  res.idx = knn(q.detach(), p.detach(), k, ko).idx;
  res.projected = empty({B, M, 3}, q.options());
  res.weights = empty({B, M, k}, q.options());
  res.sigma = scalar_tensor(sigma, q.options());
  on_backend(q.device(), op, [&]<class Bk>() {
    kernels::soft_projection_forward<Bk>(q, p, res.idx, sigma, hard, res.projected, res.weights);
  });

  const Shape t_shape = t.shape();
  autograd::record(op, {q, p, t}, {res.projected, res.weights, res.sigma}, {q, p, res.idx, res.weights},
                   [=](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                     const Tensor& qs = ctx.saved[0];
                     const Tensor& ps = ctx.saved[1];
                     const Tensor& ix = ctx.saved[2];
                     const Tensor& ws = ctx.saved[3];
                     const bool need_q = ctx.needs_input_grad[0], need_p = ctx.needs_input_grad[1],
                                need_t = ctx.needs_input_grad[2];
                     Tensor gq = need_q ? zeros(qs.shape(), qs.options()) : Tensor();
                     Tensor gp = need_p ? zeros(ps.shape(), ps.options()) : Tensor();
                     Tensor dsig = need_t && !hard ? zeros({}, qs.options()) : Tensor();
                     if (need_q || need_p || dsig.defined()) {
                       const Tensor g_proj = g[0].contiguous();
                       const Tensor g_w = g[1].contiguous();
                       on_backend(qs.device(), "soft_projection_backward", [&]<class Bk>() {
                         kernels::soft_projection_backward<Bk>(qs, ps, ix, ws, sigma, hard, g_proj, g_w, gq, gp, dsig);
                       });
                     }
                     Tensor gt;
                     if (need_t) {
                       const Tensor total = dsig.defined() ? add(dsig, g[2]) : g[2];
                       gt = reshape(mul(total, dsigma_dt), t_shape);
                     }
                     return std::vector<Tensor>{gq, gp, gt};
                   });
  return res;
}

}  // namespace pg
