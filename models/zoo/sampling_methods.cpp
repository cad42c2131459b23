#include "models/zoo/sampling_methods.h"

#include <cmath>

#include "core/error.h"
#include "ops/ops.h"

namespace pg::models {

bool is_learned_method(const std::string& method) {
  return method == "snet" || method == "progressive" || method == "samplenet" || method == "apsnet";
}

const char* learned_method_model(const std::string& method) {
  if (method == "snet") return "snet";
  if (method == "progressive") return "progressivenet";
  if (method == "samplenet") return "samplenet";
  if (method == "apsnet") return "apsnet";
  PG_FAIL("sampling: '", method, "' is not a learned method (snet, progressive, samplenet, apsnet)");
}

void check_sampling_method(const std::string& method, const LearnedSampler* sampler) {
  PG_CHECK(method == "random" || method == "fps" || is_learned_method(method), "sampling: unknown method '", method,
           "' (expected random, fps, snet, progressive, samplenet or apsnet)");
  if (!is_learned_method(method)) return;
  PG_CHECK(sampler != nullptr, "sampling: method ", method, " needs a trained sampler checkpoint");
  const std::string want = learned_method_model(method);
  PG_CHECK(sampler->config().kind == want, "sampling: method ", method, " needs a '", want,
           "' checkpoint, the sampler given is a '", sampler->config().kind, "'");
}

namespace {

void check_finite_points(const Tensor& points) {
  const Tensor host = points.detach().to(DType::f64, Device::cpu()).contiguous();
  const double* p = host.data<double>();
  const int64_t n = host.numel();
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(p[i])) {
      const int64_t b = i / (points.size(1) * 3), j = (i / 3) % points.size(1);
      PG_FAIL("sampling: cloud ", b, " has a non-finite coordinate at point ", j);
    }
  }
}

}  // namespace

Tensor sample_indices(const std::string& method, const LearnedSampler* sampler, const Tensor& points, int64_t m,
                      Generator* gen) {
  check_sampling_method(method, sampler);
  PG_CHECK(points.defined() && points.dim() == 3 && points.size(2) == 3 && points.size(0) >= 1 && points.size(1) >= 1,
           "sampling: expected clouds [B, N, 3], got ", points.defined() ? shape_str(points.shape()) : "undefined");
  const int64_t n = points.size(1);
  PG_CHECK(m >= 1, "sampling: m must be positive, got ", m);
  PG_CHECK(m <= n, "sampling: cannot sample m = ", m, " points from clouds of ", n, " points");
  check_finite_points(points);
  if (method == "random") {
    std::vector<Tensor> rows;
    for (int64_t b = 0; b < points.size(0); ++b)
      rows.push_back(slice(randperm(n, TensorOptions(DType::i64), gen), 0, 0, m));
    return stack(rows, 0).to(points.device());
  }
  if (method == "fps") return fps(points, m).indices;
  NoGradGuard no_grad;
  return sampler->sample(points, m).indices;
}

Tensor gather_points(const Tensor& points, const Tensor& idx) {
  PG_CHECK(idx.dim() == 2 && idx.size(0) == points.size(0), "gather_points: expected indices [", points.size(0),
           ", m], got ", shape_str(idx.shape()));
  const Tensor index = expand(unsqueeze(idx, 2), {idx.size(0), idx.size(1), 3});
  return gather(points, 1, index.contiguous());
}

}  // namespace pg::models
