// Point-cloud files: .xyz, .ply (ASCII, binary LE/BE), .off, .h5 round trips, hand-written
// files from other tools, malformed-file errors and a mutation fuzz (errors, never crashes).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "datasets/host_rng.h"
#include "datasets/pointcloud_io.h"
#include "ds_test_util.h"

using namespace pg;
using namespace pg::datasets;
using pg::test::require_error;
using pg::test::TempDir;
using pg::test::write_bytes;

namespace {

Tensor cloud(int64_t n, uint64_t seed) {
  HostRng r(seed, {});
  std::vector<float> v(static_cast<size_t>(n * 3));
  for (float& x : v) x = static_cast<float>(r.uniform(-1, 1) * std::pow(10.0, static_cast<double>(r.below(7)) - 3.0));
  return from_vector(v, {n, 3});
}

template <class T>
void put(std::string& s, T v, bool big_endian = false) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  if (big_endian) std::reverse(b, b + sizeof(T));
  s.append(b, sizeof(T));
}

}  // namespace

TEST_CASE("pointcloud io: xyz", "[datasets]") {
  TempDir dir("pg_io");
  const Tensor c = cloud(100, 1);
  write_xyz(dir.file("a.xyz"), c);
  CHECK(read_xyz(dir.file("a.xyz")).to_vector<float>() == c.to_vector<float>());  // %.9g round-trips float32
  write_bytes(dir.file("b.xyz"), "# header comment\n1 2 3 0.5 0.5 0.5\n\n  -4.5e-1\t+5,6\r\n7 8 9 extra text\n");
  const Tensor b = read_xyz(dir.file("b.xyz"));
  CHECK(b.shape() == Shape{3, 3});
  CHECK(b.to_vector<float>() == std::vector<float>{1, 2, 3, -0.45f, 5, 6, 7, 8, 9});
  write_bytes(dir.file("c.xyz"), "1 2 3\n4 5\n6 7 8\n");
  require_error([&] { read_xyz(dir.file("c.xyz")); }, {"c.xyz", "line 2", "at least 3 numbers"});
  write_bytes(dir.file("d.xyz"), "1 2 3\n1 nan 3\n");
  require_error([&] { read_xyz(dir.file("d.xyz")); }, {"d.xyz", "line 2", "non-finite"});
  write_bytes(dir.file("e.xyz"), "# only a comment\n\n");
  require_error([&] { read_xyz(dir.file("e.xyz")); }, {"e.xyz", "no points"});
  write_bytes(dir.file("f.xyz"), "1 2 abc\n");
  require_error([&] { read_xyz(dir.file("f.xyz")); }, {"f.xyz", "line 1"});
  require_error([&] { read_xyz(dir.file("missing.xyz")); }, {"missing.xyz", "not found"});
}

TEST_CASE("pointcloud io: ply binary and ascii round trips with faces", "[datasets]") {
  TempDir dir("pg_io");
  const Tensor c = cloud(50, 2);
  const std::vector<std::vector<int64_t>> faces{{0, 1, 2}, {3, 4, 5, 6}, {49, 48, 47}};
  for (bool binary : {true, false}) {
    const std::string p = dir.file(binary ? "b.ply" : "a.ply");
    write_ply(p, c, binary, faces);
    const Mesh m = read_ply(p);
    CHECK(m.vertices.to_vector<float>() == c.to_vector<float>());
    CHECK(m.faces == faces);
  }
  write_ply(dir.file("nofaces.ply"), c);
  CHECK(read_ply(dir.file("nofaces.ply")).faces.empty());
  CHECK(read_point_cloud(dir.file("nofaces.ply")).to_vector<float>() == c.to_vector<float>());
}

TEST_CASE("pointcloud io: ply files from other tools", "[datasets]") {
  TempDir dir("pg_io");
  // ASCII with double coordinates, normals, colours, a face list and an unknown element.
  write_bytes(dir.file("a.ply"),
              "ply\r\nformat ascii 1.0\ncomment made by hand\nobj_info x\nelement vertex 3\n"
              "property double x\nproperty double y\nproperty double z\nproperty float nx\n"
              "property uchar red\nelement face 1\nproperty list uchar int vertex_indices\n"
              "property uchar flags\nelement material 2\nproperty list int float values\n"
              "end_header\n"
              "1 2 3 0.5 255\n4 5 6 0.5 0\n7 8 9 0.5 7\n3 0 1 2 9\n2 1.5 2.5\n0\n");
  const Mesh a = read_ply(dir.file("a.ply"));
  CHECK(a.vertices.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(a.faces == std::vector<std::vector<int64_t>>{{0, 1, 2}});

  // Binary big-endian, y before x, with an int16 property and a uint32-counted face list.
  for (bool be : {true, false}) {
    std::string s = std::string("ply\nformat ") + (be ? "binary_big_endian" : "binary_little_endian") +
                    " 1.0\nelement vertex 2\nproperty float y\nproperty short id\nproperty float x\n"
                    "property double z\nelement face 1\nproperty list uint int vertex_index\nend_header\n";
    put<float>(s, 2.0f, be), put<int16_t>(s, 7, be), put<float>(s, 1.0f, be), put<double>(s, 3.0, be);
    put<float>(s, 5.0f, be), put<int16_t>(s, -1, be), put<float>(s, 4.0f, be), put<double>(s, 6.0, be);
    put<uint32_t>(s, 2, be), put<int32_t>(s, 1, be), put<int32_t>(s, 0, be);
    write_bytes(dir.file("b.ply"), s);
    const Mesh b = read_ply(dir.file("b.ply"));
    CHECK(b.vertices.to_vector<float>() == std::vector<float>{1, 2, 3, 4, 5, 6});
    CHECK(b.faces == std::vector<std::vector<int64_t>>{{1, 0}});
    // Truncated body.
    write_bytes(dir.file("t.ply"), s.substr(0, s.size() - 5));
    require_error([&] { read_ply(dir.file("t.ply")); }, {"t.ply", "truncated"});
  }

  const std::string hdr = "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n";
  write_bytes(dir.file("noz.ply"), hdr + "end_header\n1 2\n");
  require_error([&] { read_ply(dir.file("noz.ply")); }, {"noz.ply", "x, y, z"});
  write_bytes(dir.file("badtype.ply"), hdr + "property quad z\nend_header\n1 2 3\n");
  require_error([&] { read_ply(dir.file("badtype.ply")); }, {"badtype.ply", "header line 6", "malformed property"});
  write_bytes(dir.file("nohdr.ply"), hdr + "property float z\n1 2 3\n");
  require_error([&] { read_ply(dir.file("nohdr.ply")); }, {"nohdr.ply", "end_header"});
  write_bytes(dir.file("fmt.ply"), "ply\nformat binary_middle_endian 1.0\nend_header\n");
  require_error([&] { read_ply(dir.file("fmt.ply")); }, {"fmt.ply", "unknown format"});
  write_bytes(dir.file("magic.ply"), "plx\n");
  require_error([&] { read_ply(dir.file("magic.ply")); }, {"magic.ply", "not a PLY file"});
  write_bytes(dir.file("count.ply"),
              "ply\nformat binary_little_endian 1.0\nelement vertex 1000000000\nproperty float x\n"
              "property float y\nproperty float z\nend_header\n" +
                  std::string(24, '\0'));
  require_error([&] { read_ply(dir.file("count.ply")); }, {"count.ply", "1000000000", "truncated"});
  write_bytes(dir.file("face.ply"),
              "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\n"
              "element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n3 0 0 5\n");
  require_error([&] { read_ply(dir.file("face.ply")); }, {"face.ply", "vertex 5"});
  write_bytes(dir.file("nan.ply"),
              "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\n"
              "end_header\n0 inf 0\n");
  require_error([&] { read_ply(dir.file("nan.ply")); }, {"nan.ply", "non-finite"});
}

TEST_CASE("pointcloud io: off", "[datasets]") {
  TempDir dir("pg_io");
  Mesh m;
  m.vertices = cloud(8, 3);
  m.faces = {{0, 1, 2}, {4, 5, 6, 7}};
  write_off(dir.file("a.off"), m);
  const Mesh r = read_off(dir.file("a.off"));
  CHECK(r.vertices.to_vector<float>() == m.vertices.to_vector<float>());
  CHECK(r.faces == m.faces);

  // ModelNet's "OFF<V> <F> <E>" header, comments, COFF colours.
  write_bytes(dir.file("mn.off"), "OFF3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n");
  CHECK(read_off(dir.file("mn.off")).vertices.size(0) == 3);
  write_bytes(dir.file("c.off"),
              "COFF\n# a comment\n3 1 0\n\n0 0 0 255 0 0 255\n1 0 0 0 255 0 255\n"
              "0 1 0 0 0 255 255 # trailing\n3 2 1 0 128 128 128\n");
  const Mesh c = read_off(dir.file("c.off"));
  CHECK(c.vertices.to_vector<float>() == std::vector<float>{0, 0, 0, 1, 0, 0, 0, 1, 0});
  CHECK(c.faces == std::vector<std::vector<int64_t>>{{2, 1, 0}});
  write_bytes(dir.file("same.off"), "OFF 1 0 0\n0.5 0.25 0.125\n");
  CHECK(read_off(dir.file("same.off")).vertices.to_vector<float>() == std::vector<float>{0.5f, 0.25f, 0.125f});

  write_bytes(dir.file("trunc.off"), "OFF\n4 1 0\n0 0 0\n1 0 0\n");
  require_error([&] { read_off(dir.file("trunc.off")); }, {"trunc.off", "truncated", "4 vertices"});
  write_bytes(dir.file("tf.off"), "OFF\n3 2 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n");
  require_error([&] { read_off(dir.file("tf.off")); }, {"tf.off", "truncated", "2 faces"});
  write_bytes(dir.file("idx.off"), "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 3\n");
  require_error([&] { read_off(dir.file("idx.off")); }, {"idx.off", "line 6", "vertex index 3"});
  write_bytes(dir.file("short.off"), "OFF\n3 1 0\n0 0 0\n1 0\n0 1 0\n3 0 1 2\n");
  require_error([&] { read_off(dir.file("short.off")); }, {"short.off", "line 4", "x y z"});
  write_bytes(dir.file("few.off"), "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n4 0 1 2\n");
  require_error([&] { read_off(dir.file("few.off")); }, {"few.off", "fewer indices"});
  write_bytes(dir.file("magic.off"), "PLY\n");
  require_error([&] { read_off(dir.file("magic.off")); }, {"magic.off", "not an OFF file"});
  write_bytes(dir.file("counts.off"), "OFF\n-3 1 0\n");
  require_error([&] { read_off(dir.file("counts.off")); }, {"counts.off", "malformed counts"});
}

TEST_CASE("pointcloud io: h5 collections and dispatch by extension", "[datasets]") {
  TempDir dir("pg_io");
  std::vector<float> v;
  for (int i = 0; i < 4 * 10 * 3; ++i) v.push_back(static_cast<float>(i));
  const Tensor clouds = from_vector(v, {4, 10, 3});
  write_h5_clouds(dir.file("c.h5"), clouds);
  CHECK(count_h5_clouds(dir.file("c.h5")) == 4);
  const Tensor c2 = read_h5_cloud(dir.file("c.h5"), "data", 2);
  REQUIRE(c2.shape() == Shape{10, 3});
  CHECK(c2.to_vector<float>()[0] == 60.0f);
  CHECK(read_point_cloud(dir.file("c.h5"), {"data", 3}).to_vector<float>()[29] == 119.0f);
  require_error([&] { read_h5_cloud(dir.file("c.h5"), "data", 4); }, {"c.h5", "'data'", "index 4", "0..3"});
  require_error([&] { read_h5_cloud(dir.file("c.h5"), "points", 0); }, {"c.h5", "'points'", "not found"});

  const Tensor one = cloud(16, 4);
  for (const char* ext : {".xyz", ".ply", ".off", ".h5", ".PLY", ".txt"}) {
    INFO("extension " << ext);
    const std::string p = dir.file(std::string("one") + ext);
    write_point_cloud(p, one);
    CHECK(read_point_cloud(p).to_vector<float>() == one.to_vector<float>());
  }
  require_error([&] { write_point_cloud(dir.file("x.obj"), one); }, {"x.obj", "unknown point-cloud format"});
  require_error([&] { read_point_cloud(dir.file("x.obj")); }, {"x.obj", "unknown point-cloud format"});
  require_error([&] { write_point_cloud(dir.file("bad.xyz"), clouds); }, {"bad.xyz", "[M, 3]"});
  CHECK(pg::test::count_temporaries(dir.path()) == 0);
}

TEST_CASE("pointcloud io: mutated files error out or parse, never crash", "[datasets]") {
  TempDir dir("pg_io");
  const Tensor c = cloud(20, 5);
  Mesh m{c, {{0, 1, 2}, {3, 4, 5}, {19, 18, 17}}};
  write_ply(dir.file("b.ply"), c, true, m.faces);
  write_ply(dir.file("a.ply"), c, false, m.faces);
  write_off(dir.file("m.off"), m);
  write_xyz(dir.file("p.xyz"), c);
  HostRng rng(31, {});
  int errors = 0, parsed = 0;
  for (const char* name : {"b.ply", "a.ply", "m.off", "p.xyz"}) {
    const std::string base = pg::test::read_bytes(dir.file(name));
    const std::string ext = std::filesystem::path(name).extension().string();
    for (int v = 0; v < 60; ++v) {
      std::string b = base;
      if (v % 3 == 0) {
        b = b.substr(0, rng.below(b.size()));
      } else {
        const int flips = 1 + static_cast<int>(rng.below(3));
        for (int k = 0; k < flips; ++k) b[rng.below(b.size())] = static_cast<char>(rng.below(256));
      }
      const std::string p = dir.file("mut" + ext);
      write_bytes(p, b);
      try {
        const Tensor t = read_point_cloud(p);
        for (float x : t.to_vector<float>()) REQUIRE(std::isfinite(x));
        ++parsed;
      } catch (const pg::Error& e) {
        CHECK(std::string(e.what()).find("mut") != std::string::npos);
        ++errors;
      }
    }
  }
  CHECK(errors + parsed == 240);
  CHECK(errors > 40);
}
