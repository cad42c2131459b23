// Labelled point-cloud shards: the pieces the ModelNet40 and ShapeNet readers (and `pg convert`)
// share. A labelled set is
//   * a names file: one class name per non-empty line (trimmed; duplicates are an error);
//   * a list file per split: one shard path per line, resolved relative to the list's folder
//     <dir> as <dir>/<basename(line)>, then <dir>/<line>, then <line> itself;
//   * shards: `data` float32 [N, P, 3], `label` integer [N] or [N, 1] in [0, classes)
//     (validated by read_modelnet_shard, see modelnet40.h).
//
// Errors: pg::Error naming the names/list file and line, or the shard file and dataset.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "datasets/modelnet40.h"

namespace pg::datasets {

// The trimmed lines of a text file (`what` names the file's role in the "not found" error).
std::vector<std::string> read_text_lines(const std::string& path, const char* what);

// Class names, one per non-empty line. With first_field, only the text before the first tab
// or space counts (PointNet's `all_object_categories.txt` lines are "Airplane\t02691156").
std::vector<std::string> read_names_file(const std::string& path, bool first_field = false);

// The shard paths listed in `list_path`, resolved against `dir` (see above); every one must
// exist and the list must name at least one.
std::vector<std::string> read_file_list(const std::string& list_path, const std::string& dir);

// Reads and validates every shard of `files` and concatenates them in order. All shards must
// have the same number of points per shape. `what` names the set in errors ("data folder 'd':
// the train split").
PointCloudSet read_shard_set(const std::vector<std::string>& files, std::vector<std::string> class_names,
                             const ModelNetReadOptions& opts, const std::string& what);

// Writes one shard atomically: `data` float32 [N, P, 3], `label` [N, 1] (uint8 when every label
// fits, else int32) and, when `shape_ids` is non-empty (one per shape), `shape_id` strings.
void write_labelled_shard(const std::string& path, const Tensor& points, const Tensor& labels,
                          const std::vector<std::string>& shape_ids = {});

}  // namespace pg::datasets
