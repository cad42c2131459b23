// pg compress / pg decompress end to end through the binary on a generated collection, and
// their bad-input errors.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "cli_test_util.h"
#include "datasets/ds_test_util.h"
#include "datasets/pointcloud_io.h"
#include "ops/ops.h"
#include "test_util.h"

using namespace pg;
namespace fs = std::filesystem;

TEST_CASE("pg compress → pg decompress end to end on a generated collection", "[cli][neuralqaad][slow]") {
  test::TempDir dir("pg_cli_compress");
  // 4 shapes of 128 points in correspondence: one cloud, scaled per shape.
  const Tensor base = test::uniform({128, 3}, -1.0, 1.0, 17);
  std::vector<Tensor> shapes;
  for (int i = 0; i < 4; ++i) shapes.push_back(mul(base, 1.0 + 0.25 * i));
  datasets::write_h5_clouds(dir.file("c.h5"), stack(shapes, 0));
  const std::vector<std::string> small = {"--latent", "4", "--patches", "4", "--warmup-epochs", "2", "--epochs", "3",
                                          "--repeat", "2", "--sample-points", "32", "--emkd-leaf", "32"};
  std::vector<std::string> args = {"compress", dir.file("c.h5"), "--out", dir.file("m.h5")};
  args.insert(args.end(), small.begin(), small.end());
  const test::CliResult r = test::run_pg_ok(args);
  CHECK(r.out.find("compression ratio") != std::string::npos);
  CHECK(r.out.find("EM-kD mean") != std::string::npos);
  CHECK(r.out.find("QAAD_GREEDY") != std::string::npos);
  REQUIRE(fs::exists(dir.file("m.h5")));

  test::run_pg_ok({"decompress", dir.file("m.h5"), "--out", dir.file("all.h5")});
  REQUIRE(datasets::count_h5_clouds(dir.file("all.h5")) == 4);
  test::run_pg_ok({"decompress", dir.file("m.h5"), "--out", dir.file("one.xyz"), "--index", "3"});
  const Tensor one = datasets::read_point_cloud(dir.file("one.xyz"));
  REQUIRE(one.shape() == Shape{128, 3});
  const Tensor from_all = datasets::read_h5_cloud(dir.file("all.h5"), "data", 3);
  REQUIRE(max(abs(sub(one, from_all))).item<double>() < 1e-4);  // xyz text keeps ~6 digits

  const test::CliResult bad = test::run_pg({"decompress", dir.file("m.h5"), "--out", dir.file("x.h5"), "--index", "4"});
  REQUIRE(bad.exit_code == 1);
  REQUIRE(bad.err.find("shape index 4 is out of range") != std::string::npos);
  REQUIRE(!fs::exists(dir.file("x.h5")));
  const test::CliResult wrong = test::run_pg({"compress", dir.file("c.h5"), "--out", dir.file("y.h5"), "--patches", "3"});
  REQUIRE(wrong.exit_code == 1);
  REQUIRE(wrong.err.find("power of two") != std::string::npos);
  REQUIRE(!fs::exists(dir.file("y.h5")));
}
