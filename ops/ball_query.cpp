// ball_query / group_points / smallest_k: validation and dispatch.
#include "ops/ball_query.h"
#include "ops/view.h"

#include <cmath>

#include "core/parallel_for.h"
#include "kernels/ball_query.h"
#include "ops/index.h"
#include "ops/knn.h"

namespace pg {

BallQueryResult ball_query(const Tensor& query, const Tensor& ref, double radius, int64_t nsample) {
  detail::check_point_cloud("ball_query", "query", query);
  detail::check_point_cloud("ball_query", "ref", ref);
  detail::check_cloud_pair("ball_query", "query", query, "ref", ref);
  PG_CHECK(nsample >= 1, "ball_query: nsample must be >= 1, got ", nsample);
  PG_CHECK(std::isfinite(radius) && radius > 0.0, "ball_query: radius must be finite and > 0, got ", radius);
  const Tensor q = query.detach().contiguous();
  const Tensor r = ref.detach().contiguous();
  const int64_t B = q.size(0), M = q.size(1);
  BallQueryResult res;
  res.idx = empty({B, M, nsample}, TensorOptions(DType::i64, q.device()));
  res.count = empty({B, M}, TensorOptions(DType::i64, q.device()));
  const double r2 = radius * radius;
  on_backend(q.device(), "ball_query",
             [&]<class Bk>() { kernels::ball_query<Bk>(q, r, r2, nsample, res.idx, res.count); });
  return res;
}

Tensor group_points(const Tensor& points, const Tensor& idx) {
  PG_CHECK(points.defined() && idx.defined(), "group_points: undefined input");
  PG_CHECK(points.dim() == 3, "group_points: points must be [B, N, C], got shape ", shape_str(points.shape()));
  PG_CHECK(idx.dim() == 3, "group_points: idx must be [B, M, S], got shape ", shape_str(idx.shape()));
  PG_CHECK(idx.dtype() == DType::i64, "group_points: idx must be int64, got ", dtype_name(idx.dtype()));
  PG_CHECK(idx.size(0) == points.size(0), "group_points: batch sizes differ: points has ", points.size(0),
           " clouds, idx has ", idx.size(0));
  const int64_t B = points.size(0), C = points.size(2), M = idx.size(1), S = idx.size(2);
  const Tensor flat = idx.contiguous().reshape({B, M * S, 1}).expand({B, M * S, C}).contiguous();
  return gather(points, 1, flat).reshape({B, M, S, C});  // gather validates devices and ranges
}

Tensor smallest_k(const Tensor& values, int64_t k) {
  PG_CHECK(values.defined(), "smallest_k: values is an undefined tensor");
  PG_CHECK(values.dim() >= 1, "smallest_k: values must have at least one dim");
  PG_CHECK(is_floating(values.dtype()), "smallest_k: values must be float32 or float64, got ",
           dtype_name(values.dtype()));
  const int64_t S = values.size(values.dim() - 1);
  PG_CHECK(k >= 1 && k <= S, "smallest_k: k must be in [1, ", S, "], got ", k);
  Shape shape = values.shape();
  shape.back() = k;
  const Tensor v = values.detach().contiguous();
  Tensor out = empty(shape, TensorOptions(DType::i64, v.device()));
  on_backend(v.device(), "smallest_k", [&]<class Bk>() { kernels::smallest_k<Bk>(v, k, out); });
  return out;
}

}  // namespace pg
