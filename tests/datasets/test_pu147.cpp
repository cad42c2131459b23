// PU-147 readers: PU-GAN's patch file, the test set as one .h5 or as input/ground-truth .xyz
// folders, PU-GAN's per-patch normalisation, every validation error, and the real test set when
// ../shared/data is present.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <set>

#include "datasets/h5_file.h"
#include "datasets/pointcloud_io.h"
#include "datasets/pu147.h"
#include "ds_test_util.h"

using namespace pg;
using namespace pg::datasets;
using pg::test::coded_points;
using pg::test::require_error;
using pg::test::TempDir;

namespace {

void write_pairs(const std::string& path, const std::string& in_name, const Tensor& in, const std::string& gt_name,
                 const Tensor& gt) {
  H5File f = H5File::create(path);
  if (in.defined()) f.write(in_name, in);
  if (gt.defined()) f.write(gt_name, gt);
}

Tensor cloud_of(const Tensor& stack, int64_t i) {
  const auto v = stack.to_vector<float>();
  const int64_t p = stack.size(1);
  return from_vector(std::vector<float>(v.begin() + i * p * 3, v.begin() + (i + 1) * p * 3), {p, 3});
}

}  // namespace

TEST_CASE("pu147: PU-GAN's patch file as (input, gt) items, names and keys configurable", "[datasets][pu147]") {
  TempDir dir("pg_pu");
  const std::string path = dir.file("PUGAN_poisson_256_poisson_1024.h5");
  // float64 inputs (read as float32) and float32 ground truths.
  write_pairs(path, "poisson_256", from_vector(coded_points(3, 4, 0.0f).to_vector<double>(), {3, 4, 3}), "poisson_1024",
              coded_points(3, 16, 100.0f));
  const auto ds = read_pu_patches(path);
  REQUIRE(ds->size() == 3);
  CHECK(ds->describe().find("PU-147 patches") != std::string::npos);
  CHECK(ds->describe().find("3 pairs, 4 → 16 points") != std::string::npos);
  CHECK(ds->names() == std::vector<std::string>{"0", "1", "2"});
  const Example e = ds->get(2);
  REQUIRE(e.size() == 2);
  REQUIRE(e.at("input").shape() == Shape{4, 3});
  REQUIRE(e.at("gt").shape() == Shape{16, 3});
  CHECK(e.at("input").dtype() == DType::f32);
  CHECK(e.at("input").to_vector<float>()[3 * 3] == Approx(2.003f));
  CHECK(e.at("gt").to_vector<float>()[15 * 3 + 2] == Approx(102.0152f));
  require_error([&] { ds->get(3); }, {"PU-147 patches", "item 3"});

  PuOptions o;
  o.input_dataset = "sparse";
  o.gt_dataset = "dense";
  o.input_key = "x";
  o.gt_key = "y";
  write_pairs(dir.file("named.h5"), "sparse", coded_points(2, 4, 0.0f), "dense", coded_points(2, 8, 0.0f));
  const Example n = read_pu_patches(dir.file("named.h5"), o)->get(0);
  CHECK(n.count("x") == 1);
  CHECK(n.at("y").shape() == Shape{8, 3});
  o.gt_key = "x";
  require_error([&] { read_pu_patches(dir.file("named.h5"), o); }, {"item keys", "'x'"});
}

TEST_CASE("pu147: normalisation centres each pair on its ground truth and scales it into the unit sphere",
          "[datasets][pu147]") {
  TempDir dir("pg_pu_norm");
  const std::string path = dir.file("p.h5");
  const Tensor in = coded_points(2, 4, 5.0f), gt = coded_points(2, 16, 5.0f);
  write_pairs(path, "poisson_256", in, "poisson_1024", gt);
  PuOptions o;
  o.normalize = true;
  const auto ds = read_pu_patches(path, o);
  for (int64_t i = 0; i < 2; ++i) {
    const auto g = ds->get(i).at("gt").to_vector<float>();
    const auto x = ds->get(i).at("input").to_vector<float>();
    const auto g0 = cloud_of(gt, i).to_vector<float>();
    const auto x0 = cloud_of(in, i).to_vector<float>();
    // Expected: both clouds mapped by p → (p − c) / r with c, r the ground truth's centroid and
    // largest distance from it.
    double c[3] = {0, 0, 0}, r = 0.0;
    for (size_t j = 0; j < g0.size(); ++j) c[j % 3] += g0[j] / 16.0;
    for (size_t j = 0; j < g0.size(); j += 3) {
      r = std::max(r, std::sqrt((g0[j] - c[0]) * (g0[j] - c[0]) + (g0[j + 1] - c[1]) * (g0[j + 1] - c[1]) +
                                (g0[j + 2] - c[2]) * (g0[j + 2] - c[2])));
    }
    for (size_t j = 0; j < g.size(); ++j) CHECK(g[j] == Approx((g0[j] - c[j % 3]) / r).margin(1e-6));
    for (size_t j = 0; j < x.size(); ++j) CHECK(x[j] == Approx((x0[j] - c[j % 3]) / r).margin(1e-6));
    double rmax = 0.0;
    for (size_t j = 0; j < g.size(); j += 3)
      rmax = std::max(rmax, std::sqrt(double(g[j]) * g[j] + double(g[j + 1]) * g[j + 1] + double(g[j + 2]) * g[j + 2]));
    CHECK(rmax == Approx(1.0).epsilon(1e-5));
  }
  // A ground truth whose points coincide cannot be normalised.
  write_pairs(path, "poisson_256", in, "poisson_1024", zeros({2, 16, 3}));
  require_error([&] { read_pu_patches(path, o); }, {"p.h5", "pair 0", "coincide"});
}

TEST_CASE("pu147: bad patch and test files name the file and the dataset", "[datasets][pu147]") {
  TempDir dir("pg_pu_bad");
  const std::string path = dir.file("p.h5");
  require_error([&] { read_pu_patches(dir.file("absent.h5")); }, {"absent.h5", "not found"});
  write_pairs(path, "poisson_256", coded_points(2, 4, 0.0f), "other", coded_points(2, 8, 0.0f));
  require_error([&] { read_pu_patches(path); }, {"p.h5", "dataset 'poisson_1024'", "not found"});
  write_pairs(path, "poisson_256", coded_points(2, 4, 0.0f), "poisson_1024", coded_points(3, 8, 0.0f));
  require_error([&] { read_pu_patches(path); }, {"p.h5", "poisson_1024", "3 ground-truth clouds but 2 inputs"});
  write_pairs(path, "poisson_256", zeros({2, 12}), "poisson_1024", coded_points(2, 8, 0.0f));
  require_error([&] { read_pu_patches(path); }, {"p.h5", "dataset 'poisson_256'", "wrong rank"});
  write_pairs(path, "poisson_256", zeros({2, 4, 2}), "poisson_1024", coded_points(2, 8, 0.0f));
  require_error([&] { read_pu_patches(path); }, {"dataset 'poisson_256'", "wrong shape", "[2, 4, 2]"});
  write_pairs(path, "poisson_256", zeros({2, 4, 3}, TensorOptions(DType::i32)), "poisson_1024",
              coded_points(2, 8, 0.0f));
  require_error([&] { read_pu_patches(path); }, {"dataset 'poisson_256'", "wrong dtype", "int32"});
  std::vector<float> v = coded_points(2, 8, 0.0f).to_vector<float>();
  v[(8 + 6) * 3] = std::numeric_limits<float>::infinity();
  write_pairs(path, "poisson_256", coded_points(2, 4, 0.0f), "poisson_1024", from_vector(v, {2, 8, 3}));
  require_error([&] { read_pu_patches(path); }, {"dataset 'poisson_1024'", "non-finite", "shape 1", "point 6"});
  // check_finite = false lets it through.
  PuOptions lax;
  lax.check_finite = false;
  CHECK(read_pu_patches(path, lax)->size() == 2);
  // Truncated file.
  write_pairs(path, "poisson_256", coded_points(2, 4, 0.0f), "poisson_1024", coded_points(2, 64, 0.0f));
  const std::string bytes = pg::test::read_bytes(path);
  pg::test::write_bytes(path, bytes.substr(0, bytes.size() - 600));
  require_error([&] { read_pu_patches(path); }, {"p.h5"});

  // Test .h5: names must match the cloud count.
  const std::string t = dir.file("t.h5");
  {
    H5File f = H5File::create(t);
    f.write("input_2048", coded_points(2, 4, 0.0f));
    f.write("gt_8192", coded_points(2, 8, 0.0f));
    f.write_strings("name", {"only_one"});
  }
  require_error([&] { read_pu_test_h5(t); }, {"t.h5", "dataset 'name'", "1 names for 2 clouds"});
}

TEST_CASE("pu147: the test set from one .h5 and from paired .xyz folders", "[datasets][pu147]") {
  TempDir dir("pg_pu_test");
  const std::string t = dir.file("test.h5");
  const Tensor in = coded_points(3, 4, 0.0f), gt = coded_points(3, 8, 50.0f);
  {
    H5File f = H5File::create(t);
    f.write("input_2048", in);
    f.write("gt_8192", gt);
    f.write_strings("name", {"camel", "cow", "duck"});
  }
  const auto h5 = read_pu_test_h5(t);
  CHECK(h5->names() == std::vector<std::string>{"camel", "cow", "duck"});
  CHECK(h5->get(1).at("gt").to_vector<float>() == cloud_of(gt, 1).to_vector<float>());

  // Folders: the same clouds as .xyz (inputs) and .ply (ground truths), written out of order.
  std::filesystem::create_directories(dir.file("input"));
  std::filesystem::create_directories(dir.file("gt"));
  const std::vector<std::string> names{"duck", "camel", "cow"};
  const std::vector<int64_t> rows{2, 0, 1};
  for (size_t k = 0; k < names.size(); ++k) {
    write_xyz(dir.file("input/" + names[k] + ".xyz"), cloud_of(in, rows[k]));
    write_ply(dir.file("gt/" + names[k] + ".ply"), cloud_of(gt, rows[k]));
  }
  pg::test::write_text(dir.file("input/readme.md"), "not a cloud");
  const auto folders = read_pu_test_folders(dir.file("input"), dir.file("gt"));
  CHECK(folders->names() == std::vector<std::string>{"camel", "cow", "duck"});  // sorted by name
  for (int64_t i = 0; i < 3; ++i) {
    CHECK(folders->get(i).at("input").to_vector<float>() == h5->get(i).at("input").to_vector<float>());
    CHECK(folders->get(i).at("gt").to_vector<float>() == h5->get(i).at("gt").to_vector<float>());
  }

  // Unpaired names on either side are all listed.
  write_xyz(dir.file("input/elk.xyz"), cloud_of(in, 0));
  write_xyz(dir.file("gt/fandisk.xyz"), cloud_of(gt, 0));
  write_xyz(dir.file("gt/horse.xyz"), cloud_of(gt, 0));
  require_error(
      [&] { read_pu_test_folders(dir.file("input"), dir.file("gt")); },
      {"do not pair up", "inputs without a ground truth: elk", "ground truths without an input: fandisk, horse"});
  std::filesystem::remove(dir.file("gt/fandisk.xyz"));
  std::filesystem::remove(dir.file("gt/horse.xyz"));
  write_xyz(dir.file("gt/elk.xyz"), cloud_of(coded_points(1, 5, 0.0f), 0));
  require_error([&] { read_pu_test_folders(dir.file("input"), dir.file("gt")); },
                {"elk.xyz", "has 5 points", "same count"});
  write_xyz(dir.file("gt/elk.txt"), cloud_of(gt, 0));
  require_error([&] { read_pu_test_folders(dir.file("input"), dir.file("gt")); }, {"two files named 'elk'"});
  require_error([&] { read_pu_test_folders(dir.file("nowhere"), dir.file("gt")); },
                {"input folder", "nowhere", "not found"});
  std::filesystem::create_directories(dir.file("empty"));
  require_error([&] { read_pu_test_folders(dir.file("empty"), dir.file("gt")); }, {"empty", "holds no point files"});
}

TEST_CASE("pu147: the real PU-GAN test set (../shared/data/pu_gan_test) when present", "[datasets][pu147]") {
  const std::string path = std::string(PG_SHARED_DATA_DIR) + "/pu_gan_test/pu_gan_test.h5";
  if (!test::shared_data_present(path, "the real PU-GAN test set")) return;
  const auto ds = read_pu_test_h5(path);
  REQUIRE(ds->size() == 27);
  CHECK(ds->inputs().shape() == Shape{27, 2048, 3});
  CHECK(ds->gts().shape() == Shape{27, 8192, 3});
  const std::set<std::string> unique(ds->names().begin(), ds->names().end());
  CHECK(unique.size() == 27);
  CHECK(unique.count("camel") == 1);
  // Every input point lies near the ground-truth surface sample: its nearest gt point is much
  // closer than the cloud's extent (checked on one shape; a pairing mistake fails this).
  const Example e = ds->get(0);
  const auto x = e.at("input").to_vector<float>(), g = e.at("gt").to_vector<float>();
  double worst = 0.0, extent = 0.0;
  for (size_t i = 0; i < x.size(); i += 3 * 64) {
    double best = 1e30;
    for (size_t j = 0; j < g.size(); j += 3) {
      const double dx = x[i] - g[j], dy = x[i + 1] - g[j + 1], dz = x[i + 2] - g[j + 2];
      best = std::min(best, dx * dx + dy * dy + dz * dz);
    }
    worst = std::max(worst, std::sqrt(best));
  }
  for (size_t j = 0; j < g.size(); j += 3) extent = std::max(extent, std::fabs(double(g[j])));
  CHECK(worst < 0.05 * extent);
  // The same pair through .xyz folders reads back identically.
  TempDir dir("pg_pu_real");
  std::filesystem::create_directories(dir.file("in"));
  std::filesystem::create_directories(dir.file("gt"));
  write_xyz(dir.file("in/" + ds->names()[0] + ".xyz"), e.at("input"));
  write_xyz(dir.file("gt/" + ds->names()[0] + ".xyz"), e.at("gt"));
  const auto f = read_pu_test_folders(dir.file("in"), dir.file("gt"));
  CHECK(f->get(0).at("gt").to_vector<float>() == g);
}
