// Training and evaluation of the PointNet classifier on a ModelNet40-layout data set (the
// library behind `pg train pointnet` / `pg eval pointnet`).
//
// Recipe (METHODS.md §3.1, TF reference), all overridable:
//   Adam lr 0.001, batch 32, first 1024 points, augmentation = rotation about y + jitter
//   σ 0.01 clipped 0.05; lr ×0.7 every 200,000 samples (staircase, floor 1e-5) and the TF BN
//   decay schedule (momentum 0.5 halving every 200,000 samples, floor 0.01). Remainder batches
//   are dropped in training (a batch of 1 cannot be batch-normalised).
//
// Output folder (`out_dir`):
//   last.h5   checkpoint after every epoch (model, optimizer, epoch, config, scalars)
//   best.h5   the epoch with the best test accuracy so far (when evaluating every epoch)
//   epoch_NNNN.h5   with keep_all_checkpoints
//   log.csv   one row per epoch: epoch, lr, bn_momentum, train_loss, train_acc, test_loss,
//             test_acc, test_mean_class_acc, epoch_seconds, train_shapes_per_s
//
// Determinism and resume: the batches of epoch e depend only on (seed, e) and the dropout
// generator is re-seeded from (seed, e) at the start of every epoch, so resuming from the
// checkpoint of epoch e reproduces the uninterrupted run (on the same device and thread count).
//
// Built on train::Trainer (models/train/trainer.h): this file supplies the data (ModelNet40 as a
// CloudSetDataset, the augmentation as one point transform), the step (forward, loss,
// batch accuracy) and the evaluation (overall / mean-class accuracy); progress is reported
// through the Trainer's TrainCallbacks (train metric "acc", eval metrics "test_loss",
// "test_acc", "test_mean_class_acc"; samples are "shapes").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/device.h"
#include "datasets/modelnet40.h"
#include "models/train/trainer.h"
#include "models/zoo/pointnet.h"

namespace pg::train {

struct ClassifierTrainOptions {
  std::string data_dir;  // ModelNet40 layout (train_files.txt, test_files.txt, shape_names.txt)
  std::string out_dir;   // created if missing
  Device device = Device::cpu();
  models::PointNetVariant variant = models::PointNetVariant::vanilla;
  int64_t epochs = 250;
  int64_t batch_size = 32;
  int64_t num_points = 1024;
  double lr = 0.001;
  std::string optimizer = "adam";  // adam | adamw | sgd (momentum 0.9)
  double weight_decay = 0.0;
  std::string schedule = "tf";     // tf (per samples, see above) | step (×0.7 every 20 epochs) | cosine | constant
  int64_t decay_step = 200000;     // samples, for the tf schedule
  double decay_rate = 0.7;
  double min_lr = 1e-5;
  bool augment = true;
  double label_smoothing = 0.0;
  uint64_t seed = 1;
  bool resume = false;             // continue from out_dir/last.h5
  bool keep_all_checkpoints = false;
  int64_t eval_every = 1;          // evaluate on the test split every k epochs (and after the last)
  int prefetch = 4;
};

struct ClassEvaluation {
  double loss = 0.0;                 // mean cross-entropy (without the regulariser)
  double accuracy = 0.0;             // overall, in [0, 1]
  double mean_class_accuracy = 0.0;  // mean over classes present in the split
  int64_t num_shapes = 0;
  std::vector<int64_t> class_correct, class_total;
  std::vector<std::string> class_names;
  double seconds = 0.0;
};

// Runs the model in eval mode over every shape of `set` (first num_points points). Throws for an
// empty set or a label outside the model's classes.
ClassEvaluation evaluate_classifier(models::PointNet& model, const datasets::PointCloudSet& set, Device device,
                                    int64_t batch_size = 32, int64_t num_points = 1024);

struct TrainSummary {
  std::vector<EpochRecord> epochs;   // the epochs run by this call
  int64_t start_epoch = 0;           // epochs already done before (resume)
  double best_test_accuracy = 0.0;
  int64_t best_epoch = 0;
  ClassEvaluation final_eval;        // of the model after the last epoch
  std::string last_checkpoint, best_checkpoint;
  double seconds = 0.0;
};

TrainSummary train_pointnet_classifier(const ClassifierTrainOptions& opts, const TrainCallbacks& cb = {});

// Loads a checkpoint written by the trainer, rebuilding the architecture from its config
// (models/zoo/registry.h: a checkpoint of another model is an error naming it).
std::shared_ptr<models::PointNet> load_pointnet_checkpoint(const std::string& path, Device device);

}  // namespace pg::train
