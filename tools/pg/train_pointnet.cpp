// pg train pointnet / pg eval pointnet: the PointNet classifier on a ModelNet40-layout folder.
//   pg train pointnet --data DIR --out RUN [--variant vanilla|full] [--epochs 250] [--batch-size 32]
//                     [--lr 0.001] [--seed 1] [--device cpu|cuda] [--resume] ...
//   pg eval pointnet  --data DIR (--checkpoint FILE | --out RUN) [--device ...] [--split test|train]
//   pg eval model     --checkpoint FILE [--device ...] [--layers]   (any registered model)
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "datasets/modelnet40.h"
#include "models/nn/checkpoint.h"
#include "models/train/classifier_trainer.h"
#include "models/zoo/registry.h"
#include "tools/pg/cli_validators.h"
#include "tools/pg/commands.h"
#include "tools/pg/progress.h"
#include "tools/pg/train_progress.h"

namespace pg::cli {

namespace {

namespace fs = std::filesystem;

struct TrainCli {
  train::ClassifierTrainOptions o;
  std::string device = "cpu";
  std::string variant = "vanilla";
  bool no_augment = false;
  int threads = 0;
};

struct ModelCli {
  std::string checkpoint, device = "cpu";
  bool layers = false;
};

struct EvalCli {
  std::string data, checkpoint, out, device = "cpu", split = "test";
  int64_t batch_size = 32;
  int64_t points = 1024;
  int threads = 0;
};

std::string fmt(const char* f, double a, double b = 0, double c = 0, double d = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c, d);
  return buf;
}

void set_threads(int threads) {
  if (threads > 0) omp_set_num_threads(threads);
}

void print_evaluation(const train::ClassEvaluation& ev, const std::string& split) {
  std::printf("%s accuracy: %.2f%% (%lld shapes), mean class accuracy %.2f%%, loss %.4f, %.1f s\n", split.c_str(),
              100.0 * ev.accuracy, static_cast<long long>(ev.num_shapes), 100.0 * ev.mean_class_accuracy, ev.loss,
              ev.seconds);
  std::printf("per-class accuracy:\n");
  size_t width = 5;
  for (const std::string& n : ev.class_names) width = std::max(width, n.size());
  for (size_t c = 0; c < ev.class_total.size(); ++c) {
    const std::string name = c < ev.class_names.size() ? ev.class_names[c] : "class " + std::to_string(c);
    if (ev.class_total[c] == 0) {
      std::printf("  %-*s      -   (0 shapes)\n", static_cast<int>(width), name.c_str());
      continue;
    }
    std::printf("  %-*s %6.2f%%  (%lld/%lld)\n", static_cast<int>(width), name.c_str(),
                100.0 * static_cast<double>(ev.class_correct[c]) / static_cast<double>(ev.class_total[c]),
                static_cast<long long>(ev.class_correct[c]), static_cast<long long>(ev.class_total[c]));
  }
}

void run_train(TrainCli& c) {
  set_threads(c.threads);
  c.o.device = Device::parse(c.device);
  c.o.variant = models::parse_pointnet_variant(c.variant);
  c.o.augment = !c.no_augment;
  ProgressLine progress;
  train::TrainCallbacks cb = terminal_callbacks(progress, c.o.epochs, "shapes");
  // The classifier's epoch line: accuracies first, as pg has always printed it.
  cb.on_epoch = [&](const train::EpochRecord& r) {
    const auto train = [&](const char* k) { return train::metric_value(r.train, k); };
    std::string line = fmt("epoch %.0f/%.0f  lr %.3g  train loss %.4f", double(r.epoch), double(c.o.epochs), r.lr,
                           train("loss")) +
                       fmt("  acc %.2f%%", 100.0 * train("acc"));
    if (r.evaluated) {
      const auto test = [&](const char* k) { return train::metric_value(r.eval, k); };
      line += fmt("  | test acc %.2f%%  mean class %.2f%%  loss %.4f", 100.0 * test("test_acc"),
                  100.0 * test("test_mean_class_acc"), test("test_loss"));
    }
    line += fmt("  | %.1f s, %.1f shapes/s", r.seconds, r.samples_per_second);
    progress.print(line);
  };
  const train::TrainSummary s = train::train_pointnet_classifier(c.o, cb);
  std::printf("pg train: %zu epochs in %s; best test accuracy %.2f%% at epoch %lld\n", s.epochs.size(),
              format_duration(s.seconds).c_str(), 100.0 * s.best_test_accuracy, static_cast<long long>(s.best_epoch));
  std::printf("  checkpoints: %s%s%s\n  log: %s\n", s.last_checkpoint.c_str(), s.best_checkpoint.empty() ? "" : ", ",
              s.best_checkpoint.c_str(), (fs::path(c.o.out_dir) / "log.csv").string().c_str());
  if (s.final_eval.num_shapes > 0) std::printf("final test accuracy: %.2f%%\n", 100.0 * s.final_eval.accuracy);
}

void run_eval(const EvalCli& c) {
  set_threads(c.threads);
  std::string ckpt = c.checkpoint;
  if (ckpt.empty()) {
    PG_CHECK(!c.out.empty(), "pg eval: give --checkpoint FILE or --out RUN_FOLDER");
    const fs::path best = fs::path(c.out) / "best.h5", last = fs::path(c.out) / "last.h5";
    ckpt = fs::exists(best) ? best.string() : last.string();
  }
  PG_CHECK(fs::exists(ckpt), "pg eval: checkpoint not found: ", ckpt);
  PG_CHECK(c.split == "test" || c.split == "train", "pg eval: --split must be test or train, got '", c.split, "'");
  const Device dev = Device::parse(c.device);
  auto model = train::load_pointnet_checkpoint(ckpt, dev);
  datasets::ModelNetReadOptions ro;
  ro.max_points = c.points;
  const datasets::PointCloudSet set = datasets::read_modelnet40(
      c.data, c.split == "test" ? datasets::Split::test : datasets::Split::train, ro);
  PG_CHECK(set.num_classes() == model->config().num_classes, "pg eval: the checkpoint has ",
           model->config().num_classes, " classes but ", c.data, " has ", set.num_classes());
  std::printf("pg eval: %s (PointNet %s) on %s/%s, %lld shapes, %lld points, %s\n", ckpt.c_str(),
              models::pointnet_variant_name(model->config().variant), c.data.c_str(), c.split.c_str(),
              static_cast<long long>(set.size()), static_cast<long long>(set.num_points()), dev.str().c_str());
  std::fflush(stdout);
  const train::ClassEvaluation ev = train::evaluate_classifier(*model, set, dev, c.batch_size, c.points);
  print_evaluation(ev, c.split);
}

// Any registered model, rebuilt from the checkpoint alone (models/zoo/registry.h).
void run_model(const ModelCli& c) {
  PG_CHECK(fs::exists(c.checkpoint), "pg eval: checkpoint not found: ", c.checkpoint);
  const Device dev = Device::parse(c.device);
  const nn::CheckpointData data = nn::read_checkpoint(c.checkpoint);
  const nn::ModelConfig cfg = models::checkpoint_model_config(c.checkpoint, data.meta);
  auto model = models::load_model(c.checkpoint, dev);
  std::printf("pg eval: %s: model %s\n", c.checkpoint.c_str(), cfg.describe().c_str());
  std::printf("  epoch %lld, %lld parameters (%lld trainable), on %s\n", static_cast<long long>(data.meta.epoch),
              static_cast<long long>(model->num_parameters()), static_cast<long long>(model->num_parameters(true)),
              dev.str().c_str());
  for (const auto& f : model->frozen_children()) {
    std::printf("  frozen %s: %s, loaded from %s\n", f.name.c_str(), f.module->type_name().c_str(), f.source.c_str());
  }
  for (const auto& [k, v] : data.meta.scalars) std::printf("  %s = %.8g\n", k.c_str(), v);
  if (c.layers) std::printf("%s", model->summary().c_str());
}

}  // namespace

void register_train(CLI::App& app) {
  static TrainCli c;
  auto* train = app.add_subcommand("train", "Train a model");
  train->require_subcommand(1);
  auto* cmd = train->add_subcommand("pointnet", "Train the PointNet classifier on a ModelNet40-layout folder");
  cmd->add_option("--data", c.o.data_dir, "data folder (ModelNet40 HDF5 layout; `pg datagen` writes one)")->required();
  cmd->add_option("--out", c.o.out_dir, "run folder: checkpoints last.h5/best.h5 and log.csv")->required();
  cmd->add_option("--device", c.device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--variant", c.variant, "vanilla (no T-Nets) or full (input/feature T-Nets + regulariser)")
      ->capture_default_str()
      ->check(CLI::IsMember({"vanilla", "full"}));
  cmd->add_option("--epochs", c.o.epochs, "number of epochs")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--batch-size", c.o.batch_size, "shapes per batch (>= 2)")
      ->capture_default_str()
      ->check(IntRange(2, int64_t(1) << 20));
  cmd->add_option("--points", c.o.num_points, "first k points of every shape")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--lr", c.o.lr, "initial learning rate")->capture_default_str()->check(PositiveReal());
  cmd->add_option("--optimizer", c.o.optimizer, "adam, adamw or sgd")
      ->capture_default_str()
      ->check(CLI::IsMember({"adam", "adamw", "sgd"}));
  cmd->add_option("--weight-decay", c.o.weight_decay, "weight decay")->capture_default_str()->check(RealAtLeast(0.0));
  cmd->add_option("--schedule", c.o.schedule,
                  "tf: lr x decay-rate every decay-step samples + TF BN momentum schedule; step: x decay-rate every "
                  "20 epochs; cosine; constant")
      ->capture_default_str()
      ->check(CLI::IsMember({"tf", "step", "cosine", "constant"}));
  cmd->add_option("--decay-step", c.o.decay_step, "samples per decay step (tf schedule)")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--decay-rate", c.o.decay_rate, "learning-rate decay factor")->capture_default_str()->check(PositiveReal());
  cmd->add_option("--min-lr", c.o.min_lr, "learning-rate floor")->capture_default_str()->check(RealAtLeast(0.0));
  cmd->add_flag("--no-augment", c.no_augment, "disable rotation about y and jitter");
  cmd->add_option("--label-smoothing", c.o.label_smoothing, "cross-entropy label smoothing")->capture_default_str()->check(RealRange(0.0, 1.0));
  cmd->add_option("--seed", c.o.seed, "seed of initialisation, shuffling, augmentation and dropout")->capture_default_str();
  cmd->add_flag("--resume", c.o.resume, "continue from RUN/last.h5 (same options; raise --epochs to extend)");
  cmd->add_flag("--keep-all", c.o.keep_all_checkpoints, "also keep RUN/epoch_NNNN.h5 for every epoch");
  cmd->add_option("--eval-every", c.o.eval_every, "evaluate on the test split every k epochs")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--threads", c.threads, "CPU threads (0: OpenMP default)")->capture_default_str()->check(NonNegativeInt());
  cmd->callback([] { run_train(c); });
}

void register_eval(CLI::App& app) {
  static EvalCli c;
  auto* eval = app.add_subcommand("eval", "Evaluate a trained model");
  eval->require_subcommand(1);
  auto* cmd = eval->add_subcommand("pointnet", "Overall and per-class accuracy of a PointNet checkpoint");
  cmd->add_option("--data", c.data, "data folder (ModelNet40 HDF5 layout)")->required();
  cmd->add_option("--checkpoint", c.checkpoint, "checkpoint file (from pg train pointnet)");
  cmd->add_option("--out", c.out, "run folder: uses best.h5, else last.h5");
  cmd->add_option("--device", c.device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--split", c.split, "test or train")->capture_default_str()->check(CLI::IsMember({"test", "train"}));
  cmd->add_option("--batch-size", c.batch_size, "shapes per batch")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--points", c.points, "first k points of every shape")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--threads", c.threads, "CPU threads (0: OpenMP default)")->capture_default_str()->check(NonNegativeInt());
  cmd->callback([] { run_eval(c); });

  static ModelCli m;
  auto* any = eval->add_subcommand("model", "Rebuild any registered model from a checkpoint and describe it");
  any->add_option("--checkpoint", m.checkpoint, "checkpoint file (of any registered model)")->required();
  any->add_option("--device", m.device, "cpu or cuda[:N]")->capture_default_str();
  any->add_flag("--layers", m.layers, "also print every module with its parameter shapes");
  any->callback([] { run_model(m); });
}

}  // namespace pg::cli
