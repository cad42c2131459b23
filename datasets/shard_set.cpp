#include "datasets/shard_set.h"

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/error.h"
#include "datasets/h5_file.h"

namespace pg::datasets {

namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::vector<std::string> read_text_lines(const std::string& path, const char* what) {
  std::error_code ec;
  PG_CHECK(fs::is_regular_file(path, ec), what, " '", path, "' not found");
  std::ifstream f(path);
  PG_CHECK(f.good(), "cannot read ", what, " '", path, "'");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(f, line)) lines.push_back(trim(line));
  return lines;
}

std::vector<std::string> read_names_file(const std::string& path, bool first_field) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  int64_t lineno = 0;
  for (std::string l : read_text_lines(path, "class names file")) {
    ++lineno;
    if (first_field) l = l.substr(0, l.find_first_of(" \t"));
    if (l.empty()) continue;
    PG_CHECK(seen.insert(l).second, "class names file '", path, "': duplicate class '", l, "' on line ", lineno);
    names.push_back(l);
  }
  PG_CHECK(!names.empty(), "class names file '", path, "' lists no classes");
  return names;
}

std::vector<std::string> read_file_list(const std::string& list_path, const std::string& dir) {
  std::vector<std::string> out;
  int64_t lineno = 0;
  for (const std::string& l : read_text_lines(list_path, "shard list")) {
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
    PG_CHECK(!found.empty(), "shard list '", list_path, "', line ", lineno, ": file '", l, "' not found (looked for '",
             candidates[0].string(), "' and '", candidates[1].string(), "')");
    out.push_back(found);
  }
  PG_CHECK(!out.empty(), "shard list '", list_path, "' lists no files");
  return out;
}

PointCloudSet read_shard_set(const std::vector<std::string>& files, std::vector<std::string> class_names,
                             const ModelNetReadOptions& opts, const std::string& what) {
  PointCloudSet set;
  set.class_names = std::move(class_names);
  set.files = files;
  std::vector<Shard> shards;
  int64_t total = 0, p = -1;
  for (const std::string& path : set.files) {
    shards.push_back(read_modelnet_shard(path, set.num_classes(), opts));
    const Shard& s = shards.back();
    PG_CHECK(p < 0 || s.points.size(1) == p, "file '", path, "', dataset 'data': ", s.points.size(1),
             " points per shape, but the previous shards of ", what, " have ", p);
    p = s.points.size(1);
    set.file_offsets.push_back(total);
    total += s.points.size(0);
  }
  set.file_offsets.push_back(total);
  PG_CHECK(total > 0, what, " has no shapes");
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

void write_labelled_shard(const std::string& path, const Tensor& points, const Tensor& labels,
                          const std::vector<std::string>& shape_ids) {
  PG_CHECK(points.defined() && points.dim() == 3 && points.size(2) == 3 && points.dtype() == DType::f32,
           "write_labelled_shard '", path, "': points must be float32 [N, P, 3]");
  const int64_t n = points.size(0);
  PG_CHECK(labels.defined() && labels.dim() == 1 && labels.size(0) == n && is_integral(labels.dtype()),
           "write_labelled_shard '", path, "': labels must be integers [N] with N = ", n);
  PG_CHECK(shape_ids.empty() || static_cast<int64_t>(shape_ids.size()) == n, "write_labelled_shard '", path,
           "': ", shape_ids.size(), " shape ids for ", n, " shapes");
  const std::vector<int64_t> lv = labels.to_vector<int64_t>();
  bool fits_u8 = true;
  for (const int64_t l : lv) {
    PG_CHECK(l >= 0 && l <= INT32_MAX, "write_labelled_shard '", path, "': label ", l, " is negative or too large");
    fits_u8 = fits_u8 && l <= 255;
  }
  const Tensor label_t = fits_u8 ? from_vector(std::vector<uint8_t>(lv.begin(), lv.end()), {n, 1})
                                 : from_vector(std::vector<int32_t>(lv.begin(), lv.end()), {n, 1});
  write_h5_atomic(path, [&](H5File& f) {
    f.write("data", points);
    f.write("label", label_t);
    if (!shape_ids.empty()) f.write_strings("shape_id", shape_ids);
  });
}

}  // namespace pg::datasets
