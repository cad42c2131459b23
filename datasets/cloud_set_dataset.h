// CloudSetDataset: a labelled point-cloud set in memory (PointCloudSet, e.g. from the ShapeNet or
// ModelNet40 readers) as a Dataset.
//
// Items: {"points": [k, 3] float32, "label": [] int64}, copies (transforms may edit them in
// place without touching the set). k = num_points: the FIRST k stored points of every shape (what
// ModelNet40 classifiers do: the official shards store points in a farthest-point-like order);
// -1 takes all P. Labels of any integer dtype are converted to int64 once. get() only reads the
// set, so concurrent calls are safe.
// Errors: an empty set, num_points outside 1..P (or -1), or get(i) outside [0, size()), raise
// pg::Error naming the description.
#pragma once

#include <string>

#include "datasets/dataset.h"
#include "datasets/modelnet40.h"

namespace pg::datasets {

class CloudSetDataset : public Dataset {
 public:
  // `name` starts the description, e.g. "ShapeNet train".
  CloudSetDataset(PointCloudSet set, std::string name, int64_t num_points = -1);

  int64_t size() const override { return set_.size(); }
  Example get(int64_t i) const override;
  std::string describe() const override;
  std::vector<std::string> class_names() const override { return set_.class_names; }

  const PointCloudSet& set() const { return set_; }
  int64_t num_points() const { return k_; }

 private:
  PointCloudSet set_;
  std::string name_;
  int64_t k_ = 0;
};

// Copy of row i of a [N, ...] host tensor (a contiguous [...] tensor of the same dtype).
Tensor copy_row(const Tensor& t, int64_t i);

}  // namespace pg::datasets
