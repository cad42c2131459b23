// pointlie_decompose: FPS half, complement, kNN among the discarded points, offsets (see the header).
#include "models/zoo/pointlie_decompose.h"

#include <vector>

#include "core/error.h"
#include "ops/check.h"
#include "ops/elementwise.h"
#include "ops/fps.h"
#include "ops/index.h"
#include "ops/knn.h"
#include "ops/view.h"

namespace pg::models {

namespace {

constexpr const char* kOp = "pointlie_decompose";

// Rows of x [B, N, d] at idx [B, Q] (int64) → [B, Q, d].
Tensor rows(const Tensor& x, const Tensor& idx) {
  const int64_t B = x.size(0), Q = idx.size(1), d = x.size(2);
  return gather(x, 1, expand(unsqueeze(idx, 2), {B, Q, d}).contiguous());
}

// The indices of [0, N) not in picked [B, M], ascending, [B, N − M] (on picked's device).
Tensor complement(const Tensor& picked, int64_t N) {
  const int64_t B = picked.size(0), M = picked.size(1);
  const std::vector<int64_t> p = picked.to(Device::cpu()).to_vector<int64_t>();
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(B * (N - M)));
  for (int64_t b = 0; b < B; ++b) {
    std::vector<char> taken(static_cast<size_t>(N), 0);
    for (int64_t j = 0; j < M; ++j) taken[static_cast<size_t>(p[b * M + j])] = 1;
    int64_t n = 0;
    for (int64_t i = 0; i < N; ++i) {
      if (!taken[static_cast<size_t>(i)]) {
        out.push_back(i);
        ++n;
      }
    }
    // FPS indices of one cloud are distinct while the cloud has ≥ M distinct positions; with
    // duplicates they may repeat (ops/fps.h) and the complement would be larger.
    PG_CHECK(n == N - M, kOp, ": FPS picked repeated indices in cloud ", b,
             " (the cloud has fewer than ", M, " distinct positions)");
  }
  return from_vector(out, {B, N - M}, picked.device());
}

}  // namespace

Decomposition pointlie_decompose(const Tensor& features, int64_t k, int64_t fps_start) {
  check::floating(kOp, "features", features);
  check::rank(kOp, "features", features, 3, "[B, N, d]");
  const int64_t B = features.size(0), N = features.size(1), d = features.size(2);
  PG_CHECK(d >= 3, kOp, ": features must have at least 3 channels (xyz first), got shape ", shape_str(features.shape()));
  PG_CHECK(k >= 1, kOp, ": k must be >= 1, got ", k);
  const int64_t M = N / 2;
  PG_CHECK(M >= 1 && N - M >= k, kOp, ": a cloud of ", N, " points leaves ", N - M, " discarded points, fewer than k = ",
           k, " (features ", shape_str(features.shape()), ")");
  const Tensor xyz = slice(features, 2, 0, 3).contiguous().detach();
  FpsOptions fo;
  fo.start = fps_start;
  Decomposition r;
  r.sampled_idx = fps(xyz, M, fo).indices;
  r.discarded_idx = complement(r.sampled_idx, N);
  r.sampled = rows(features, r.sampled_idx);
  const KnnResult nn = knn(rows(xyz, r.sampled_idx), rows(xyz, r.discarded_idx), k);
  r.neighbor_idx = reshape(gather(r.discarded_idx, 1, reshape(nn.idx, {B, M * k})), {B, M, k});
  const Tensor nbr = reshape(rows(features, reshape(r.neighbor_idx, {B, M * k})), {B, M, k, d});
  const Tensor centre = expand(unsqueeze(r.sampled, 2), {B, M, k, d});
  r.offsets = reshape(sub(nbr, centre), {B, M, k * d});
  return r;
}

}  // namespace pg::models
