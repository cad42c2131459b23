#include "datasets/pu147.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <utility>

#include "core/error.h"
#include "datasets/cloud_set_dataset.h"
#include "datasets/h5_clouds.h"
#include "datasets/pointcloud_io.h"

namespace pg::datasets {

namespace fs = std::filesystem;

namespace {

bool is_stack(const Tensor& t) {
  return t.defined() && t.dim() == 3 && t.size(2) == 3 && t.dtype() == DType::f32 && t.is_cpu();
}

Tensor contiguous_copy(const Tensor& t) {
  Tensor out = empty(t.shape(), TensorOptions(t.dtype(), Device::cpu()));
  detail::copy_raw(out, t);
  return out;
}

// Centres pair i on its ground truth's centroid and scales it by the ground truth's radius.
void normalize_by_gt(Tensor& inputs, Tensor& gts, const std::string& what, const std::vector<std::string>& names) {
  const int64_t n = inputs.size(0), pin = inputs.size(1), pgt = gts.size(1);
  float* in = inputs.data<float>();
  float* gt = gts.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    float* g = gt + i * pgt * 3;
    float* x = in + i * pin * 3;
    double c[3] = {0.0, 0.0, 0.0};
    for (int64_t j = 0; j < pgt; ++j)
      for (int d = 0; d < 3; ++d) c[d] += g[j * 3 + d];
    for (double& v : c) v /= static_cast<double>(pgt);
    double r2 = 0.0;
    for (int64_t j = 0; j < pgt; ++j) {
      double s = 0.0;
      for (int d = 0; d < 3; ++d) s += (g[j * 3 + d] - c[d]) * (g[j * 3 + d] - c[d]);
      r2 = std::max(r2, s);
    }
    const double r = std::sqrt(r2);
    PG_CHECK(r > 0.0, what, ": cannot normalise pair ", i, " ('", names[static_cast<size_t>(i)],
             "'): all its ground-truth points coincide");
    for (int64_t j = 0; j < pgt * 3; ++j) g[j] = static_cast<float>((g[j] - c[j % 3]) / r);
    for (int64_t j = 0; j < pin * 3; ++j) x[j] = static_cast<float>((x[j] - c[j % 3]) / r);
  }
}

// Reads the input/ground-truth stacks of one HDF5 file (and the names when `names_dataset` is
// non-empty and present).
std::shared_ptr<PuPairDataset> read_pairs_h5(const std::string& path, const PuOptions& opts, const std::string& in_name,
                                             const std::string& gt_name, const std::string& names_dataset,
                                             const std::string& kind) {
  const H5File f = H5File::open(path);
  CloudStackSpec spec;
  spec.allow_double = true;
  spec.check_finite = opts.check_finite;
  Tensor inputs = read_cloud_stack(f, in_name, spec);
  Tensor gts = read_cloud_stack(f, gt_name, spec);
  PG_CHECK(inputs.size(0) == gts.size(0), h5_where(f, gt_name), ": ", gts.size(0), " ground-truth clouds but ",
           inputs.size(0), " inputs in '", in_name, "'");
  PG_CHECK(inputs.size(0) > 0, h5_where(f, in_name), ": no clouds");
  std::vector<std::string> names;
  if (!names_dataset.empty() && f.exists(names_dataset)) {
    names = f.read_strings(names_dataset);
    PG_CHECK(static_cast<int64_t>(names.size()) == inputs.size(0), h5_where(f, names_dataset), ": ", names.size(),
             " names for ", inputs.size(0), " clouds");
  }
  return std::make_shared<PuPairDataset>(std::move(inputs), std::move(gts), std::move(names), kind + " '" + path + "'",
                                         opts);
}

bool is_cloud_file(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return e == ".xyz" || e == ".txt" || e == ".pts" || e == ".ply" || e == ".off";
}

// name (file name without extension) → path, for the point files directly inside `dir`.
std::map<std::string, std::string> cloud_files(const std::string& dir, const char* role) {
  std::error_code ec;
  PG_CHECK(fs::is_directory(dir, ec), "PU-147 ", role, " folder '", dir, "' not found");
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || !is_cloud_file(e.path())) continue;
    const std::string stem = e.path().stem().string();
    const auto [it, fresh] = out.emplace(stem, e.path().string());
    PG_CHECK(fresh, "PU-147 ", role, " folder '", dir, "': two files named '", stem, "': '", it->second, "' and '",
             e.path().string(), "'");
  }
  PG_CHECK(!out.empty(), "PU-147 ", role, " folder '", dir, "' holds no point files (.xyz, .txt, .pts, .ply, .off)");
  return out;
}

// Names in `a` that `b` lacks, as "x, y, z".
std::string missing_in(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b) {
  std::string s;
  for (const auto& [name, path] : a) {
    if (b.count(name) == 0) s += (s.empty() ? "" : ", ") + name;
  }
  return s;
}

// Stacks the clouds of `files` (in map order) into [N, P, 3]; every cloud must have P points.
Tensor stack_files(const std::map<std::string, std::string>& files) {
  std::vector<Tensor> clouds;
  int64_t p = -1;
  std::string first;
  for (const auto& [name, path] : files) {
    clouds.push_back(read_point_cloud(path));
    const int64_t k = clouds.back().size(0);
    PG_CHECK(p < 0 || k == p, "'", path, "' has ", k, " points but '", first, "' has ", p,
             " (every cloud of a folder needs the same count)");
    if (p < 0) {
      p = k;
      first = path;
    }
  }
  Tensor out = empty({static_cast<int64_t>(clouds.size()), p, 3}, TensorOptions(DType::f32, Device::cpu()));
  float* dst = out.data<float>();
  for (const Tensor& c : clouds) {
    const Tensor cc = contiguous_copy(c);
    std::memcpy(dst, cc.data<float>(), static_cast<size_t>(p * 3) * sizeof(float));
    dst += p * 3;
  }
  return out;
}

}  // namespace

PuPairDataset::PuPairDataset(Tensor inputs, Tensor gts, std::vector<std::string> names, std::string description,
                             const PuOptions& opts)
    : names_(std::move(names)), description_(std::move(description)), input_key_(opts.input_key), gt_key_(opts.gt_key) {
  PG_CHECK(is_stack(inputs), description_, ": inputs must be float32 [N, P, 3] on the CPU");
  PG_CHECK(is_stack(gts), description_, ": ground truths must be float32 [N, P, 3] on the CPU");
  PG_CHECK(inputs.size(0) == gts.size(0) && inputs.size(0) > 0, description_, ": ", inputs.size(0), " inputs and ",
           gts.size(0), " ground truths (need the same number, at least one)");
  PG_CHECK(!input_key_.empty() && !gt_key_.empty() && input_key_ != gt_key_, description_,
           ": item keys must be two different non-empty names (got '", input_key_, "' and '", gt_key_, "')");
  if (names_.empty()) {
    for (int64_t i = 0; i < inputs.size(0); ++i) names_.push_back(std::to_string(i));
  }
  PG_CHECK(static_cast<int64_t>(names_.size()) == inputs.size(0), description_, ": ", names_.size(), " names for ",
           inputs.size(0), " pairs");
  inputs_ = inputs.is_contiguous() && !opts.normalize ? inputs : contiguous_copy(inputs);
  gts_ = gts.is_contiguous() && !opts.normalize ? gts : contiguous_copy(gts);
  if (opts.normalize) normalize_by_gt(inputs_, gts_, description_, names_);
}

Example PuPairDataset::get(int64_t i) const {
  PG_CHECK(i >= 0 && i < size(), describe(), ": item ", i, " is outside [0, ", size(), ")");
  Example e;
  e[input_key_] = copy_row(inputs_, i);
  e[gt_key_] = copy_row(gts_, i);
  return e;
}

std::string PuPairDataset::describe() const {
  return description_ + " (" + std::to_string(size()) + " pairs, " + std::to_string(inputs_.size(1)) + " → " +
         std::to_string(gts_.size(1)) + " points)";
}

std::shared_ptr<PuPairDataset> read_pu_patches(const std::string& path, const PuOptions& opts) {
  return read_pairs_h5(path, opts, opts.input_dataset.empty() ? "poisson_256" : opts.input_dataset,
                       opts.gt_dataset.empty() ? "poisson_1024" : opts.gt_dataset, "", "PU-147 patches");
}

std::shared_ptr<PuPairDataset> read_pu_test_h5(const std::string& path, const PuOptions& opts) {
  return read_pairs_h5(path, opts, opts.input_dataset.empty() ? "input_2048" : opts.input_dataset,
                       opts.gt_dataset.empty() ? "gt_8192" : opts.gt_dataset, opts.names_dataset, "PU-147 test");
}

std::shared_ptr<PuPairDataset> read_pu_test_folders(const std::string& input_dir, const std::string& gt_dir,
                                                    const PuOptions& opts) {
  const auto inputs = cloud_files(input_dir, "input");
  const auto gts = cloud_files(gt_dir, "ground-truth");
  const std::string no_gt = missing_in(inputs, gts), no_input = missing_in(gts, inputs);
  PG_CHECK(no_gt.empty() && no_input.empty(), "PU-147 test folders '", input_dir, "' and '", gt_dir,
           "' do not pair up by file name:", no_gt.empty() ? "" : " inputs without a ground truth: " + no_gt + ";",
           no_input.empty() ? "" : " ground truths without an input: " + no_input);
  std::vector<std::string> names;
  for (const auto& [name, path] : inputs) names.push_back(name);
  return std::make_shared<PuPairDataset>(stack_files(inputs), stack_files(gts), std::move(names),
                                         "PU-147 test folders '" + input_dir + "' + '" + gt_dir + "'", opts);
}

}  // namespace pg::datasets
