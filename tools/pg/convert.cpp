// pg convert: a folder of per-shape files (.ply, .off, .xyz/.txt/.pts) → labelled HDF5 shards in
// the ModelNet40 / ShapeNet layout (datasets/shapenet.h reads every split; the ModelNet40
// reader and `pg train pointnet` read train/test).
//
//   pg convert --in DIR --out DIR [--points 2048] [--subsample fps|random] [--mesh-sampling
//              uniform|poisson|vertices] [--normalize none|sphere|cube] [--split auto|folders|
//              fraction] [--test-fraction 0.2] [--val-fraction 0] [--class NAME] [--seed 1]
//              [--shard-size 2048] [--pad] [--oversample 8]
//
// Input layouts (class = folder name, or --class NAME for a folder of one class):
//   DIR/<class>/<files>                fraction split (seeded, per class)
//   DIR/<class>/<split>/<files>        split by folders (ModelNet's OFF release)
//   DIR/<split>/<class>/<files>        split by folders
// with split ∈ {train, val, test}. Only files directly in those folders count.
//
// Per shape: meshes (faces present) are sampled on their surface (uniform: area-weighted
// random points; poisson: FPS down from an area-weighted sample `--oversample` times larger, a
// blue-noise approximation of Poisson-disk sampling; vertices: treat the vertices as a cloud);
// clouds with more points than --points are subsampled (FPS from a random start, or a seeded
// random subset), fewer is an error unless --pad (random repeats); then the optional
// normalisation. Each shape's random stream is named by (seed, its path relative to DIR), so a
// shape's points do not depend on the other files.
//
// Output (staged in a temporary folder inside --out and moved into place at the end, so an error
// leaves --out as it was): shape_names.txt, <split>_files.txt per non-empty split,
// ply_data_<split><k>.h5 shards (`data` float32 [N, P, 3], `label` uint8/int32 [N, 1],
// `shape_id` = the input path relative to DIR), shapes in class order then file name order.
//
// Subcommand: pg convert consistent (tools/pg/convert_consistent.cpp).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/atomic_write.h"
#include "datasets/host_rng.h"
#include "datasets/mesh_sampling.h"
#include "datasets/mesh_tensors.h"
#include "datasets/pointcloud_io.h"
#include "datasets/shard_set.h"
#include "ops/fps.h"
#include "ops/view.h"
#include "tools/pg/cli_validators.h"
#include "tools/pg/commands.h"
#include "tools/pg/progress.h"

namespace pg::cli {

namespace {

namespace fs = std::filesystem;

constexpr uint64_t kSplitTag = 0x53504c4954ULL;  // "SPLIT"
constexpr uint64_t kShapeTag = 0x5348415045ULL;  // "SHAPE"
const std::vector<std::string> kSplitNames = {"train", "val", "test"};

struct ConvertCli {
  std::string in, out;
  int64_t points = 2048;
  std::string subsample = "fps";
  std::string mesh_sampling = "uniform";
  std::string normalize = "none";
  std::string split = "auto";
  double test_fraction = 0.2;
  double val_fraction = 0.0;
  std::string class_name;
  uint64_t seed = 1;
  int64_t shard_size = 2048;
  bool pad = false;
  int64_t oversample = 8;
};

struct Source {
  std::string path;  // as found
  std::string rel;   // relative to --in
  int64_t label = 0;
};

struct Plan {
  std::vector<std::string> classes;
  std::map<std::string, std::vector<Source>> splits;  // split name → shapes in output order
  std::string layout;                                 // for the summary line
};

std::string lower_ext(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return e;
}

bool is_shape_file(const fs::path& p) {
  const std::string e = lower_ext(p);
  return e == ".ply" || e == ".off" || e == ".xyz" || e == ".txt" || e == ".pts";
}

bool is_split_name(const std::string& s) {
  return std::find(kSplitNames.begin(), kSplitNames.end(), s) != kSplitNames.end();
}

std::vector<std::string> subdirs(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && !name.empty() && name[0] != '.') out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> shape_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && is_shape_file(e.path())) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool has_split_dirs(const fs::path& dir) {
  for (const std::string& s : subdirs(dir)) {
    if (is_split_name(s)) return true;
  }
  return false;
}

// A folder of shapes of one class, with the split its place in the tree implies ("" = none).
struct ClassDir {
  std::string cls;
  fs::path dir;
  std::string split;
};

std::vector<ClassDir> find_class_dirs(const ConvertCli& c, std::string& layout) {
  const fs::path in(c.in);
  std::vector<ClassDir> top;
  const std::vector<std::string> dirs = subdirs(in);
  const bool split_first =
      !c.class_name.empty() ? false : !dirs.empty() && std::all_of(dirs.begin(), dirs.end(), is_split_name);
  if (!c.class_name.empty()) {
    top.push_back({c.class_name, in, ""});
    layout = "one class (--class)";
  } else if (split_first) {
    for (const std::string& s : dirs)
      for (const std::string& cls : subdirs(in / s)) top.push_back({cls, in / s / cls, s});
    layout = "<split>/<class> folders";
  } else {
    for (const std::string& cls : dirs) top.push_back({cls, in / cls, ""});
    layout = "<class> folders";
  }
  std::vector<ClassDir> out;
  for (const ClassDir& d : top) {
    if (d.split.empty() && has_split_dirs(d.dir)) {
      PG_CHECK(shape_files(d.dir).empty(), "pg convert: '", d.dir.string(),
               "' holds both shape files and train/val/test folders (which split would the files belong to?)");
      for (const std::string& s : subdirs(d.dir)) {
        if (is_split_name(s)) out.push_back({d.cls, d.dir / s, s});
      }
      if (c.class_name.empty()) layout = "<class>/<split> folders";
    } else {
      out.push_back(d);
    }
  }
  PG_CHECK(!out.empty(), "pg convert: '", c.in, "' has no class folders (expected DIR/<class>/<files>, ",
           "DIR/<class>/<split>/<files> or DIR/<split>/<class>/<files>; or give --class NAME)");
  return out;
}

Plan make_plan(const ConvertCli& c) {
  std::error_code ec;
  PG_CHECK(fs::is_directory(c.in, ec), "pg convert: input folder '", c.in, "' not found");
  Plan plan;
  const std::vector<ClassDir> dirs = find_class_dirs(c, plan.layout);
  const auto with_split = std::count_if(dirs.begin(), dirs.end(), [](const ClassDir& d) { return !d.split.empty(); });
  PG_CHECK(with_split == 0 || with_split == static_cast<long>(dirs.size()), "pg convert: '", c.in,
           "' mixes classes with and without train/val/test folders");
  bool by_folders = with_split > 0;
  if (c.split == "folders") {
    PG_CHECK(by_folders, "pg convert: --split folders, but '", c.in, "' has no train/val/test folders");
  } else if (c.split == "fraction") {
    by_folders = false;
    plan.layout += ", split by fraction";
  }
  std::set<std::string> names;
  for (const ClassDir& d : dirs) names.insert(d.cls);
  plan.classes.assign(names.begin(), names.end());
  auto label_of = [&](const std::string& cls) {
    return static_cast<int64_t>(std::find(plan.classes.begin(), plan.classes.end(), cls) - plan.classes.begin());
  };
  // Files per class, per split when split by folders ("" otherwise).
  std::map<int64_t, std::map<std::string, std::vector<Source>>> per_class;
  for (const ClassDir& d : dirs) {
    const int64_t label = label_of(d.cls);
    for (const fs::path& p : shape_files(d.dir)) {
      per_class[label][by_folders ? d.split : ""].push_back({p.string(), fs::relative(p, c.in).string(), label});
    }
  }
  for (int64_t label = 0; label < static_cast<int64_t>(plan.classes.size()); ++label) {
    size_t count = 0;
    for (const auto& [s, files] : per_class[label]) count += files.size();
    PG_CHECK(count > 0, "pg convert: class '", plan.classes[static_cast<size_t>(label)], "' has no shape files ",
             "(.ply, .off, .xyz, .txt, .pts) in '", c.in, "'");
  }
  for (auto& [label, splits] : per_class) {
    if (by_folders) {
      for (auto& [s, files] : splits) {
        auto& dst = plan.splits[s];
        dst.insert(dst.end(), files.begin(), files.end());
      }
      continue;
    }
    // Seeded per-class permutation: the first round(test·n) are test, the next round(val·n) val.
    std::vector<Source> files = splits[""];
    std::sort(files.begin(), files.end(), [](const Source& a, const Source& b) { return a.rel < b.rel; });
    datasets::HostRng rng(c.seed, {kSplitTag, static_cast<uint64_t>(label)});
    for (size_t i = files.size(); i > 1; --i) std::swap(files[i - 1], files[rng.below(i)]);
    const auto n = static_cast<double>(files.size());
    const auto n_test = static_cast<size_t>(std::llround(c.test_fraction * n));
    const auto n_val = std::min(files.size() - n_test, static_cast<size_t>(std::llround(c.val_fraction * n)));
    std::vector<Source> test(files.begin(), files.begin() + static_cast<long>(n_test));
    std::vector<Source> val(files.begin() + static_cast<long>(n_test),
                            files.begin() + static_cast<long>(n_test + n_val));
    std::vector<Source> train(files.begin() + static_cast<long>(n_test + n_val), files.end());
    for (auto* part : {&train, &val, &test}) {
      std::sort(part->begin(), part->end(), [](const Source& a, const Source& b) { return a.rel < b.rel; });
    }
    for (const auto& [s, part] :
         {std::pair<std::string, std::vector<Source>*>{"train", &train}, {"val", &val}, {"test", &test}}) {
      auto& dst = plan.splits[s];
      dst.insert(dst.end(), part->begin(), part->end());
    }
  }
  for (auto it = plan.splits.begin(); it != plan.splits.end();) it = it->second.empty() ? plan.splits.erase(it) : ++it;
  return plan;
}

uint64_t path_hash(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a, then mixed
  for (const unsigned char ch : s) h = (h ^ ch) * 0x100000001b3ULL;
  return datasets::mix64(h);
}

// Rows `idx` of a [V, 3] float32 cloud.
Tensor gather_rows(const Tensor& pts, const std::vector<int64_t>& idx) {
  Tensor out = empty({static_cast<int64_t>(idx.size()), 3}, TensorOptions(DType::f32, Device::cpu()));
  const float* src = pts.data<float>();
  float* dst = out.data<float>();
  for (size_t i = 0; i < idx.size(); ++i)
    for (int d = 0; d < 3; ++d) dst[i * 3 + d] = src[idx[i] * 3 + d];
  return out;
}

// FPS of a [V, 3] float32 cloud down to m points from a random start.
Tensor fps_subsample(const Tensor& pts, int64_t m, datasets::HostRng& rng) {
  FpsOptions o;
  o.start = static_cast<int64_t>(rng.below(static_cast<uint64_t>(pts.size(0))));
  const FpsResult r = fps(pts.view({1, pts.size(0), 3}), m, o);
  return gather_rows(pts, r.indices.to_vector<int64_t>());
}

Tensor random_subsample(const Tensor& pts, int64_t m, datasets::HostRng& rng) {
  std::vector<int64_t> idx(static_cast<size_t>(pts.size(0)));
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int64_t>(i);
  for (int64_t i = 0; i < m; ++i) {  // partial Fisher–Yates: idx[0, m) is a uniform random subset
    const auto j = static_cast<size_t>(i) + rng.below(idx.size() - static_cast<size_t>(i));
    std::swap(idx[static_cast<size_t>(i)], idx[j]);
  }
  idx.resize(static_cast<size_t>(m));
  return gather_rows(pts, idx);
}

void normalize_cloud(Tensor& pts, const std::string& mode, const std::string& path) {
  if (mode == "none") return;
  float* p = pts.data<float>();
  const int64_t n = pts.size(0);
  auto centre = [&] {
    double c[3] = {0, 0, 0};
    for (int64_t i = 0; i < n; ++i)
      for (int d = 0; d < 3; ++d) c[d] += p[i * 3 + d];
    for (int64_t i = 0; i < n; ++i)
      for (int d = 0; d < 3; ++d) p[i * 3 + d] = static_cast<float>(p[i * 3 + d] - c[d] / static_cast<double>(n));
  };
  auto scale = [&](double s) {
    PG_CHECK(s > 0.0 && std::isfinite(s), "pg convert: '", path, "': cannot normalise a shape whose points coincide");
    for (int64_t i = 0; i < n * 3; ++i) p[i] = static_cast<float>(p[i] / s);
  };
  if (mode == "sphere") {  // zero mean, largest norm 1 (PointNet's ModelNet40 data)
    centre();
    double r2 = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      r2 = std::max(
          r2, double(p[i * 3]) * p[i * 3] + double(p[i * 3 + 1]) * p[i * 3 + 1] + double(p[i * 3 + 2]) * p[i * 3 + 2]);
    }
    scale(std::sqrt(r2));
  } else {  // cube: divide by the largest bounding-box side, then zero mean (APSNet's OnUnitCube)
    double side = 0.0;
    for (int d = 0; d < 3; ++d) {
      double lo = p[d], hi = p[d];
      for (int64_t i = 0; i < n; ++i) {
        lo = std::min<double>(lo, p[i * 3 + d]);
        hi = std::max<double>(hi, p[i * 3 + d]);
      }
      side = std::max(side, hi - lo);
    }
    scale(side);
    centre();
  }
}

Tensor shape_points(const Source& s, const ConvertCli& c) {
  datasets::HostRng rng(c.seed, {kShapeTag, path_hash(s.rel)});
  const std::string ext = lower_ext(s.path);
  datasets::Mesh mesh;
  if (ext == ".ply") {
    mesh = datasets::read_ply(s.path);
  } else if (ext == ".off") {
    mesh = datasets::read_off(s.path);
  } else {
    mesh.vertices = datasets::read_xyz(s.path);
  }
  Tensor pts;
  if (!mesh.faces.empty() && c.mesh_sampling != "vertices") {
    const datasets::MeshTensors mt = datasets::mesh_to_tensors(mesh);
    const std::string what = "pg convert: '" + s.path + "'";
    if (c.mesh_sampling == "uniform") {
      pts = datasets::sample_mesh_surface(mt.vertices, mt.faces, c.points, rng, what);
    } else {
      const Tensor dense = datasets::sample_mesh_surface(mt.vertices, mt.faces, c.points * c.oversample, rng, what);
      pts = fps_subsample(dense, c.points, rng);
    }
  } else {
    pts = empty(mesh.vertices.shape(), TensorOptions(DType::f32, Device::cpu()));
    detail::copy_raw(pts, mesh.vertices);
    const int64_t v = pts.size(0);
    if (v > c.points) {
      pts = c.subsample == "fps" ? fps_subsample(pts, c.points, rng) : random_subsample(pts, c.points, rng);
    } else if (v < c.points) {
      PG_CHECK(c.pad && v > 0, "pg convert: '", s.path, "' has ", v, " points, fewer than --points ", c.points,
               v > 0 ? " (--pad repeats random points)" : "");
      std::vector<int64_t> idx(static_cast<size_t>(c.points));
      for (int64_t i = 0; i < c.points; ++i) {
        idx[static_cast<size_t>(i)] = i < v ? i : static_cast<int64_t>(rng.below(static_cast<uint64_t>(v)));
      }
      pts = gather_rows(pts, idx);
    }
  }
  normalize_cloud(pts, c.normalize, s.path);
  return pts;
}

void run_convert(const ConvertCli& c) {
  PG_CHECK(c.test_fraction + c.val_fraction < 1.0, "pg convert: --test-fraction ", c.test_fraction,
           " + --val-fraction ", c.val_fraction, " leaves no training shapes (the sum must be < 1)");
  std::error_code ec;
  const fs::path in_abs = fs::weakly_canonical(c.in, ec), out_abs = fs::weakly_canonical(c.out, ec);
  const auto rel = out_abs.lexically_relative(in_abs);
  PG_CHECK(rel.empty() || *rel.begin() == "..", "pg convert: the output folder '", c.out,
           "' must not be inside the input folder '", c.in, "'");
  const auto t0 = std::chrono::steady_clock::now();
  const Plan plan = make_plan(c);
  int64_t total = 0;
  for (const auto& [s, files] : plan.splits) total += static_cast<int64_t>(files.size());
  std::string names;
  for (const std::string& n : plan.classes) names += (names.empty() ? "" : ", ") + n;
  std::printf("pg convert: %zu %s (%s), %lld shapes from %s (%s)\n", plan.classes.size(),
              plan.classes.size() == 1 ? "class" : "classes", names.c_str(), static_cast<long long>(total),
              c.in.c_str(), plan.layout.c_str());
  std::fflush(stdout);

  const bool out_existed = fs::exists(c.out, ec);
  fs::create_directories(c.out, ec);
  PG_CHECK(fs::is_directory(c.out, ec), "pg convert: cannot create the output folder '", c.out, "'");
  const fs::path stage = fs::path(c.out) / (".pg_convert.tmp." + std::to_string(::getpid()));
  std::vector<std::string> written;  // file names, in writing order
  try {
    fs::create_directories(stage);
    ProgressLine progress;
    int64_t done = 0;
    std::vector<std::string> summary;
    for (const std::string& split : kSplitNames) {
      const auto it = plan.splits.find(split);
      if (it == plan.splits.end()) continue;
      const std::vector<Source>& files = it->second;
      std::string list;
      int64_t shards = 0;
      for (size_t first = 0; first < files.size(); first += static_cast<size_t>(c.shard_size)) {
        const size_t count = std::min(files.size() - first, static_cast<size_t>(c.shard_size));
        Tensor data = empty({static_cast<int64_t>(count), c.points, 3}, TensorOptions(DType::f32, Device::cpu()));
        std::vector<int64_t> labels;
        std::vector<std::string> ids;
        for (size_t k = 0; k < count; ++k) {
          const Source& s = files[first + k];
          const Tensor pts = shape_points(s, c);
          std::copy_n(pts.data<float>(), c.points * 3, data.data<float>() + static_cast<int64_t>(k) * c.points * 3);
          labels.push_back(s.label);
          ids.push_back(s.rel);
          ++done;
          progress.update("pg convert", static_cast<double>(done) / static_cast<double>(total),
                          std::to_string(done) + "/" + std::to_string(total) + " shapes  " + s.rel);
        }
        const std::string name = "ply_data_" + split + std::to_string(shards++) + ".h5";
        datasets::write_labelled_shard((stage / name).string(), data,
                                       from_vector(labels, {static_cast<int64_t>(labels.size())}), ids);
        written.push_back(name);
        list += name + "\n";
      }
      datasets::write_text_atomic((stage / (split + "_files.txt")).string(), list);
      written.push_back(split + "_files.txt");
      summary.push_back(split + " " + std::to_string(files.size()) + " shapes in " + std::to_string(shards) +
                        (shards == 1 ? " file" : " files"));
    }
    std::string names_txt;
    for (const std::string& n : plan.classes) names_txt += n + "\n";
    datasets::write_text_atomic((stage / "shape_names.txt").string(), names_txt);
    written.push_back("shape_names.txt");
    // Everything succeeded: move the files into place, the names and lists last.
    std::stable_partition(written.begin(), written.end(), [](const std::string& n) { return lower_ext(n) == ".h5"; });
    for (const std::string& n : written) fs::rename(stage / n, fs::path(c.out) / n);
    fs::remove(stage);
    std::string line;
    for (const std::string& s : summary) line += (line.empty() ? "" : ", ") + s;
    progress.print("  " + line);
  } catch (...) {
    fs::remove_all(stage, ec);
    if (!out_existed) fs::remove_all(c.out, ec);
    throw;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("  %lld points per shape (clouds: %s subsampling%s; meshes: %s), normalise %s, seed %llu\n",
              static_cast<long long>(c.points), c.subsample.c_str(), c.pad ? ", --pad" : "", c.mesh_sampling.c_str(),
              c.normalize.c_str(), static_cast<unsigned long long>(c.seed));
  std::printf("  wrote %zu files to %s in %.2f s\n", written.size(), c.out.c_str(), secs);
  for (const std::string& n : written) std::printf("    %s\n", n.c_str());
}

}  // namespace

void register_convert(CLI::App& app) {
  static ConvertCli c;
  auto* cmd = app.add_subcommand(
      "convert",
      "Convert a folder of per-shape .ply/.off/.xyz files to labelled HDF5 shards (ShapeNet/ModelNet layout)");
  // --in and --out are required unless a subcommand (pg convert consistent) runs instead; checked
  // in the callback because CLI11 would demand them from the subcommand's command line too.
  auto* in = cmd->add_option(
      "--in", c.in, "input folder: <class>/<files>, <class>/<split>/<files> or <split>/<class>/<files> (required)");
  auto* out = cmd->add_option("--out", c.out,
                              "output folder (created if missing; files of the same names are replaced) (required)");
  cmd->add_option("--points", c.points, "points per shape")
      ->capture_default_str()
      ->check(IntRange(1, int64_t(1) << 24));
  cmd->add_option("--subsample", c.subsample, "clouds with more points: fps (from a random start) or random")
      ->capture_default_str()
      ->check(CLI::IsMember({"fps", "random"}));
  cmd->add_option("--mesh-sampling", c.mesh_sampling,
                  "meshes: uniform (area-weighted), poisson (FPS of an --oversample times larger uniform sample) or "
                  "vertices (use the vertices as a cloud)")
      ->capture_default_str()
      ->check(CLI::IsMember({"uniform", "poisson", "vertices"}));
  cmd->add_option("--normalize", c.normalize,
                  "none, sphere (zero mean, max norm 1) or cube (largest bounding-box side 1, zero mean)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "sphere", "cube"}));
  cmd->add_option("--split", c.split, "auto (folders when present, else fraction), folders or fraction")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "folders", "fraction"}));
  cmd->add_option("--test-fraction", c.test_fraction, "share of each class for the test split (fraction split)")
      ->capture_default_str()
      ->check(RealRange(0.0, 1.0));
  cmd->add_option("--val-fraction", c.val_fraction, "share of each class for the val split (fraction split)")
      ->capture_default_str()
      ->check(RealRange(0.0, 1.0));
  cmd->add_option("--class", c.class_name, "all shapes belong to this class (the input folder holds the files)");
  cmd->add_option("--seed", c.seed, "seed of the split and of every shape's sampling")->capture_default_str();
  cmd->add_option("--shard-size", c.shard_size, "shapes per HDF5 shard")
      ->capture_default_str()
      ->check(IntRange(1, int64_t(1) << 30));
  cmd->add_flag("--pad", c.pad, "clouds with fewer points than --points: repeat random points instead of failing");
  cmd->add_option("--oversample", c.oversample, "poisson mesh sampling: size of the uniform sample / --points")
      ->capture_default_str()
      ->check(IntRange(2, 64));
  register_convert_consistent(*cmd);
  cmd->callback([cmd, in, out] {
    if (cmd->get_subcommands().size() > 0) return;  // pg convert consistent ran
    for (const CLI::Option* o : {in, out}) {
      if (o->count() == 0) throw CLI::RequiredError(o->get_name());
    }
    run_convert(c);
  });
}

}  // namespace pg::cli
