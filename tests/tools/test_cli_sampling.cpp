// End to end through the pg binary on tiny generated data: the three task networks, the three
// learned samplers, `pg eval sampling` (cls accuracy, rec NRE, reg MRE; soft and matched
// reported separately), `pg sample` on a data set and a file, and the errors a user hits first.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <set>
#include <string>

#include "cli_test_util.h"
#include "datasets/ds_test_util.h"
#include "datasets/modelnet40.h"
#include "datasets/pointcloud_io.h"
#include "ops/view.h"

using namespace pg;
namespace fs = std::filesystem;

namespace {

// Runs pg and requires success, showing its output on failure.
test::CliResult ok(const std::vector<std::string>& args) { return test::run_pg_ok(args); }

// The JSON line of `pg eval sampling --json` (one m).
std::string eval_json(const std::vector<std::string>& args) {
  std::vector<std::string> a = {"eval", "sampling", "--json", "--threads", "1"};
  a.insert(a.end(), args.begin(), args.end());
  return ok(a).out;
}

}  // namespace

TEST_CASE("pg train/eval/sample: samplers end to end on generated data", "[cli][sampler][slow]") {
  test::TempDir dir("pg_cli_sampling");
  const std::string data = dir.file("data");
  test::datagen_tiny(data);
  auto train = [&](std::vector<std::string> args) { return test::train_tiny(std::move(args), data); };

  // Task networks.
  train({"pointnet", "--out", dir.file("cls"), "--points", "64"});
  const auto ae = train({"pcae", "--out", dir.file("ae"), "--points", "128"});
  CHECK(ae.out.find("test_chamfer") != std::string::npos);
  const auto pcr = train({"pcrnet", "--out", dir.file("pcr"), "--points", "64"});
  CHECK(pcr.out.find("test_mre") != std::string::npos);
  const auto described = ok({"eval", "model", "--checkpoint", dir.file("ae/last.h5")});
  CHECK(described.out.find("pcae") != std::string::npos);

  // Samplers: SampleNet on cls, S-NET on rec, ProgressiveNet on reg.
  const auto sn = train({"samplenet", "--task", "cls", "--m", "8", "--task-model", dir.file("cls/last.h5"), "--out",
                         dir.file("sn"), "--points", "64"});
  CHECK(sn.out.find("test_soft_acc") != std::string::npos);
  CHECK(sn.out.find("test_matched_acc") != std::string::npos);
  CHECK(sn.out.find("sigma") != std::string::npos);
  CHECK(sn.out.find("compat=paper") != std::string::npos);
  train({"snet", "--task", "rec", "--m", "16", "--task-model", dir.file("ae/last.h5"), "--out", dir.file("snet"),
         "--points", "128"});
  train({"progressive", "--task", "reg", "--m", "32", "--task-model", dir.file("pcr/last.h5"), "--out",
         dir.file("prog"), "--points", "64", "--eval-m", "8"});
  // Resume continues the run (progress and checkpoints come from the Trainer).
  const auto resumed = ok({"train",
                           "samplenet",
                           "--task",
                           "cls",
                           "--m",
                           "8",
                           "--task-model",
                           dir.file("cls/last.h5"),
                           "--out",
                           dir.file("sn"),
                           "--points",
                           "64",
                           "--resume",
                           "--epochs",
                           "2",
                           "--data",
                           data,
                           "--batch-size",
                           "6",
                           "--threads",
                           "1"});
  CHECK(resumed.out.find("resumed from") != std::string::npos);
  CHECK(resumed.out.find("epoch 2/2") != std::string::npos);
  // The config in the checkpoint says which switches ran.
  const auto sn_desc = ok({"eval", "model", "--checkpoint", dir.file("sn/last.h5")});
  CHECK(sn_desc.out.find("last_bn=false") != std::string::npos);
  CHECK(sn_desc.out.find("frozen task") != std::string::npos);

  // Protocols.
  const std::string fps = eval_json(
      {"--method", "fps", "--m", "8", "--task-model", dir.file("cls/last.h5"), "--data", data, "--points", "64"});
  CHECK(test::json_string(fps, "metric") == "acc");
  const double fps_acc = test::json_number(fps, "matched");
  CHECK((fps_acc >= 0.0 && fps_acc <= 1.0));
  CHECK(test::json_raw(fps, "soft") == "null");
  CHECK(test::json_number(fps, "items") == 6);
  const std::string snj =
      eval_json({"--method", "samplenet", "--sampler", dir.file("sn/last.h5"), "--m", "8", "--data", data});
  CHECK(std::isfinite(test::json_number(snj, "soft")));
  CHECK(std::isfinite(test::json_number(snj, "matched")));
  const std::string nre =
      eval_json({"--method", "snet", "--sampler", dir.file("snet/last.h5"), "--m", "16", "--data", data});
  CHECK(test::json_string(nre, "metric") == "nre");
  CHECK(test::json_number(nre, "matched") > 0.0);
  const std::string mre =
      eval_json({"--method", "progressive", "--sampler", dir.file("prog/last.h5"), "--m", "4,16", "--data", data});
  CHECK(test::json_string(mre, "metric") == "mre");
  const double mre_deg = test::json_number(mre, "matched");
  CHECK((mre_deg >= 0.0 && mre_deg <= 180.0));
  CHECK(mre.find("\"m\": 16") != std::string::npos);  // one line per m
  const auto text = ok({"eval", "sampling", "--method", "random", "--m", "8", "--task-model", dir.file("cls/last.h5"),
                        "--data", data, "--points", "64"});
  CHECK(text.out.find("all 64 points: acc") != std::string::npos);

  // pg sample on the data set: same layout, labels kept, every output point an input point.
  const std::string out = dir.file("sampled");
  ok({"sample", "--method", "samplenet", "--sampler", dir.file("sn/last.h5"), "--m", "8", "--in", data, "--out", out});
  for (const std::string f : {"shape_names.txt", "train_files.txt", "test_files.txt"}) CHECK(fs::exists(out + "/" + f));
  const auto in_set = datasets::read_modelnet40(data, datasets::Split::test, {.max_points = 64});
  const auto out_set = datasets::read_modelnet40(out, datasets::Split::test);
  REQUIRE(out_set.points.shape() == Shape{6, 8, 3});
  CHECK(out_set.labels.to_vector<int64_t>() == in_set.labels.to_vector<int64_t>());
  test::require_distinct_subsets(in_set.points, out_set.points);
  // On a file.
  datasets::write_point_cloud(dir.file("one.xyz"), in_set.points.select(0, 0).contiguous());
  ok({"sample", "--method", "fps", "--m", "5", "--in", dir.file("one.xyz"), "--out", dir.file("one_fps.ply")});
  CHECK(datasets::read_point_cloud(dir.file("one_fps.ply")).shape() == Shape{5, 3});

  // Errors: one line, exit 1, nothing written.
  const auto too_many =
      test::run_pg({"sample", "--method", "fps", "--m", "200", "--in", data, "--out", dir.file("bad1")});
  CHECK(too_many.exit_code == 1);
  CHECK(too_many.err.find("cannot sample m = 200") != std::string::npos);
  CHECK(!fs::exists(dir.file("bad1")));
  const auto wrong_kind = test::run_pg({"sample", "--method", "snet", "--sampler", dir.file("sn/last.h5"), "--m", "8",
                                        "--in", data, "--out", dir.file("bad2")});
  CHECK(wrong_kind.exit_code == 1);
  CHECK(wrong_kind.err.find("expected 'snet'") != std::string::npos);
  CHECK(!fs::exists(dir.file("bad2")));
  const auto wrong_task = test::run_pg({"train", "samplenet", "--task", "rec", "--m", "8", "--task-model",
                                        dir.file("cls/last.h5"), "--data", data, "--out", dir.file("bad3")});
  CHECK(wrong_task.exit_code == 1);
  CHECK(wrong_task.err.find("needs a 'pcae'") != std::string::npos);
  const auto other_m = test::run_pg(
      {"eval", "sampling", "--method", "samplenet", "--sampler", dir.file("sn/last.h5"), "--m", "16", "--data", data});
  CHECK(other_m.exit_code == 1);
  CHECK(other_m.err.find("trained for m = 8") != std::string::npos);
  const auto no_m = test::run_pg({"train", "snet", "--task", "cls", "--task-model", dir.file("cls/last.h5"), "--data",
                                  data, "--out", dir.file("bad4")});
  CHECK(no_m.exit_code == 1);
  CHECK(no_m.err.find("give --m") != std::string::npos);
}
