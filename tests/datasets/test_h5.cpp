// H5File: round trips of every dtype, strings, attributes, groups, slabs and conversions;
// errors that name the file and the dataset; atomic writes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "datasets/h5_file.h"
#include "ds_test_util.h"

using namespace pg;
using namespace pg::datasets;
using pg::test::require_error;
using pg::test::TempDir;

namespace {

template <class T>
Tensor seq(const Shape& shape, double start = 0.0, double step = 1.0) {
  std::vector<T> v(static_cast<size_t>(shape_numel(shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<T>(start + step * static_cast<double>(i));
  return from_vector(v, shape);
}

}  // namespace

TEST_CASE("h5: tensors of every dtype round trip", "[datasets]") {
  TempDir dir;
  const std::string path = dir.file("t.h5");
  Tensor f32 = seq<float>({2, 3, 4}, -1.5, 0.25);
  Tensor f64 = seq<double>({5}, 1e-300, 3.0);
  Tensor i32 = seq<int32_t>({3, 2}, -3);
  Tensor i64 = seq<int64_t>({4}, 1e15, 1e12);
  Tensor u8 = seq<uint8_t>({2, 2}, 250);
  Tensor b8 = empty({3}, TensorOptions(DType::b8));
  auto* bp = static_cast<uint8_t*>(b8.raw_data());
  bp[0] = 1, bp[1] = 0, bp[2] = 1;
  Tensor scalar = seq<double>({}, 42.0);
  Tensor none = seq<float>({0, 3});
  {
    H5File f = H5File::create(path);
    f.write("f32", f32);
    f.write("nested/deeper/f64", f64);
    f.write("i32", i32);
    f.write("i64", i64);
    f.write("u8", u8);
    f.write("b8", b8);
    f.write("scalar", scalar);
    f.write("empty", none);
    f.write("compressed", f32, H5WriteOptions{6, true});
    f.close();
  }
  H5File f = H5File::open(path);
  CHECK(f.list_datasets() == std::vector<std::string>{"b8", "compressed", "empty", "f32", "i32", "i64",
                                                      "nested/deeper/f64", "scalar", "u8"});
  CHECK(f.list("/") ==
        std::vector<std::string>{"b8", "compressed", "empty", "f32", "i32", "i64", "nested", "scalar", "u8"});
  CHECK(f.exists("nested/deeper"));
  CHECK_FALSE(f.is_dataset("nested/deeper"));
  CHECK_FALSE(f.exists("nested/nope/x"));
  CHECK(f.read("f32").to_vector<float>() == f32.to_vector<float>());
  CHECK(f.read("f32").shape() == Shape{2, 3, 4});
  CHECK(f.read("compressed").to_vector<float>() == f32.to_vector<float>());
  CHECK(f.read("/nested/deeper/f64").to_vector<double>() == f64.to_vector<double>());
  CHECK(f.read("i32").dtype() == DType::i32);
  CHECK(f.read("i32").to_vector<int32_t>() == i32.to_vector<int32_t>());
  CHECK(f.read("i64").to_vector<int64_t>() == i64.to_vector<int64_t>());
  CHECK(f.read("u8").dtype() == DType::u8);
  CHECK(f.read("u8").to_vector<uint8_t>() == u8.to_vector<uint8_t>());
  Tensor rb = f.read("b8");
  CHECK(rb.dtype() == DType::b8);
  CHECK(f.type("b8").kind == H5TypeInfo::Kind::boolean);
  const auto* rbp = static_cast<const uint8_t*>(rb.raw_data());
  CHECK((rbp[0] == 1 && rbp[1] == 0 && rbp[2] == 1));
  CHECK(f.read("scalar").dim() == 0);
  CHECK(f.read("scalar").item() == 42.0);
  CHECK(f.read("empty").shape() == Shape{0, 3});
  CHECK(f.dtype("f32") == DType::f32);
  CHECK(f.type("u8").describe() == "uint8");
  CHECK(f.shape("i32") == Shape{3, 2});
}

TEST_CASE("h5: checked reads, conversions and slabs", "[datasets]") {
  TempDir dir;
  const std::string path = dir.file("c.h5");
  Tensor x = seq<float>({4, 5, 3});
  {
    H5File f = H5File::create(path);
    f.write("x", x);
    f.write("lab", seq<uint8_t>({4, 1}, 3));
  }
  H5File f = H5File::open(path);
  CHECK(f.read("x", DType::f32, {-1, 5, 3}).shape() == Shape{4, 5, 3});
  require_error([&] { f.read("x", DType::f64, {-1, 5, 3}); }, {path, "'x'", "wrong dtype", "float32", "float64"});
  require_error([&] { f.read("x", DType::f32, {-1, 3}); }, {path, "'x'", "wrong rank", "[4, 5, 3]"});
  require_error([&] { f.read("x", DType::f32, {-1, 6, 3}); }, {path, "'x'", "wrong shape", "[*, 6, 3]"});
  Tensor l = f.read_as("lab", DType::i64);
  CHECK(l.dtype() == DType::i64);
  CHECK(l.to_vector<int64_t>() == std::vector<int64_t>{3, 4, 5, 6});
  CHECK(f.read_as("x", DType::f64).to_vector<double>() == x.to_vector<double>());
  // Slab: rows 1..2, first 2 points.
  Tensor s = f.read_slab("x", {1, 0, 0}, {2, 2, 3}, DType::f32);
  REQUIRE(s.shape() == Shape{2, 2, 3});
  const auto sv = s.to_vector<float>();
  CHECK(sv[0] == 15.0f);   // x[1, 0, 0]
  CHECK(sv[6] == 30.0f);   // x[2, 0, 0]
  CHECK(sv[11] == 35.0f);  // x[2, 1, 2]
  require_error([&] { f.read_slab("x", {3, 0, 0}, {2, 5, 3}, DType::f32); }, {path, "'x'", "outside"});
  require_error([&] { f.read_as("x", DType::b8); }, {path, "'x'", "bool"});
}

TEST_CASE("h5: non-contiguous tensors are written in logical order", "[datasets]") {
  TempDir dir;
  const std::string path = dir.file("nc.h5");
  Tensor a = seq<float>({2, 3});
  Tensor at = detail::make_view(a, {3, 2}, {1, 3}, 0);  // transpose
  REQUIRE_FALSE(at.is_contiguous());
  {
    H5File f = H5File::create(path);
    f.write("t", at);
  }
  CHECK(H5File::open(path).read("t").to_vector<float>() == std::vector<float>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("h5: strings and attributes", "[datasets]") {
  TempDir dir;
  const std::string path = dir.file("s.h5");
  const std::vector<std::string> names{"airplane", "", "naïve ∑ unicode", std::string(300, 'x')};
  {
    H5File f = H5File::create(path);
    f.write_strings("names", names);
    f.write_strings("g/none", {});
    f.write("w", seq<float>({2}));
    f.set_attr("/", "config", "{\"lr\": 0.001}");
    f.set_attr("/", "epoch", int64_t(17));
    f.set_attr("w", "scale", 0.5);
    f.set_attr("w", "range", std::vector<double>{-1.0, 2.5});
    f.set_attr("/", "epoch", int64_t(18));  // replace
  }
  H5File f = H5File::open(path);
  CHECK(f.read_strings("names") == names);
  CHECK(f.read_strings("g/none").empty());
  CHECK(f.type("names").kind == H5TypeInfo::Kind::string);
  CHECK(f.attr_string("/", "config") == "{\"lr\": 0.001}");
  CHECK(f.attr_int("/", "epoch") == 18);
  CHECK(f.attr_double("w", "scale") == 0.5);
  CHECK(f.attr_doubles("w", "range") == std::vector<double>{-1.0, 2.5});
  CHECK(f.has_attr("w", "scale"));
  CHECK_FALSE(f.has_attr("w", "nope"));
  CHECK_FALSE(f.has_attr("missing_object", "scale"));
  CHECK(f.attr_names("/") == std::vector<std::string>{"config", "epoch"});
  require_error([&] { f.attr_string("w", "nope"); }, {path, "'nope'", "not found"});
  require_error([&] { f.attr_int("w", "scale"); }, {path, "'scale'", "not an integer"});
  require_error([&] { f.read_strings("w"); }, {path, "'w'", "expected strings"});
  require_error([&] { f.read("names"); }, {path, "'names'", "string"});
}

TEST_CASE("h5: missing files, missing datasets, read-only files, non-HDF5 files", "[datasets]") {
  TempDir dir;
  const std::string path = dir.file("m.h5");
  require_error([&] { H5File::open(dir.file("absent.h5")); }, {"absent.h5", "not found"});
  {
    H5File f = H5File::create(path);
    f.write("a", seq<float>({3}));
    f.write("grp/b", seq<float>({3}));
  }
  H5File f = H5File::open(path);
  require_error([&] { f.read("nope"); }, {path, "dataset 'nope'", "not found", "a, grp/b"});
  require_error([&] { f.read("grp"); }, {path, "'grp'", "cannot open as a dataset"});
  require_error([&] { f.write("c", seq<float>({1})); }, {path, "read-only"});
  require_error([&] { f.set_attr("/", "k", 1.0); }, {path, "read-only"});
  f.close();
  require_error([&] { f.read("a"); }, {path, "closed"});

  const std::string text = dir.file("text.h5");
  pg::test::write_bytes(text, "this is not an HDF5 file at all, just some text\n");
  CHECK_FALSE(is_hdf5_file(text));
  CHECK(is_hdf5_file(path));
  require_error([&] { H5File::open(text); }, {text, "not an HDF5 file"});
  const std::string empty_file = dir.file("empty.h5");
  pg::test::write_bytes(empty_file, "");
  require_error([&] { H5File::open(empty_file); }, {empty_file, "not an HDF5 file"});
  require_error([&] { H5File::open(dir.path()); }, {"not a regular file"});
}

TEST_CASE("h5: atomic writes replace the file only on success", "[datasets]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.h5");
  write_h5_atomic(path, [](H5File& f) { f.write("v", seq<float>({2}, 1.0)); });
  CHECK(H5File::open(path).read("v").to_vector<float>() == std::vector<float>{1, 2});
  CHECK_THROWS_AS(write_h5_atomic(path,
                                  [](H5File& f) {
                                    f.write("v", seq<float>({2}, 7.0));
                                    throw std::runtime_error("simulated crash");
                                  }),
                  std::runtime_error);
  CHECK(H5File::open(path).read("v").to_vector<float>() == std::vector<float>{1, 2});
  CHECK(pg::test::count_temporaries(dir.path()) == 0);
  write_h5_atomic(path, [](H5File& f) { f.write("v", seq<float>({3}, 5.0)); });
  CHECK(H5File::open(path).read("v").to_vector<float>() == std::vector<float>{5, 6, 7});
  CHECK(pg::test::count_temporaries(dir.path()) == 0);
  require_error([&] { write_h5_atomic(dir.file("no/such/folder/x.h5"), [](H5File&) {}); }, {"does not exist"});
}

TEST_CASE("h5: a dataset replaced in place reads back the new value", "[datasets]") {
  TempDir dir;
  const std::string path = dir.file("r.h5");
  H5File f = H5File::create(path);
  f.write("x", seq<float>({4}));
  f.write("x", seq<int64_t>({2}, 9));
  CHECK(f.read("x").dtype() == DType::i64);
  CHECK(f.read("x").to_vector<int64_t>() == std::vector<int64_t>{9, 10});
}

TEST_CASE("h5: groups keep creation order when asked; scalar strings", "[datasets]") {
  TempDir dir;
  const std::string path = dir.file("g.h5");
  {
    H5File f = H5File::create(path);
    f.create_group("ordered", /*track_order=*/true);
    f.create_group("sorted");
    for (const char* n : {"zeta", "alpha", "mid.dotted", "Beta"}) {
      f.write(std::string("ordered/") + n, seq<float>({1}));
      f.write(std::string("sorted/") + n, seq<float>({1}));
    }
    f.create_group("deep/er/group", true);
    f.write_string("note", "π ≈ 3.14");
    f.write_string("empty", "");
    require_error([&] { f.create_group("ordered"); }, {path, "'ordered'", "exists"});
  }
  const H5File f = H5File::open(path);
  CHECK(f.list("ordered", H5Order::creation) == std::vector<std::string>{"zeta", "alpha", "mid.dotted", "Beta"});
  CHECK(f.list("ordered") == std::vector<std::string>{"Beta", "alpha", "mid.dotted", "zeta"});
  // A group that does not track the order lists by name either way.
  CHECK(f.list("sorted", H5Order::creation) == std::vector<std::string>{"Beta", "alpha", "mid.dotted", "zeta"});
  CHECK(f.is_group("deep/er/group"));
  CHECK(f.is_group("/"));
  CHECK_FALSE(f.is_group("note"));
  CHECK_FALSE(f.is_group("nothing"));
  CHECK(f.list("deep/er/group", H5Order::creation).empty());
  CHECK(f.shape("note") == Shape{});
  CHECK(f.read_strings("note") == std::vector<std::string>{"π ≈ 3.14"});
  CHECK(f.read_strings("empty") == std::vector<std::string>{""});
}

TEST_CASE("h5: a user block is reserved for the caller; seal runs before the rename", "[datasets]") {
  TempDir dir;
  const std::string path = dir.file("u.h5");
  std::string sealed_tmp;
  write_h5_atomic(
      path, [](H5File& f) { f.write("v", seq<float>({3}, 1.0)); }, {512},
      [&](const std::string& tmp) {
        sealed_tmp = tmp;
        CHECK_FALSE(std::filesystem::exists(path));  // not yet renamed
        std::fstream io(tmp, std::ios::in | std::ios::out | std::ios::binary);
        io.write("USERDATA", 8);
      });
  CHECK(sealed_tmp.find(path + ".tmp.") == 0);
  const std::string bytes = pg::test::read_bytes(path);
  CHECK(bytes.substr(0, 8) == "USERDATA");
  CHECK(bytes.substr(512, 4) == "\x89HDF");  // the HDF5 superblock follows the user block
  CHECK(H5File::open(path).read("v").to_vector<float>() == std::vector<float>{1, 2, 3});
  // A failing seal leaves the old file and no temporary.
  CHECK_THROWS_AS(write_h5_atomic(
                      path, [](H5File& f) { f.write("v", seq<float>({1})); }, {512},
                      [](const std::string&) { throw std::runtime_error("seal failed"); }),
                  std::runtime_error);
  CHECK(H5File::open(path).read("v").to_vector<float>() == std::vector<float>{1, 2, 3});
  CHECK(pg::test::count_temporaries(dir.path()) == 0);
  require_error([&] { H5File::create(dir.file("bad.h5"), {300}); }, {"bad.h5", "user block of 300 bytes"});
}
