// Training of the sampler tasks' own networks on a ModelNet40-layout folder (the library behind
// `pg train pcae` and `pg train pcrnet`), on the generic Trainer (models/train/trainer.h).
//
// PCAE (METHODS.md §3.3): clouds of `points` points (default 2048, all of them), Adam lr 5e-4,
//   batch 50, constant lr, no augmentation; eval metric "test_chamfer" (mean Chamfer of the
//   test reconstructions), best = lowest.
// PCRNet (§3.4): registration pairs of the first `points` points (default 1024); training pairs
//   get a fresh random motion per epoch (registration_transform: Euler angles in ±max_angle,
//   no translation), test pairs are fixed (seed test_seed, test_repeat per shape); Adam lr 1e-3,
//   batch 32, constant lr; eval metrics "test_loss" (PCRNet loss) and "test_mre" (degrees),
//   best = lowest test_loss (the reference selects by validation loss).
// Both: optional `class_name` restricts train and test to one class (e.g. "airplane"). Output
// folder, log, checkpoints and resume as the Trainer's. Train metric: none beyond the loss.
// Errors: as the Trainer's and the readers', plus a training split smaller than one batch.
#pragma once

#include <cstdint>
#include <string>

#include "core/device.h"
#include "models/train/trainer.h"

namespace pg::train {

struct TaskNetTrainOptions {
  std::string data_dir, out_dir;
  std::string class_name;  // empty: every class
  Device device = Device::cpu();
  int64_t epochs = 500;
  int64_t batch_size = 0;  // 0: the network's default (PCAE 50, PCRNet 32)
  int64_t points = 0;      // 0: the network's default (PCAE 2048, PCRNet 1024)
  double lr = 0.0;         // 0: the network's default (PCAE 5e-4, PCRNet 1e-3)
  uint64_t seed = 1;
  bool resume = false;
  int64_t eval_every = 1;
  int prefetch = 4;
  // PCRNet
  double max_angle_deg = 45.0;
  uint64_t test_seed = 7;
  int64_t test_repeat = 1;
};

RunSummary train_pcae(const TaskNetTrainOptions& opts, const TrainCallbacks& cb = {});
RunSummary train_pcrnet(const TaskNetTrainOptions& opts, const TrainCallbacks& cb = {});

}  // namespace pg::train
