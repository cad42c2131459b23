// Helpers for the task-network and sampler tests: random clouds, saving a registered model with
// the attributes load_model() needs, and naive double-precision reference losses.
#pragma once

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "models/nn/checkpoint.h"
#include "models/zoo/sampler_task.h"
#include "models/zoo/pointnet.h"
#include "models/zoo/registry.h"
#include "ops/ops.h"
#include "test_util.h"

namespace pg::test {

// Saves `m` as a checkpoint load_model() can rebuild (its config and frozen children).
inline void save_model(const std::string& path, const nn::Model& m) {
  nn::CheckpointMeta meta;
  meta.attributes = models::checkpoint_attributes(m);
  nn::save_checkpoint(path, m, nullptr, meta);
}

// Squared distance from point i of a to its nearest point of b (clouds as flat xyz vectors).
inline double naive_nn2(const std::vector<double>& a, size_t i, const std::vector<double>& b) {
  double best = std::numeric_limits<double>::infinity();
  for (size_t j = 0; j < b.size() / 3; ++j) {
    double d = 0.0;
    for (size_t c = 0; c < 3; ++c) d += (a[3 * i + c] - b[3 * j + c]) * (a[3 * i + c] - b[3 * j + c]);
    best = std::min(best, d);
  }
  return best;
}

// Cloud b of a [B, n, 3] tensor as doubles.
inline std::vector<double> cloud_at(const Tensor& t, int64_t b) {
  return select(t, 0, b).contiguous().to(DType::f64).to_vector<double>();
}

// A vanilla PointNet classifier for 3 classes in eval mode (to be frozen by a sampler), its
// weights drawn from `seed`.
inline std::shared_ptr<models::PointNet> tiny_classifier(uint64_t seed) {
  static Generator g(0);
  g.manual_seed(seed);
  models::PointNetConfig c;
  c.num_classes = 3;
  c.gen = &g;
  auto pn = std::make_shared<models::PointNet>(c);
  pn->eval();
  return pn;
}

// A classification batch of b random clouds [b, n, 3] in [-1, 1) with labels 0, 1, 2, 0, ...
inline models::TaskBatch cls_batch(int64_t b, int64_t n, uint64_t seed) {
  models::TaskBatch t;
  t.points = uniform({b, n, 3}, -1, 1, seed);
  std::vector<int64_t> y;
  for (int64_t i = 0; i < b; ++i) y.push_back(i % 3);
  t.labels = from_vector(y, {b});
  return t;
}

}  // namespace pg::test
