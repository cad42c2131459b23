// PointCloudDataset: a labelled point-cloud set in memory (e.g. ModelNet40 read by
// datasets/modelnet40.h, or `pg datagen` data) as a Dataset of items
//   {"points": [k, 3] float32 (the FIRST k stored points of the shape), "label": [] int64}.
// k = num_points (-1: all stored points). Taking the first k points is what every ModelNet40
// classifier does: the official shards store the points in a farthest-point-like order.
//
// Contract: the set's points must be [N, P, 3] float32 and its labels [N] integers, both on the
// CPU (PointCloudSet guarantees it); 1 ≤ k ≤ P. get(i) returns fresh copies (transforms may edit
// them), is thread-safe, and throws for i outside [0, N) naming the dataset. The dataset keeps
// a reference to the set's tensors (no copy of the data).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/modelnet40.h"

namespace pg::datasets {

class PointCloudDataset : public Dataset {
 public:
  // `name` appears in messages and describe() (e.g. "ModelNet40 train").
  PointCloudDataset(const PointCloudSet& set, int64_t num_points = -1, std::string name = "point clouds");

  int64_t size() const override { return n_; }
  Example get(int64_t i) const override;
  std::string describe() const override;
  std::vector<std::string> class_names() const override { return class_names_; }

  int64_t num_points() const { return k_; }
  int64_t num_classes() const { return static_cast<int64_t>(class_names_.size()); }

 private:
  Tensor points_, labels_;  // [N, P, 3] float32 contiguous, [N] int64 (both CPU)
  std::vector<std::string> class_names_;
  std::string name_;
  int64_t n_ = 0, p_ = 0, k_ = 0;
};

}  // namespace pg::datasets
