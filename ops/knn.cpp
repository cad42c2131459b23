// knn: validation, dispatch and the autograd node.
#include "ops/knn.h"
#include "ops/view.h"

#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/knn.h"
#include "ops/check.h"

namespace pg {

KnnResult knn(const Tensor& query, const Tensor& ref, int64_t k, const KnnOptions& opts) {
  check::cloud_pair("knn", "query", query, "ref", ref);
  const int64_t B = query.size(0), Q = query.size(1), R = ref.size(1);
  PG_CHECK(k >= 1, "knn: k must be >= 1, got ", k);
  PG_CHECK(k <= R, "knn: k (", k, ") is larger than the reference cloud (", R, " points)");
  if (opts.check_finite) {
    check::finite("knn", "query", query);
    check::finite("knn", "ref", ref);
  }
  const Tensor q = query.contiguous();
  const Tensor r = ref.contiguous();
  KnnResult res;
  res.dist2 = empty({B, Q, k}, q.options());
  res.idx = empty({B, Q, k}, TensorOptions(DType::i64, q.device()));
  const KnnImpl path = opts.impl;
  on_backend(q.device(), "knn", [&]<class Bk>() { kernels::knn_forward<Bk>(q, r, k, res.dist2, res.idx, path); });
  autograd::record("knn", {q, r}, {res.dist2}, {q, r, res.idx},
                   [](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                     const Tensor& qs = ctx.saved[0];
                     const Tensor& rs = ctx.saved[1];
                     const Tensor& ix = ctx.saved[2];
                     Tensor gq = ctx.needs_input_grad[0] ? zeros(qs.shape(), qs.options()) : Tensor();
                     Tensor gr = ctx.needs_input_grad[1] ? zeros(rs.shape(), rs.options()) : Tensor();
                     const Tensor coef = g[0].contiguous();
                     on_backend(qs.device(), "knn_backward",
                                [&]<class Bk>() { kernels::nn_backward<Bk>(gq, gr, qs, rs, ix, coef); });
                     return std::vector<Tensor>{gq, gr};
                   });
  return res;
}

}  // namespace pg
