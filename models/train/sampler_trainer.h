// Training of the learned samplers (the library behind `pg train samplenet|snet|progressive`),
// on the generic Trainer with the task network frozen (models/zoo/samplenet.h).
//
// Data per task (models/train/task_eval.h): cls the first in_points (1024) points of every shape
// with labels; rec all points (in_points 2048); reg pairs of the first in_points (1024) points,
// a fresh motion per epoch for training, fixed pairs for testing; optionally one class only.
// Recipes (METHODS.md §4, §5.4), overridable:
//   cls  Adam lr 0.01, batch 32, lr ×0.7 every 600,000 samples (floor 1e-5) and the TF BN
//        momentum schedule with step 600,000 (the sampler's BN only; the task net is frozen)
//   rec  Adam lr 5e-4, batch 50, constant
//   reg  Adam lr 1e-3, batch 32, constant
// APSNet (§6.3, the released code): cls Adam lr 0.01, weight decay 1e-4, lr ×0.7 every 20
// epochs; rec Adam lr 5e-4, lr ×0.7 every 20 epochs, batch 50; reg Adam lr 1e-3 constant.
// Its "soft" metrics are APSNet-G (generated points), "matched" APSNet-M; eval_m default m.
// Loss weights, k, σ floor and output BN: default_sampler_config(kind, task, m, in_points,
// compat) with the options' overrides; the config is stored in every checkpoint.
//
// Logged: train metrics "task_loss", "simplify_loss" (+ "sigma" for SampleNet); eval metrics
// "test_soft_<metric>" (the task net on R[:, :m] for SampleNet, on Q[:, :m] for S-NET kinds)
// and "test_matched_<metric>" (on the matched + FPS-completed subset), <metric> acc / nre / mre
// (task_eval.h), at m = eval_m for progressive kinds (default min(32, m)), else m. Best
// checkpoint: the best matched value.
// Errors: a task model of the wrong kind, m > in_points, the Trainer's and readers' errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/device.h"
#include "models/train/trainer.h"
#include "models/zoo/samplenet.h"

namespace pg::train {

struct SamplerTrainOptions {
  std::string kind = "samplenet";  // samplenet | snet | progressivenet | apsnet
  models::SamplerTask task = models::SamplerTask::cls;
  int64_t m = 32;            // fixed: output size; progressive: the largest ordered size
  bool progressive = false;  // samplenet only
  std::string task_model;
  std::string data_dir, out_dir, class_name;
  Device device = Device::cpu();
  int64_t in_points = 0;  // 0: cls/reg 1024, rec 2048
  int64_t epochs = 100;
  int64_t batch_size = 0;  // 0: the task's default
  double lr = 0.0;         // 0: the task's default
  uint64_t seed = 1;
  bool resume = false;
  int64_t eval_every = 1;
  int64_t eval_m = 0;  // progressive kinds: the m evaluated during training (0: min(32, m)); apsnet (0: m)
  int prefetch = 4;
  std::string compat = "paper";
  // Overrides of the defaults (unset: the §5.3 value for the task).
  std::optional<double> alpha, beta, gamma, delta, lambda, min_sigma;
  std::optional<int64_t> k;
  std::optional<bool> last_bn;
  double init_temperature = 1.0;
  int64_t bottleneck = 128;
  // apsnet
  bool kd = false;
  std::string joint = "none";  // none | paper | code
  int64_t max_generated = 128;
  // reg
  double max_angle_deg = 45.0;
  uint64_t test_seed = 7;
  int64_t test_repeat = 1;
};

// The sampler config these options describe (task_model made absolute).
models::SamplerConfig sampler_config_for(const SamplerTrainOptions& o);

RunSummary train_sampler(const SamplerTrainOptions& opts, const TrainCallbacks& cb = {});

}  // namespace pg::train
