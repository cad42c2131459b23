// Consistent shape collections: items, shared faces from a mesh file or from the .h5, every
// validation error, and the real collections when ../shared/data is present.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <iostream>
#include <limits>

#include "datasets/consistent_shapes.h"
#include "ops/view.h"
#include "datasets/h5_file.h"
#include "datasets/pointcloud_io.h"
#include "ds_test_util.h"

using namespace pg;
using namespace pg::datasets;
using pg::test::coded_points;
using pg::test::require_error;
using pg::test::TempDir;

namespace {

// Six vertices: a quad (0 1 2 3) and a triangle (3 4 5).
const std::vector<std::vector<int64_t>> kPolys = {{0, 1, 2, 3}, {3, 4, 5}};

void write_collection(const std::string& path, const Tensor& data, const Tensor& faces = Tensor()) {
  H5File f = H5File::create(path);
  if (data.defined()) f.write("data", data);
  if (faces.defined()) f.write("faces", faces);
}

}  // namespace

TEST_CASE("consistent shapes: items [M, 3] and faces shared from a mesh file", "[datasets][consistent]") {
  TempDir dir("pg_cs");
  const std::string h5 = dir.file("poses.h5");
  // float64 storage is read as float32.
  write_collection(h5, from_vector(coded_points(4, 6, 0.0f).to_vector<double>(), {4, 6, 3}));
  write_off(dir.file("template.off"), Mesh{coded_points(1, 6, 9.0f).view({6, 3}), kPolys});

  const ConsistentShapesDataset plain(h5);
  CHECK(plain.size() == 4);
  CHECK(plain.num_points() == 6);
  CHECK_FALSE(plain.has_faces());
  CHECK(plain.describe() == "consistent shapes '" + h5 + "' (4 shapes, 6 points)");

  ConsistentShapesOptions o;
  o.faces_file = dir.file("template.off");
  const ConsistentShapesDataset ds(h5, o);
  REQUIRE(ds.has_faces());
  CHECK(ds.faces_source() == o.faces_file);
  // The quad is fan-triangulated: (0 1 2), (0 2 3); then (3 4 5).
  CHECK(ds.faces().shape() == Shape{3, 3});
  CHECK(ds.faces().to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 0, 2, 3, 3, 4, 5});
  CHECK(ds.describe().find("3 shared faces") != std::string::npos);
  const Example e = ds.get(3);
  REQUIRE(e.size() == 1);
  REQUIRE(e.at("points").shape() == Shape{6, 3});
  CHECK(e.at("points").dtype() == DType::f32);
  CHECK(e.at("points").to_vector<float>()[5 * 3 + 1] == Approx(3.0051f));
  require_error([&] { ds.get(4); }, {"poses.h5", "item 4"});

  // A mesh with another vertex count does not fit.
  write_ply(dir.file("seven.ply"), coded_points(1, 7, 0.0f).view({7, 3}), true, {{0, 1, 2}});
  o.faces_file = dir.file("seven.ply");
  require_error([&] { ConsistentShapesDataset(h5, o); }, {"seven.ply", "7 vertices", "poses.h5", "6 points"});
  o.faces_file = dir.file("absent.ply");
  require_error([&] { ConsistentShapesDataset(h5, o); }, {"absent.ply"});
}

TEST_CASE("consistent shapes: faces stored in the .h5, validated", "[datasets][consistent]") {
  TempDir dir("pg_cs_f");
  const std::string h5 = dir.file("c.h5");
  write_collection(h5, coded_points(2, 6, 0.0f), from_vector(std::vector<int32_t>{0, 1, 2, 3, 4, 5}, {2, 3}));
  const ConsistentShapesDataset ds(h5);
  REQUIRE(ds.has_faces());
  CHECK(ds.faces().dtype() == DType::i64);
  CHECK(ds.faces().to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4, 5});
  CHECK(ds.faces_source() == h5 + ":faces");
  // The faces dataset is optional by name: another name without such a dataset means no faces.
  ConsistentShapesOptions o;
  o.faces_dataset = "triangles";
  CHECK_FALSE(ConsistentShapesDataset(h5, o).has_faces());

  write_collection(h5, coded_points(2, 6, 0.0f), from_vector(std::vector<int32_t>{0, 1, 6}, {1, 3}));
  require_error([&] { ConsistentShapesDataset{h5}; }, {"c.h5", "dataset 'faces'", "index 6", "[0, 6)"});
  write_collection(h5, coded_points(2, 6, 0.0f), from_vector(std::vector<int32_t>{0, 1, 2, 3}, {1, 4}));
  require_error([&] { ConsistentShapesDataset{h5}; }, {"dataset 'faces'", "wrong shape", "[1, 4]"});
  write_collection(h5, coded_points(2, 6, 0.0f), from_vector(std::vector<float>{0, 1, 2}, {1, 3}));
  require_error([&] { ConsistentShapesDataset{h5}; }, {"dataset 'faces'", "wrong dtype", "float32"});
}

TEST_CASE("consistent shapes: bad collections name the file and the dataset", "[datasets][consistent]") {
  TempDir dir("pg_cs_bad");
  const std::string h5 = dir.file("c.h5");
  require_error([&] { ConsistentShapesDataset{dir.file("none.h5")}; }, {"none.h5", "not found"});
  write_collection(h5, Tensor());
  require_error([&] { ConsistentShapesDataset{h5}; }, {"c.h5", "dataset 'data'", "not found"});
  write_collection(h5, zeros({5, 3}));
  require_error([&] { ConsistentShapesDataset{h5}; }, {"dataset 'data'", "wrong rank", "[5, 3]"});
  write_collection(h5, zeros({2, 5, 2}));
  require_error([&] { ConsistentShapesDataset{h5}; }, {"dataset 'data'", "wrong shape"});
  write_collection(h5, zeros({0, 5, 3}));
  require_error([&] { ConsistentShapesDataset{h5}; }, {"dataset 'data'", "no shapes"});
  std::vector<float> v = coded_points(2, 6, 0.0f).to_vector<float>();
  v[(6 + 4) * 3 + 1] = std::numeric_limits<float>::quiet_NaN();
  write_collection(h5, from_vector(v, {2, 6, 3}));
  require_error([&] { ConsistentShapesDataset{h5}; }, {"dataset 'data'", "non-finite", "shape 1", "point 4"});
  ConsistentShapesOptions lax;
  lax.check_finite = false;
  CHECK(ConsistentShapesDataset(h5, lax).size() == 2);
  ConsistentShapesOptions other;
  other.dataset = "poses";
  require_error([&] { ConsistentShapesDataset(h5, other); }, {"dataset 'poses'", "not found"});
  write_collection(h5, coded_points(8, 64, 0.0f));
  const std::string bytes = pg::test::read_bytes(h5);
  pg::test::write_bytes(h5, bytes.substr(0, bytes.size() - 1000));
  require_error([&] { ConsistentShapesDataset{h5}; }, {"c.h5"});
}

TEST_CASE("consistent shapes: the real collections (../shared/data/consistent_shapes) when present",
          "[datasets][consistent]") {
  const std::string dir = std::string(PG_SHARED_DATA_DIR) + "/consistent_shapes";
  if (!test::shared_data_present(dir + "/cactus.h5", "the real shape collections")) return;
  struct Expect {
    const char* name;
    int64_t n, m, faces;
  };
  for (const Expect& x :
       {Expect{"cactus", 19, 5261, 10518}, Expect{"faces", 4, 7118, 14037}, Expect{"faust", 4, 6890, 13776}}) {
    INFO(x.name);
    ConsistentShapesOptions o;
    o.faces_file = dir + "/" + x.name + "_mesh_example.ply";
    const ConsistentShapesDataset ds(dir + "/" + x.name + ".h5", o);
    CHECK(ds.size() == x.n);
    CHECK(ds.num_points() == x.m);
    CHECK(ds.faces().shape() == Shape{x.faces, 3});
    CHECK(ds.get(x.n - 1).at("points").shape() == Shape{x.m, 3});
    // Correspondence: every shape has the same point count and the faces index all of them.
    const auto f = ds.faces().to_vector<int64_t>();
    CHECK(*std::max_element(f.begin(), f.end()) == x.m - 1);
  }
}
