// Trainer: the model-agnostic training loop. The caller gives the model, the training data, a
// STEP function (batch → loss + named scalar metrics) and an EVALUATION function (model → named
// metrics); the trainer owns the rest: epochs, the data loader, the optimizer, lr / BN-momentum
// schedules, gradient clipping, non-finite checks, progress callbacks, the CSV log, checkpoints
// and exact resume.
//
//   train::TrainerOptions o;
//   o.out_dir = "runs/pcae"; o.epochs = 100; o.batch_size = 32; o.seed = 1;
//   o.optimizer = {"adam", 1e-3};
//   o.train_metrics = {};                        // the loss is always logged as train_loss
//   o.eval_metrics = {"test_chamfer"};
//   o.best_metric = "test_chamfer"; o.best_goal = train::Goal::minimize;
//   train::Trainer t(model, train_set,
//       [&](const datasets::Batch& b) { return train::StepOutput{chamfer(model->forward(b["points"]), ...)}; },
//       [&](nn::Module&) { return train::Metrics{{"test_chamfer", evaluate(*model, test_set)}}; }, o, callbacks);
//   train::RunSummary s = t.fit();
//
// Per epoch e (0-based; logs and checkpoints count from 1):
//   1. model.train(); every generator in `generators` (the model's dropout / sampling RNGs) is
//      re-seeded from (seed, e); the loader starts epoch e (its order and transforms depend only
//      on (seed, e)).
//   2. Per batch: lr = lr_schedule(t), BN momentum = bn_momentum_schedule(t) (t = epoch, optimizer
//      step or samples seen before the batch, per schedule_unit); step(batch); a non-finite loss
//      stops; zero_grad, backward; a non-finite gradient stops; clipping; optimizer step.
//   3. Every eval_every epochs and after the last: evaluate(model) in eval mode under NoGradGuard.
//   4. last.h5 (model + optimizer + meta), best.h5 when `best_metric` improved (strictly; the
//      first value counts as an improvement), epoch_NNNN.h5 with keep_all_checkpoints, then the
//      log row. All writes are atomic.
//
// Files in out_dir (created if missing):
//   log.csv  columns: epoch, lr, bn_momentum, train_loss, train_<m> for every train metric,
//            every eval metric (empty cells in epochs without evaluation), epoch_seconds,
//            train_<sample_unit>_per_s. Metrics are printed with 8 significant digits, lr /
//            momentum with 6. The column order is fixed by the options.
//   last.h5, best.h5, epoch_NNNN.h5: nn checkpoints. meta.config = options.config; meta.attributes
//            = the model's configuration (models/zoo/registry.h checkpoint_attributes, when the
//            model is an nn::Model; it records frozen children and their fingerprints) plus
//            options.attributes; meta.scalars = samples_seen, steps, best_epoch,
//            best_<best_metric>, and this epoch's values of every log column.
//
// Resume (resume = true): loads out_dir/last.h5 into the model and optimizer after checking that
// its model config equals the model's (pg::Error naming the differences) and that frozen
// children are unchanged; restores samples_seen, steps and the best value; keeps the log rows up
// to that epoch (the log's header must match). Because every random stream is a function of
// (seed, epoch) and schedules are functions of counters, a resumed run is bit-identical to the
// uninterrupted one (same device and thread count).
//
// Non-finite values (check_finite, default on): a NaN/Inf loss, or a NaN/Inf gradient after
// backward, stops training with a pg::Error naming the epoch, the batch, the global step and the
// first non-finite parameter (dotted name; for a loss: the first parameter whose VALUE is
// non-finite, or "all parameters finite"); nothing is written for that epoch, so last.h5 stays
// the last good checkpoint.
//
// Frozen children (nn::Module::register_frozen) are not optimised (the optimizer gets
// trainable_parameters()), stay in eval mode, keep their BN momenta, and are not saved in the
// checkpoints (their source and fingerprint are recorded instead).
//
// Errors: invalid options (naming the option and value), a step whose loss is undefined or not a
// single floating value, step/eval metrics whose names differ from the declared ones, a best
// metric that is not a log column, fewer samples than one batch with drop_last.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/random.h"
#include "datasets/dataset.h"
#include "datasets/loader.h"
#include "models/nn/module.h"
#include "models/nn/optim.h"
#include "models/nn/schedule.h"

namespace pg::train {

// Named scalars in a fixed order.
using Metrics = std::vector<std::pair<std::string, double>>;
// The value called `name`; throws naming the available names when absent.
double metric_value(const Metrics& m, const std::string& name);

struct StepOutput {
  Tensor loss;      // a single floating value with a graph to the trainable parameters
  Metrics metrics;  // batch means of TrainerOptions::train_metrics, same names and order
};
using StepFn = std::function<StepOutput(const datasets::Batch&)>;
using EvalFn = std::function<Metrics(nn::Module&)>;

struct OptimizerOptions {
  std::string name = "adam";  // adam | adamw | sgd
  double lr = 1e-3;
  double weight_decay = 0.0;
  double momentum = 0.9;  // sgd
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam, adamw
};
std::unique_ptr<nn::Optimizer> make_optimizer(const OptimizerOptions& o, std::vector<Tensor> params);

enum class ScheduleUnit : uint8_t { epoch, step, sample };
enum class Goal : uint8_t { minimize, maximize };

struct TrainerOptions {
  std::string out_dir;
  int64_t epochs = 1;
  uint64_t seed = 0;
  bool resume = false;
  // data
  int64_t batch_size = 32;
  bool shuffle = true;
  bool drop_last = true;
  int prefetch = 4;
  std::vector<datasets::Transform> transforms;
  // optimisation
  OptimizerOptions optimizer;
  std::shared_ptr<const nn::Schedule> lr_schedule;           // null: the optimizer's lr throughout
  std::shared_ptr<const nn::Schedule> bn_momentum_schedule;  // null: BN momenta left alone
  ScheduleUnit schedule_unit = ScheduleUnit::epoch;
  double clip_grad_norm = 0.0;   // > 0: clip the total L2 norm of the gradients to this
  double clip_grad_value = 0.0;  // > 0: clamp every gradient element to ±this
  bool check_finite = true;
  // metrics, evaluation, checkpoints
  std::vector<std::string> train_metrics;
  std::vector<std::string> eval_metrics;
  int64_t eval_every = 1;
  std::string best_metric;  // a log column, e.g. "test_acc" or "train_loss"; empty: no best.h5
  Goal best_goal = Goal::maximize;
  bool keep_all_checkpoints = false;
  std::vector<Generator*> generators;  // re-seeded from (seed, epoch) at every epoch start
  std::string sample_unit = "samples";
  std::string config;                              // CheckpointMeta::config
  std::map<std::string, std::string> attributes;  // extra CheckpointMeta::attributes
};

// ---- reporting (rendered by tools/pg) ----
struct BatchProgress {
  int64_t epoch = 0, epochs = 0;    // epoch is 1-based here
  int64_t batch = 0, batches = 0;   // batch is 1-based
  Metrics running;                  // "loss" then the train metrics: means over the epoch so far
  double samples_per_second = 0.0;  // over the epoch so far
  double eta_seconds = 0.0;         // for the whole run
};

struct EpochRecord {
  int64_t epoch = 0;  // 1-based
  double lr = 0.0, bn_momentum = 0.0;
  Metrics train;  // "loss" then the train metrics: epoch means (weighted by batch size)
  bool evaluated = false;
  Metrics eval;  // the eval metrics when evaluated
  double seconds = 0.0, samples_per_second = 0.0;
  // The value of a log column ("train_loss", "train_acc", an eval metric); nullptr when absent.
  const double* find(const std::string& column) const;
};

struct TrainCallbacks {
  std::function<void(const std::string&)> message;  // one-line notices (data, model, resume)
  std::function<void(const BatchProgress&)> on_batch;
  std::function<void(const EpochRecord&)> on_epoch;
};

struct RunSummary {
  std::vector<EpochRecord> epochs;  // the epochs run by this call
  int64_t start_epoch = 0;          // epochs already done before (resume)
  double best_value = 0.0;          // of best_metric (when set and seen)
  int64_t best_epoch = 0;           // 0 when none
  std::string last_checkpoint, best_checkpoint, log;
  double seconds = 0.0;
};

class Trainer {
 public:
  Trainer(std::shared_ptr<nn::Module> model, datasets::DatasetPtr train_data, StepFn step, EvalFn evaluate,
          TrainerOptions opts, TrainCallbacks callbacks = {});
  ~Trainer();

  RunSummary fit();

  nn::Module& model() { return *model_; }
  nn::Optimizer& optimizer() { return *optimizer_; }
  int64_t batches_per_epoch() const;
  const TrainerOptions& options() const { return opts_; }
  // The log header (without the newline).
  std::string log_header() const;

 private:
  std::shared_ptr<nn::Module> model_;
  datasets::DatasetPtr data_;
  StepFn step_;
  EvalFn evaluate_;
  TrainerOptions opts_;
  TrainCallbacks cb_;
  std::unique_ptr<nn::Optimizer> optimizer_;
  std::unique_ptr<datasets::DataLoader> loader_;
};

// The seed of generator `index` in epoch `epoch` (SplitMix64 of (seed, epoch); index 0 is the
// classifier trainer's historical stream).
uint64_t epoch_seed(uint64_t seed, int64_t epoch, size_t index = 0);

}  // namespace pg::train
