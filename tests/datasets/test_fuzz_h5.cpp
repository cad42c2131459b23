// Fuzz-style robustness of the HDF5 shard reader: a valid shard is truncated at many lengths,
// has random bytes flipped, gets wrong-typed, wrong-ranked and missing datasets, or is replaced
// by garbage. Every variant must end in a pg::Error (or, for flips that hit bytes the reader
// does not depend on, in a fully valid shard) — never a crash. Fixed seed, fast.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>

#include "datasets/h5_file.h"
#include "datasets/host_rng.h"
#include "datasets/modelnet40.h"
#include "ds_test_util.h"

using namespace pg;
using namespace pg::datasets;
using pg::test::TempDir;

namespace {

constexpr int64_t kN = 6, kP = 32, kClasses = 10;

Tensor shard_points() {
  std::vector<float> v(static_cast<size_t>(kN * kP * 3));
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.123456f + 0.001f * static_cast<float>(i % 500);
  return from_vector(v, {kN, kP, 3});
}
const std::vector<uint8_t> kLabels{7, 3, 9, 1, 4, 2};

enum class Outcome { error, valid };

// Reads `bytes` as a shard; returns error or valid, and fails the test on anything else.
Outcome try_read(const TempDir& dir, const std::string& bytes, int variant) {
  const std::string path = dir.file("v" + std::to_string(variant) + ".h5");
  pg::test::write_bytes(path, bytes);
  Outcome out = Outcome::error;
  try {
    const Shard s = read_modelnet_shard(path, kClasses);
    // Accepted: it must then be a fully valid shard.
    REQUIRE(s.points.dim() == 3);
    REQUIRE(s.points.size(2) == 3);
    REQUIRE(s.labels.size(0) == s.points.size(0));
    for (float x : s.points.to_vector<float>()) REQUIRE(std::isfinite(x));
    for (int64_t l : s.labels.to_vector<int64_t>()) REQUIRE((l >= 0 && l < kClasses));
    out = Outcome::valid;
  } catch (const pg::Error& e) {
    const std::string msg = e.what();
    INFO("variant " << variant << ": " << msg);
    CHECK(msg.find(path) != std::string::npos);  // every error names the file
    out = Outcome::error;
  }
  std::filesystem::remove(path);
  return out;
}

std::string valid_shard_bytes(const TempDir& dir, bool checksum) {
  const std::string path = dir.file(checksum ? "base_ck.h5" : "base.h5");
  {
    H5File f = H5File::create(path);
    H5WriteOptions o;
    o.checksum = checksum;
    f.write("data", shard_points(), o);
    f.write("label", from_vector(kLabels, {kN, 1}), o);
  }
  REQUIRE(read_modelnet_shard(path, kClasses).labels.to_vector<int64_t>() ==
          std::vector<int64_t>(kLabels.begin(), kLabels.end()));
  return pg::test::read_bytes(path);
}

size_t find_bytes(const std::string& hay, const void* needle, size_t n) {
  const size_t pos = hay.find(std::string(static_cast<const char*>(needle), n));
  REQUIRE(pos != std::string::npos);
  return pos;
}

}  // namespace

TEST_CASE("fuzz h5: truncated shards always raise pg::Error", "[datasets]") {
  TempDir dir("pg_fuzz");
  const std::string base = valid_shard_bytes(dir, false);
  std::vector<size_t> lengths{0, 1, 4, 7, 8, 9, 16, 40, 96, 512, base.size() - 1, base.size() - 8};
  for (size_t k = 1; k < 60; ++k) lengths.push_back(base.size() * k / 60);
  int variant = 0, errors = 0;
  for (size_t len : lengths) {
    INFO("truncated to " << len << " of " << base.size() << " bytes");
    CHECK(try_read(dir, base.substr(0, len), variant++) == Outcome::error);
    ++errors;
  }
  CHECK(errors >= 70);
}

TEST_CASE("fuzz h5: random byte flips error out or leave a valid shard, never crash", "[datasets]") {
  TempDir dir("pg_fuzz");
  for (bool checksum : {false, true}) {
    const std::string base = valid_shard_bytes(dir, checksum);
    HostRng rng(2024, {checksum ? 1u : 0u});
    int errors = 0, valid = 0;
    for (int v = 0; v < 120; ++v) {
      std::string bytes = base;
      const int flips = 1 + static_cast<int>(rng.below(4));
      for (int k = 0; k < flips; ++k) {
        const size_t pos = rng.below(bytes.size());
        bytes[pos] = static_cast<char>(bytes[pos] ^ static_cast<char>(1 + rng.below(255)));
      }
      (try_read(dir, bytes, v) == Outcome::error ? errors : valid)++;
    }
    INFO("checksum " << checksum << ": " << errors << " errors, " << valid << " valid");
    CHECK(errors + valid == 120);
    CHECK(errors > 0);
  }
}

TEST_CASE("fuzz h5: corrupt raw data is caught (labels, NaN, checksums)", "[datasets]") {
  TempDir dir("pg_fuzz");
  const std::string base = valid_shard_bytes(dir, false);
  // A label byte out of range.
  {
    std::string b = base;
    b[find_bytes(b, kLabels.data(), kLabels.size()) + 2] = static_cast<char>(200);
    CHECK(try_read(dir, b, 1) == Outcome::error);
  }
  // A coordinate turned into NaN and into +Inf.
  const std::vector<float> pts = shard_points().to_vector<float>();
  const size_t data_pos = find_bytes(base, pts.data(), 64);
  for (uint32_t pattern : {0x7FC00000u, 0x7F800000u}) {
    std::string b = base;
    std::memcpy(&b[data_pos + 4 * 100], &pattern, 4);
    CHECK(try_read(dir, b, 2) == Outcome::error);
  }
  // With the Fletcher-32 filter every flip inside the raw data chunk is detected.
  const std::string ck = valid_shard_bytes(dir, true);
  const size_t ck_pos = find_bytes(ck, pts.data(), 64);
  HostRng rng(77, {});
  for (int v = 0; v < 20; ++v) {
    std::string b = ck;
    const size_t pos = ck_pos + rng.below(static_cast<uint64_t>(kN * kP * 3 * 4));
    b[pos] = static_cast<char>(b[pos] ^ 0x10);
    CHECK(try_read(dir, b, 100 + v) == Outcome::error);
  }
}

TEST_CASE("fuzz h5: wrong dtypes, ranks and missing datasets", "[datasets]") {
  TempDir dir("pg_fuzz");
  const Tensor pts = shard_points();
  const Tensor lab = from_vector(kLabels, {kN, 1});
  struct Variant {
    const char* what;
    std::function<void(H5File&)> fill;
  };
  const std::vector<Variant> variants{
      {"no data", [&](H5File& f) { f.write("label", lab); }},
      {"no label", [&](H5File& f) { f.write("data", pts); }},
      {"nothing", [&](H5File&) {}},
      {"data float64",
       [&](H5File& f) {
         f.write("data", from_vector(pts.to_vector<double>(), {kN, kP, 3}));
         f.write("label", lab);
       }},
      {"data int64",
       [&](H5File& f) {
         f.write("data", from_vector(pts.to_vector<int64_t>(), {kN, kP, 3}));
         f.write("label", lab);
       }},
      {"data uint8",
       [&](H5File& f) {
         f.write("data", from_vector(pts.to_vector<uint8_t>(), {kN, kP, 3}));
         f.write("label", lab);
       }},
      {"data rank 2",
       [&](H5File& f) {
         f.write("data", from_vector(pts.to_vector<float>(), {kN, kP * 3}));
         f.write("label", lab);
       }},
      {"data rank 4",
       [&](H5File& f) {
         f.write("data", from_vector(pts.to_vector<float>(), {kN, kP, 3, 1}));
         f.write("label", lab);
       }},
      {"data last dim 6",
       [&](H5File& f) {
         f.write("data", from_vector(pts.to_vector<float>(), {kN, kP / 2, 6}));
         f.write("label", lab);
       }},
      {"data scalar",
       [&](H5File& f) {
         f.write("data", from_vector(std::vector<float>{1.0f}, {}));
         f.write("label", lab);
       }},
      {"data strings",
       [&](H5File& f) {
         f.write_strings("data", {"a", "b"});
         f.write("label", lab);
       }},
      {"data is a group",
       [&](H5File& f) {
         f.write("data/x", pts);
         f.write("label", lab);
       }},
      {"label float",
       [&](H5File& f) {
         f.write("data", pts);
         f.write("label", from_vector(std::vector<float>(kN, 1.0f), {kN, 1}));
       }},
      {"label bool",
       [&](H5File& f) {
         f.write("data", pts);
         Tensor b = empty({kN}, TensorOptions(DType::b8));
         std::memset(b.raw_data(), 1, kN);
         f.write("label", b);
       }},
      {"label [N, 2]",
       [&](H5File& f) {
         f.write("data", pts);
         f.write("label", from_vector(std::vector<uint8_t>(kN * 2, 1), {kN, 2}));
       }},
      {"label too short",
       [&](H5File& f) {
         f.write("data", pts);
         f.write("label", from_vector(std::vector<uint8_t>(kN - 1, 1), {kN - 1, 1}));
       }},
      {"label rank 3",
       [&](H5File& f) {
         f.write("data", pts);
         f.write("label", from_vector(std::vector<uint8_t>(kN, 1), {kN, 1, 1}));
       }},
      {"label strings",
       [&](H5File& f) {
         f.write("data", pts);
         f.write_strings("label", std::vector<std::string>(kN, "1"));
       }},
      {"label out of range",
       [&](H5File& f) {
         f.write("data", pts);
         f.write("label", from_vector(std::vector<uint8_t>(kN, 10), {kN, 1}));
       }},
      {"zero points",
       [&](H5File& f) {
         f.write("data", empty({kN, 0, 3}, TensorOptions(DType::f32)));
         f.write("label", lab);
       }},
  };
  int i = 0;
  for (const Variant& v : variants) {
    INFO("variant: " << v.what);
    const std::string path = dir.file("w" + std::to_string(i++) + ".h5");
    {
      H5File f = H5File::create(path);
      v.fill(f);
    }
    CHECK_THROWS_AS(read_modelnet_shard(path, kClasses), pg::Error);
  }
}

TEST_CASE("fuzz h5: garbage files", "[datasets]") {
  TempDir dir("pg_fuzz");
  const std::string base = valid_shard_bytes(dir, false);
  HostRng rng(5, {});
  int v = 0;
  for (size_t len : {size_t(0), size_t(3), size_t(100), size_t(5000)}) {
    std::string b(len, '\0');
    for (char& c : b) c = static_cast<char>(rng.below(256));
    CHECK(try_read(dir, b, v++) == Outcome::error);
    // The HDF5 signature followed by garbage.
    std::string s = base.substr(0, 8) + b;
    CHECK(try_read(dir, s, v++) == Outcome::error);
    // A valid superblock followed by garbage.
    std::string t = base.substr(0, 96) + b;
    CHECK(try_read(dir, t, v++) == Outcome::error);
  }
}
