// End-to-end tests of how `pg` words its errors: the message alone by default, the library's
// full text (source location, failed check) with --verbose; numeric option checks that print
// their bounds as written ("must be >= 1, got 0") instead of CLI11's full-double range.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "../datasets/ds_test_util.h"
#include "cli_test_util.h"

#ifdef PG_CLI_BINARY

using pg::test::CliResult;
using pg::test::run_pg;
using pg::test::TempDir;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Runs pg; requires a non-zero exit and returns what it printed.
CliResult failing(const std::vector<std::string>& args) {
  const CliResult r = run_pg(args);
  INFO("pg output: " << r.all());
  REQUIRE(r.exit_code != 0);
  return r;
}

// A numeric option error: names the option and the rule, and none of CLI11's double bounds.
void require_readable_bound(const std::vector<std::string>& args, const std::string& expected) {
  const CliResult r = failing(args);
  INFO("pg output: " << r.all());
  CHECK(has(r.all(), expected));
  CHECK_FALSE(has(r.all(), "not in range"));
  CHECK_FALSE(has(r.all(), "1797693134862315"));  // DBL_MAX written out
}

}  // namespace

TEST_CASE("pg errors: the message alone by default, source location and check with --verbose", "[cli]") {
  TempDir dir("pg_errtext");  // not "pg_cli_err_*": run_command writes stderr there
  const std::string missing = dir.file("missing.xyz");
  const std::string out = dir.file("out.xyz");

  const CliResult plain = failing({"fps", missing, out, "--m", "4"});
  INFO("default: " << plain.err);
  CHECK(plain.exit_code == 1);
  CHECK(plain.err.rfind("pg: error: ", 0) == 0);
  CHECK(has(plain.err, "point-cloud file '" + missing + "' not found"));
  CHECK_FALSE(has(plain.err, ".cpp:"));
  CHECK_FALSE(has(plain.err, "check failed"));
  CHECK(plain.err.find('\n') == plain.err.size() - 1);  // one line

  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"fps", missing, out, "--m", "4", "--verbose"},
        std::vector<std::string>{"--verbose", "fps", missing, out, "--m", "4"}}) {
    const CliResult verbose = failing(args);
    INFO("--verbose: " << verbose.err);
    CHECK(verbose.exit_code == 1);
    CHECK(has(verbose.err, "point-cloud file '" + missing + "' not found"));
    CHECK(has(verbose.err, "pointcloud_io.cpp:"));
    CHECK(has(verbose.err, "check failed: fs::exists(path, ec)"));
  }
}

TEST_CASE("pg numeric options print readable bounds", "[cli]") {
  TempDir dir("pg_bounds");
  const std::string in = dir.file("in.xyz"), out = dir.file("out.xyz");
  require_readable_bound({"fps", in, out, "--m", "0"}, "--m: must be >= 1, got 0");
  require_readable_bound({"fps", in, out, "--m", "3x"}, "--m: must be an integer, got 3x");
  require_readable_bound({"fps", in, out, "--m", "4", "--start", "-1"}, "--start: must be >= 0, got -1");
  require_readable_bound({"metric", "emd", in, in, "--eps", "-0.5"}, "--eps: must be >= 0, got -0.5");
  require_readable_bound({"metric", "emkd", in, in, "--leaf", "1"}, "--leaf: must be in [2, 1099511627776], got 1");
  require_readable_bound({"datagen", "--out", dir.path(), "--noise", "0.5"}, "--noise: must be in [0, 0.2], got 0.5");
  require_readable_bound({"datagen", "--out", dir.path(), "--points", "8"}, "--points: must be in [16, 1000000], got 8");
  require_readable_bound({"convert", "--in", dir.path(), "--out", out, "--test-fraction", "2"},
                         "--test-fraction: must be in [0, 1], got 2");
  require_readable_bound({"train", "pointnet", "--data", dir.path(), "--out", out, "--lr", "0"},
                         "--lr: must be > 0, got 0");
  require_readable_bound({"train", "pointnet", "--data", dir.path(), "--out", out, "--epochs", "0"},
                         "--epochs: must be >= 1, got 0");
  require_readable_bound({"train", "pointnet", "--data", dir.path(), "--out", out, "--threads", "-2"},
                         "--threads: must be >= 0, got -2");
  require_readable_bound({"eval", "pointnet", "--data", dir.path(), "--batch-size", "0"},
                         "--batch-size: must be >= 1, got 0");
  require_readable_bound({"demo", "--lr", "nan"}, "--lr: must be a number, got nan");
  require_readable_bound({"render", in, dir.file("v.png"), "--elevation", "91"}, "--elevation: must be in [-90, 90], got 91");
  require_readable_bound({"render", in, dir.file("v.png"), "--size", "8"}, "--size: must be in [16, 4096], got 8");
  // The sampler commands (pg train samplenet/pcae/..., pg eval sampling, pg sample).
  require_readable_bound({"train", "samplenet", "--task", "cls", "--m", "0", "--task-model", in, "--data", dir.path(),
                          "--out", out},
                         "--m: must be >= 1, got 0");
  require_readable_bound({"train", "samplenet", "--task", "cls", "--m", "8", "--task-model", in, "--data", dir.path(),
                          "--out", out, "--alpha", "-1"},
                         "--alpha: must be >= 0, got -1");
  require_readable_bound({"train", "pcae", "--data", dir.path(), "--out", out, "--batch-size", "-3"},
                         "--batch-size: must be in [0, 1048576], got -3");
  require_readable_bound({"eval", "sampling", "--method", "fps", "--m", "8,0", "--data", dir.path()},
                         "--m: must be >= 1, got 0");
  require_readable_bound({"sample", "--method", "fps", "--m", "0", "--in", in, "--out", out}, "--m: must be >= 1, got 0");
}

#endif  // PG_CLI_BINARY
