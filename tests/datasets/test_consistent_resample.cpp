// Consistent resampling (datasets/consistent_resample.h) and `pg convert consistent`: one sample
// applied to every shape (rigid motions commute with it, equal shapes give equal points), samples
// on their faces, area-proportional face choice by the mean area over the shapes, uniform
// barycentric weights, the vertex-subset mode (sorted FPS prefix, M divisible, faces renumbered),
// determinism by seed, every error, the command end to end, and the real collections when present.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "datasets/consistent_resample.h"
#include "datasets/consistent_shapes.h"
#include "datasets/h5_file.h"
#include "datasets/pointcloud_io.h"
#include "ds_test_util.h"
#include "ops/fps.h"
#include "ops/view.h"
#include "test_util.h"
#include "tools/cli_test_util.h"

using namespace pg;
using namespace pg::datasets;
using pg::test::require_error;
using pg::test::TempDir;

namespace {

// A bumpy 3 × 3 grid: 9 vertices, 8 triangles, dyadic coordinates (exact in float).
const std::vector<float> kGrid = {0, 0, 0, 1,    0, 0.25f, 2, 0, 0, 0,     1, 0.5f, 1,     1,
                                  1, 2, 1, 0.5f, 0, 2,     0, 1, 2, 0.25f, 2, 2,    0.125f};
const std::vector<int64_t> kGridFaces = {0, 1, 4, 0, 4, 3, 1, 2, 5, 1, 5, 4, 3, 4, 7, 3, 7, 6, 4, 5, 8, 4, 8, 7};

Tensor grid_faces() {
  return from_vector(kGridFaces, {8, 3});
}

// Stacks shapes (each 3·V floats) into [N, V, 3].
Tensor stack(const std::vector<std::vector<float>>& shapes) {
  std::vector<float> all;
  for (const auto& s : shapes) all.insert(all.end(), s.begin(), s.end());
  const auto v = static_cast<int64_t>(shapes[0].size() / 3);
  return from_vector(all, {static_cast<int64_t>(shapes.size()), v, 3});
}

// Row-major 3 × 3 rotation about the axis (1, 2, 2)/3 by 0.7 rad.
std::vector<double> rotation() {
  const double ax[3] = {1.0 / 3, 2.0 / 3, 2.0 / 3}, a = 0.7, c = std::cos(a), s = std::sin(a);
  std::vector<double> r(9);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) r[i * 3 + j] = (i == j ? c : 0.0) + (1 - c) * ax[i] * ax[j];
  r[1] -= s * ax[2], r[2] += s * ax[1], r[3] += s * ax[2], r[5] -= s * ax[0], r[6] -= s * ax[1], r[7] += s * ax[0];
  return r;
}

// Two triangles, areas 1 and 3 (disjoint, in the z = 0 plane), or with the areas swapped.
std::vector<float> two_triangles(bool swapped) {
  const float a = swapped ? std::sqrt(6.0f) : std::sqrt(2.0f), b = swapped ? std::sqrt(2.0f) : std::sqrt(6.0f);
  return {0, 0, 0, a, 0, 0, 0, a, 0, 10, 0, 0, 10 + b, 0, 0, 10, b, 0};
}

uint64_t count_face(const ConsistentSample& s, int64_t face) {
  const auto f = s.face.to_vector<int64_t>();
  return static_cast<uint64_t>(std::count(f.begin(), f.end(), face));
}

void write_collection(const std::string& path, const Tensor& data) {
  H5File f = H5File::create(path);
  f.write("data", data);
}

}  // namespace

TEST_CASE("consistent resample: one sample on every shape (rigid motions commute, equal shapes agree)",
          "[datasets][consistent]") {
  std::vector<float> rot90(kGrid.size()), moved(kGrid.size());
  const std::vector<double> r = rotation();
  const double t[3] = {0.5, -1.25, 3.0};
  for (size_t i = 0; i < kGrid.size(); i += 3) {
    // (x, y, z) → (−y, x, z): a rotation by 90° about z, exact in floating point.
    rot90[i] = -kGrid[i + 1], rot90[i + 1] = kGrid[i], rot90[i + 2] = kGrid[i + 2];
    for (int d = 0; d < 3; ++d) {
      moved[i + d] =
          static_cast<float>(r[d * 3] * kGrid[i] + r[d * 3 + 1] * kGrid[i + 1] + r[d * 3 + 2] * kGrid[i + 2] + t[d]);
    }
  }
  const Tensor verts = stack({kGrid, rot90, moved, kGrid});
  const int64_t n = 2000;
  const ConsistentSample s = draw_consistent_sample(verts, grid_faces(), n, 7);
  REQUIRE(s.face.shape() == Shape{n});
  REQUIRE(s.bary.shape() == Shape{n, 3});
  const Tensor out = apply_consistent_sample(verts, grid_faces(), s);
  REQUIRE(out.shape() == Shape{4, n, 3});
  REQUIRE(out.dtype() == DType::f32);
  const auto p = out.to_vector<float>();
  auto at = [&](int64_t shape, int64_t i, int d) { return p[static_cast<size_t>((shape * n + i) * 3 + d)]; };
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    // The exact rotation: bit-identical points.
    CHECK(at(1, i, 0) == -at(0, i, 1));
    CHECK(at(1, i, 1) == at(0, i, 0));
    CHECK(at(1, i, 2) == at(0, i, 2));
    // A general rigid motion: the same transform up to float rounding of the stored vertices.
    for (int d = 0; d < 3; ++d) {
      const double expect = r[d * 3] * at(0, i, 0) + r[d * 3 + 1] * at(0, i, 1) + r[d * 3 + 2] * at(0, i, 2) + t[d];
      worst = std::max(worst, std::abs(expect - at(2, i, d)));
    }
    // A copy of shape 0: identical output.
    for (int d = 0; d < 3; ++d) CHECK(at(3, i, d) == at(0, i, d));
  }
  CHECK(worst < 5e-6);
  // Shape 0 is not trivially equal to shape 2 (the check above is not vacuous).
  CHECK(std::abs(at(2, 0, 0) - at(0, 0, 0)) + std::abs(at(2, 0, 2) - at(0, 0, 2)) > 1e-3);
}

TEST_CASE("consistent resample: every sample lies on its face; weights are uniform barycentric",
          "[datasets][consistent]") {
  const Tensor verts = stack({kGrid});
  const int64_t n = 40000;
  const ConsistentSample s = draw_consistent_sample(verts, grid_faces(), n, 3);
  const Tensor out = apply_consistent_sample(verts, grid_faces(), s);
  const auto f = s.face.to_vector<int64_t>();
  const auto w = s.bary.to_vector<float>();
  const auto p = out.to_vector<float>();
  double mean_w[3] = {0, 0, 0};
  for (int64_t i = 0; i < n; ++i) {
    const auto k = static_cast<size_t>(i);
    REQUIRE((f[k] >= 0 && f[k] < 8));
    double sum = 0.0;
    for (int c = 0; c < 3; ++c) {
      CHECK(w[k * 3 + c] >= 0.0f);
      sum += w[k * 3 + c];
      mean_w[c] += w[k * 3 + c];
    }
    CHECK(std::abs(sum - 1.0) < 1e-6);
    // The point is the weights' combination of its face's corners.
    for (int d = 0; d < 3; ++d) {
      double e = 0.0;
      for (int c = 0; c < 3; ++c) e += w[k * 3 + c] * kGrid[static_cast<size_t>(kGridFaces[f[k] * 3 + c] * 3 + d)];
      CHECK(std::abs(e - p[k * 3 + d]) < 1e-6);
    }
  }
  // Uniform in the triangle: each weight has mean 1/3 (σ of the mean ≈ 0.0012).
  for (const double m : mean_w) CHECK(std::abs(m / n - 1.0 / 3.0) < 0.01);
}

TEST_CASE("consistent resample: faces picked in proportion to their area averaged over the shapes",
          "[datasets][consistent]") {
  const Tensor faces = from_vector(std::vector<int64_t>{0, 1, 2, 3, 4, 5}, {2, 3});
  const int64_t n = 40000;
  // χ² with one degree of freedom against the expected counts; 15 is p ≈ 1e-4. A uniform face
  // choice gives χ² ≈ 5000 on the 1:3 mesh.
  auto chi2 = [&](const ConsistentSample& s, double p0) {
    const double e0 = p0 * n, e1 = (1 - p0) * n, c0 = static_cast<double>(count_face(s, 0)),
                 c1 = static_cast<double>(count_face(s, 1));
    REQUIRE(c0 + c1 == n);
    return (c0 - e0) * (c0 - e0) / e0 + (c1 - e1) * (c1 - e1) / e1;
  };
  // Areas 1 : 3 on both shapes.
  CHECK(chi2(draw_consistent_sample(stack({two_triangles(false), two_triangles(false)}), faces, n, 11), 0.25) < 15);
  // Areas 1 : 3 on the first shape, 3 : 1 on the second: the mean areas are equal.
  CHECK(chi2(draw_consistent_sample(stack({two_triangles(false), two_triangles(true)}), faces, n, 11), 0.5) < 15);
  // A zero-area face is never picked.
  std::vector<float> flat = two_triangles(false);
  for (int d = 0; d < 3; ++d) flat[3 + d] = flat[d];  // triangle 0 collapses to a segment
  const ConsistentSample z = draw_consistent_sample(stack({flat}), faces, 1000, 1);
  CHECK(count_face(z, 0) == 0);
  CHECK(count_face(z, 1) == 1000);
}

TEST_CASE("consistent resample: deterministic by seed", "[datasets][consistent]") {
  const Tensor verts = stack({kGrid});
  const ConsistentSample a = draw_consistent_sample(verts, grid_faces(), 500, 5);
  const ConsistentSample b = draw_consistent_sample(verts, grid_faces(), 500, 5);
  const ConsistentSample c = draw_consistent_sample(verts, grid_faces(), 500, 6);
  CHECK(a.face.to_vector<int64_t>() == b.face.to_vector<int64_t>());
  CHECK(a.bary.to_vector<float>() == b.bary.to_vector<float>());
  CHECK(a.bary.to_vector<float>() != c.bary.to_vector<float>());
  CHECK(apply_consistent_sample(verts, grid_faces(), a).to_vector<float>() ==
        apply_consistent_sample(verts, grid_faces(), b).to_vector<float>());
}

TEST_CASE("consistent resample: vertex subset keeps a sorted prefix of the order, M divisible",
          "[datasets][consistent]") {
  const Tensor order = from_vector(std::vector<int64_t>{7, 2, 9, 0, 5, 1, 8, 3, 6, 4}, {10});
  CHECK(vertex_subset_from_order(order, 10, 4).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 5, 7, 8, 9});
  CHECK(vertex_subset_from_order(order, 10, 3).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 5, 6, 7, 8, 9});
  CHECK(vertex_subset_from_order(order, 10, 10).size(0) == 10);
  CHECK(vertex_subset_from_order(order, 10, 1).size(0) == 10);
  CHECK(vertex_subset_from_order(order, 10, 6).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 5, 7, 9});
  for (int64_t k = 1; k <= 10; ++k) CHECK(vertex_subset_from_order(order, 10, k).size(0) % k == 0);
  CHECK(vertex_subset_from_order(order, 10, 4).size(0) == 8);

  // Rows gathered for every shape; faces with a dropped corner removed, the rest renumbered.
  const Tensor verts = stack({kGrid, std::vector<float>(kGrid.size(), 1.5f)});
  const Tensor keep = from_vector(std::vector<int64_t>{0, 1, 3, 4, 7}, {5});
  const Tensor g = gather_vertices(verts, keep);
  REQUIRE(g.shape() == Shape{2, 5, 3});
  const auto gv = g.to_vector<float>();
  for (int j = 0; j < 5; ++j)
    for (int d = 0; d < 3; ++d) {
      CHECK(gv[static_cast<size_t>(j * 3 + d)] == kGrid[static_cast<size_t>(keep.to_vector<int64_t>()[j] * 3 + d)]);
      CHECK(gv[static_cast<size_t>(15 + j * 3 + d)] == 1.5f);
    }
  // Faces (0 1 4), (0 4 3), (3 4 7) survive as (0 1 3), (0 3 2), (2 3 4).
  CHECK(subset_faces(grid_faces(), keep, 9).to_vector<int64_t>() == std::vector<int64_t>{0, 1, 3, 0, 3, 2, 2, 3, 4});

  // The mean shape is the per-vertex average.
  const auto mean = mean_shape(verts).to_vector<float>();
  for (size_t i = 0; i < kGrid.size(); ++i) CHECK(mean[i] == Approx((kGrid[i] + 1.5f) / 2));
}

TEST_CASE("consistent resample: errors name the source", "[datasets][consistent]") {
  const Tensor verts = stack({kGrid});
  const std::string w = "'poses.h5'";
  require_error(
      [&] {
        draw_consistent_sample(verts, from_vector(std::vector<int64_t>{0, 1, 9}, {1, 3}), 5, 1, w);
      },
      {"poses.h5", "face 0", "index 9", "[0, 9)"});
  require_error(
      [&] {
        draw_consistent_sample(verts, from_vector(std::vector<int64_t>{0, -1, 2}, {1, 3}), 5, 1, w);
      },
      {"poses.h5", "index -1"});
  require_error(
      [&] {
        draw_consistent_sample(verts, empty({0, 3}, TensorOptions(DType::i64, Device::cpu())), 5, 1, w);
      },
      {"poses.h5", "no faces"});
  require_error([&] { draw_consistent_sample(verts, Tensor(), 5, 1, w); }, {"poses.h5", "faces must be integer"});
  require_error([&] { draw_consistent_sample(empty({0, 9, 3}), grid_faces(), 5, 1, w); }, {"poses.h5", "N = 0"});
  require_error([&] { draw_consistent_sample(zeros({2, 9}), grid_faces(), 5, 1, w); }, {"poses.h5", "[N, V, 3]"});
  std::vector<float> bad = kGrid;
  bad[4 * 3 + 2] = std::numeric_limits<float>::quiet_NaN();
  require_error(
      [&] {
        draw_consistent_sample(stack({kGrid, bad}), grid_faces(), 5, 1, w);
      },
      {"poses.h5", "non-finite", "shape 1", "vertex 4"});
  bad[4 * 3 + 2] = std::numeric_limits<float>::infinity();
  require_error(
      [&] {
        apply_consistent_sample(stack({bad}), grid_faces(), draw_consistent_sample(verts, grid_faces(), 5, 1), w);
      },
      {"poses.h5", "non-finite"});
  require_error([&] { mean_shape(stack({bad}), w); }, {"poses.h5", "non-finite"});
  for (const int64_t n : {0, -3}) {
    require_error([&] { draw_consistent_sample(verts, grid_faces(), n, 1, w); },
                  {"poses.h5", "n = " + std::to_string(n), "≥ 1"});
  }
  require_error([&] { draw_consistent_sample(zeros({1, 9, 3}), grid_faces(), 5, 1, w); }, {"poses.h5", "area is zero"});
  // A sample that does not fit the mesh.
  ConsistentSample s = draw_consistent_sample(verts, grid_faces(), 5, 1);
  s.face = from_vector(std::vector<int64_t>{0, 1, 8, 2, 3}, {5});
  require_error([&] { apply_consistent_sample(verts, grid_faces(), s, w); }, {"poses.h5", "face 8", "[0, 8)"});
  s.face = from_vector(std::vector<int64_t>{0, 1, 2, 2, 3}, {5});
  s.bary = from_vector(std::vector<float>{1, 0, 0, 0, 1, 0, 0, 0, 1, -0.5f, 1, 0.5f, 1, 0, 0}, {5, 3});
  require_error([&] { apply_consistent_sample(verts, grid_faces(), s, w); }, {"poses.h5", "point 3", "weight -0.5"});
  s.bary = zeros({4, 3});
  require_error([&] { apply_consistent_sample(verts, grid_faces(), s, w); }, {"poses.h5", "[5, 3]"});
  // Vertex subsets.
  const Tensor order = from_vector(std::vector<int64_t>{3, 1, 0, 2}, {4});
  for (const int64_t k : {0, -1, 5}) {
    require_error([&] { vertex_subset_from_order(order, 4, k, w); },
                  {"poses.h5", "multiple = " + std::to_string(k), "[1, V = 4]"});
  }
  require_error(
      [&] {
        vertex_subset_from_order(from_vector(std::vector<int64_t>{3, 1, 1, 2}, {4}), 4, 2, w);
      },
      {"poses.h5", "not a permutation"});
  require_error(
      [&] {
        vertex_subset_from_order(from_vector(std::vector<int64_t>{3, 1, 4, 2}, {4}), 4, 2, w);
      },
      {"poses.h5", "not a permutation"});
  require_error([&] { vertex_subset_from_order(order.slice(0, 0, 3), 4, 2, w); }, {"poses.h5", "[4]"});
  require_error([&] { gather_vertices(verts, from_vector(std::vector<int64_t>{9}, {1}), w); }, {"poses.h5", "index 9"});
  require_error(
      [&] {
        subset_faces(grid_faces(), from_vector(std::vector<int64_t>{1, 1}, {2}), 9, w);
      },
      {"poses.h5", "repeated"});
}

#ifdef PG_CLI_BINARY

using pg::test::CliResult;
using pg::test::run_pg;
using pg::test::run_pg_ok;

TEST_CASE("pg convert consistent: dense and vertex-subset files the loader reads", "[datasets][consistent][cli]") {
  TempDir dir("pg_cres");
  // Three poses of the grid: the grid, shifted and scaled.
  std::vector<float> b(kGrid), c(kGrid);
  for (size_t i = 0; i < kGrid.size(); ++i) b[i] = kGrid[i] + 1.0f, c[i] = 2.0f * kGrid[i];
  const Tensor verts = stack({kGrid, b, c});
  const std::string in = dir.file("poses.h5"), mesh = dir.file("mesh.ply");
  write_collection(in, verts);
  std::vector<std::vector<int64_t>> polys;
  for (size_t t = 0; t < kGridFaces.size(); t += 3)
    polys.push_back({kGridFaces[t], kGridFaces[t + 1], kGridFaces[t + 2]});
  write_ply(mesh, from_vector(kGrid, {9, 3}), true, polys);

  // Dense: the stored sample reproduces the data; the loader reads it.
  const std::string dense = dir.file("dense.h5");
  const CliResult r =
      run_pg_ok({"convert", "consistent", in, "--faces", mesh, "--out", dense, "--points", "256", "--seed", "3"});
  CHECK(r.out.find("N = 3 shapes x M = 256 points") != std::string::npos);
  CHECK(r.out.find(in) != std::string::npos);
  const ConsistentShapesDataset ds(dense);
  CHECK(ds.size() == 3);
  CHECK(ds.num_points() == 256);
  CHECK_FALSE(ds.has_faces());
  const H5File f = H5File::open(dense);
  ConsistentSample s{f.read("sample_face", DType::i64, {256}), f.read("sample_bary", DType::f32, {256, 3})};
  CHECK(apply_consistent_sample(verts, grid_faces(), s).to_vector<float>() == ds.points().to_vector<float>());
  CHECK(s.face.to_vector<int64_t>() == draw_consistent_sample(verts, grid_faces(), 256, 3).face.to_vector<int64_t>());
  CHECK(f.attr_string("/", "mode") == "dense");
  CHECK(f.attr_int("/", "seed") == 3);
  CHECK(f.attr_string("/", "source") == in);

  // Vertex subset: 9 vertices, multiple 4 → the first 8 of the mean shape's FPS order from vertex 0.
  const std::string vfile = dir.file("v.h5");
  const CliResult rv =
      run_pg_ok({"convert", "consistent", in, "--faces", mesh, "--out", vfile, "--vertices-multiple", "4"});
  CHECK(rv.out.find("M = 8 points") != std::string::npos);
  const ConsistentShapesDataset dv(vfile);
  REQUIRE(dv.num_points() == 8);
  REQUIRE(dv.has_faces());
  const auto idx = H5File::open(vfile).read("vertex_index", DType::i64, {8}).to_vector<int64_t>();
  FpsOptions o;
  std::vector<int64_t> expect = fps(mean_shape(verts).view({1, 9, 3}), 8, o).indices.to_vector<int64_t>();
  std::sort(expect.begin(), expect.end());
  CHECK(idx == expect);
  const Tensor index = from_vector(idx, {8});
  CHECK(dv.points().to_vector<float>() == gather_vertices(verts, index).to_vector<float>());
  CHECK(dv.faces().to_vector<int64_t>() == subset_faces(grid_faces(), index, 9).to_vector<int64_t>());

  // Errors: exit 1, the file named, nothing written, an existing output kept.
  auto fails = [&](const std::vector<std::string>& args, const std::string& part) {
    const CliResult e = run_pg(args);
    INFO(e.all());
    CHECK(e.exit_code != 0);
    CHECK(e.all().find(part) != std::string::npos);
  };
  const std::string before = pg::test::read_bytes(dense);
  fails({"convert", "consistent", in, "--out", dense, "--points", "16"}, "has no faces");
  fails({"convert", "consistent", in, "--faces", mesh, "--out", dense}, "give --points N");
  fails({"convert", "consistent", in, "--faces", mesh, "--out", dense, "--points", "4", "--vertices-multiple", "2"},
        "excludes");
  fails({"convert", "consistent", in, "--out", dense, "--vertices-multiple", "10"}, "exceeds the 9 vertices");
  fails({"convert", "consistent", in, "--out", dense, "--vertices-multiple", "0"}, "--vertices-multiple");
  fails({"convert", "consistent", dir.file("absent.h5"), "--out", dense, "--vertices-multiple", "2"}, "absent.h5");
  std::vector<float> nan = kGrid;
  nan[5] = std::numeric_limits<float>::quiet_NaN();
  write_collection(dir.file("nan.h5"), stack({kGrid, nan}));
  fails({"convert", "consistent", dir.file("nan.h5"), "--faces", mesh, "--out", dense, "--points", "8"}, "nan.h5");
  CHECK(pg::test::read_bytes(dense) == before);
  CHECK(pg::test::count_temporaries(dir.path()) == 0);
  fails({"convert", "consistent", in, "--out", dir.file("no/such/dir/o.h5"), "--vertices-multiple", "2"},
        "no/such/dir");
  // Plain pg convert still requires its own options.
  fails({"convert", "--out", dir.file("o")}, "--in is required");
}

#endif  // PG_CLI_BINARY

TEST_CASE("consistent resample: the real collections (../shared/data/consistent_shapes) when present",
          "[datasets][consistent]") {
  const std::string dir = std::string(PG_SHARED_DATA_DIR) + "/consistent_shapes";
  if (!test::shared_data_present(dir + "/cactus.h5", "the real shape collections")) return;
  struct Expect {
    const char* name;
    int64_t m128;  // floor(V / 128)·128
  };
  for (const auto& [name, m128] : {Expect{"cactus", 5248}, Expect{"faces", 7040}, Expect{"faust", 6784}}) {
    INFO(name);
    ConsistentShapesOptions o;
    o.faces_file = dir + "/" + name + "_mesh_example.ply";
    const ConsistentShapesDataset ds(dir + "/" + name + ".h5", o);
    const ConsistentSample s = draw_consistent_sample(ds.points(), ds.faces(), 1024, 1);
    const Tensor out = apply_consistent_sample(ds.points(), ds.faces(), s);
    CHECK(out.shape() == Shape{ds.size(), 1024, 3});
    // The vertex subset for K = 128 (the files of issue 13): a sorted FPS prefix of M = m128.
    const int64_t nv = ds.num_points();
    FpsOptions fo;
    const Tensor order = fps(mean_shape(ds.points()).view({1, nv, 3}), nv, fo).indices.view({nv});
    const Tensor keep = vertex_subset_from_order(order, nv, 128);
    CHECK(keep.size(0) == m128);
    CHECK(gather_vertices(ds.points(), keep).shape() == Shape{ds.size(), m128, 3});
    CHECK(subset_faces(ds.faces(), keep, nv).size(0) > 0);
    // Points stay inside each shape's bounding box.
    const auto v = ds.points().to_vector<float>();
    const auto p = out.to_vector<float>();
    const int64_t m = ds.num_points();
    for (int64_t sh = 0; sh < ds.size(); ++sh) {
      for (int d = 0; d < 3; ++d) {
        float lo = std::numeric_limits<float>::max(), hi = -lo;
        for (int64_t j = 0; j < m; ++j) {
          lo = std::min(lo, v[static_cast<size_t>((sh * m + j) * 3 + d)]);
          hi = std::max(hi, v[static_cast<size_t>((sh * m + j) * 3 + d)]);
        }
        for (int64_t i = 0; i < 1024; ++i) {
          const float x = p[static_cast<size_t>((sh * 1024 + i) * 3 + d)];
          CHECK((x >= lo - 1e-5f && x <= hi + 1e-5f));
        }
      }
    }
  }
}
