// point_to_mesh_distance (CPU BVH and brute force) and mesh loading: hand-computed distances
// to a triangle (vertex / edge / face regions), a unit cube, degenerate triangles, a float64
// reference written independently (plane projection + barycentric inside test + segments),
// errors, and a real PU-GAN test mesh when ../shared/data is present.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <vector>

#include "datasets/mesh_tensors.h"
#include "ops/p2f.h"
#include "test_util.h"

using namespace pg;

namespace {

struct P {
  double x, y, z;
};
P sub(P a, P b) {
  return {a.x - b.x, a.y - b.y, a.z - b.z};
}
double dot(P a, P b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
P cross(P a, P b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}

double ref_seg(P p, P a, P b) {
  const P ab = sub(b, a);
  const double l = dot(ab, ab);
  double t = l > 0 ? dot(sub(p, a), ab) / l : 0.0;
  t = std::clamp(t, 0.0, 1.0);
  const P c{a.x + t * ab.x, a.y + t * ab.y, a.z + t * ab.z};
  const P d = sub(p, c);
  return dot(d, d);
}

// Independent reference: project onto the plane; inside (barycentric >= 0) → plane distance,
// else the nearest of the three edges. Degenerate → edges.
double ref_tri(P p, P a, P b, P c) {
  const P n = cross(sub(b, a), sub(c, a));
  const double nn = dot(n, n);
  const double edges = std::min({ref_seg(p, a, b), ref_seg(p, b, c), ref_seg(p, c, a)});
  if (nn <= 1e-12 * dot(sub(b, a), sub(b, a)) * dot(sub(c, a), sub(c, a))) return edges;
  const double h = dot(sub(p, a), n) / nn;
  const P q{p.x - h * n.x, p.y - h * n.y, p.z - h * n.z};
  const double u = dot(cross(sub(b, q), sub(c, q)), n), v = dot(cross(sub(c, q), sub(a, q)), n),
               w = dot(cross(sub(a, q), sub(b, q)), n);
  if (u >= 0 && v >= 0 && w >= 0) return h * h * nn;
  return edges;
}

std::vector<double> ref_p2f(const Tensor& pts, const Tensor& verts, const Tensor& faces) {
  const auto pv = pts.to_vector<double>();
  const auto vv = verts.to_vector<double>();
  const auto fv = faces.to_vector<int64_t>();
  auto vert = [&](int64_t i) { return P{vv[i * 3], vv[i * 3 + 1], vv[i * 3 + 2]}; };
  std::vector<double> out;
  for (size_t i = 0; i < pv.size() / 3; ++i) {
    const P p{pv[i * 3], pv[i * 3 + 1], pv[i * 3 + 2]};
    double best = 1e300;
    for (size_t f = 0; f < fv.size() / 3; ++f) {
      best = std::min(best, ref_tri(p, vert(fv[f * 3]), vert(fv[f * 3 + 1]), vert(fv[f * 3 + 2])));
    }
    out.push_back(std::sqrt(best));
  }
  return out;
}

Tensor pts64(const std::vector<double>& v) {
  return from_vector(v, {static_cast<int64_t>(v.size() / 3), 3});
}
Tensor faces64(const std::vector<int64_t>& v) {
  return from_vector(v, {static_cast<int64_t>(v.size() / 3), 3});
}

std::vector<double> both_paths(const Tensor& p, const Tensor& v, const Tensor& f) {
  P2fOptions o;
  o.impl = P2fImpl::BruteForce;
  const auto a = point_to_mesh_distance(p, v, f).to_vector<double>();
  const auto b = point_to_mesh_distance(p, v, f, o).to_vector<double>();
  REQUIRE(a == b);
  return a;
}

// Unit cube [0,1]^3 as 12 triangles.
void unit_cube(Tensor& verts, Tensor& faces) {
  std::vector<double> v;
  for (int i = 0; i < 8; ++i) v.insert(v.end(), {double(i & 1), double((i >> 1) & 1), double((i >> 2) & 1)});
  verts = pts64(v);
  faces = faces64(
      {0, 1, 3, 0, 3, 2, 4, 5, 7, 4, 7, 6, 0, 1, 5, 0, 5, 4, 2, 3, 7, 2, 7, 6, 0, 2, 6, 0, 6, 4, 1, 3, 7, 1, 7, 5});
}

}  // namespace

TEST_CASE("p2f: one triangle, vertex / edge / face regions", "[p2f]") {
  const Tensor v = pts64({0, 0, 0, 1, 0, 0, 0, 1, 0});
  const Tensor f = faces64({0, 1, 2});
  const Tensor p = pts64({0.2,  0.2, 0.5,  // face: 0.5
                          0.2,  0.3, 0.0,  // on the face: 0
                          -1,   -1,  0,    // vertex a: √2
                          2,    0,   1,    // vertex b: √2
                          -1,   3,   0,    // vertex c: √(1 + 4)
                          0.5,  -1,  0,    // edge ab: 1
                          1,    1,   0,    // edge bc: 1/√2
                          -0.5, 0.5, 2,    // edge ca: √(0.25 + 4)
                          0.5,  0.5, 0,    // on edge bc: 0
                          0,    0,   0});  // a vertex: 0
  const std::vector<double> want{
      0.5, 0, std::sqrt(2.0), std::sqrt(2.0), std::sqrt(5.0), 1, 1 / std::sqrt(2.0), std::sqrt(4.25), 0, 0};
  for (DType dt : {DType::f64, DType::f32}) {
    const auto got = both_paths(p.to(dt), v.to(dt), f);
    for (size_t i = 0; i < want.size(); ++i) {
      INFO("point " << i << " dtype " << dtype_name(dt));
      REQUIRE(got[i] == Approx(want[i]).margin(dt == DType::f64 ? 1e-15 : 1e-7));
    }
  }
  REQUIRE(point_to_mesh_distance(p, v, f).dtype() == DType::f64);
  REQUIRE(point_to_mesh_distance(p.to(DType::f32), v.to(DType::f32), f).dtype() == DType::f32);
}

TEST_CASE("p2f: unit cube (inside: nearest face; outside: distance to the box)", "[p2f]") {
  Tensor v, f;
  unit_cube(v, f);
  const Tensor p = test::uniform({500, 3}, -1, 2, 3, TensorOptions(DType::f64));
  const auto pv = p.to_vector<double>();
  const auto got = both_paths(p, v, f);
  for (size_t i = 0; i < got.size(); ++i) {
    const double x = pv[i * 3], y = pv[i * 3 + 1], z = pv[i * 3 + 2];
    double want;
    if (x >= 0 && x <= 1 && y >= 0 && y <= 1 && z >= 0 && z <= 1) {
      want = std::min({x, 1 - x, y, 1 - y, z, 1 - z});
    } else {
      const double ex = std::max({0.0, -x, x - 1}), ey = std::max({0.0, -y, y - 1}), ez = std::max({0.0, -z, z - 1});
      want = std::sqrt(ex * ex + ey * ey + ez * ez);
    }
    INFO("point " << i << " (" << x << ", " << y << ", " << z << ")");
    REQUIRE(got[i] == Approx(want).margin(1e-12));
  }
  // every vertex, edge midpoint and face centre lies on the mesh
  const Tensor on = pts64({0, 0, 0, 1, 1, 1, 0.5, 0, 0, 1, 0.5, 1, 0.5, 0.5, 0, 0.25, 1, 0.75});
  for (double d : both_paths(on, v, f)) REQUIRE(d == Approx(0).margin(1e-15));
}

TEST_CASE("p2f: degenerate triangles count as their edges", "[p2f]") {
  // collinear corners, a repeated corner, all corners equal
  const Tensor v = pts64({0, 0, 0, 1, 0, 0, 2, 0, 0, 5, 5, 5, 0, 3, 0});
  const Tensor p = pts64({1, 1, 0, 3, 0, 0, 1.5, 0, 0, 5, 5, 7, 0, 1.5, 0, 0, 1.5, 2});
  {
    const auto got = both_paths(p, v, faces64({0, 1, 2}));
    REQUIRE(got[0] == Approx(1).margin(1e-15));
    REQUIRE(got[1] == Approx(1).margin(1e-15));
    REQUIRE(got[2] == Approx(0).margin(1e-15));
    REQUIRE(got[3] == Approx(std::sqrt(9.0 + 25.0 + 49.0)).margin(1e-12));
    REQUIRE(got[4] == Approx(1.5).margin(1e-15));
  }
  {
    const auto got = both_paths(p, v, faces64({3, 3, 3}));  // a point (5, 5, 5)
    REQUIRE(got[3] == Approx(2).margin(1e-15));
    REQUIRE(got[0] == Approx(std::sqrt(16.0 + 16.0 + 25.0)).margin(1e-12));
  }
  {
    const auto got = both_paths(p, v, faces64({0, 0, 4}));  // segment (0,0,0)–(0,3,0)
    REQUIRE(got[4] == Approx(0).margin(1e-15));
    REQUIRE(got[5] == Approx(2).margin(1e-15));
    REQUIRE(got[0] == Approx(1).margin(1e-15));
  }
  // a sliver (nearly collinear) triangle and a degenerate one mixed with a normal mesh: reference
  const Tensor v2 = pts64({0, 0, 0, 1, 0, 0, 2, 1e-9, 0, 0, 1, 0, 0, 0, 1});
  const Tensor f2 = faces64({0, 1, 2, 0, 3, 4, 1, 1, 4});
  const Tensor p2 = test::uniform({200, 3}, -1, 2, 8, TensorOptions(DType::f64));
  const auto got = both_paths(p2, v2, f2);
  const auto want = ref_p2f(p2, v2, f2);
  for (size_t i = 0; i < got.size(); ++i) REQUIRE(got[i] == Approx(want[i]).margin(1e-9));
}

TEST_CASE("p2f: random triangle soups against the float64 reference", "[p2f]") {
  for (int64_t F : {1, 7, 300, 3000}) {
    const Tensor v = test::uniform({F * 3, 3}, -1, 1, 20 + F, TensorOptions(DType::f64));
    std::vector<int64_t> fv(static_cast<size_t>(F * 3));
    for (int64_t i = 0; i < F * 3; ++i) fv[i] = (i * 7919) % (F * 3);  // a permutation of the corners
    const Tensor f = faces64(fv);
    const Tensor p = test::uniform({150, 3}, -1.5, 1.5, 30 + F, TensorOptions(DType::f64));
    const auto want = ref_p2f(p, v, f);
    const auto got = both_paths(p, v, f);
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("F " << F << " point " << i);
      REQUIRE(got[i] == Approx(want[i]).margin(1e-12));
    }
    const auto g32 = both_paths(p.to(DType::f32), v.to(DType::f32), f);
    // float32 inputs are rounded first: compare with the reference at the rounded inputs
    const auto w32 = ref_p2f(p.to(DType::f32), v.to(DType::f32), f);
    for (size_t i = 0; i < g32.size(); ++i) REQUIRE(g32[i] == Approx(w32[i]).epsilon(1e-6).margin(1e-7));
  }
  // empty point set
  REQUIRE(point_to_mesh_distance(empty({0, 3}, TensorOptions(DType::f64)), pts64({0, 0, 0, 1, 0, 0, 0, 1, 0}),
                                 faces64({0, 1, 2}))
              .shape() == Shape{0});
}

TEST_CASE("p2f: errors", "[p2f]") {
  const Tensor v = pts64({0, 0, 0, 1, 0, 0, 0, 1, 0});
  const Tensor f = faces64({0, 1, 2});
  const Tensor p = pts64({0, 0, 1});
  REQUIRE_THROWS_WITH(point_to_mesh_distance(p, v, faces64({0, 1, 3})),
                      Catch::Contains("point_to_mesh_distance") && Catch::Contains("3 is outside [0, 3)"));
  REQUIRE_THROWS_WITH(point_to_mesh_distance(p, v, faces64({0, -1, 2})), Catch::Contains("-1"));
  REQUIRE_THROWS_WITH(point_to_mesh_distance(p, v, f.to(DType::i32)), Catch::Contains("int64"));
  REQUIRE_THROWS_WITH(point_to_mesh_distance(p.to(DType::f32), v, f), Catch::Contains("float32"));
  REQUIRE_THROWS_WITH(point_to_mesh_distance(p, v, empty({0, 3}, TensorOptions(DType::i64))),
                      Catch::Contains("no faces"));
  REQUIRE_THROWS_WITH(point_to_mesh_distance(p.reshape({1, 1, 3}), v, f), Catch::Contains("[n, 3]"));
  REQUIRE_THROWS_WITH(point_to_mesh_distance(pts64({NAN, 0, 0}), v, f), Catch::Contains("NaN"));
}

TEST_CASE("mesh_to_tensors: fan triangulation and errors", "[p2f]") {
  datasets::Mesh m;
  m.vertices = from_vector(std::vector<float>{0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0.5f, 0.5f, 1}, {5, 3});
  m.faces = {{0, 1, 2, 3}, {0, 1, 4}};
  const auto t = datasets::mesh_to_tensors(m, DType::f64);
  REQUIRE(t.vertices.dtype() == DType::f64);
  REQUIRE(t.faces.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 0, 2, 3, 0, 1, 4});
  // the quad's centre lies on the mesh
  REQUIRE(point_to_mesh_distance(pts64({0.5, 0.5, 0}), t.vertices, t.faces).item<double>() == Approx(0).margin(1e-15));
  m.faces = {{0, 1}};
  REQUIRE_THROWS_WITH(datasets::mesh_to_tensors(m), Catch::Contains("face 0"));
  m.faces = {{0, 1, 9}};
  REQUIRE_THROWS_WITH(datasets::mesh_to_tensors(m), Catch::Contains("9"));
  REQUIRE_THROWS_WITH(datasets::load_mesh_tensors("/nonexistent/x.obj"), Catch::Contains("extension"));
}

TEST_CASE("p2f: a PU-GAN test mesh's own vertices lie on it", "[p2f]") {
  const std::string path = std::string(PG_SHARED_DATA_DIR) + "/pu_gan_test/meshes/duck.off";
  if (!std::filesystem::exists(path)) {
    WARN("skipped: " << path << " is absent (shared data not available)");
    return;
  }
  const auto mesh = datasets::load_mesh_tensors(path);
  REQUIRE(mesh.faces.size(0) > 1000);
  const Tensor d = point_to_mesh_distance(mesh.vertices, mesh.vertices, mesh.faces);
  REQUIRE(max(d).item<double>() == 0.0);
  // points pushed off the surface along a random direction are at most that far away, and the
  // BVH agrees with the brute force exactly
  const Tensor off =
      add(mesh.vertices.slice(0, 0, 300), test::uniform({300, 3}, -0.01, 0.01, 4, TensorOptions(DType::f32)));
  P2fOptions bf;
  bf.impl = P2fImpl::BruteForce;
  const auto a = point_to_mesh_distance(off, mesh.vertices, mesh.faces).to_vector<float>();
  const auto b = point_to_mesh_distance(off, mesh.vertices, mesh.faces, bf).to_vector<float>();
  REQUIRE(a == b);
  for (float x : a) REQUIRE(x <= 0.0174f);
}
