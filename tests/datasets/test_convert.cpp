// pg convert end to end: folders of .ply/.xyz/.off files → pg convert → read back with the
// ShapeNet and ModelNet40 readers. Covers the three input layouts and --class, FPS / random
// subsampling (points are a subset of the file's), surface sampling of meshes (points on the
// surface), normalisation, seeded determinism (a shape's points do not depend on the other
// files), and that errors leave the output folder as it was.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "datasets/h5_file.h"
#include "datasets/modelnet40.h"
#include "datasets/pointcloud_io.h"
#include "datasets/shapenet.h"
#include "ds_test_util.h"
#include "tools/cli_test_util.h"

#ifdef PG_CLI_BINARY

using namespace pg;
using namespace pg::datasets;
using pg::test::CliResult;
using pg::test::run_pg;
using pg::test::TempDir;

namespace fs = std::filesystem;

namespace {

// n points on a helix-like curve, distinct and deterministic.
Tensor curve(int64_t n, float phase) {
  std::vector<float> v;
  for (int64_t i = 0; i < n; ++i) {
    const float t = phase + 0.1f * static_cast<float>(i);
    v.insert(v.end(), {std::cos(t), std::sin(t), 0.01f * static_cast<float>(i)});
  }
  return from_vector(v, {n, 3});
}

// The cube [-1, 1]^3 as 8 vertices and 6 quads.
Mesh cube() {
  std::vector<float> v;
  for (int i = 0; i < 8; ++i) v.insert(v.end(), {i & 1 ? 1.f : -1.f, i & 2 ? 1.f : -1.f, i & 4 ? 1.f : -1.f});
  return {from_vector(v, {8, 3}), {{0, 1, 3, 2}, {4, 6, 7, 5}, {0, 4, 5, 1}, {2, 3, 7, 6}, {0, 2, 6, 4}, {1, 5, 7, 3}}};
}

// chair: a.ply (cloud, 100 points), b.xyz (60), c.off (cube mesh);
// table: d.xyz (40), e.ply (cube mesh), f.xyz (50).
void make_class_folders(const fs::path& root) {
  fs::create_directories(root / "chair");
  fs::create_directories(root / "table");
  write_ply((root / "chair/a.ply").string(), curve(100, 0.0f));
  write_xyz((root / "chair/b.xyz").string(), curve(60, 1.0f));
  write_off((root / "chair/c.off").string(), cube());
  write_xyz((root / "table/d.xyz").string(), curve(40, 2.0f));
  const Mesh m = cube();
  write_ply((root / "table/e.ply").string(), m.vertices, true, m.faces);
  write_xyz((root / "table/f.xyz").string(), curve(50, 3.0f));
  pg::test::write_text((root / "table/notes.md").string(), "ignored");
}

std::string str(const CliResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// Shape ids and clouds of one split, in file order.
struct SplitRows {
  std::vector<std::string> ids;
  std::vector<std::vector<float>> clouds;
  std::vector<int64_t> labels;
};

SplitRows read_split(const std::string& out, const std::string& split) {
  SplitRows s;
  const PointCloudSet set = read_shapenet(out, split);
  for (const std::string& f : set.files) {
    const auto ids = H5File::open(f).read_strings("shape_id");
    s.ids.insert(s.ids.end(), ids.begin(), ids.end());
  }
  const auto v = set.points.to_vector<float>();
  const int64_t p = set.num_points();
  for (int64_t i = 0; i < set.size(); ++i) s.clouds.emplace_back(v.begin() + i * p * 3, v.begin() + (i + 1) * p * 3);
  s.labels = set.labels.to_vector<int64_t>();
  return s;
}

const std::vector<float>& cloud_of(const SplitRows& s, const std::string& id) {
  const auto it = std::find(s.ids.begin(), s.ids.end(), id);
  REQUIRE(it != s.ids.end());
  return s.clouds[static_cast<size_t>(it - s.ids.begin())];
}

// Every point of `got` is one of the points of `source` (exactly), and no point repeats.
void require_subset(const std::vector<float>& got, const Tensor& source) {
  const auto src = source.to_vector<float>();
  std::set<std::vector<float>> pool, seen;
  for (size_t i = 0; i < src.size(); i += 3) pool.insert({src[i], src[i + 1], src[i + 2]});
  for (size_t i = 0; i < got.size(); i += 3) {
    const std::vector<float> p{got[i], got[i + 1], got[i + 2]};
    REQUIRE(pool.count(p) == 1);
    REQUIRE(seen.insert(p).second);
  }
}

// Every point lies on the surface of the cube [-1, 1]^3.
void require_on_cube(const std::vector<float>& got) {
  for (size_t i = 0; i < got.size(); i += 3) {
    double far = 0.0;
    for (int d = 0; d < 3; ++d) far = std::max(far, std::fabs(double(got[i + d])));
    REQUIRE(far == Approx(1.0).margin(1e-6));
  }
}

}  // namespace

TEST_CASE("convert: class folders, seeded fraction split, subsets and surface samples", "[datasets][convert]") {
  TempDir dir("pg_conv");
  const fs::path in = fs::path(dir.path()) / "in";
  make_class_folders(in);
  const std::string out = dir.file("out");
  const CliResult r = run_pg({"convert", "--in", in.string(), "--out", out, "--points", "32", "--test-fraction", "0.34",
                              "--seed", "3", "--shard-size", "3"});
  INFO(str(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("pg convert: 2 classes (chair, table), 6 shapes") != std::string::npos);
  CHECK(r.out.find("train 4 shapes in 2 files, test 2 shapes in 1 file") != std::string::npos);
  CHECK(pg::test::read_bytes(dir.file("out/shape_names.txt")) == "chair\ntable\n");
  CHECK(pg::test::read_bytes(dir.file("out/train_files.txt")) == "ply_data_train0.h5\nply_data_train1.h5\n");
  CHECK_FALSE(fs::exists(dir.file("out/val_files.txt")));
  for (const auto& e : fs::directory_iterator(out)) CHECK(e.path().filename().string()[0] != '.');  // no staging left

  const SplitRows train = read_split(out, "train"), test = read_split(out, "test");
  REQUIRE(train.ids.size() == 4);
  REQUIRE(test.ids.size() == 2);
  // One test shape per class; every file appears once; labels follow the folder.
  std::set<std::string> all(train.ids.begin(), train.ids.end());
  all.insert(test.ids.begin(), test.ids.end());
  CHECK(all == std::set<std::string>{"chair/a.ply", "chair/b.xyz", "chair/c.off", "table/d.xyz", "table/e.ply",
                                     "table/f.xyz"});
  CHECK(test.labels == std::vector<int64_t>{0, 1});
  for (size_t i = 0; i < train.ids.size(); ++i) CHECK(train.labels[i] == (train.ids[i].rfind("chair", 0) == 0 ? 0 : 1));
  // Clouds with more points are subsampled (FPS) to a subset; meshes are sampled on the surface.
  auto find = [&](const std::string& id) -> const std::vector<float>& {
    return std::find(train.ids.begin(), train.ids.end(), id) != train.ids.end() ? cloud_of(train, id)
                                                                                : cloud_of(test, id);
  };
  require_subset(find("chair/a.ply"), curve(100, 0.0f));
  require_subset(find("chair/b.xyz"), curve(60, 1.0f));
  require_subset(find("table/d.xyz"), curve(40, 2.0f));
  require_on_cube(find("chair/c.off"));
  require_on_cube(find("table/e.ply"));
  // The ModelNet40 reader (and so `pg train pointnet`) reads the same folder.
  CHECK(read_modelnet40(out, Split::train).size() == 4);

  // Same seed: identical bytes; a shape's points do not depend on the other files.
  const std::string out2 = dir.file("out2");
  fs::remove(in / "table/f.xyz");
  REQUIRE(
      run_pg({"convert", "--in", in.string(), "--out", out2, "--points", "32", "--test-fraction", "0", "--seed", "3"})
          .exit_code == 0);
  const SplitRows again = read_split(out2, "train");
  CHECK(cloud_of(again, "chair/a.ply") == find("chair/a.ply"));
  CHECK(cloud_of(again, "table/e.ply") == find("table/e.ply"));
  // Another seed: other points.
  const std::string out3 = dir.file("out3");
  REQUIRE(
      run_pg({"convert", "--in", in.string(), "--out", out3, "--points", "32", "--test-fraction", "0", "--seed", "4"})
          .exit_code == 0);
  CHECK(cloud_of(read_split(out3, "train"), "chair/a.ply") != find("chair/a.ply"));
}

TEST_CASE("convert: split folders, --class, random subsampling, poisson sampling, normalisation",
          "[datasets][convert]") {
  TempDir dir("pg_conv2");
  // <class>/<split>/ (ModelNet's OFF layout).
  const fs::path a = fs::path(dir.path()) / "a";
  for (const char* sub : {"bed/train", "bed/test", "sofa/train", "sofa/test"}) fs::create_directories(a / sub);
  write_xyz((a / "bed/train/1.xyz").string(), curve(50, 0.0f));
  write_xyz((a / "bed/train/2.xyz").string(), curve(50, 1.0f));
  write_xyz((a / "bed/test/3.xyz").string(), curve(50, 2.0f));
  write_off((a / "sofa/train/4.off").string(), cube());
  write_xyz((a / "sofa/test/5.xyz").string(), curve(50, 3.0f));
  CliResult r = run_pg({"convert", "--in", a.string(), "--out", dir.file("oa"), "--points", "20", "--subsample",
                        "random", "--mesh-sampling", "poisson", "--normalize", "sphere"});
  INFO(str(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("<class>/<split> folders") != std::string::npos);
  const SplitRows train = read_split(dir.file("oa"), "train"), test = read_split(dir.file("oa"), "test");
  CHECK(train.ids == std::vector<std::string>{"bed/train/1.xyz", "bed/train/2.xyz", "sofa/train/4.off"});
  CHECK(test.ids == std::vector<std::string>{"bed/test/3.xyz", "sofa/test/5.xyz"});
  for (const auto& c : train.clouds) {
    double mean[3] = {0, 0, 0}, rmax = 0.0;
    for (size_t i = 0; i < c.size(); i += 3) {
      for (int d = 0; d < 3; ++d) mean[d] += c[i + d] / 20.0;
      rmax = std::max(rmax, std::sqrt(double(c[i]) * c[i] + double(c[i + 1]) * c[i + 1] + double(c[i + 2]) * c[i + 2]));
    }
    for (const double m : mean) CHECK(std::fabs(m) < 1e-6);
    CHECK(rmax == Approx(1.0).epsilon(1e-6));
  }
  // The poisson-sampled cube (normalised: the cube's centre is the mean only roughly, so check
  // spread instead): its 20 points are well separated, unlike i.i.d. uniform samples.
  const auto& sofa = cloud_of(train, "sofa/train/4.off");
  double closest = 1e9;
  for (size_t i = 0; i < sofa.size(); i += 3)
    for (size_t j = i + 3; j < sofa.size(); j += 3) {
      double d2 = 0.0;
      for (int d = 0; d < 3; ++d) d2 += (sofa[i + d] - sofa[j + d]) * (sofa[i + d] - sofa[j + d]);
      closest = std::min(closest, std::sqrt(d2));
    }
  CHECK(closest > 0.2);

  // <split>/<class>/ and --split fraction over it.
  const fs::path b = fs::path(dir.path()) / "b";
  fs::create_directories(b / "train/lamp");
  fs::create_directories(b / "val/lamp");
  write_xyz((b / "train/lamp/1.xyz").string(), curve(30, 0.0f));
  write_xyz((b / "val/lamp/2.xyz").string(), curve(30, 1.0f));
  r = run_pg({"convert", "--in", b.string(), "--out", dir.file("ob"), "--points", "30"});
  REQUIRE(r.exit_code == 0);
  CHECK(read_split(dir.file("ob"), "val").ids == std::vector<std::string>{"val/lamp/2.xyz"});
  CHECK_FALSE(fs::exists(dir.file("ob/test_files.txt")));
  r = run_pg({"convert", "--in", b.string(), "--out", dir.file("ob2"), "--points", "30", "--split", "fraction",
              "--test-fraction", "0.5"});
  REQUIRE(r.exit_code == 0);
  CHECK(read_split(dir.file("ob2"), "train").ids.size() == 1);
  CHECK(read_split(dir.file("ob2"), "test").ids.size() == 1);

  // --class: a folder of one class's files; random subsampling gives distinct file points.
  const fs::path c = fs::path(dir.path()) / "c";
  fs::create_directories(c);
  for (int i = 0; i < 4; ++i) write_xyz((c / (std::to_string(i) + ".xyz")).string(), curve(64, float(i)));
  r = run_pg({"convert", "--in", c.string(), "--out", dir.file("oc"), "--points", "16", "--class", "plant",
              "--subsample", "random", "--test-fraction", "0.25"});
  REQUIRE(r.exit_code == 0);
  CHECK(read_shapenet(dir.file("oc"), "train").class_names == std::vector<std::string>{"plant"});
  const SplitRows ct = read_split(dir.file("oc"), "test");
  REQUIRE(ct.ids.size() == 1);
  require_subset(ct.clouds[0], curve(64, float(std::stoi(ct.ids[0].substr(0, 1)))));
}

TEST_CASE("convert: errors name the problem and leave the output folder as it was", "[datasets][convert]") {
  TempDir dir("pg_conv_err");
  const fs::path in = fs::path(dir.path()) / "in";
  make_class_folders(in);
  const std::string out = dir.file("out");

  // A corrupt file: non-zero exit, the file named, no output folder created.
  pg::test::write_bytes((in / "table/z.ply").string(), "ply\nformat ascii 1.0\nelement vertex 3\nend_header\n1 2\n");
  CliResult r = run_pg({"convert", "--in", in.string(), "--out", out, "--points", "32"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("z.ply") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  // An existing output folder keeps its content and gets no temporaries.
  fs::create_directories(out);
  pg::test::write_text(dir.file("out/shape_names.txt"), "old\n");
  r = run_pg({"convert", "--in", in.string(), "--out", out, "--points", "32"});
  CHECK(r.exit_code == 1);
  CHECK(pg::test::read_bytes(dir.file("out/shape_names.txt")) == "old\n");
  CHECK(std::distance(fs::directory_iterator(out), fs::directory_iterator()) == 1);
  fs::remove(in / "table/z.ply");

  // Too few points without --pad; with --pad the file's points are kept and repeated.
  r = run_pg({"convert", "--in", in.string(), "--out", out, "--points", "70"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("points, fewer than --points 70 (--pad repeats random points)") != std::string::npos);
  CHECK(pg::test::read_bytes(dir.file("out/shape_names.txt")) == "old\n");
  r = run_pg({"convert", "--in", in.string(), "--out", out, "--points", "70", "--pad", "--test-fraction", "0"});
  INFO(str(r));
  REQUIRE(r.exit_code == 0);
  const PointCloudSet padded = read_shapenet(out, "train");
  CHECK(padded.num_points() == 70);
  CHECK(pg::test::read_bytes(dir.file("out/shape_names.txt")) == "chair\ntable\n");

  // Layout and option errors.
  r = run_pg({"convert", "--in", dir.file("missing"), "--out", dir.file("o2")});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("input folder") != std::string::npos);
  r = run_pg({"convert", "--in", in.string(), "--out", (in / "chair/o").string()});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("must not be inside the input folder") != std::string::npos);
  r = run_pg({"convert", "--in", in.string(), "--out", dir.file("o3"), "--split", "folders"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no train/val/test folders") != std::string::npos);
  r = run_pg(
      {"convert", "--in", in.string(), "--out", dir.file("o4"), "--test-fraction", "0.6", "--val-fraction", "0.4"});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("leaves no training shapes") != std::string::npos);
  fs::create_directories(in / "empty_class");
  r = run_pg({"convert", "--in", in.string(), "--out", dir.file("o5")});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("class 'empty_class' has no shape files") != std::string::npos);
  fs::remove(in / "empty_class");
  fs::create_directories(in / "chair/train");
  r = run_pg({"convert", "--in", in.string(), "--out", dir.file("o6")});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("holds both shape files and train/val/test folders") != std::string::npos);
  for (const char* f : {"a.ply", "b.xyz", "c.off"}) fs::rename(in / "chair" / f, in / "chair/train" / f);
  r = run_pg({"convert", "--in", in.string(), "--out", dir.file("o7")});
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("mixes classes with and without") != std::string::npos);
  for (const char* o : {"o2", "o3", "o4", "o5", "o6", "o7"}) CHECK_FALSE(fs::exists(dir.file(o)));
}

#endif  // PG_CLI_BINARY
