// Reader for ShapeNet point-cloud shards: the ModelNet40 HDF5 layout with any split names, which
// is also what `pg convert` writes, plus the list/names files of PointNet's ShapeNet
// part-segmentation release:
//
//   <dir>/shape_names.txt          one class name per line; label i = the i-th name
//     or all_object_categories.txt   ("Airplane\t02691156" lines: the name is the first field)
//   <dir>/<split>_files.txt        one shard path per line (split: train, val, test, ...)
//     or <split>_hdf5_file_list.txt
//   shards                         `data` float32 [N, P, 3] (P = 2048 in the common releases),
//                                  `label` any integer type, [N] or [N, 1], in [0, classes);
//                                  other datasets (`pid`, `normal`, `shape_id`) are ignored
//
// List lines resolve like ModelNet40's (<dir>/<basename>, <dir>/<line>, <line>). shape_names.txt
// wins over all_object_categories.txt and <split>_files.txt over <split>_hdf5_file_list.txt when
// both exist.
//
// Validation (pg::Error naming the file, and the dataset for shard problems): missing folder,
// names or list file, missing shard, missing `data`/`label`, wrong rank/shape/dtype, label count
// ≠ shape count, label out of range, NaN/Inf coordinates, shards with different P, truncated or
// corrupt files, a split without shapes.
#pragma once

#include <memory>
#include <string>

#include "datasets/cloud_set_dataset.h"
#include "datasets/modelnet40.h"

namespace pg::datasets {

// The names file and the list file of `split` that read_shapenet uses (throws when absent).
std::string shapenet_names_file(const std::string& dir);
std::string shapenet_list_file(const std::string& dir, const std::string& split);

PointCloudSet read_shapenet(const std::string& dir, const std::string& split, const ModelNetReadOptions& opts = {});

// The split as a Dataset: items {"points" [P, 3] float32, "label" [] int64}.
std::shared_ptr<CloudSetDataset> shapenet_dataset(const std::string& dir, const std::string& split,
                                                  const ModelNetReadOptions& opts = {});

}  // namespace pg::datasets
