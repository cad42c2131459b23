#include "datasets/shapenet.h"

#include <filesystem>

#include "core/error.h"
#include "datasets/shard_set.h"

namespace pg::datasets {

namespace fs = std::filesystem;

namespace {

// The first of `names` that exists in `dir`, else an error listing all of them.
std::string first_existing(const std::string& dir, const std::vector<std::string>& names, const char* what) {
  std::error_code ec;
  for (const std::string& n : names) {
    const fs::path p = fs::path(dir) / n;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  std::string tried;
  for (const std::string& n : names) tried += (tried.empty() ? "'" : " or '") + (fs::path(dir) / n).string() + "'";
  PG_FAIL(what, " not found: looked for ", tried);
}

}  // namespace

std::string shapenet_names_file(const std::string& dir) {
  return first_existing(dir, {"shape_names.txt", "all_object_categories.txt"}, "class names file");
}

std::string shapenet_list_file(const std::string& dir, const std::string& split) {
  PG_CHECK(!split.empty() && split.find('/') == std::string::npos, "ShapeNet: invalid split name '", split, "'");
  return first_existing(dir, {split + "_files.txt", split + "_hdf5_file_list.txt"}, "shard list");
}

PointCloudSet read_shapenet(const std::string& dir, const std::string& split, const ModelNetReadOptions& opts) {
  std::error_code ec;
  PG_CHECK(fs::is_directory(dir, ec), "ShapeNet data folder '", dir, "' not found");
  const std::string names_path = shapenet_names_file(dir);
  const bool tabbed = fs::path(names_path).filename() == "all_object_categories.txt";
  std::vector<std::string> names = read_names_file(names_path, tabbed);
  return read_shard_set(read_file_list(shapenet_list_file(dir, split), dir), std::move(names), opts,
                        "the " + split + " split of ShapeNet folder '" + dir + "'");
}

std::shared_ptr<CloudSetDataset> shapenet_dataset(const std::string& dir, const std::string& split,
                                                  const ModelNetReadOptions& opts) {
  return std::make_shared<CloudSetDataset>(read_shapenet(dir, split, opts), "ShapeNet " + split);
}

}  // namespace pg::datasets
