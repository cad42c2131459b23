// knn: validation, dispatch and the autograd node; plus the geometry ops' shared validation.
#include "ops/knn.h"
#include "ops/view.h"

#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/knn.h"

namespace pg {

namespace detail {

void check_point_cloud(const char* op, const char* name, const Tensor& t) {
  PG_CHECK(t.defined(), op, ": ", name, " is an undefined tensor");
  PG_CHECK(t.dim() == 3 && t.size(2) == 3, op, ": ", name, " must be a [B, n, 3] point cloud, got shape ",
           shape_str(t.shape()));
  PG_CHECK(is_floating(t.dtype()), op, ": ", name, " must be float32 or float64, got ", dtype_name(t.dtype()));
  PG_CHECK(t.size(0) >= 1, op, ": ", name, " has an empty batch (shape ", shape_str(t.shape()), ")");
  PG_CHECK(t.size(1) >= 1, op, ": ", name, " is an empty cloud (shape ", shape_str(t.shape()), ")");
  PG_CHECK(t.size(1) < (int64_t(1) << 31), op, ": ", name, " has ", t.size(1),
           " points per cloud; at most 2^31 - 1 are supported");
}

void check_cloud_pair(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b) {
  PG_CHECK(a.device() == b.device(), op, ": ", name_a, " is on ", a.device().str(), " but ", name_b, " is on ",
           b.device().str());
  PG_CHECK(a.dtype() == b.dtype(), op, ": ", name_a, " is ", dtype_name(a.dtype()), " but ", name_b, " is ",
           dtype_name(b.dtype()));
  PG_CHECK(a.size(0) == b.size(0), op, ": batch sizes differ: ", name_a, " has ", a.size(0), " clouds, ", name_b,
           " has ", b.size(0));
}

void check_finite_coords(const char* op, const char* name, const Tensor& t) {
  const Tensor c = t.is_contiguous() ? t : t.detach().contiguous();
  const bool ok = on_backend(c.device(), op, [&]<class B>() { return kernels::all_finite<B>(c); });
  PG_CHECK(ok, op, ": ", name, " contains NaN or Inf coordinates");
}

}  // namespace detail

namespace {

kernels::KnnPath to_path(KnnImpl impl) {
  switch (impl) {
    case KnnImpl::Auto:
      return kernels::KnnPath::Auto;
    case KnnImpl::Register:
      return kernels::KnnPath::Register;
    case KnnImpl::List:
      return kernels::KnnPath::List;
    case KnnImpl::Generic:
      return kernels::KnnPath::Generic;
  }
  return kernels::KnnPath::Auto;
}

}  // namespace

KnnResult knn(const Tensor& query, const Tensor& ref, int64_t k, const KnnOptions& opts) {
  detail::check_point_cloud("knn", "query", query);
  detail::check_point_cloud("knn", "ref", ref);
  detail::check_cloud_pair("knn", "query", query, "ref", ref);
  const int64_t B = query.size(0), Q = query.size(1), R = ref.size(1);
  PG_CHECK(k >= 1, "knn: k must be >= 1, got ", k);
  PG_CHECK(k <= R, "knn: k (", k, ") is larger than the reference cloud (", R, " points)");
  if (opts.check_finite) {
    detail::check_finite_coords("knn", "query", query);
    detail::check_finite_coords("knn", "ref", ref);
  }
  const Tensor q = query.contiguous();
  const Tensor r = ref.contiguous();
  KnnResult res;
  res.dist2 = empty({B, Q, k}, q.options());
  res.idx = empty({B, Q, k}, TensorOptions(DType::i64, q.device()));
  const kernels::KnnPath path = to_path(opts.impl);
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
