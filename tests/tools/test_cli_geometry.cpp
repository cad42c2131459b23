// End-to-end tests of `pg metric` and `pg fps`: clouds written with the datasets writers, the pg
// binary run on them, and its --json values compared with direct calls of the ops; error cases
// (missing files, bad extensions, wrong h5 index, unequal counts, options that do not apply)
// exit non-zero with a message; an optional run on the real clouds of the shared data folder.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "../datasets/ds_test_util.h"
#include "cli_test_util.h"
#include "datasets/pointcloud_io.h"
#include "ops/chamfer.h"
#include "ops/emd.h"
#include "ops/emkd.h"
#include "ops/fps.h"
#include "test_util.h"

#ifdef PG_CLI_BINARY

using namespace pg;
using pg::test::json_bool;
using pg::test::json_number;
using pg::test::json_string;
using pg::test::run_pg;
using pg::test::TempDir;

namespace {

Tensor cloud(int64_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  return pg::test::uniform({n, 3}, lo, hi, seed, TensorOptions(DType::f32));
}

// Reads a file back the way the CLI does, as a batch of one [1, M, 3].
Tensor batch_of(const std::string& path, int64_t index = 0, const std::string& dataset = "data") {
  datasets::CloudReadOptions o;
  o.index = index;
  o.dataset = dataset;
  return datasets::read_point_cloud(path, o).unsqueeze(0);
}

// Runs pg with --json appended; requires success and returns the JSON line.
std::string run_json(std::vector<std::string> args) {
  args.push_back("--json");
  const pg::test::CliResult r = run_pg(args);
  INFO("pg output: " << r.all());
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.find('{') != std::string::npos);
  return r.out;
}

// Runs pg and requires failure with a message containing every part.
void require_cli_error(const std::vector<std::string>& args, std::initializer_list<std::string> parts) {
  const pg::test::CliResult r = run_pg(args);
  INFO("pg output: " << r.all());
  CHECK(r.exit_code != 0);
  for (const std::string& p : parts) {
    INFO("expected the output to contain: " << p);
    CHECK(r.all().find(p) != std::string::npos);
  }
}

float as_float(double v) { return static_cast<float>(v); }

double emd_value(const Tensor& dist) {
  double s = 0.0;
  for (double d : dist.to_vector<double>()) s += std::sqrt(d);
  return s;
}

std::vector<int64_t> read_indices(const std::string& path) {
  std::ifstream f(path);
  std::vector<int64_t> v;
  int64_t i;
  while (f >> i) v.push_back(i);
  return v;
}

// PU-GAN's unit-sphere normalisation, written independently of the CLI's.
Tensor unit_sphere(const Tensor& c) {
  std::vector<double> v = c.to_vector<double>();
  const size_t n = v.size() / 3;
  double m[3] = {0, 0, 0};
  for (size_t i = 0; i < v.size(); ++i) m[i % 3] += v[i] / static_cast<double>(n);
  double r = 0;
  for (size_t i = 0; i < n; ++i)
    r = std::max(r, std::hypot(v[3 * i] - m[0], v[3 * i + 1] - m[1], v[3 * i + 2] - m[2]));
  for (size_t i = 0; i < v.size(); ++i) v[i] = (v[i] - m[i % 3]) / r;
  return from_vector(v, c.shape()).to(DType::f32);
}

}  // namespace

TEST_CASE("pg metric chamfer and hausdorff match the ops", "[cli]") {
  TempDir dir("pg_cli");
  const std::string fa = dir.file("a.xyz"), fb = dir.file("b.ply");
  datasets::write_point_cloud(fa, cloud(200, 1));
  datasets::write_point_cloud(fb, cloud(150, 2, -0.8, 1.2));
  const Tensor a = batch_of(fa), b = batch_of(fb);

  SECTION("chamfer, mean and sum") {
    const ChamferResult ref = chamfer(a, b);
    std::string j = run_json({"metric", "chamfer", fa, fb});
    CHECK(json_string(j, "metric") == "chamfer");
    CHECK(as_float(json_number(j, "value")) == ref.loss.item<float>());
    CHECK(json_number(j, "a_to_b") == Approx(mean(ref.dist_a).item_double()).epsilon(1e-6));
    CHECK(json_number(j, "b_to_a") == Approx(mean(ref.dist_b).item_double()).epsilon(1e-6));
    CHECK(json_number(j, "a_points") == 200);
    CHECK(json_number(j, "b_points") == 150);
    CHECK(json_string(j, "a_path") == fa);
    CHECK(json_string(j, "convention").find("squared") != std::string::npos);

    ChamferOptions so;
    so.reduction = ChamferReduction::sum;
    j = run_json({"metric", "chamfer", fa, fb, "--reduction", "sum"});
    CHECK(as_float(json_number(j, "value")) == chamfer(a, b, so).loss.item<float>());

    // float64 computation on the same (float32) coordinates.
    j = run_json({"metric", "chamfer", fa, fb, "--dtype", "f64"});
    CHECK(json_number(j, "value") == chamfer(a.to(DType::f64), b.to(DType::f64)).loss.item<double>());

    // --exact is accepted and documented as a no-op.
    j = run_json({"metric", "chamfer", fa, fb, "--exact"});
    CHECK(as_float(json_number(j, "value")) == ref.loss.item<float>());
    CHECK(json_string(j, "note").find("changes nothing") != std::string::npos);

    // The text output states the convention and the value.
    const pg::test::CliResult r = run_pg({"metric", "chamfer", fa, fb});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("convention: CD = mean_a min_b |a-b|^2 + mean_b min_a |a-b|^2") != std::string::npos);
    CHECK(r.out.find("chamfer = ") != std::string::npos);
  }

  SECTION("hausdorff, classic and PU-GAN's, squared and Euclidean") {
    std::string j = run_json({"metric", "hausdorff", fa, fb});
    CHECK(as_float(json_number(j, "value")) == hausdorff(a, b).item<float>());
    CHECK(json_bool(j, "squared") == 1);
    HausdorffOptions o;
    o.combine = HausdorffCombine::sum;
    j = run_json({"metric", "hausdorff", fa, fb, "--combine", "sum"});
    CHECK(as_float(json_number(j, "value")) == hausdorff(a, b, o).item<float>());
    CHECK(json_number(j, "value") ==
          Approx(json_number(j, "a_to_b") + json_number(j, "b_to_a")).epsilon(1e-6));
    o.combine = HausdorffCombine::max;
    o.squared = false;
    j = run_json({"metric", "hausdorff", fa, fb, "--euclidean"});
    CHECK(as_float(json_number(j, "value")) == hausdorff(a, b, o).item<float>());
    CHECK(json_bool(j, "squared") == 0);
  }

  SECTION("--normalize makes the metric invariant to translation and scale") {
    // B' = 3·A + (5, −2, 1): different clouds, identical after unit-sphere normalisation.
    std::vector<float> v = a.to_vector<float>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = 3.0f * v[i] + (i % 3 == 0 ? 5.0f : i % 3 == 1 ? -2.0f : 1.0f);
    const std::string fs = dir.file("scaled.off");
    datasets::write_point_cloud(fs, from_vector(v, {200, 3}));
    std::string j = run_json({"metric", "chamfer", fa, fs});
    CHECK(json_number(j, "value") > 1.0);
    j = run_json({"metric", "chamfer", fa, fs, "--normalize"});
    CHECK(json_bool(j, "normalized") == 1);
    CHECK(json_number(j, "value") < 1e-10);
    // And equals the op on independently normalised clouds.
    j = run_json({"metric", "chamfer", fa, fb, "--normalize"});
    const Tensor na = unit_sphere(a.squeeze(0)).unsqueeze(0), nb = unit_sphere(b.squeeze(0)).unsqueeze(0);
    CHECK(json_number(j, "value") == Approx(chamfer(na, nb).loss.item_double()).epsilon(1e-5));
  }
}

TEST_CASE("pg metric emd and emkd match the ops; --exact is the optimum", "[cli]") {
  TempDir dir("pg_cli");
  const std::string fa = dir.file("a.ply"), fb = dir.file("b.xyz");
  datasets::write_point_cloud(fa, cloud(160, 3));
  datasets::write_point_cloud(fb, cloud(160, 4, -0.5, 1.5));
  const Tensor a = batch_of(fa), b = batch_of(fb);

  const EmdResult ref = emd(a, b);
  std::string j = run_json({"metric", "emd", fa, fb});
  const double auction = json_number(j, "value");
  CHECK(auction == Approx(emd_value(ref.dist)).epsilon(1e-12));
  CHECK(json_number(j, "unassigned") == ref.unassigned.item_int());
  CHECK(json_bool(j, "permutation") == 1);
  CHECK(json_number(j, "mean") == Approx(auction / 160).epsilon(1e-12));
  CHECK(json_number(j, "sum_squared") == Approx(sum(ref.dist).item_double()).epsilon(1e-6));
  CHECK(json_bool(j, "exact") == 0);

  // Exact: the LSAP optimum, never above the auction's cost.
  j = run_json({"metric", "emd", fa, fb, "--exact"});
  const Tensor asg = emd_exact_assignment(a, b);
  const double exact = json_number(j, "value");
  CHECK(exact == Approx(emd_value(emd_dist_from_assignment(a, b, asg))).epsilon(1e-12));
  // (costs are sums of float32-rounded distances: allow for their rounding)
  CHECK(exact <= auction * (1 + 1e-6));
  CHECK(auction <= exact * (1 + 1e-3));
  CHECK(json_bool(j, "exact") == 1);
  CHECK(json_bool(j, "permutation") == 1);
  CHECK(json_number(j, "unassigned") == 0);

  // MSN mode with its own ε and round cap, and Bijective (always a permutation).
  EmdOptions mo = EmdOptions::msn(0.05, 10);
  j = run_json({"metric", "emd", fa, fb, "--mode", "msn", "--eps", "0.05", "--iters", "10"});
  const EmdResult msn = emd(a, b, mo);
  CHECK(json_number(j, "value") == Approx(emd_value(msn.dist)).epsilon(1e-12));
  CHECK(json_number(j, "unassigned") == msn.unassigned.item_int());
  j = run_json({"metric", "emd", fa, fb, "--mode", "bijective", "--iters", "5"});
  CHECK(json_bool(j, "permutation") == 1);
  CHECK(json_number(j, "value") >= exact * (1 - 1e-6));

  // EM-kD with small leaves.
  EmkdOptions ko;
  ko.leaf_size = 32;
  const EmkdResult kref = emkd(a, b, ko);
  j = run_json({"metric", "emkd", fa, fb, "--leaf", "32"});
  CHECK(as_float(json_number(j, "value")) == kref.value.item<float>());
  CHECK(json_number(j, "leaves") == static_cast<double>(kref.leaf_offsets.size() - 1));
  CHECK(json_number(j, "leaves") == 8);  // ⌈160 / 2^d⌉ ≤ 32 → d = 3
  CHECK(json_number(j, "value") >= exact * (1 - 1e-5));

  // The text output reports the assignment.
  const pg::test::CliResult r = run_pg({"metric", "emd", fa, fb, "--exact"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("permutation: yes") != std::string::npos);
  CHECK(r.out.find("unassigned: 0") != std::string::npos);
  CHECK(r.out.find("Euclidean distances summed") != std::string::npos);
}

TEST_CASE("pg metric reads h5 clouds by index", "[cli]") {
  TempDir dir("pg_cli");
  const std::string fh = dir.file("set.h5");
  const Tensor clouds = stack({cloud(64, 10), cloud(64, 11), cloud(64, 12)}, 0);
  datasets::write_h5_clouds(fh, clouds);

  std::string j = run_json({"metric", "chamfer", fh, fh, "--index", "2"});
  CHECK(json_number(j, "value") == 0.0);
  CHECK(json_number(j, "a_index") == 2);
  j = run_json({"metric", "chamfer", fh, fh, "--index-a", "1", "--index-b", "2"});
  const Tensor c1 = clouds.select(0, 1).unsqueeze(0), c2 = clouds.select(0, 2).unsqueeze(0);
  CHECK(as_float(json_number(j, "value")) == chamfer(c1, c2).loss.item<float>());
  CHECK(json_number(j, "a_index") == 1);
  CHECK(json_number(j, "b_index") == 2);
  CHECK(json_string(j, "b_dataset") == "data");
  // Mixed: an h5 cloud against an .xyz file.
  const std::string fx = dir.file("c0.xyz");
  datasets::write_point_cloud(fx, clouds.select(0, 0));
  j = run_json({"metric", "emd", fh, fx, "--index-a", "0", "--exact"});
  CHECK(json_number(j, "value") == 0.0);

  require_cli_error({"metric", "chamfer", fh, fh, "--index", "3"}, {"pg: error", "cloud index 3", "outside 0..2"});
  require_cli_error({"metric", "chamfer", fh, fh, "--index-b", "7"}, {"cloud index 7"});
  require_cli_error({"metric", "chamfer", fh, fh, "--dataset", "nope"}, {"nope", "not found"});
  require_cli_error({"metric", "chamfer", fx, fx, "--index", "1"}, {"--index", "h5"});
  require_cli_error({"metric", "chamfer", fh, fx, "--index-b", "1"}, {"--index-b", "c0.xyz"});
  require_cli_error({"metric", "chamfer", fh, fh, "--index", "1", "--index-a", "1"}, {"either --index"});
}

TEST_CASE("pg metric errors", "[cli]") {
  TempDir dir("pg_cli");
  const std::string fa = dir.file("a.xyz"), fb = dir.file("b.xyz"), big = dir.file("big.ply");
  datasets::write_point_cloud(fa, cloud(50, 20));
  datasets::write_point_cloud(fb, cloud(40, 21));
  datasets::write_point_cloud(big, cloud(2049, 22));

  require_cli_error({"metric", "chamfer", fa, dir.file("missing.xyz")}, {"pg: error", "missing.xyz", "not found"});
  pg::test::write_bytes(dir.file("c.foo"), "1 2 3\n");
  require_cli_error({"metric", "chamfer", fa, dir.file("c.foo")}, {"c.foo", "unknown point-cloud format"});
  require_cli_error({"metric", "emd", fa, fb}, {"same number of points", "50", "40"});
  require_cli_error({"metric", "emd", fa, fb, "--exact"}, {"same number of points"});
  require_cli_error({"metric", "emkd", fa, fb}, {"same number of points"});
  require_cli_error({"metric", "emd", big, big, "--exact"}, {"2049 points", "limited to 2048"});
  require_cli_error({"metric", "emkd", fa, fa, "--exact"}, {"--exact is not available for emkd"});
  require_cli_error({"metric", "emd", fa, fa, "--exact", "--mode", "msn"}, {"do not apply"});
  require_cli_error({"metric", "chamfer", fa, fb, "--leaf", "8"}, {"--leaf applies to emkd only"});
  require_cli_error({"metric", "hausdorff", fa, fb, "--reduction", "sum"}, {"--reduction applies to chamfer only"});
  require_cli_error({"metric", "chamfer", fa, fb, "--mode", "msn"}, {"apply to emd and emkd only"});
  require_cli_error({"metric", "chamfer", fa, fb, "--combine", "sum"}, {"hausdorff only"});
  require_cli_error({"metric", "emkd", fa, fa, "--leaf", "1"}, {"--leaf"});
  require_cli_error({"metric", "cosine", fa, fb}, {"cosine"});
  require_cli_error({"metric", "chamfer", fa}, {"B"});
  require_cli_error({"metric", "chamfer", fa, fb, "--device", "tpu"}, {"bad device string 'tpu'"});
#if !PG_WITH_CUDA
  require_cli_error({"metric", "chamfer", fa, fb, "--device", "cuda"}, {"CUDA is not available"});
#endif
}

TEST_CASE("pg fps writes a subset with the op's indices", "[cli]") {
  TempDir dir("pg_cli");
  const std::string in = dir.file("in.ply");
  const Tensor pts = cloud(300, 30);
  datasets::write_point_cloud(in, pts);
  const Tensor x = batch_of(in);

  SECTION("--start, .xyz output and --indices") {
    const std::string out = dir.file("out.xyz"), idx_file = dir.file("idx.txt");
    const pg::test::CliResult r = run_pg({"fps", in, out, "--m", "40", "--start", "7", "--indices", idx_file});
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("M = 40, N = 300") != std::string::npos);
    CHECK(r.out.find(" ms") != std::string::npos);
    FpsOptions o;
    o.start = 7;
    const std::vector<int64_t> ref = fps(x, 40, o).indices.to_vector<int64_t>();
    const std::vector<int64_t> idx = read_indices(idx_file);
    CHECK(idx == ref);
    CHECK(idx.front() == 7);
    CHECK(std::set<int64_t>(idx.begin(), idx.end()).size() == 40);
    const Tensor got = datasets::read_point_cloud(out);
    REQUIRE(got.shape() == Shape{40, 3});
    const std::vector<float> g = got.to_vector<float>(), p = x.to_vector<float>();
    for (size_t i = 0; i < idx.size(); ++i)
      for (int k = 0; k < 3; ++k) CHECK(g[3 * i + k] == p[3 * static_cast<size_t>(idx[i]) + k]);
  }

  SECTION("output format follows the extension; --seed draws the start") {
    for (const char* ext : {".ply", ".off", ".h5"}) {
      const std::string out = dir.file(std::string("out") + ext);
      const pg::test::CliResult r = run_pg({"fps", in, out, "--m", "25", "--seed", "99"});
      INFO(r.all());
      REQUIRE(r.exit_code == 0);
      Generator g(99);
      FpsOptions o;
      o.random_start = true;
      o.generator = &g;
      const Tensor ref = index_select(x.squeeze(0), 0, fps(x, 25, o).indices.select(0, 0));
      const Tensor got = datasets::read_point_cloud(out);
      REQUIRE(got.shape() == Shape{25, 3});
      CHECK(got.to_vector<float>() == ref.to_vector<float>());
    }
    CHECK(datasets::count_h5_clouds(dir.file("out.h5")) == 1);
  }

  SECTION("h5 input by --index, and errors") {
    const std::string fh = dir.file("set.h5");
    const Tensor clouds = stack({cloud(80, 31), cloud(80, 32)}, 0);
    datasets::write_h5_clouds(fh, clouds);
    const std::string out = dir.file("o.xyz"), idx_file = dir.file("i.txt");
    const pg::test::CliResult r = run_pg({"fps", fh, out, "--m", "10", "--index", "1", "--indices", idx_file});
    INFO(r.all());
    REQUIRE(r.exit_code == 0);
    CHECK(read_indices(idx_file) == fps(clouds.select(0, 1).unsqueeze(0), 10).indices.to_vector<int64_t>());

    require_cli_error({"fps", fh, out, "--m", "10", "--index", "2"}, {"cloud index 2", "outside 0..1"});
    require_cli_error({"fps", fh, out, "--m", "81"}, {"--m 81", "80 points"});
    require_cli_error({"fps", in, out, "--m", "10", "--start", "300"}, {"--start 300"});
    require_cli_error({"fps", in, out, "--m", "10", "--start", "1", "--seed", "2"}, {"either --start"});
    require_cli_error({"fps", in, out, "--m", "10", "--index", "1"}, {"--index", "in.ply"});
    require_cli_error({"fps", in, dir.file("o.bad"), "--m", "10"}, {"o.bad", "unknown point-cloud format"});
    require_cli_error({"fps", dir.file("none.xyz"), out, "--m", "10"}, {"none.xyz", "not found"});
    require_cli_error({"fps", in, out}, {"--m"});
  }
}

TEST_CASE("pg metric and fps on the real clouds of the shared data folder", "[cli]") {
  const std::string pu = std::string(PG_SHARED_DATA_DIR) + "/pu_gan_test/pu_gan_test.h5";
  const std::string mn = std::string(PG_SHARED_DATA_DIR) + "/modelnet40_partial/ply_data_test0.h5";
  if (!std::filesystem::exists(pu) || !std::filesystem::exists(mn)) {
    WARN("skipping: the shared data folder (" << PG_SHARED_DATA_DIR << ") has no pu_gan_test / modelnet40_partial");
    return;
  }
  TempDir dir("pg_cli");
  // PU-GAN evaluation-style metrics: 2048-point input against the 8192-point ground truth.
  std::string j = run_json({"metric", "chamfer", pu, pu, "--dataset-a", "input_2048", "--dataset-b", "gt_8192",
                            "--index", "3", "--normalize"});
  const Tensor in = batch_of(pu, 3, "input_2048"), gt = batch_of(pu, 3, "gt_8192");
  const Tensor nin = unit_sphere(in.squeeze(0)).unsqueeze(0), ngt = unit_sphere(gt.squeeze(0)).unsqueeze(0);
  CHECK(json_number(j, "a_points") == 2048);
  CHECK(json_number(j, "b_points") == 8192);
  CHECK(json_number(j, "value") == Approx(chamfer(nin, ngt).loss.item_double()).epsilon(1e-5));
  CHECK(json_number(j, "value") > 0.0);
  CHECK(json_number(j, "value") < 1e-2);  // the input lies on the same surface as the ground truth
  HausdorffOptions ho;
  ho.combine = HausdorffCombine::sum;
  j = run_json({"metric", "hausdorff", pu, pu, "--dataset-a", "input_2048", "--dataset-b", "gt_8192", "--index",
                "3", "--normalize", "--combine", "sum"});
  CHECK(json_number(j, "value") == Approx(hausdorff(nin, ngt, ho).item_double()).epsilon(1e-5));

  // FPS of the ground truth down to 2048 points, then EMD against the input (same surface).
  const std::string sub = dir.file("gt_fps.xyz");
  const pg::test::CliResult r = run_pg({"fps", pu, sub, "--dataset", "gt_8192", "--index", "3", "--m", "2048"});
  INFO(r.all());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("M = 2048, N = 8192") != std::string::npos);
  const Tensor s = batch_of(sub);
  REQUIRE(s.shape() == Shape{1, 2048, 3});
  CHECK(s.to_vector<float>() ==
        index_select(gt.squeeze(0), 0, fps(gt, 2048).indices.select(0, 0)).to_vector<float>());
  j = run_json({"metric", "emkd", sub, pu, "--dataset-b", "input_2048", "--index-b", "3", "--leaf", "256"});
  EmkdOptions ko;
  ko.leaf_size = 256;
  CHECK(as_float(json_number(j, "value")) == emkd(s, in, ko).value.item<float>());

  // Two ModelNet40 shapes.
  j = run_json({"metric", "chamfer", mn, mn, "--index-a", "0", "--index-b", "1"});
  CHECK(as_float(json_number(j, "value")) == chamfer(batch_of(mn, 0), batch_of(mn, 1)).loss.item<float>());
}

#endif  // PG_CLI_BINARY
