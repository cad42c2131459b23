// APSNet end to end through the pg binary on tiny generated data: pg train apsnet (cls
// supervised, cls --kd --joint, rec, reg --joint --joint-form code), pg eval sampling --method
// apsnet (G and M reported separately), pg sample --method apsnet (a subset of the input), the
// ≤ max_generated rule at inference, and bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>

#include "cli_test_util.h"
#include "datasets/ds_test_util.h"
#include "datasets/modelnet40.h"

using namespace pg;
namespace fs = std::filesystem;

namespace {

test::CliResult ok(const std::vector<std::string>& args) { return test::run_pg_ok(args); }

}  // namespace

TEST_CASE("pg train/eval/sample apsnet end to end on generated data", "[cli][apsnet][slow]") {
  test::TempDir dir("pg_cli_apsnet");
  const std::string data = dir.file("data");
  test::datagen_tiny(data);
  auto train = [&](std::vector<std::string> args) { return test::train_tiny(std::move(args), data); };
  train({"pointnet", "--out", dir.file("cls"), "--points", "64"});
  train({"pcae", "--out", dir.file("ae"), "--points", "128"});
  train({"pcrnet", "--out", dir.file("pcr"), "--points", "64"});

  const auto sup = train({"apsnet", "--task", "cls", "--m", "8", "--task-model", dir.file("cls/last.h5"), "--out",
                          dir.file("aps"), "--points", "64"});
  CHECK(sup.out.find("test_soft_acc") != std::string::npos);
  CHECK(sup.out.find("test_matched_acc") != std::string::npos);
  CHECK(sup.out.find("simplify_loss") != std::string::npos);
  const auto kd = train({"apsnet", "--task", "cls", "--m", "16", "--kd", "--joint", "--task-model",
                         dir.file("cls/last.h5"), "--out", dir.file("aps_kd"), "--points", "64"});
  CHECK(kd.out.find("kd=true") != std::string::npos);
  CHECK(kd.out.find("joint=paper") != std::string::npos);
  train({"apsnet", "--task", "rec", "--m", "16", "--task-model", dir.file("ae/last.h5"), "--out", dir.file("aps_rec"),
         "--points", "128"});
  const auto reg = train({"apsnet", "--task", "reg", "--m", "16", "--joint", "--joint-form", "code", "--task-model",
                          dir.file("pcr/last.h5"), "--out", dir.file("aps_reg"), "--points", "64"});
  CHECK(reg.out.find("joint=code") != std::string::npos);

  // G and M separately; any m (autoregressive), also above the trained m.
  const auto text = ok({"eval", "sampling", "--method", "apsnet", "--sampler", dir.file("aps/last.h5"), "--m", "4,12",
                        "--data", data, "--threads", "1"});
  CHECK(text.out.find("acc G ") != std::string::npos);
  CHECK(text.out.find(" M ") != std::string::npos);
  const auto js = ok({"eval", "sampling", "--json", "--method", "apsnet", "--sampler", dir.file("aps_rec/last.h5"),
                      "--m", "16", "--data", data, "--threads", "1"});
  CHECK(test::json_string(js.out, "metric") == "nre");
  CHECK(std::isfinite(test::json_number(js.out, "soft")));
  CHECK(test::json_number(js.out, "matched") > 0.0);
  const auto mre = ok({"eval", "sampling", "--json", "--method", "apsnet", "--sampler", dir.file("aps_reg/last.h5"),
                       "--m", "8", "--data", data, "--threads", "1"});
  const double deg = test::json_number(mre.out, "matched");
  CHECK((deg >= 0.0 && deg <= 180.0));

  // pg sample: m distinct input points per shape.
  const std::string out = dir.file("sampled");
  ok({"sample", "--method", "apsnet", "--sampler", dir.file("aps/last.h5"), "--m", "8", "--in", data, "--out", out});
  const auto in_set = datasets::read_modelnet40(data, datasets::Split::test, {.max_points = 64});
  const auto out_set = datasets::read_modelnet40(out, datasets::Split::test);
  REQUIRE(out_set.points.shape() == Shape{6, 8, 3});
  test::require_distinct_subsets(in_set.points, out_set.points);

  // Errors: m above the cloud's points; a checkpoint of another method.
  const auto too_many = test::run_pg({"eval", "sampling", "--method", "apsnet", "--sampler", dir.file("aps/last.h5"),
                                      "--m", "65", "--data", data});
  CHECK(too_many.exit_code == 1);
  CHECK(too_many.err.find("m = 65") != std::string::npos);
  const auto wrong = test::run_pg({"sample", "--method", "samplenet", "--sampler", dir.file("aps/last.h5"), "--m", "8",
                                   "--in", data, "--out", dir.file("bad")});
  CHECK(wrong.exit_code == 1);
  CHECK(wrong.err.find("expected 'samplenet'") != std::string::npos);
  CHECK(!fs::exists(dir.file("bad")));
}
