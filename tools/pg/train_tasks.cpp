// pg train pcae | pcrnet | samplenet | snet | progressive: the sampler tasks' networks and the
// learned samplers, on a ModelNet40-layout folder, through the generic Trainer.
//   pg train pcae    --data DIR --out RUN [--class C] [--points 2048] [--epochs 500] ...
//   pg train pcrnet  --data DIR --out RUN [--class airplane] [--points 1024] [--max-angle 45] ...
//   pg train samplenet|snet|progressive|apsnet --task cls|rec|reg --m M --task-model FILE.h5
//                    --data DIR --out RUN [--progressive] [--compat paper|code] [--alpha A] ...
//   apsnet adds [--kd] [--joint] [--joint-form paper|code] [--max-generated 128]
#include <omp.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>

#include "core/error.h"
#include "models/train/sampler_trainer.h"
#include "models/train/tasknet_trainer.h"
#include "tools/pg/cli_validators.h"
#include "tools/pg/commands.h"
#include "tools/pg/progress.h"
#include "tools/pg/train_progress.h"

namespace pg::cli {

namespace {

namespace fs = std::filesystem;

struct TaskNetCli {
  train::TaskNetTrainOptions o;
  std::string device = "cpu";
  int threads = 0;
};

struct SamplerCli {
  train::SamplerTrainOptions o;
  std::string task, device = "cpu", last_bn;
  int threads = 0;
  // Overrides: a negative value (k: 0) means "the default of the task".
  double alpha = -1, beta = -1, gamma = -1, delta = -1, lambda = -1, min_sigma = -1;
  int64_t k = 0;
  bool joint = false;                // apsnet
  std::string joint_form = "paper";  // apsnet
};

void print_summary(const train::RunSummary& s, const std::string& what) {
  std::printf("pg train %s: %zu epochs in %s", what.c_str(), s.epochs.size(), format_duration(s.seconds).c_str());
  if (s.best_epoch > 0) std::printf("; best %.6g at epoch %lld", s.best_value, static_cast<long long>(s.best_epoch));
  std::printf("\n  checkpoints: %s%s%s\n  log: %s\n", s.last_checkpoint.c_str(), s.best_checkpoint.empty() ? "" : ", ",
              s.best_checkpoint.c_str(), s.log.c_str());
}

void add_common(CLI::App* cmd, train::TaskNetTrainOptions& o, std::string& device, int& threads) {
  cmd->add_option("--data", o.data_dir, "data folder (ModelNet40 HDF5 layout; `pg datagen` writes one)")->required();
  cmd->add_option("--out", o.out_dir, "run folder: checkpoints last.h5/best.h5 and log.csv")->required();
  cmd->add_option("--class", o.class_name, "train and test on this class only (e.g. airplane)");
  cmd->add_option("--device", device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--epochs", o.epochs, "number of epochs")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--batch-size", o.batch_size, "clouds per batch (0: the network's default)")
      ->capture_default_str()
      ->check(IntRange(0, int64_t(1) << 20));
  cmd->add_option("--points", o.points, "first k points of every shape (0: the network's default)")
      ->capture_default_str()
      ->check(NonNegativeInt());
  cmd->add_option("--lr", o.lr, "Adam learning rate (0: the network's default)")
      ->capture_default_str()
      ->check(RealAtLeast(0));
  cmd->add_option("--seed", o.seed, "seed of initialisation, shuffling and motions")->capture_default_str();
  cmd->add_flag("--resume", o.resume, "continue from RUN/last.h5 (same options; raise --epochs to extend)");
  cmd->add_option("--eval-every", o.eval_every, "evaluate on the test split every k epochs")
      ->capture_default_str()
      ->check(PositiveInt());
  cmd->add_option("--threads", threads, "CPU threads (0: OpenMP default)")->capture_default_str();
}

void run_tasknet(TaskNetCli& c, bool pcae) {
  if (c.threads > 0) omp_set_num_threads(c.threads);
  c.o.device = Device::parse(c.device);
  ProgressLine progress;
  const train::TrainCallbacks cb = terminal_callbacks(progress, c.o.epochs, "shapes");
  const train::RunSummary s = pcae ? train::train_pcae(c.o, cb) : train::train_pcrnet(c.o, cb);
  print_summary(s, pcae ? "pcae" : "pcrnet");
}

void run_sampler(SamplerCli& c, const std::string& kind) {
  if (c.threads > 0) omp_set_num_threads(c.threads);
  train::SamplerTrainOptions& o = c.o;
  o.kind = kind;
  o.task = models::parse_sampler_task(c.task);
  o.device = Device::parse(c.device);
  const bool prog = kind == "progressivenet" || (kind == "samplenet" && o.progressive);
  PG_CHECK(kind == "samplenet" || !o.progressive,
           "pg train: --progressive applies to samplenet only (use pg train progressive)");
  if (o.m <= 0) {
    PG_CHECK(prog, "pg train ", kind, ": give --m (the number of points to sample)");
    o.m = o.in_points > 0 ? o.in_points : (o.task == models::SamplerTask::rec ? 2048 : 1024);
  }
  const auto set = [](double v, std::optional<double>& dst) {
    if (v >= 0) dst = v;
  };
  set(c.alpha, o.alpha), set(c.beta, o.beta), set(c.gamma, o.gamma), set(c.delta, o.delta);
  set(c.lambda, o.lambda), set(c.min_sigma, o.min_sigma);
  if (c.k > 0) o.k = c.k;
  if (!c.last_bn.empty()) o.last_bn = c.last_bn == "true";
  if (kind == "apsnet") o.joint = c.joint ? c.joint_form : "none";
  ProgressLine progress;
  const train::TrainCallbacks cb = terminal_callbacks(progress, o.epochs, "shapes");
  print_summary(train::train_sampler(o, cb), kind == "progressivenet" ? "progressive" : kind);
}

void register_sampler(CLI::App* train, const std::string& name, const std::string& kind, const std::string& help) {
  static std::vector<std::unique_ptr<SamplerCli>> keep;
  keep.push_back(std::make_unique<SamplerCli>());
  SamplerCli& c = *keep.back();
  c.o.m = 0;  // required unless progressive (run_sampler)
  auto* cmd = train->add_subcommand(name, help);
  cmd->add_option("--task", c.task, "cls (PointNet), rec (PCAE) or reg (PCRNet)")
      ->required()
      ->check(CLI::IsMember({"cls", "rec", "reg"}));
  cmd->add_option(
         "--m", c.o.m,
         kind == "progressivenet" ? "largest ordered size (default: all input points)" : "number of points to sample")
      ->check(PositiveInt());
  cmd->add_option("--task-model", c.o.task_model, "frozen task network checkpoint (pg train pointnet|pcae|pcrnet)")
      ->required();
  cmd->add_option("--data", c.o.data_dir, "data folder (ModelNet40 HDF5 layout)")->required();
  cmd->add_option("--out", c.o.out_dir, "run folder: checkpoints last.h5/best.h5 and log.csv")->required();
  cmd->add_option("--class", c.o.class_name, "train and test on this class only (e.g. airplane for reg)");
  if (kind == "samplenet")
    cmd->add_flag("--progressive", c.o.progressive, "ordered output: loss summed over control sizes");
  if (kind != "apsnet")
    cmd->add_option("--compat", c.o.compat, "paper (paper intent) or code (reference-code switches, METHODS §5.6)")
        ->capture_default_str()
        ->check(CLI::IsMember({"paper", "code"}));
  cmd->add_option("--points", c.o.in_points, "input points per cloud (0: cls/reg 1024, rec 2048)")
      ->check(NonNegativeInt());
  cmd->add_option("--alpha", c.alpha, "weight of the simplification loss (default per task)")
      ->check(RealAtLeast(0));
  cmd->add_option("--beta", c.beta, "weight of the max NN term (default 1)")->check(RealAtLeast(0));
  cmd->add_option("--gamma", c.gamma, "La(P,Q) weight γ (default per task)")->check(RealAtLeast(0));
  cmd->add_option("--delta", c.delta, "La(P,Q) weight δ per sampled point (default per task)")
      ->check(RealAtLeast(0));
  if (kind == "samplenet") {
    cmd->add_option("--lambda", c.lambda, "weight of the projection loss σ (default per task)")
        ->check(RealAtLeast(0));
    cmd->add_option("--k", c.k, "soft-projection neighbours (default cls 7, rec 16, reg 8)")
        ->check(PositiveInt());
    cmd->add_option("--min-sigma", c.min_sigma, "floor on σ = t² (default: paper 0; code: reg 0.01)")
        ->check(RealAtLeast(0));
    cmd->add_option("--init-temperature", c.o.init_temperature, "initial t")
        ->capture_default_str()
        ->check(PositiveReal());
  }
  if (kind == "apsnet") {
    cmd->add_flag("--kd", c.o.kd, "knowledge distillation: the task net's prediction on the full cloud is the target");
    cmd->add_flag("--joint", c.joint, "joint training over sizes 8, 16, ..., m (one network for all sizes)");
    cmd->add_option("--joint-form", c.joint_form,
                    "paper (Eq. 10: task + sampling loss per size) or code (task once, sampling loss per size)")
        ->capture_default_str()
        ->check(CLI::IsMember({"paper", "code"}));
    cmd->add_option("--max-generated", c.o.max_generated,
                    "inference: generate at most this many points, FPS-complete beyond (0: generate all m)")
        ->capture_default_str()
        ->check(NonNegativeInt());
    cmd->add_option("--eval-m", c.o.eval_m, "the m evaluated after each epoch (default m)")->check(PositiveInt());
  } else {
    cmd->add_option("--last-bn", c.last_bn,
                    "BN on the output layer: true or false (default: paper false; code: cls true)")
        ->check(CLI::IsMember({"true", "false"}));
    cmd->add_option("--eval-m", c.o.eval_m, "progressive: the m evaluated after each epoch (default min(32, m))")
        ->check(PositiveInt());
  }
  cmd->add_option("--device", c.device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_option("--epochs", c.o.epochs, "number of epochs")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--batch-size", c.o.batch_size, "clouds per batch (0: cls/reg 32, rec 50)")
      ->check(NonNegativeInt());
  cmd->add_option("--lr", c.o.lr, "Adam learning rate (0: cls 0.01, rec 5e-4, reg 1e-3)")
      ->check(RealAtLeast(0));
  cmd->add_option("--seed", c.o.seed, "seed of initialisation, shuffling and motions")->capture_default_str();
  cmd->add_flag("--resume", c.o.resume, "continue from RUN/last.h5 (same options; raise --epochs to extend)");
  cmd->add_option("--eval-every", c.o.eval_every, "evaluate on the test split every k epochs")
      ->capture_default_str()
      ->check(PositiveInt());
  cmd->add_option("--max-angle", c.o.max_angle_deg, "reg: Euler angles uniform in ±this many degrees")
      ->capture_default_str();
  cmd->add_option("--threads", c.threads, "CPU threads (0: OpenMP default)")->capture_default_str();
  cmd->callback([&c, kind] { run_sampler(c, kind); });
}

}  // namespace

void register_task_training(CLI::App& app) {
  CLI::App* train = app.get_subcommand("train");
  static TaskNetCli ae, pcr;
  auto* a = train->add_subcommand("pcae", "Train the PCAE point-cloud autoencoder (reconstruction task network)");
  add_common(a, ae.o, ae.device, ae.threads);
  a->callback([] { run_tasknet(ae, true); });
  auto* r =
      train->add_subcommand("pcrnet", "Train single-pass PCRNet on registration pairs (registration task network)");
  add_common(r, pcr.o, pcr.device, pcr.threads);
  r->add_option("--max-angle", pcr.o.max_angle_deg, "Euler angles uniform in ±this many degrees")
      ->capture_default_str();
  r->add_option("--test-repeat", pcr.o.test_repeat, "test pairs per test shape")
      ->capture_default_str()
      ->check(PositiveInt());
  r->callback([] { run_tasknet(pcr, false); });
  register_sampler(train, "samplenet", "samplenet", "Train SampleNet (soft projection; fixed size or --progressive)");
  register_sampler(train, "snet", "snet", "Train S-NET (generated points, matched at inference)");
  register_sampler(train, "progressive", "progressivenet", "Train ProgressiveNet (ordered S-NET, control sizes)");
  register_sampler(train, "apsnet", "apsnet", "Train APSNet (attention-based sampler; --kd, --joint)");
}

}  // namespace pg::cli
