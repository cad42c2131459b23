// fps / fps_seeded: validation and dispatch (no autograd: the outputs are indices and detached
// radii).
#include "ops/fps.h"
#include "ops/view.h"
#include "ops/check.h"

#include <vector>

#include "core/parallel_for.h"
#include "kernels/fps.h"
#include "ops/knn.h"

namespace pg {

namespace {

void check_points(const char* op, const Tensor& points, int64_t m, const FpsOptions& opts) {
  check::cloud(op, "points", points);
  const int64_t N = points.size(1);
  PG_CHECK(m >= 1, op, ": m must be >= 1, got ", m);
  PG_CHECK(m <= N, op, ": m (", m, ") is larger than the number of points per cloud (", N, ")");
  PG_CHECK(!(opts.impl == FpsImpl::OnChip && points.is_cuda() && !kernels::fps_onchip_fits(N, points.dtype())), op,
           ": impl OnChip cannot hold ", N, " points of ", dtype_name(points.dtype()),
           " (at most 8192 float32 / 4096 float64); use Auto or Global");
  if (opts.check_finite) check::finite(op, "points", points);
}

FpsResult run(const Tensor& points, const Tensor& seeds, const Tensor& num_seeds, int64_t m, const FpsOptions& opts) {
  const Tensor p = points.detach().contiguous();
  const int64_t B = p.size(0);
  FpsResult res;
  res.indices = empty({B, m}, TensorOptions(DType::i64, p.device()));
  res.radius = empty({B, m}, p.options());
  const FpsImpl path = opts.impl;
  on_backend(p.device(), "fps",
             [&]<class Bk>() { kernels::fps<Bk>(p, seeds, num_seeds, m, res.indices, res.radius, path); });
  return res;
}

// Error path only: finds the first offending entry on the host and throws naming it.
[[noreturn]] void report_bad_seeds(const Tensor& seeds, const Tensor& num_seeds, int64_t N) {
  const int64_t B = seeds.size(0), S = seeds.size(1);
  const std::vector<int64_t> sv = seeds.to_vector<int64_t>();
  std::vector<int64_t> nv(static_cast<size_t>(B), S);
  if (num_seeds.defined()) nv = num_seeds.to_vector<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    PG_CHECK(nv[b] >= 1 && nv[b] <= S, "fps_seeded: num_seeds[", b, "] = ", nv[b], " is outside [1, ", S, "]");
    for (int64_t j = 0; j < nv[b]; ++j) {
      const int64_t v = sv[b * S + j];
      PG_CHECK(v >= 0 && v < N, "fps_seeded: seeds[", b, ", ", j, "] = ", v, " is outside [0, ", N, ")");
    }
  }
  PG_FAIL("fps_seeded: invalid seeds");
}

}  // namespace

FpsResult fps(const Tensor& points, int64_t m, const FpsOptions& opts) {
  check_points("fps", points, m, opts);
  const int64_t B = points.size(0), N = points.size(1);
  Tensor seeds;
  if (opts.random_start) {
    seeds = randint(0, N, {B, 1}, TensorOptions(DType::i64, points.device()), opts.generator);
  } else {
    PG_CHECK(opts.start >= 0 && opts.start < N, "fps: start index ", opts.start, " is outside [0, ", N, ")");
    seeds = full({B, 1}, static_cast<double>(opts.start), TensorOptions(DType::i64, points.device()));
  }
  return run(points, seeds, Tensor(), m, opts);
}

FpsResult fps_seeded(const Tensor& points, const Tensor& seeds, int64_t m, const Tensor& num_seeds,
                     const FpsOptions& opts) {
  check_points("fps_seeded", points, m, opts);
  const int64_t B = points.size(0), N = points.size(1);
  PG_CHECK(seeds.defined(), "fps_seeded: seeds is an undefined tensor");
  PG_CHECK(seeds.dim() == 2 && seeds.size(1) >= 1, "fps_seeded: seeds must be [B, S] with S >= 1, got shape ",
           shape_str(seeds.shape()));
  PG_CHECK(seeds.dtype() == DType::i64, "fps_seeded: seeds must be int64, got ", dtype_name(seeds.dtype()));
  PG_CHECK(seeds.device() == points.device(), "fps_seeded: seeds is on ", seeds.device().str(), " but points is on ",
           points.device().str());
  PG_CHECK(seeds.size(0) == B, "fps_seeded: batch sizes differ: points has ", B, " clouds, seeds has ", seeds.size(0));
  const Tensor sd = seeds.detach().contiguous();
  Tensor ns;
  if (num_seeds.defined()) {
    PG_CHECK(num_seeds.dim() == 1 && num_seeds.size(0) == B, "fps_seeded: num_seeds must be [B] = [", B,
             "], got shape ", shape_str(num_seeds.shape()));
    PG_CHECK(num_seeds.dtype() == DType::i64, "fps_seeded: num_seeds must be int64, got ",
             dtype_name(num_seeds.dtype()));
    PG_CHECK(num_seeds.device() == points.device(), "fps_seeded: num_seeds is on ", num_seeds.device().str(),
             " but points is on ", points.device().str());
    ns = num_seeds.detach().contiguous();
  }
  const int flags =
      on_backend(points.device(), "fps_seeded", [&]<class Bk>() { return kernels::fps_check_seeds<Bk>(sd, ns, N); });
  if (flags != 0) report_bad_seeds(sd, ns, N);
  return run(points, sd, ns, m, opts);
}

}  // namespace pg
