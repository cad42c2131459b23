#include "datasets/modelnet40.h"

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "datasets/h5_clouds.h"
#include "datasets/h5_file.h"
#include "datasets/shard_set.h"

namespace pg::datasets {

namespace fs = std::filesystem;

const char* split_name(Split s) {
  return s == Split::train ? "train" : "test";
}

std::vector<int64_t> PointCloudSet::class_counts() const {
  std::vector<int64_t> counts(class_names.size(), 0);
  if (!labels.defined()) return counts;
  const auto* l = labels.data<int64_t>();
  for (int64_t i = 0; i < labels.numel(); ++i) {
    if (l[i] >= 0 && l[i] < static_cast<int64_t>(counts.size())) ++counts[static_cast<size_t>(l[i])];
  }
  return counts;
}

std::vector<std::string> read_class_names(const std::string& dir) {
  return read_names_file((fs::path(dir) / "shape_names.txt").string());
}

std::vector<std::string> read_shard_list(const std::string& dir, Split split) {
  return read_file_list((fs::path(dir) / (std::string(split_name(split)) + "_files.txt")).string(), dir);
}

Shard read_modelnet_shard(const std::string& path, int64_t num_classes, const ModelNetReadOptions& opts) {
  H5File f = H5File::open(path);
  const std::string wd = "file '" + path + "', dataset 'data'";
  const std::string wl = "file '" + path + "', dataset 'label'";
  PG_CHECK(f.is_dataset("data"), wd, ": not found (is this a ModelNet-layout shard?)");
  PG_CHECK(f.is_dataset("label"), wl, ": not found (is this a ModelNet-layout shard?)");

  // data: float32 [N, P, 3]
  CloudStackSpec spec;
  spec.max_points = opts.max_points;
  spec.check_finite = opts.check_finite;
  Shard s;
  s.points = read_cloud_stack(f, "data", spec);
  const Shape ds = f.shape("data");
  const int64_t n = ds[0];

  // label: integer [N, 1] or [N]
  const Shape ls = f.shape("label");
  const H5TypeInfo lt = f.type("label");
  PG_CHECK(lt.kind == H5TypeInfo::Kind::integer, wl, ": wrong dtype: stored as ", lt.describe(),
           ", expected an integer type (uint8)");
  PG_CHECK(ls.size() == 1 || (ls.size() == 2 && ls[1] == 1), wl, ": wrong shape ", shape_str(ls),
           ", expected [N, 1] or [N]");
  PG_CHECK(ls[0] == n, wl, ": ", ls[0], " labels for ", n, " shapes in 'data' ", shape_str(ds));

  Tensor raw_labels = f.read_as("label", DType::i64);
  s.labels = detail::make_view(raw_labels, {n}, {1}, 0);

  const auto* l = s.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    PG_CHECK(l[i] >= 0 && l[i] < num_classes, wl, ": label ", l[i], " of shape ", i, " is outside [0, ", num_classes,
             ") (the class names file lists ", num_classes, " classes)");
  }
  return s;
}

PointCloudSet read_modelnet40(const std::string& dir, Split split, const ModelNetReadOptions& opts) {
  std::error_code ec;
  PG_CHECK(fs::is_directory(dir, ec), "data folder '", dir, "' not found");
  std::vector<std::string> names = read_class_names(dir);
  return read_shard_set(read_shard_list(dir, split), std::move(names), opts,
                        std::string("the ") + split_name(split) + " split of data folder '" + dir + "'");
}

void write_modelnet_shard(const std::string& path, const Tensor& points, const Tensor& labels) {
  PG_CHECK(points.defined() && points.dim() == 3 && points.size(2) == 3 && points.dtype() == DType::f32,
           "write_modelnet_shard '", path, "': points must be float32 [N, P, 3]");
  PG_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == points.size(0) && is_integral(labels.dtype()),
           "write_modelnet_shard '", path, "': labels must be integers [N] with N = ", points.size(0));
  for (const int64_t l : labels.to_vector<int64_t>()) {
    PG_CHECK(l >= 0 && l <= 255, "write_modelnet_shard '", path, "': label ", l, " does not fit uint8");
  }
  write_labelled_shard(path, points, labels);
}

}  // namespace pg::datasets
