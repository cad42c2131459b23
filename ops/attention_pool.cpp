// attention_pool: validation, dispatch of the fused kernels and the autograd node.
#include "ops/attention_pool.h"

#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/attention_pool.h"
#include "ops/check.h"
#include "ops/linalg.h"
#include "ops/view.h"

namespace pg {

AttentionPoolResult attention_pool(const Tensor& features, const Tensor& query, const Tensor& coords) {
  const char* op = "attention_pool";
  check::floating(op, "features", features);
  check::floating(op, "query", query);
  check::floating(op, "coords", coords);
  check::same_as(op, "features", features, "query", query);
  check::same_as(op, "features", features, "coords", coords);
  check::rank(op, "features", features, 3, "[B, N, C]");
  check::rank(op, "coords", coords, 3, "[B, N, D]");
  PG_CHECK(query.dim() == 2 || query.dim() == 3, "attention_pool: query must be [B, T, C] or [B, C], got shape ",
           shape_str(query.shape()));
  const int64_t B = features.size(0), N = features.size(1), C = features.size(2), D = coords.size(2);
  const bool squeeze = query.dim() == 2;
  const int64_t T = squeeze ? 1 : query.size(1);
  PG_CHECK(query.size(0) == B && coords.size(0) == B, "attention_pool: batch sizes differ: features has ", B,
           ", query has ", query.size(0), ", coords has ", coords.size(0));
  PG_CHECK(coords.size(1) == N, "attention_pool: features has ", N, " points but coords has ", coords.size(1));
  PG_CHECK(query.size(query.dim() - 1) == C, "attention_pool: features have ", C, " channels but query has ",
           query.size(query.dim() - 1));
  PG_CHECK(B >= 1 && N >= 1 && C >= 1 && D >= 1 && T >= 1, "attention_pool: empty dimension (features ",
           shape_str(features.shape()), ", query ", shape_str(query.shape()), ", coords ", shape_str(coords.shape()),
           ")");

  const Tensor f = features.contiguous();
  const Tensor q = (squeeze ? reshape(query, {B, 1, C}) : query).contiguous();
  const Tensor x = coords.contiguous();
  Tensor out = empty({B, T, D}, f.options());
  Tensor w = empty({B, T, N}, f.options());
  on_backend(f.device(), "attention_pool", [&]<class Bk>() { kernels::attention_pool_forward<Bk>(f, q, x, out, w); });
  autograd::record("attention_pool", {f, q, x}, {out, w}, {f, q, x, w},
                   [](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                     const Tensor& fs = ctx.saved[0];
                     const Tensor& qs = ctx.saved[1];
                     const Tensor& xs = ctx.saved[2];
                     const Tensor& ws = ctx.saved[3];
                     const Tensor g_out = g[0].contiguous();
                     Tensor gf, gq, gx;
                     if (ctx.needs_input_grad[0] || ctx.needs_input_grad[1]) {
                       const Tensor g_w = g[1].contiguous();
                       Tensor ds = empty(ws.shape(), ws.options());
                       on_backend(fs.device(), "attention_pool_backward", [&]<class Bk>() {
                         kernels::attention_pool_backward_scores<Bk>(xs, ws, g_out, g_w, ds);
                       });
                       if (ctx.needs_input_grad[0]) gf = bmm(ds.transpose(1, 2), qs);
                       if (ctx.needs_input_grad[1]) gq = bmm(ds, fs);
                     }
                     if (ctx.needs_input_grad[2]) gx = bmm(ws.transpose(1, 2), g_out);
                     return std::vector<Tensor>{gf, gq, gx};
                   });
  AttentionPoolResult res;
  res.output = squeeze ? reshape(out, {B, D}) : out;
  res.weights = squeeze ? reshape(w, {B, N}) : w;
  return res;
}

}  // namespace pg
