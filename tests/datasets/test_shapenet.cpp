// ShapeNet shard reader: both list/names layouts, items of the Dataset, every validation error
// (naming file and dataset), and real shards of the same layout when ../shared/data is present.
#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>
#include <limits>

#include "datasets/h5_file.h"
#include "datasets/shapenet.h"
#include "datasets/shard_set.h"
#include "ds_test_util.h"

using namespace pg;
using namespace pg::datasets;
using pg::test::coded_points;
using pg::test::require_error;
using pg::test::TempDir;
using pg::test::write_text;

namespace {

// 3 classes; train: two shards (3 + 2 shapes), val: one (1), test: one (2); 8 points each.
struct FakeShapeNet {
  TempDir dir{"pg_sn"};
  FakeShapeNet() {
    write_text(dir.file("shape_names.txt"), "chair\ntable\n  car  \n");
    write_text(dir.file("train_files.txt"), "shapenet/train0.h5\nshapenet/train1.h5\n");
    write_text(dir.file("val_files.txt"), "val0.h5\n");
    write_text(dir.file("test_files.txt"), dir.file("test0.h5") + "\n");  // absolute path
    write_labelled_shard(dir.file("train0.h5"), coded_points(3, 8, 0.0f),
                         from_vector(std::vector<int64_t>{2, 0, 1}, {3}), {"a", "b", "c"});
    write_labelled_shard(dir.file("train1.h5"), coded_points(2, 8, 10.0f),
                         from_vector(std::vector<int64_t>{1, 1}, {2}));
    write_labelled_shard(dir.file("val0.h5"), coded_points(1, 8, 20.0f), from_vector(std::vector<int64_t>{0}, {1}));
    write_labelled_shard(dir.file("test0.h5"), coded_points(2, 8, 30.0f), from_vector(std::vector<int64_t>{2, 0}, {2}));
  }
  std::string path(const std::string& f) const { return dir.file(f); }
};

void write_raw(const std::string& path, const Tensor& data, const Tensor& label) {
  H5File f = H5File::create(path);
  if (data.defined()) f.write("data", data);
  if (label.defined()) f.write("label", label);
}

}  // namespace

TEST_CASE("shapenet: every split of the layout, as a Dataset of named tensors", "[datasets][shapenet]") {
  FakeShapeNet sn;
  const PointCloudSet train = read_shapenet(sn.dir.path(), "train");
  CHECK(train.class_names == std::vector<std::string>{"chair", "table", "car"});
  REQUIRE(train.points.shape() == Shape{5, 8, 3});
  CHECK(train.labels.to_vector<int64_t>() == std::vector<int64_t>{2, 0, 1, 1, 1});
  CHECK(train.file_offsets == std::vector<int64_t>{0, 3, 5});
  CHECK(read_shapenet(sn.dir.path(), "val").size() == 1);

  const auto test = shapenet_dataset(sn.dir.path(), "test");
  REQUIRE(test->size() == 2);
  CHECK(test->class_names() == train.class_names);
  CHECK(test->describe().find("ShapeNet test (2 shapes, 8 points, 3 classes)") != std::string::npos);
  Example e = test->get(1);
  REQUIRE(e.size() == 2);
  REQUIRE(e.at("points").shape() == Shape{8, 3});
  CHECK(e.at("points").dtype() == DType::f32);
  REQUIRE(e.at("label").shape() == Shape{});
  CHECK(e.at("label").dtype() == DType::i64);
  CHECK(e.at("label").item<int64_t>() == 0);
  const auto pv = e.at("points").to_vector<float>();
  CHECK(pv[0] == 31.0f);                     // shape 1 of the test shard
  CHECK(pv[7 * 3 + 2] == Approx(31.0072f));  // point 7, z
  // Items are copies: editing one leaves the dataset unchanged.
  e.at("points").data<float>()[0] = -5.0f;
  CHECK(test->get(1).at("points").to_vector<float>()[0] == 31.0f);
  require_error([&] { test->get(2); }, {"ShapeNet test", "item 2", "[0, 2)"});
  require_error([&] { test->get(-1); }, {"item -1"});

  // max_points reads the first k points of every shape.
  ModelNetReadOptions o;
  o.max_points = 3;
  const PointCloudSet t3 = read_shapenet(sn.dir.path(), "test", o);
  REQUIRE(t3.points.shape() == Shape{2, 3, 3});
  CHECK(t3.points.to_vector<float>()[(1 * 3 + 2) * 3 + 1] == Approx(31.0021f));
}

TEST_CASE("shapenet: PointNet part-segmentation list and names files, labels of any integer type",
          "[datasets][shapenet]") {
  TempDir dir("pg_sn_seg");
  write_text(dir.file("all_object_categories.txt"), "Airplane\t02691156\nBag\t02773838\nCap\t02954340\n");
  write_text(dir.file("train_hdf5_file_list.txt"), "ply_data_train0.h5\n");
  write_raw(dir.file("ply_data_train0.h5"), coded_points(3, 4, 0.0f), from_vector(std::vector<int32_t>{2, 1, 0}, {3}));
  const PointCloudSet s = read_shapenet(dir.path(), "train");
  CHECK(s.class_names == std::vector<std::string>{"Airplane", "Bag", "Cap"});
  CHECK(s.labels.to_vector<int64_t>() == std::vector<int64_t>{2, 1, 0});
  CHECK(shapenet_names_file(dir.path()) == dir.file("all_object_categories.txt"));
  // shape_names.txt and <split>_files.txt win when both layouts are present.
  write_text(dir.file("shape_names.txt"), "x\ny\nz\nw\n");
  write_text(dir.file("train_files.txt"), "ply_data_train0.h5\nply_data_train0.h5\n");
  const PointCloudSet both = read_shapenet(dir.path(), "train");
  CHECK(both.class_names.size() == 4);
  CHECK(both.size() == 6);
}

TEST_CASE("shapenet: missing files, bad shards and bad labels name the file and dataset", "[datasets][shapenet]") {
  require_error([] { read_shapenet("/nonexistent/pg/shapenet", "train"); }, {"/nonexistent/pg/shapenet", "not found"});
  {
    FakeShapeNet sn;
    std::filesystem::remove(sn.path("shape_names.txt"));
    require_error([&] { read_shapenet(sn.dir.path(), "train"); },
                  {"class names file not found", "shape_names.txt", "all_object_categories.txt"});
  }
  {
    FakeShapeNet sn;
    require_error([&] { read_shapenet(sn.dir.path(), "extra"); },
                  {"shard list not found", "extra_files.txt", "extra_hdf5_file_list.txt"});
    require_error([&] { read_shapenet(sn.dir.path(), "../train"); }, {"invalid split name"});
  }
  {
    FakeShapeNet sn;
    std::filesystem::remove(sn.path("train1.h5"));
    require_error([&] { read_shapenet(sn.dir.path(), "train"); },
                  {"train_files.txt", "line 2", "train1.h5", "not found"});
  }
  FakeShapeNet sn;
  const std::string shard = sn.path("val0.h5");
  auto read = [&] { read_shapenet(sn.dir.path(), "val"); };
  const Tensor good = coded_points(1, 8, 0.0f);
  const Tensor good_l = from_vector(std::vector<uint8_t>{1}, {1, 1});
  write_raw(shard, Tensor(), good_l);
  require_error(read, {shard, "dataset 'data'", "not found"});
  write_raw(shard, good, Tensor());
  require_error(read, {shard, "dataset 'label'", "not found"});
  write_raw(shard, from_vector(good.to_vector<double>(), {1, 8, 3}), good_l);
  require_error(read, {shard, "dataset 'data'", "wrong dtype", "float64"});
  write_raw(shard, from_vector(good.to_vector<float>(), {1, 24}), good_l);
  require_error(read, {shard, "dataset 'data'", "wrong rank"});
  write_raw(shard, from_vector(good.to_vector<float>(), {1, 6, 4}), good_l);
  require_error(read, {shard, "dataset 'data'", "wrong shape", "[1, 6, 4]"});
  write_raw(shard, good, from_vector(std::vector<float>{1}, {1}));
  require_error(read, {shard, "dataset 'label'", "wrong dtype", "float32"});
  write_raw(shard, good, from_vector(std::vector<uint8_t>{3}, {1, 1}));
  require_error(read, {shard, "dataset 'label'", "label 3", "[0, 3)"});
  write_raw(shard, good, from_vector(std::vector<uint8_t>{0, 1}, {2, 1}));
  require_error(read, {shard, "dataset 'label'", "2 labels for 1 shapes"});
  std::vector<float> v = good.to_vector<float>();
  v[(5 * 3) + 2] = std::numeric_limits<float>::quiet_NaN();
  write_raw(shard, from_vector(v, {1, 8, 3}), good_l);
  require_error(read, {shard, "dataset 'data'", "non-finite", "shape 0", "point 5"});
  // A shard of the train split with another point count than the first.
  write_labelled_shard(sn.path("train1.h5"), coded_points(2, 9, 0.0f), from_vector(std::vector<int64_t>{0, 0}, {2}));
  require_error([&] { read_shapenet(sn.dir.path(), "train"); },
                {sn.path("train1.h5"), "9 points per shape", "train split", "have 8"});
  // Truncated and foreign files.
  write_labelled_shard(shard, coded_points(1, 8, 0.0f), from_vector(std::vector<int64_t>{0}, {1}));
  const std::string bytes = pg::test::read_bytes(shard);
  pg::test::write_bytes(shard, bytes.substr(0, bytes.size() / 2));
  require_error(read, {shard});
  pg::test::write_bytes(shard, "not hdf5 at all");
  require_error(read, {shard, "not an HDF5 file"});
}

TEST_CASE("shapenet: the layout writer stores uint8 labels when they fit, int32 otherwise, and shape ids",
          "[datasets][shapenet]") {
  TempDir dir("pg_sn_w");
  write_labelled_shard(dir.file("a.h5"), coded_points(2, 4, 0.0f), from_vector(std::vector<int64_t>{0, 255}, {2}),
                       {"x/1.ply", "y/2.ply"});
  write_labelled_shard(dir.file("b.h5"), coded_points(2, 4, 0.0f), from_vector(std::vector<int64_t>{256, 3}, {2}));
  const H5File a = H5File::open(dir.file("a.h5"));
  CHECK(a.type("label").describe() == "uint8");
  CHECK(a.shape("label") == Shape{2, 1});
  CHECK(a.read_strings("shape_id") == std::vector<std::string>{"x/1.ply", "y/2.ply"});
  const H5File b = H5File::open(dir.file("b.h5"));
  CHECK(b.type("label").describe() == "int32");
  CHECK(b.read_as("label", DType::i64).to_vector<int64_t>() == std::vector<int64_t>{256, 3});
  CHECK_FALSE(b.exists("shape_id"));
  require_error(
      [&] {
        write_labelled_shard(dir.file("c.h5"), coded_points(2, 4, 0.0f), from_vector(std::vector<int64_t>{-1, 0}, {2}));
      },
      {"c.h5", "label -1"});
  require_error(
      [&] {
        write_labelled_shard(dir.file("c.h5"), coded_points(2, 4, 0.0f), from_vector(std::vector<int64_t>{1, 0}, {2}),
                             {"only one"});
      },
      {"c.h5", "1 shape ids for 2 shapes"});
  CHECK_FALSE(std::filesystem::exists(dir.file("c.h5")));
  CHECK(pg::test::count_temporaries(dir.path()) == 0);
}

TEST_CASE("shapenet: real shards of the same layout (../shared/data/modelnet40_partial) when present",
          "[datasets][shapenet]") {
  const std::string dir = std::string(PG_SHARED_DATA_DIR) + "/modelnet40_partial";
  if (!test::shared_data_present(dir + "/shape_names.txt", "the real data subset")) return;
  // The official PointNet shards are exactly the ShapeNet layout with train/test lists.
  const auto test = shapenet_dataset(dir, "test");
  CHECK(test->class_names().size() == 40);
  REQUIRE(test->size() > 100);
  const Example e = test->get(test->size() - 1);
  CHECK(e.at("points").shape() == Shape{2048, 3});
  CHECK(e.at("label").item<int64_t>() >= 0);
  CHECK(e.at("label").item<int64_t>() < 40);
  const PointCloudSet mn = read_modelnet40(dir, Split::test);
  CHECK(mn.size() == test->size());
  CHECK(mn.labels.to_vector<int64_t>() == test->set().labels.to_vector<int64_t>());
}
