#include "datasets/modelnet40.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "datasets/h5_file.h"

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

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> read_lines(const std::string& path, const char* what) {
  std::error_code ec;
  PG_CHECK(fs::is_regular_file(path, ec), what, " '", path, "' not found");
  std::ifstream f(path);
  PG_CHECK(f.good(), "cannot read ", what, " '", path, "'");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(f, line)) lines.push_back(trim(line));
  return lines;
}

}  // namespace

std::vector<std::string> read_class_names(const std::string& dir) {
  const std::string path = (fs::path(dir) / "shape_names.txt").string();
  std::vector<std::string> names;
  std::set<std::string> seen;
  int64_t lineno = 0;
  for (const std::string& l : read_lines(path, "class names file")) {
    ++lineno;
    if (l.empty()) continue;
    PG_CHECK(seen.insert(l).second, "class names file '", path, "': duplicate class '", l, "' on line ", lineno);
    names.push_back(l);
  }
  PG_CHECK(!names.empty(), "class names file '", path, "' lists no classes");
  return names;
}

std::vector<std::string> read_shard_list(const std::string& dir, Split split) {
  const std::string list = (fs::path(dir) / (std::string(split_name(split)) + "_files.txt")).string();
  std::vector<std::string> out;
  int64_t lineno = 0;
  for (const std::string& l : read_lines(list, "shard list")) {
    ++lineno;
    if (l.empty()) continue;
    const fs::path p(l);
    const std::vector<fs::path> candidates{fs::path(dir) / p.filename(), fs::path(dir) / p, p};
    std::string found;
    std::error_code ec;
    for (const fs::path& c : candidates) {
      if (fs::is_regular_file(c, ec)) {
        found = c.string();
        break;
      }
    }
    PG_CHECK(!found.empty(), "shard list '", list, "', line ", lineno, ": file '", l, "' not found (looked for '",
             candidates[0].string(), "' and '", candidates[1].string(), "')");
    out.push_back(found);
  }
  PG_CHECK(!out.empty(), "shard list '", list, "' lists no files");
  return out;
}

Shard read_modelnet_shard(const std::string& path, int64_t num_classes, const ModelNetReadOptions& opts) {
  H5File f = H5File::open(path);
  const std::string wd = "file '" + path + "', dataset 'data'";
  const std::string wl = "file '" + path + "', dataset 'label'";
  PG_CHECK(f.is_dataset("data"), wd, ": not found (is this a ModelNet-layout shard?)");
  PG_CHECK(f.is_dataset("label"), wl, ": not found (is this a ModelNet-layout shard?)");

  // data: float32 [N, P, 3]
  const Shape ds = f.shape("data");
  const H5TypeInfo dt = f.type("data");
  PG_CHECK(dt.kind == H5TypeInfo::Kind::floating && dt.size == 4, wd, ": wrong dtype: stored as ", dt.describe(),
           ", expected float32");
  PG_CHECK(ds.size() == 3, wd, ": wrong rank: shape ", shape_str(ds), ", expected [N, P, 3]");
  PG_CHECK(ds[2] == 3, wd, ": wrong shape ", shape_str(ds), ", expected [N, P, 3] (xyz in the last dim)");
  PG_CHECK(ds[1] >= 1, wd, ": shape ", shape_str(ds), " has no points per shape");
  const int64_t n = ds[0];
  int64_t p = ds[1];
  if (opts.max_points >= 0) {
    PG_CHECK(opts.max_points >= 1 && opts.max_points <= p, wd, ": asked for the first ", opts.max_points,
             " points but each shape has ", p);
    p = opts.max_points;
  }

  // label: integer [N, 1] or [N]
  const Shape ls = f.shape("label");
  const H5TypeInfo lt = f.type("label");
  PG_CHECK(lt.kind == H5TypeInfo::Kind::integer, wl, ": wrong dtype: stored as ", lt.describe(),
           ", expected an integer type (uint8)");
  PG_CHECK(ls.size() == 1 || (ls.size() == 2 && ls[1] == 1), wl, ": wrong shape ", shape_str(ls),
           ", expected [N, 1] or [N]");
  PG_CHECK(ls[0] == n, wl, ": ", ls[0], " labels for ", n, " shapes in 'data' ", shape_str(ds));

  Shard s;
  s.points = p == ds[1] ? f.read_as("data", DType::f32) : f.read_slab("data", {0, 0, 0}, {n, p, 3}, DType::f32);
  Tensor raw_labels = f.read_as("label", DType::i64);
  s.labels = detail::make_view(raw_labels, {n}, {1}, 0);

  const auto* l = s.labels.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    PG_CHECK(l[i] >= 0 && l[i] < num_classes, wl, ": label ", l[i], " of shape ", i, " is outside [0, ", num_classes,
             ") (the class names file lists ", num_classes, " classes)");
  }
  if (opts.check_finite) {
    const auto* x = s.points.data<float>();
    const int64_t total = n * p * 3;
    for (int64_t i = 0; i < total; ++i) {
      if (!std::isfinite(x[i])) {
        PG_FAIL(wd, ": non-finite coordinate ", x[i], " in shape ", i / (p * 3), ", point ", (i / 3) % p,
                " (corrupt file?)");
      }
    }
  }
  return s;
}

PointCloudSet read_modelnet40(const std::string& dir, Split split, const ModelNetReadOptions& opts) {
  std::error_code ec;
  PG_CHECK(fs::is_directory(dir, ec), "data folder '", dir, "' not found");
  PointCloudSet set;
  set.class_names = read_class_names(dir);
  set.files = read_shard_list(dir, split);
  std::vector<Shard> shards;
  int64_t total = 0, p = -1;
  for (const std::string& path : set.files) {
    shards.push_back(read_modelnet_shard(path, set.num_classes(), opts));
    const Shard& s = shards.back();
    PG_CHECK(p < 0 || s.points.size(1) == p, "file '", path, "', dataset 'data': ", s.points.size(1),
             " points per shape, but the previous shards of the ", split_name(split), " split have ", p);
    p = s.points.size(1);
    set.file_offsets.push_back(total);
    total += s.points.size(0);
  }
  set.file_offsets.push_back(total);
  PG_CHECK(total > 0, "data folder '", dir, "': the ", split_name(split), " split has no shapes");
  set.points = empty({total, p, 3}, TensorOptions(DType::f32, Device::cpu()));
  set.labels = empty({total}, TensorOptions(DType::i64, Device::cpu()));
  auto* dp = set.points.data<float>();
  auto* dl = set.labels.data<int64_t>();
  for (const Shard& s : shards) {
    const int64_t n = s.points.size(0);
    if (n == 0) continue;
    std::memcpy(dp, s.points.data<float>(), static_cast<size_t>(n * p * 3) * sizeof(float));
    std::memcpy(dl, s.labels.data<int64_t>(), static_cast<size_t>(n) * sizeof(int64_t));
    dp += n * p * 3;
    dl += n;
  }
  return set;
}

void write_modelnet_shard(const std::string& path, const Tensor& points, const Tensor& labels) {
  PG_CHECK(points.defined() && points.dim() == 3 && points.size(2) == 3 && points.dtype() == DType::f32,
           "write_modelnet_shard '", path, "': points must be float32 [N, P, 3]");
  PG_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == points.size(0) && is_integral(labels.dtype()),
           "write_modelnet_shard '", path, "': labels must be integers [N] with N = ", points.size(0));
  const std::vector<int64_t> lv = labels.to_vector<int64_t>();
  std::vector<uint8_t> l8(lv.size());
  for (size_t i = 0; i < lv.size(); ++i) {
    PG_CHECK(lv[i] >= 0 && lv[i] <= 255, "write_modelnet_shard '", path, "': label ", lv[i], " does not fit uint8");
    l8[i] = static_cast<uint8_t>(lv[i]);
  }
  Tensor label_t = from_vector(l8, {points.size(0), 1});
  write_h5_atomic(path, [&](H5File& f) {
    f.write("data", points);
    f.write("label", label_t);
  });
}

}  // namespace pg::datasets
