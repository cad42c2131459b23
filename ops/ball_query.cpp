// ball_query / group_points / smallest_k: validation and dispatch.
#include "ops/ball_query.h"
#include "ops/view.h"
#include "ops/check.h"

#include <cmath>

#include "core/parallel_for.h"
#include "kernels/ball_query.h"
#include "ops/index.h"
#include "ops/knn.h"

namespace pg {

BallQueryResult ball_query(const Tensor& query, const Tensor& ref, double radius, int64_t nsample) {
  check::cloud_pair("ball_query", "query", query, "ref", ref);
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
  check::defined("group_points", "points", points);
  check::dtype("group_points", "idx", idx, DType::i64);
  check::rank("group_points", "points", points, 3, "[B, N, C]");
  check::rank("group_points", "idx", idx, 3, "[B, M, S]");
  PG_CHECK(idx.size(0) == points.size(0), "group_points: batch sizes differ: points has ", points.size(0),
           " clouds, idx has ", idx.size(0));
  const int64_t B = points.size(0), C = points.size(2), M = idx.size(1), S = idx.size(2);
  const Tensor flat = idx.contiguous().reshape({B, M * S, 1}).expand({B, M * S, C}).contiguous();
  return gather(points, 1, flat).reshape({B, M, S, C});  // gather validates devices and ranges
}

Tensor smallest_k(const Tensor& values, int64_t k) {
  check::floating("smallest_k", "values", values);
  PG_CHECK(values.dim() >= 1, "smallest_k: values must have at least one dim");
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
