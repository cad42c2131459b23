// Consistent shape collections: N shapes with the same M points in correspondence (point j of
// every shape is the same surface point), e.g. poses of one mesh — the data of auto-decoders
// such as NeuralQAAD.
//
// Layout read: one HDF5 file with `data` float [N, M, 3] (float32 or float64, read as float32;
// dataset name configurable). Optional shared faces (the connectivity every shape shares):
//   * `faces_file`: a .ply or .off mesh with exactly M vertices (e.g. the example mesh next to
//     the .h5 in ../shared/data/consistent_shapes); polygons are fan-triangulated; or
//   * otherwise, when the .h5 holds it, `faces` integer [F, 3] with indices in [0, M).
//
// Items: {"points": [M, 3] float32} (host copies). faces() gives the shared faces [F, 3] int64
// (undefined when there are none).
//
// Validation (pg::Error naming the file and dataset): missing file or dataset, wrong dtype/rank/
// shape, no shapes, NaN/Inf (check_finite), truncated/corrupt file; a faces file whose vertex
// count differs from M, a faces dataset that is not integer [F, 3] or has indices outside
// [0, M).
#pragma once

#include <string>

#include "datasets/dataset.h"

namespace pg::datasets {

struct ConsistentShapesOptions {
  std::string dataset = "data";
  std::string faces_file;               // .ply/.off; empty: use `faces_dataset` when present
  std::string faces_dataset = "faces";  // in the .h5
  bool check_finite = true;
};

class ConsistentShapesDataset : public Dataset {
 public:
  explicit ConsistentShapesDataset(const std::string& path, const ConsistentShapesOptions& opts = {});

  int64_t size() const override { return points_.size(0); }
  Example get(int64_t i) const override;
  std::string describe() const override;

  int64_t num_points() const { return points_.size(1); }
  const Tensor& points() const { return points_; }  // [N, M, 3] float32
  bool has_faces() const { return faces_.defined(); }
  const Tensor& faces() const { return faces_; }  // [F, 3] int64, or undefined
  // Where the faces came from ("" when none).
  const std::string& faces_source() const { return faces_source_; }

 private:
  std::string path_;
  Tensor points_, faces_;
  std::string faces_source_;
};

}  // namespace pg::datasets
