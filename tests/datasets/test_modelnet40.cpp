// ModelNet40 reader: round trips of the official layout written by the tests themselves, every
// validation error (naming file and dataset), and the real subset when it is available.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>

#include "datasets/h5_file.h"
#include "datasets/modelnet40.h"
#include "ds_test_util.h"

using namespace pg;
using namespace pg::datasets;
using pg::test::coded_points;
using pg::test::require_error;
using pg::test::TempDir;
using pg::test::write_text;

namespace {

// A small data set in the official layout: 4 classes, train in two shards, test in one.
struct FakeModelNet {
  TempDir dir{"pg_mn"};
  FakeModelNet() {
    write_text(dir.file("shape_names.txt"), "airplane\nbathtub\nbed\nbench\n\n");
    write_text(dir.file("train_files.txt"),
               "data/modelnet40_ply_hdf5_2048/ply_data_train0.h5\ndata/modelnet40_ply_hdf5_2048/ply_data_train1.h5\n");
    write_text(dir.file("test_files.txt"), "data/modelnet40_ply_hdf5_2048/ply_data_test0.h5\n");
    write_modelnet_shard(dir.file("ply_data_train0.h5"), coded_points(3, 16, 0.0f),
                         from_vector(std::vector<int64_t>{0, 3, 1}, {3}));
    write_modelnet_shard(dir.file("ply_data_train1.h5"), coded_points(2, 16, 100.0f),
                         from_vector(std::vector<int64_t>{2, 2}, {2}));
    write_modelnet_shard(dir.file("ply_data_test0.h5"), coded_points(2, 16, 200.0f),
                         from_vector(std::vector<int64_t>{1, 0}, {2}));
  }
  std::string path(const std::string& f) const { return dir.file(f); }
};

// Writes a shard with arbitrary data/label tensors (any may be undefined = absent).
void write_raw_shard(const std::string& path, const Tensor& data, const Tensor& label) {
  H5File f = H5File::create(path);
  if (data.defined()) f.write("data", data);
  if (label.defined()) f.write("label", label);
}

Tensor u8_labels(std::vector<uint8_t> v, bool column = true) {
  const int64_t n = static_cast<int64_t>(v.size());
  return from_vector(v, column ? Shape{n, 1} : Shape{n});
}

}  // namespace

TEST_CASE("modelnet40: reads the official layout, list paths resolved by basename", "[datasets]") {
  FakeModelNet mn;
  const PointCloudSet train = read_modelnet40(mn.dir.path(), Split::train);
  CHECK(train.class_names == std::vector<std::string>{"airplane", "bathtub", "bed", "bench"});
  REQUIRE(train.points.shape() == Shape{5, 16, 3});
  CHECK(train.labels.to_vector<int64_t>() == std::vector<int64_t>{0, 3, 1, 2, 2});
  CHECK(train.file_offsets == std::vector<int64_t>{0, 3, 5});
  CHECK(train.files.size() == 2);
  CHECK(train.files[1] == mn.path("ply_data_train1.h5"));
  const auto pv = train.points.to_vector<float>();
  CHECK(pv[0] == 0.0f);
  CHECK(pv[(3 * 16 + 0) * 3] == 100.0f);  // first point of the second shard
  CHECK(pv[(4 * 16 + 5) * 3 + 2] == Approx(101.0052f));
  CHECK(train.class_counts() == std::vector<int64_t>{1, 1, 2, 1});
  const PointCloudSet test = read_modelnet40(mn.dir.path(), Split::test);
  CHECK(test.size() == 2);
  CHECK(test.num_points() == 16);
  CHECK(test.labels.to_vector<int64_t>() == std::vector<int64_t>{1, 0});

  // The stored layout is the official one: float32 [N, P, 3] data and uint8 [N, 1] labels.
  H5File f = H5File::open(mn.path("ply_data_test0.h5"));
  CHECK(f.type("data").describe() == "float32");
  CHECK(f.type("label").describe() == "uint8");
  CHECK(f.shape("label") == Shape{2, 1});
}

TEST_CASE("modelnet40: first-k points and alternative label layouts", "[datasets]") {
  FakeModelNet mn;
  ModelNetReadOptions o;
  o.max_points = 4;
  const PointCloudSet s = read_modelnet40(mn.dir.path(), Split::train, o);
  REQUIRE(s.points.shape() == Shape{5, 4, 3});
  const auto pv = s.points.to_vector<float>();
  CHECK(pv[(1 * 4 + 3) * 3 + 1] == Approx(1.0031f));  // shape 1, point 3, y
  o.max_points = 17;
  require_error([&] { read_modelnet40(mn.dir.path(), Split::train, o); }, {"ply_data_train0.h5", "'data'", "17"});

  // Labels as [N] int64 and as int32 [N, 1] are accepted.
  write_raw_shard(mn.path("ply_data_test0.h5"), coded_points(2, 16, 0.0f),
                  from_vector(std::vector<int64_t>{3, 1}, {2}));
  CHECK(read_modelnet40(mn.dir.path(), Split::test).labels.to_vector<int64_t>() == std::vector<int64_t>{3, 1});
  write_raw_shard(mn.path("ply_data_test0.h5"), coded_points(2, 16, 0.0f),
                  from_vector(std::vector<int32_t>{2, 0}, {2, 1}));
  CHECK(read_modelnet40(mn.dir.path(), Split::test).labels.to_vector<int64_t>() == std::vector<int64_t>{2, 0});
}

TEST_CASE("modelnet40: missing files and folders are named", "[datasets]") {
  {
    FakeModelNet mn;
    std::filesystem::remove(mn.path("shape_names.txt"));
    require_error([&] { read_modelnet40(mn.dir.path(), Split::train); }, {"shape_names.txt", "not found"});
  }
  {
    FakeModelNet mn;
    std::filesystem::remove(mn.path("test_files.txt"));
    require_error([&] { read_modelnet40(mn.dir.path(), Split::test); }, {"test_files.txt", "not found"});
  }
  {
    FakeModelNet mn;
    std::filesystem::remove(mn.path("ply_data_train1.h5"));
    require_error([&] { read_modelnet40(mn.dir.path(), Split::train); },
                  {"train_files.txt", "line 2", "ply_data_train1.h5", "not found"});
  }
  {
    FakeModelNet mn;
    write_text(mn.path("shape_names.txt"), "a\nb\na\n");
    require_error([&] { read_modelnet40(mn.dir.path(), Split::train); }, {"shape_names.txt", "duplicate", "'a'"});
  }
  {
    FakeModelNet mn;
    write_text(mn.path("train_files.txt"), "\n\n");
    require_error([&] { read_modelnet40(mn.dir.path(), Split::train); }, {"train_files.txt", "no files"});
  }
  require_error([] { read_modelnet40("/nonexistent/pg/data", Split::train); }, {"/nonexistent/pg/data", "not found"});
}

TEST_CASE("modelnet40: bad shards name the file and the dataset", "[datasets]") {
  FakeModelNet mn;
  const std::string shard = mn.path("ply_data_test0.h5");
  auto read = [&] { read_modelnet40(mn.dir.path(), Split::test); };
  const Tensor good = coded_points(2, 16, 0.0f);
  const Tensor good_l = u8_labels({1, 0});

  write_raw_shard(shard, Tensor(), good_l);
  require_error(read, {shard, "dataset 'data'", "not found"});
  write_raw_shard(shard, good, Tensor());
  require_error(read, {shard, "dataset 'label'", "not found"});
  write_raw_shard(shard, from_vector(good.to_vector<double>(), {2, 16, 3}), good_l);
  require_error(read, {shard, "dataset 'data'", "wrong dtype", "float64", "float32"});
  write_raw_shard(shard, from_vector(good.to_vector<int32_t>(), {2, 16, 3}), good_l);
  require_error(read, {shard, "dataset 'data'", "wrong dtype", "int32"});
  write_raw_shard(shard, from_vector(good.to_vector<float>(), {2, 48}), good_l);
  require_error(read, {shard, "dataset 'data'", "wrong rank", "[2, 48]"});
  write_raw_shard(shard, from_vector(good.to_vector<float>(), {2, 12, 4}), good_l);
  require_error(read, {shard, "dataset 'data'", "wrong shape", "[2, 12, 4]"});
  write_raw_shard(shard, good, from_vector(std::vector<float>{1, 0}, {2, 1}));
  require_error(read, {shard, "dataset 'label'", "wrong dtype", "float32"});
  write_raw_shard(shard, good, from_vector(std::vector<uint8_t>{1, 0, 1, 0}, {2, 2}));
  require_error(read, {shard, "dataset 'label'", "wrong shape", "[2, 2]"});
  write_raw_shard(shard, good, u8_labels({1, 0, 2}));
  require_error(read, {shard, "dataset 'label'", "3 labels for 2 shapes"});
  write_raw_shard(shard, good, u8_labels({1, 4}));
  require_error(read, {shard, "dataset 'label'", "label 4", "shape 1", "[0, 4)"});
  write_raw_shard(shard, good, from_vector(std::vector<int64_t>{-1, 0}, {2}));
  require_error(read, {shard, "dataset 'label'", "label -1"});

  std::vector<float> v = good.to_vector<float>();
  v[(1 * 16 + 7) * 3 + 1] = std::numeric_limits<float>::quiet_NaN();
  write_raw_shard(shard, from_vector(v, {2, 16, 3}), good_l);
  require_error(read, {shard, "dataset 'data'", "non-finite", "shape 1", "point 7"});
  v = good.to_vector<float>();
  v[5] = -std::numeric_limits<float>::infinity();
  write_raw_shard(shard, from_vector(v, {2, 16, 3}), good_l);
  require_error(read, {shard, "dataset 'data'", "non-finite", "shape 0", "point 1"});

  // A truncated file.
  write_modelnet_shard(shard, good, from_vector(std::vector<int64_t>{1, 0}, {2}));
  const std::string bytes = pg::test::read_bytes(shard);
  pg::test::write_bytes(shard, bytes.substr(0, bytes.size() - 100));
  require_error(read, {shard, "truncated"});
  // Not an HDF5 file.
  pg::test::write_bytes(shard, "garbage");
  require_error(read, {shard, "not an HDF5 file"});
}

TEST_CASE("modelnet40: the real subset (../shared/data/modelnet40_partial) when present", "[datasets]") {
  const std::string dir = std::string(PG_SHARED_DATA_DIR) + "/modelnet40_partial";
  if (!test::shared_data_present(dir + "/shape_names.txt", "the real ModelNet40 subset")) return;
  const PointCloudSet train = read_modelnet40(dir, Split::train);
  const PointCloudSet test = read_modelnet40(dir, Split::test);
  REQUIRE(train.class_names.size() == 40);
  CHECK(train.class_names.front() == "airplane");
  CHECK(train.class_names.back() == "xbox");
  CHECK(train.points.shape() == Shape{train.size(), 2048, 3});
  CHECK(test.points.shape() == Shape{test.size(), 2048, 3});
  CHECK(train.size() + test.size() == 1216);
  const auto door = std::find(train.class_names.begin(), train.class_names.end(), "door") - train.class_names.begin();
  REQUIRE(door < 40);
  const auto tc = train.class_counts(), ec = test.class_counts();
  CHECK(tc[static_cast<size_t>(door)] == 0);
  CHECK(ec[static_cast<size_t>(door)] == 0);
  int present = 0;
  for (size_t c = 0; c < 40; ++c) present += (tc[c] + ec[c]) > 0;
  CHECK(present == 39);
  CHECK(tc[0] == 626);  // airplane
  CHECK(ec[0] == 100);
  const int64_t majority = *std::max_element(ec.begin(), ec.end());
  CHECK(100.0 * static_cast<double>(majority) / static_cast<double>(test.size()) == Approx(50.8).margin(0.05));
  // Zero-mean shapes inside the unit sphere.
  const auto pv = test.points.to_vector<float>();
  double max_norm = 0.0;
  for (size_t i = 0; i < pv.size(); i += 3) {
    max_norm = std::max(
        max_norm, std::sqrt(double(pv[i]) * pv[i] + double(pv[i + 1]) * pv[i + 1] + double(pv[i + 2]) * pv[i + 2]));
  }
  CHECK(max_norm <= 1.01);  // normalised on the 10,000 resampled points; the 2,048 kept are inside ~1
  // First 1024 points via a slab read equal the prefix of the full read.
  ModelNetReadOptions o;
  o.max_points = 1024;
  const PointCloudSet t1024 = read_modelnet40(dir, Split::test, o);
  const auto pk = t1024.points.to_vector<float>();
  CHECK(pk[(5 * 1024 + 1023) * 3 + 2] == pv[(5 * 2048 + 1023) * 3 + 2]);
}
