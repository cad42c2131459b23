// End to end through the pg binary: datagen → train pointnet → eval pointnet (→ resume) on a
// tiny generated data set, plus the errors a user would hit first.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "datasets/ds_test_util.h"
#include "cli_test_util.h"

using namespace pg;
namespace fs = std::filesystem;

namespace {

int count_lines(const std::string& path) {
  std::ifstream in(path);
  std::string l;
  int n = 0;
  while (std::getline(in, l)) ++n;
  return n;
}

}  // namespace

TEST_CASE("pg train/eval pointnet: end to end on a tiny generated data set", "[cli][train][slow]") {
  test::TempDir dir("pg_cli_train");
  const std::string data = dir.file("data"), run = dir.file("run");
  const auto gen = test::run_pg({"datagen", "--out", data, "--classes", "3", "--train-per-class", "6",
                                 "--test-per-class", "2", "--points", "128"});
  REQUIRE(gen.exit_code == 0);

  const auto tr = test::run_pg({"train", "pointnet", "--data", data, "--out", run, "--epochs", "1", "--batch-size", "6",
                                "--points", "96", "--seed", "4", "--threads", "1"});
  INFO(tr.all());
  REQUIRE(tr.exit_code == 0);
  CHECK(tr.out.find("18 train / 6 test shapes, 3 classes") != std::string::npos);
  CHECK(tr.out.find("epoch 1/1") != std::string::npos);
  CHECK(tr.out.find("shapes/s") != std::string::npos);
  CHECK(tr.out.find("final test accuracy:") != std::string::npos);
  CHECK(fs::exists(run + "/last.h5"));
  CHECK(count_lines(run + "/log.csv") == 2);

  const auto ev = test::run_pg({"eval", "pointnet", "--data", data, "--out", run, "--points", "96"});
  INFO(ev.all());
  REQUIRE(ev.exit_code == 0);
  CHECK(ev.out.find("test accuracy:") != std::string::npos);
  CHECK(ev.out.find("per-class accuracy:") != std::string::npos);
  CHECK(ev.out.find("sphere") != std::string::npos);  // class names from shape_names.txt
  const bool per_class_tally = ev.out.find("(2/2)") != std::string::npos || ev.out.find("(1/2)") != std::string::npos ||
                               ev.out.find("(0/2)") != std::string::npos;
  CHECK(per_class_tally);

  // --resume continues to epoch 2 and appends one log row.
  const auto re = test::run_pg({"train", "pointnet", "--data", data, "--out", run, "--epochs", "2", "--batch-size", "6",
                                "--points", "96", "--seed", "4", "--threads", "1", "--resume"});
  INFO(re.all());
  REQUIRE(re.exit_code == 0);
  CHECK(re.out.find("resumed from") != std::string::npos);
  CHECK(re.out.find("epoch 2/2") != std::string::npos);
  CHECK(count_lines(run + "/log.csv") == 3);

  // Errors: a missing folder, a bad variant, eval without a checkpoint.
  const auto bad_data = test::run_pg({"train", "pointnet", "--data", dir.file("nope"), "--out", run});
  CHECK(bad_data.exit_code != 0);
  CHECK(bad_data.err.find("nope") != std::string::npos);
  const auto bad_variant = test::run_pg({"train", "pointnet", "--data", data, "--out", run, "--variant", "huge"});
  CHECK(bad_variant.exit_code != 0);
  const auto no_ckpt = test::run_pg({"eval", "pointnet", "--data", data, "--out", dir.file("empty")});
  CHECK(no_ckpt.exit_code != 0);
  CHECK(no_ckpt.err.find("checkpoint not found") != std::string::npos);
}
