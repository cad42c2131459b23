// Helpers for the task-network and sampler tests: random clouds, saving a registered model with
// the attributes load_model() needs, and naive double-precision reference losses.
#pragma once

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "models/nn/checkpoint.h"
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

}  // namespace pg::test
