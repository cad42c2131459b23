// pg sample: sample m points of every cloud of a file or a data set with random, FPS or a
// learned sampler (matched + FPS-completed: the output is a subset of the input).
//   pg sample --method random|fps|snet|progressive|samplenet|apsnet [--sampler RUN/best.h5] --m M
//             --in CLOUD_FILE|DATA_DIR --out FILE|DIR [--points K] [--seed S]
// A file (.xyz/.txt/.pts, .ply, .off, .h5) gives one cloud; the output file's extension picks its
// format. A folder in the ModelNet40 HDF5 layout gives every shard of both splits; the output
// folder gets the same layout (shards of the same names with `data` [N, m, 3] and the same
// `label`, the list files and shape_names.txt). Everything is sampled before anything is
// written, so an error (m > points, NaN/Inf, a checkpoint of another method) writes nothing.
#include <omp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "datasets/modelnet40.h"
#include "datasets/pointcloud_io.h"
#include "models/zoo/registry.h"
#include "models/zoo/sampling_methods.h"
#include "ops/ops.h"
#include "tools/pg/cli_validators.h"
#include "tools/pg/commands.h"

namespace pg::cli {

namespace {

namespace fs = std::filesystem;

struct SampleCli {
  std::string method, sampler, in, out, device = "cpu";
  int64_t m = 0, points = 0, batch_size = 32;
  uint64_t seed = 1;
  int threads = 0;
};

// Samples every cloud of `clouds` [N, P, 3] (host) in batches → [N, m, 3] (host).
Tensor sample_all(const SampleCli& c, const models::LearnedSampler* sampler, const Tensor& clouds, Device dev,
                  Generator& gen) {
  NoGradGuard no_grad;
  std::vector<Tensor> parts;
  for (int64_t s = 0; s < clouds.size(0); s += c.batch_size) {
    const Tensor p = slice(clouds, 0, s, std::min(clouds.size(0), s + c.batch_size)).contiguous().to(dev);
    const Tensor idx = models::sample_indices(c.method, sampler, p, c.m, &gen);
    parts.push_back(models::gather_points(p, idx).to(Device::cpu()));
  }
  return cat(parts, 0).contiguous();
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  PG_CHECK(in.good(), "pg sample: cannot read ", p.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const fs::path& p, const std::string& s) {
  const fs::path tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    PG_CHECK(out.good(), "pg sample: cannot write ", p.string());
    out << s;
  }
  fs::rename(tmp, p);
}

void run(const SampleCli& c) {
  if (c.threads > 0) omp_set_num_threads(c.threads);
  const Device dev = Device::parse(c.device);
  PG_CHECK(c.m >= 1, "pg sample: m must be positive, got ", c.m);
  PG_CHECK(fs::exists(c.in), "pg sample: input not found: ", c.in);
  std::shared_ptr<models::LearnedSampler> sampler;
  if (models::is_learned_method(c.method)) {
    PG_CHECK(!c.sampler.empty(), "pg sample: method ", c.method, " needs --sampler CHECKPOINT");
    PG_CHECK(fs::exists(c.sampler), "pg sample: sampler checkpoint not found: ", c.sampler);
    sampler = models::load_model_as<models::LearnedSampler>(c.sampler, dev, models::learned_method_model(c.method));
  } else {
    PG_CHECK(c.sampler.empty(), "pg sample: --sampler is for learned methods, not ", c.method);
  }
  const int64_t points = c.points > 0 ? c.points : (sampler ? sampler->config().in_points : -1);
  Generator gen(c.seed);

  if (!fs::is_directory(c.in)) {
    Tensor cloud = datasets::read_point_cloud(c.in);  // [P, 3]
    if (points > 0) {
      PG_CHECK(points <= cloud.size(0), "pg sample: ", c.points > 0 ? "--points asks for " : "the sampler takes ",
               points, " points, but ", c.in, " has ", cloud.size(0), c.points > 0 ? "" : " (give --points)");
      cloud = slice(cloud, 0, 0, points);
    }
    const Tensor out = sample_all(c, sampler.get(), unsqueeze(cloud, 0).contiguous(), dev, gen);
    datasets::write_point_cloud(c.out, select(out, 0, 0).contiguous());
    std::printf("pg sample: %s, %lld of %lld points of %s -> %s\n", c.method.c_str(), static_cast<long long>(c.m),
                static_cast<long long>(cloud.size(0)), c.in.c_str(), c.out.c_str());
    return;
  }

  // A data set: sample every shard of both splits first, then write.
  const std::vector<std::string> names = datasets::read_class_names(c.in);
  struct Out {
    fs::path path;
    Tensor points, labels;
  };
  std::vector<Out> outs;
  std::string lists[2];
  int64_t shapes = 0, in_points = 0;
  datasets::ModelNetReadOptions ro;
  ro.max_points = points;
  for (const auto split : {datasets::Split::train, datasets::Split::test}) {
    const fs::path list = fs::path(c.in) / (std::string(datasets::split_name(split)) + "_files.txt");
    if (!fs::exists(list)) continue;
    for (const std::string& shard : datasets::read_shard_list(c.in, split)) {
      const datasets::Shard s = datasets::read_modelnet_shard(shard, static_cast<int64_t>(names.size()), ro);
      const std::string base = fs::path(shard).filename().string();
      lists[split == datasets::Split::train ? 0 : 1] += base + "\n";
      in_points = s.points.size(1);
      outs.push_back({fs::path(c.out) / base, sample_all(c, sampler.get(), s.points, dev, gen), s.labels});
      shapes += s.points.size(0);
    }
  }
  PG_CHECK(!outs.empty(), "pg sample: ", c.in, " lists no shards (train_files.txt / test_files.txt)");
  fs::create_directories(c.out);
  for (const Out& o : outs) datasets::write_modelnet_shard(o.path.string(), o.points, o.labels);
  write_text(fs::path(c.out) / "shape_names.txt", read_text(fs::path(c.in) / "shape_names.txt"));
  if (!lists[0].empty()) write_text(fs::path(c.out) / "train_files.txt", lists[0]);
  if (!lists[1].empty()) write_text(fs::path(c.out) / "test_files.txt", lists[1]);
  std::printf("pg sample: %s, %lld of %lld points of %lld shapes in %zu shards of %s -> %s\n", c.method.c_str(),
              static_cast<long long>(c.m), static_cast<long long>(in_points), static_cast<long long>(shapes),
              outs.size(), c.in.c_str(), c.out.c_str());
}

}  // namespace

void register_sample(CLI::App& app) {
  static SampleCli c;
  auto* cmd =
      app.add_subcommand("sample", "Sample m points of a cloud file or a data set (random, FPS or a learned sampler)");
  cmd->add_option("--method", c.method, "random, fps, snet, progressive, samplenet or apsnet (APSNet-M)")
      ->required()
      ->check(CLI::IsMember({"random", "fps", "snet", "progressive", "samplenet", "apsnet"}));
  cmd->add_option("--sampler", c.sampler, "learned sampler checkpoint (pg train samplenet|snet|progressive|apsnet)");
  cmd->add_option("--m", c.m, "points to keep per cloud")->required()->check(PositiveInt());
  cmd->add_option("--in", c.in, "cloud file (.xyz/.ply/.off/.h5) or data folder (ModelNet40 HDF5 layout)")->required();
  cmd->add_option("--out", c.out, "output file (format by extension) or folder")->required();
  cmd->add_option("--points", c.points, "first k points of every cloud first (0: the sampler's input size, else all)")
      ->check(NonNegativeInt());
  cmd->add_option("--seed", c.seed, "seed of the random method")->capture_default_str();
  cmd->add_option("--batch-size", c.batch_size, "clouds per batch")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--device", c.device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--threads", c.threads, "CPU threads (0: OpenMP default)")->capture_default_str();
  cmd->callback([] { run(c); });
}

}  // namespace pg::cli
