// match_and_complete: validation, 1-NN (pg::knn), the batched first-occurrence unique kernel and
// the seeded FPS completion (pg::fps_seeded).
#include "ops/matching.h"
#include "ops/view.h"
#include "ops/check.h"

#include "core/parallel_for.h"
#include "kernels/matching.h"
#include "ops/fps.h"
#include "ops/knn.h"

namespace pg {

MatchResult match_and_complete(const Tensor& generated, const Tensor& points, int64_t m) {
  check::cloud_pair("match_and_complete", "generated", generated, "points", points);
  const int64_t B = points.size(0), N = points.size(1), M = generated.size(1);
  PG_CHECK(m >= 1, "match_and_complete: m must be >= 1, got ", m);
  PG_CHECK(m <= N, "match_and_complete: m (", m, ") is larger than the number of points per cloud (", N, ")");
  const Tensor g = generated.detach();
  const Tensor p = points.detach();
  const Tensor nn = knn(g, p, 1).idx.reshape({B, M}).contiguous();
  Tensor uniq = empty({B, M}, TensorOptions(DType::i64, p.device()));
  Tensor count = empty({B}, TensorOptions(DType::i64, p.device()));
  on_backend(p.device(), "match_and_complete",
             [&]<class Bk>() { kernels::unique_first_occurrence<Bk>(nn, N, m, uniq, count); });
  FpsOptions fo;
  fo.check_finite = false;  // knn has checked both clouds
  MatchResult res;
  res.indices = fps_seeded(p, uniq, m, count, fo).indices;
  res.num_unique = count;
  return res;
}

}  // namespace pg
