// pg datagen: writes the built-in procedural data set (ModelNet40 HDF5 layout) into a folder.
//   pg datagen --out data/shapes [--train-per-class 100] [--test-per-class 25] [--points 2048]
//              [--seed 1] [--classes all|N|a,b,c] [--rotation up|so3|none] [--noise 0.005]
#include "datasets/datagen.h"

#include <cstdio>
#include <string>

#include "core/error.h"
#include "tools/pg/cli_validators.h"
#include "tools/pg/commands.h"

namespace pg::cli {

namespace {

struct DatagenCli {
  std::string out;
  int64_t train_per_class = 100;
  int64_t test_per_class = 25;
  int64_t points = 2048;
  uint64_t seed = 1;
  std::string classes = "all";
  std::string rotation = "up";
  double noise = 0.005;
  double scale_lo = 0.8;
  int64_t shard_size = 2048;
};

void run_datagen(const DatagenCli& c) {
  datasets::DatagenOptions o;
  o.out_dir = c.out;
  o.train_per_class = c.train_per_class;
  o.test_per_class = c.test_per_class;
  o.points = c.points;
  o.seed = c.seed;
  o.classes = datasets::parse_class_selection(c.classes);
  o.shape.rotation = datasets::parse_rotation_mode(c.rotation);
  o.shape.noise = c.noise;
  o.shape.scale_lo = c.scale_lo;
  o.shape.scale_hi = 1.0;
  o.shard_size = c.shard_size;
  std::printf("pg datagen: %zu classes x (%lld train + %lld test) shapes, %lld points each, seed %llu -> %s\n",
              o.classes.size(), static_cast<long long>(o.train_per_class), static_cast<long long>(o.test_per_class),
              static_cast<long long>(o.points), static_cast<unsigned long long>(o.seed), o.out_dir.c_str());
  std::fflush(stdout);
  const datasets::DatagenSummary s = datasets::generate_dataset(o);
  std::string names;
  for (const std::string& n : s.class_names) names += (names.empty() ? "" : ", ") + n;
  std::printf("  classes: %s\n", names.c_str());
  std::printf("  rotation %s, noise %.4g, scale [%.2f, 1]\n", datasets::rotation_mode_name(o.shape.rotation),
              o.shape.noise, o.shape.scale_lo);
  std::printf("  wrote %lld train and %lld test shapes in %zu files in %.2f s\n",
              static_cast<long long>(s.train_shapes), static_cast<long long>(s.test_shapes), s.files.size(), s.seconds);
  for (const std::string& f : s.files) std::printf("    %s\n", f.c_str());
}

}  // namespace

void register_datagen(CLI::App& app) {
  static DatagenCli c;
  auto* cmd = app.add_subcommand("datagen", "Generate the built-in procedural shape data set (ModelNet40 HDF5 layout)");
  cmd->add_option("--out", c.out, "output folder (created if missing; existing files are replaced)")->required();
  cmd->add_option("--train-per-class", c.train_per_class, "training shapes per class")
      ->capture_default_str()
      ->check(IntRange(1, 1000000));
  cmd->add_option("--test-per-class", c.test_per_class, "test shapes per class")
      ->capture_default_str()
      ->check(IntRange(1, 1000000));
  cmd->add_option("--points", c.points, "points per shape")
      ->capture_default_str()
      ->check(IntRange(16, 1000000));
  cmd->add_option("--seed", c.seed, "random seed (same seed, same data set)")->capture_default_str();
  std::string help = "'all', a count N (the first N classes) or a comma-separated list of:";
  for (const std::string& n : datasets::shape_classes()) help += " " + n;
  cmd->add_option("--classes", c.classes, help)->capture_default_str();
  cmd->add_option("--rotation", c.rotation, "random rotation: up (about y, like ModelNet's upright shapes), so3, none")
      ->capture_default_str()
      ->check(CLI::IsMember({"up", "so3", "none"}));
  cmd->add_option("--noise", c.noise, "Gaussian noise sigma (unit-sphere units)")
      ->capture_default_str()
      ->check(RealRange(0.0, 0.2));
  cmd->add_option("--min-scale", c.scale_lo, "shapes are scaled by U[min-scale, 1] inside the unit sphere")
      ->capture_default_str()
      ->check(RealRange(0.05, 1.0));
  cmd->add_option("--shard-size", c.shard_size, "shapes per HDF5 shard")
      ->capture_default_str()
      ->check(IntRange(1, int64_t(1) << 30));
  cmd->callback([] { run_datagen(c); });
}

}  // namespace pg::cli
