// pg compress / pg decompress: a consistent shape collection stored as an auto-decoder
// (NeuralQAAD, or its baselines), and the shapes decoded back.
//   pg compress DATA.h5 | A.ply B.ply ... --out MODEL.h5 [--method qaad|mse-random|chamfer]
//               [--latent 64 --patches 16 --warmup-epochs 50 --epochs 150 --repeat 1 ...]
//   pg decompress MODEL.h5 --out CLOUDS.h5 [--index i ...]
#include <omp.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/pointcloud_io.h"
#include "models/train/compress_trainer.h"
#include "ops/ops.h"
#include "tools/pg/cli_validators.h"
#include "tools/pg/commands.h"
#include "tools/pg/progress.h"
#include "tools/pg/train_progress.h"

namespace pg::cli {

namespace {

struct CompressCli {
  train::CompressOptions o;
  std::string device = "cpu";
  int threads = 0;
};

struct DecompressCli {
  std::string model, out, device = "cpu";
  std::vector<int64_t> index;
};

void run_compress(CompressCli& c) {
  if (c.threads > 0) omp_set_num_threads(c.threads);
  c.o.device = Device::parse(c.device);
  ProgressLine progress;
  // The two training stages have their own epoch counts: the epoch line takes the count of the
  // stage that reported the last batch.
  auto stage_epochs = std::make_shared<int64_t>(c.o.warmup_epochs > 0 ? c.o.warmup_epochs : c.o.epochs);
  train::TrainCallbacks cb;
  cb.message = [&progress](const std::string& m) { progress.print("pg compress: " + m); };
  cb.on_batch = [&progress, stage_epochs](const train::BatchProgress& p) {
    *stage_epochs = p.epochs;
    render_batch(progress, p, "shapes");
  };
  cb.on_epoch = [&progress, stage_epochs](const train::EpochRecord& r) {
    progress.print(epoch_line(r, *stage_epochs, "shapes"));
  };
  const train::CompressSummary s = train::compress_collection(c.o, cb);
  std::printf("pg compress: %lld shapes x %lld points -> %s\n", static_cast<long long>(s.shapes),
              static_cast<long long>(s.points), c.o.out.c_str());
  std::printf("  method %s, %lld patches, %lld stored parameters, file %lld bytes\n", c.o.method.c_str(),
              static_cast<long long>(s.patches), static_cast<long long>(s.stored_parameters),
              static_cast<long long>(s.file_bytes));
  std::printf("  compression ratio %.2f : 1 (raw float32 %.0f bytes)\n", s.ratio, s.raw_bytes);
  std::printf("  EM-kD mean %.6g over %zu shapes (leaves of %lld, %lld auction rounds)\n", s.emkd_mean, s.emkd.size(),
              static_cast<long long>(c.o.emkd_leaf), static_cast<long long>(c.o.emkd_iters));
  std::printf("  time: warm-up %s, assignment %s, training %s, evaluation %s\n", format_duration(s.warmup_seconds).c_str(),
              format_duration(s.assign_seconds).c_str(), format_duration(s.train_seconds).c_str(),
              format_duration(s.eval_seconds).c_str());
  if (c.o.method == "qaad")
    std::printf("  QAAD_GREEDY: %lld auction claims kept, %lld repaired\n", static_cast<long long>(s.greedy_kept),
                static_cast<long long>(s.greedy_repaired));
}

void run_decompress(const DecompressCli& c) {
  const Tensor clouds = train::decompress_collection(c.model, c.index, Device::parse(c.device));
  if (clouds.size(0) == 1 && !datasets::is_h5_path(c.out)) {
    datasets::write_point_cloud(c.out, clouds.select(0, 0));
  } else {
    PG_CHECK(datasets::is_h5_path(c.out), "pg decompress: several shapes need an .h5 output, got '", c.out, "'");
    datasets::write_h5_clouds(c.out, clouds);
  }
  std::printf("pg decompress: %lld shapes x %lld points -> %s\n", static_cast<long long>(clouds.size(0)),
              static_cast<long long>(clouds.size(1)), c.out.c_str());
}

}  // namespace

void register_compress(CLI::App& app) {
  static CompressCli c;
  auto* cmd = app.add_subcommand("compress", "Compress a consistent shape collection into an auto-decoder (NeuralQAAD)");
  train::CompressOptions& o = c.o;
  cmd->add_option("inputs", o.inputs, "one .h5 collection (dataset [N, M, 3]) or several cloud files of equal size")
      ->required();
  cmd->add_option("--out", o.out, "the compressed collection (.h5)")->required();
  cmd->add_option("--work-dir", o.work_dir, "training runs (default OUT.run): logs, checkpoints, resume");
  cmd->add_option("--dataset", o.dataset, "HDF5 dataset of the collection")->capture_default_str();
  cmd->add_option("--method", o.method,
                  "qaad (NeuralQAAD: greedy + reassignment), mse-random (MSE against a random assignment), "
                  "chamfer (AtlasNetV2-style baseline)")
      ->capture_default_str()
      ->check(CLI::IsMember({"qaad", "mse-random", "chamfer"}));
  cmd->add_option("--latent", o.latent, "code size per shape")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--patches", o.patches, "patches (power of two dividing M; 0: qaad 16, chamfer 4)")
      ->capture_default_str()
      ->check(NonNegativeInt());
  cmd->add_option("--atlas-width", o.atlas_width, "chamfer: hidden width of the per-patch MLPs")
      ->capture_default_str()
      ->check(PositiveInt());
  cmd->add_option("--warmup-epochs", o.warmup_epochs, "stage 1 epochs (encoder + augmented Chamfer)")
      ->capture_default_str()
      ->check(NonNegativeInt());
  cmd->add_option("--epochs", o.epochs, "stage 3 epochs")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--repeat", o.repeat, "visits of every shape per epoch")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--batch-size", o.batch_size, "shapes per step (capped at the collection size)")
      ->capture_default_str()
      ->check(PositiveInt());
  cmd->add_option("--sample-points", o.sample_points, "points per shape per step (a multiple of the patches)")
      ->capture_default_str()
      ->check(PositiveInt());
  cmd->add_option("--lr", o.lr, "Adam learning rate")->capture_default_str()->check(RealAtLeast(0));
  cmd->add_option("--emkd-leaf", o.emkd_leaf, "EM-kD leaf size")->capture_default_str()->check(IntAtLeast(2));
  cmd->add_option("--emkd-iters", o.emkd_iters, "EM-kD auction rounds")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--emkd-eps", o.emkd_eps_rel, "EM-kD auction epsilon, relative to the collection's diagonal")
      ->capture_default_str()
      ->check(RealAtLeast(0));
  cmd->add_option("--eval-every", o.eval_every, "EM-kD every k epochs of stage 3 (0: at the end)")
      ->capture_default_str()
      ->check(NonNegativeInt());
  cmd->add_option("--seed", o.seed, "seed of initialisation, sampling and assignments")->capture_default_str();
  cmd->add_flag("--resume", o.resume, "continue the stage that was running (same options)");
  cmd->add_option("--device", c.device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--threads", c.threads, "CPU threads (0: OpenMP default)")->capture_default_str();
  cmd->callback([] { run_compress(c); });

  static DecompressCli d;
  auto* dc = app.add_subcommand("decompress", "Decode the shapes of a compressed collection (pg compress)");
  dc->add_option("model", d.model, "the compressed collection (.h5)")->required();
  dc->add_option("--out", d.out, ".h5 (dataset data [n, M, 3]); one shape may also go to .ply/.xyz/.off")->required();
  dc->add_option("--index", d.index, "shapes to decode (default all)");
  dc->add_option("--device", d.device, "cpu or cuda[:N]")->capture_default_str();
  dc->callback([] { run_decompress(d); });
}

}  // namespace pg::cli
