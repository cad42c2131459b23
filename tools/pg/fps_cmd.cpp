// pg fps: farthest point sampling of a cloud read from a file (ops/fps.h semantics).
//   pg fps IN OUT --m M [--start S | --seed X] [--device cpu|cuda] [--index I] [--dataset NAME]
//          [--indices FILE]
// IN: .xyz/.txt/.pts, .ply, .off (vertices) or .h5/.hdf5 (one cloud of [N, M, 3] by --index).
// OUT is written in the format of its extension (h5: dataset `data` [1, M, 3]); --indices
// writes the chosen indices into IN's cloud, one per line, in pick order.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/cuda_context.h"
#include "core/error.h"
#include "core/random.h"
#include "datasets/pointcloud_io.h"
#include "ops/fps.h"
#include "ops/index.h"
#include "ops/view.h"
#include "tools/pg/cli_validators.h"
#include "tools/pg/commands.h"

namespace pg::cli {

namespace {

struct FpsCli {
  std::string in, out;
  int64_t m = 0;
  int64_t start = 0;
  uint64_t seed = 0;
  std::string device = "cpu";
  int64_t index = 0;
  std::string dataset = "data";
  std::string indices;
  CLI::App* cmd = nullptr;
  bool given(const char* name) const { return cmd->count(name) > 0; }
};

// Writes the indices one per line, atomically (temporary + rename).
void write_indices(const std::string& path, const std::vector<int64_t>& idx) {
  const std::string tmp = path + ".tmp." + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  {
    std::ofstream f(tmp, std::ios::trunc);
    PG_CHECK(f.good(), "pg fps: cannot open '", path, "' for writing");
    for (const int64_t i : idx) f << i << '\n';
    f.flush();
    PG_CHECK(f.good(), "pg fps: error writing '", path, "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp);
  PG_CHECK(!ec, "pg fps: cannot write '", path, "': ", ec.message());
}

void run_fps(const FpsCli& c) {
  PG_CHECK(!(c.given("--start") && c.given("--seed")), "pg fps: give either --start (a fixed first point) or --seed ",
           "(a random first point), not both");
  PG_CHECK(!(c.given("--index") || c.given("--dataset")) || datasets::is_h5_path(c.in), "pg fps: --index and --dataset select a ",
           "cloud of an .h5 input; '", c.in, "' is not one");
  const Device dev = Device::parse(c.device);
  if (dev.is_cuda())
    PG_CHECK(cuda::is_available(), "pg fps: --device ", c.device, ": CUDA is not available (",
             cuda::unavailable_reason(), ")");
  datasets::CloudReadOptions ro;
  ro.dataset = c.dataset;
  ro.index = c.index;
  const Tensor cloud = datasets::read_point_cloud(c.in, ro);  // [N, 3] float32, CPU
  const int64_t n = cloud.size(0);
  PG_CHECK(c.m >= 1 && c.m <= n, "pg fps: --m ", c.m, " is outside 1..", n, " (the input has ", n, " points)");
  PG_CHECK(c.start >= 0 && c.start < n, "pg fps: --start ", c.start, " is outside 0..", n - 1);

  FpsOptions o;
  o.start = c.start;
  Generator gen(c.seed);
  if (c.given("--seed")) {
    o.random_start = true;
    o.generator = &gen;
  }
  const Tensor pts = cloud.to(dev);
  const auto t0 = std::chrono::steady_clock::now();
  const FpsResult res = fps(pts.unsqueeze(0), c.m, o);
  const Tensor idx = res.indices.select(0, 0);
  const Tensor sampled = index_select(pts, 0, idx).to(Device::cpu());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::vector<int64_t> chosen = idx.to_vector<int64_t>();
  const std::vector<float> radius = res.radius.to_vector<float>();

  datasets::write_point_cloud(c.out, sampled);
  if (!c.indices.empty()) write_indices(c.indices, chosen);

  std::string src = c.in;
  if (datasets::is_h5_path(c.in)) src += "[" + c.dataset + ", " + std::to_string(c.index) + "]";
  std::printf("pg fps: %lld of %lld points from %s on %s in %.3f ms\n", static_cast<long long>(c.m),
              static_cast<long long>(n), src.c_str(), dev.str().c_str(), seconds * 1e3);
  std::printf("  M = %lld, N = %lld, first point %lld (%s)\n", static_cast<long long>(c.m), static_cast<long long>(n),
              static_cast<long long>(chosen[0]),
              c.given("--seed") ? ("random, seed " + std::to_string(c.seed)).c_str() : "--start");
  if (c.m > 1)
    std::printf("  last pick's squared distance to the earlier picks: %.9g\n", static_cast<double>(radius.back()));
  std::printf("  wrote %s", c.out.c_str());
  if (!c.indices.empty()) std::printf(" and %s", c.indices.c_str());
  std::printf("\n");
}

}  // namespace

void register_fps(CLI::App& app) {
  static FpsCli c;
  auto* cmd = app.add_subcommand("fps", "Farthest point sampling of a cloud file into another file");
  c.cmd = cmd;
  cmd->add_option("IN", c.in, "input cloud (.xyz/.txt/.pts, .ply, .off, .h5)")->required();
  cmd->add_option("OUT", c.out, "output cloud; the format follows the extension (.xyz, .ply, .off, .h5)")->required();
  cmd->add_option("--m", c.m, "number of points to sample")->required()->check(PositiveInt());
  cmd->add_option("--start", c.start, "index of the first point")->capture_default_str()->check(NonNegativeInt());
  cmd->add_option("--seed", c.seed, "draw the first point at random with this seed (instead of --start)");
  cmd->add_option("--device", c.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--index", c.index, "cloud index in an .h5 input")->capture_default_str()
      ->check(NonNegativeInt());
  cmd->add_option("--dataset", c.dataset, "HDF5 dataset name of an .h5 input")->capture_default_str();
  cmd->add_option("--indices", c.indices, "also write the chosen indices here, one per line");
  cmd->callback([] { run_fps(c); });
}

}  // namespace pg::cli
