// Reader for the official PointNet ModelNet40 HDF5 layout (modelnet40_ply_hdf5_2048), which
// `pg datagen` also writes:
//
//   <dir>/shape_names.txt      one class name per line (40 for ModelNet40)
//   <dir>/train_files.txt      one shard path per line, e.g.
//   <dir>/test_files.txt         data/modelnet40_ply_hdf5_2048/ply_data_train0.h5
//   <dir>/ply_data_*.h5        `data`  float32 [N, P, 3] (P = 2048), zero-mean, inside the unit sphere
//                              `label` uint8 [N, 1] (any integer type, [N, 1] or [N], is accepted)
//
// The list files' lines are resolved relative to <dir>: first <dir>/<basename(line)>, then
// <dir>/<line>, then <line> itself (absolute paths).
//
// Validation (each a pg::Error naming the file and the dataset): missing list/names/shard file,
// missing `data`/`label`, wrong rank/shape/dtype, label count ≠ shape count, label outside
// [0, number of class names), NaN/Inf coordinates, truncated or corrupt file, no shapes at all.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg::datasets {

enum class Split { train, test };
const char* split_name(Split s);

// A labelled set of point clouds in host memory.
struct PointCloudSet {
  Tensor points;  // [N, P, 3] float32, CPU, contiguous
  Tensor labels;  // [N] int64, CPU
  std::vector<std::string> class_names;
  std::vector<std::string> files;     // the shards read, in order
  std::vector<int64_t> file_offsets;  // first row of each shard, plus N at the end

  int64_t size() const { return points.defined() ? points.size(0) : 0; }
  int64_t num_points() const { return points.defined() ? points.size(1) : 0; }
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
  // Shapes per class (size num_classes()).
  std::vector<int64_t> class_counts() const;
};

struct ModelNetReadOptions {
  // Read only the first k points of every shape (the stored order is FPS-like); -1 reads all.
  int64_t max_points = -1;
  // Reject NaN/Inf coordinates.
  bool check_finite = true;
};

// shape_names.txt: non-empty lines, trimmed; duplicates are an error.
std::vector<std::string> read_class_names(const std::string& dir);
// The shard paths listed in <dir>/<split>_files.txt, resolved (see above); every one must exist.
std::vector<std::string> read_shard_list(const std::string& dir, Split split);

// One shard: points [N, P', 3] float32 and labels [N] int64, validated against `num_classes`.
struct Shard {
  Tensor points;
  Tensor labels;
};
Shard read_modelnet_shard(const std::string& path, int64_t num_classes, const ModelNetReadOptions& opts = {});

// A whole split: all its shards concatenated in list order.
PointCloudSet read_modelnet40(const std::string& dir, Split split, const ModelNetReadOptions& opts = {});

// Writes one shard in the official layout (`data` float32 [N,P,3], `label` uint8 [N,1]),
// atomically. points: [N,P,3] float32; labels: [N] integer values in 0..255.
void write_modelnet_shard(const std::string& path, const Tensor& points, const Tensor& labels);

}  // namespace pg::datasets
