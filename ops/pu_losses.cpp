// repulsion_loss / uniform_loss: compositions of differentiable ops around fixed index
// selections (see ops/pu_losses.h for the exact TF formulas reproduced).
#include "ops/pu_losses.h"

#include <cmath>
#include <numbers>

#include "ops/ball_query.h"
#include "ops/elementwise.h"
#include "ops/fps.h"
#include "ops/index.h"
#include "ops/knn.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "ops/check.h"

namespace pg {

Tensor repulsion_loss(const Tensor& pred, const RepulsionOptions& opts) {
  check::cloud("repulsion_loss", "pred", pred);
  const bool pugan = opts.variant == RepulsionVariant::PUGAN;
  const double h = opts.h.value_or(pugan ? 0.001 : 0.03);
  PG_CHECK(std::isfinite(opts.radius) && opts.radius > 0.0, "repulsion_loss: radius must be finite and > 0, got ",
           opts.radius);
  PG_CHECK(std::isfinite(h) && h > 0.0, "repulsion_loss: h must be finite and > 0, got ", h);
  PG_CHECK(opts.num_neighbors >= 1, "repulsion_loss: num_neighbors must be >= 1, got ", opts.num_neighbors);
  PG_CHECK(opts.nsample >= opts.num_neighbors + 1, "repulsion_loss: nsample (", opts.nsample,
           ") must be >= num_neighbors + 1 (", opts.num_neighbors + 1, ")");
  const int64_t K = opts.num_neighbors;
  const BallQueryResult bq = ball_query(pred, pred, opts.radius, opts.nsample);
  const Tensor grouped = group_points(pred, bq.idx);                 // [B, N, S, 3]
  const Tensor d2 = sum(square(grouped - unsqueeze(pred, 2)), {3});  // [B, N, S]
  const Tensor sel = smallest_k(d2, K + 1);                          // [B, N, K + 1], no grad
  const Tensor nb = slice(gather(d2, 2, sel), 2, 1, K + 1);          // drop the point itself
  if (pugan) return mean(relu(rsub(h, nb)));
  const Tensor d2c = clamp_min(nb, 1e-12);
  const Tensor w = exp(mul(d2c, -1.0 / (h * h)));
  return mean(rsub(opts.radius, mul(sqrt(d2c), w)));
}

Tensor uniform_loss(const Tensor& pred, const UniformOptions& opts) {
  check::cloud("uniform_loss", "pred", pred);
  PG_CHECK(!opts.percentages.empty(), "uniform_loss: percentages is empty");
  PG_CHECK(std::isfinite(opts.radius) && opts.radius > 0.0, "uniform_loss: radius must be finite and > 0, got ",
           opts.radius);
  const int64_t B = pred.size(0), N = pred.size(1);
  const int64_t npoint = static_cast<int64_t>(static_cast<double>(N) * opts.seed_fraction);
  PG_CHECK(npoint >= 1, "uniform_loss: N·seed_fraction = ", N, "·", opts.seed_fraction,
           " gives no seed point (need >= 1)");
  for (double p : opts.percentages) {
    PG_CHECK(p > 0.0 && p <= 1.0, "uniform_loss: percentage ", p, " is outside (0, 1]");
    const int64_t S = static_cast<int64_t>(static_cast<double>(N) * p);
    PG_CHECK(S >= 2, "uniform_loss: nsample = floor(N·p) = floor(", N, "·", p, ") = ", S,
             " is < 2 (a group needs two points; use more points or larger percentages)");
  }
  const Tensor seeds = fps(pred, npoint).indices;  // [B, P], no grad
  const Tensor new_xyz = group_points(pred.detach(), unsqueeze(seeds, 2)).reshape({B, npoint, 3});
  KnnOptions ko;
  ko.check_finite = false;  // fps has checked pred
  Tensor total;
  for (double p : opts.percentages) {
    const int64_t S = static_cast<int64_t>(static_cast<double>(N) * p);
    const double r = std::sqrt(p * opts.radius);
    const BallQueryResult bq = ball_query(new_xyz, pred, r, S);
    const Tensor g = group_points(pred, bq.idx).reshape({B * npoint, S, 3});
    const Tensor d2 = select(knn(g, g, 2, ko).dist2, 2, 1);  // nearest other slot, [B·P, S]
    const Tensor d = sqrt(abs(add(d2, 1e-8)));
    const double expect = std::sqrt(std::numbers::pi * opts.radius * opts.radius * p / static_cast<double>(S));
    const Tensor u = div(square(sub(d, expect)), expect + 1e-8);
    const Tensor term = mul(mean(u), (100.0 * p) * (100.0 * p));
    total = total.defined() ? add(total, term) : term;
  }
  return div(total, static_cast<double>(opts.percentages.size()));
}

}  // namespace pg
