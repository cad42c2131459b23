#include "models/train/classifier_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "core/random.h"
#include "datasets/loader.h"
#include "datasets/cloud_set_dataset.h"
#include "datasets/transforms.h"
#include "models/nn/schedule.h"
#include "models/zoo/registry.h"
#include "ops/ops.h"

namespace pg::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Number of correct argmax predictions, and per-class tallies when asked.
int64_t count_correct(const Tensor& logits, const Tensor& labels, std::vector<int64_t>* class_correct,
                      std::vector<int64_t>* class_total) {
  const std::vector<int64_t> pred = argmax(logits, 1).to(Device::cpu()).to_vector<int64_t>();
  const std::vector<int64_t> truth = labels.to(Device::cpu()).to_vector<int64_t>();
  int64_t correct = 0;
  for (size_t i = 0; i < pred.size(); ++i) {
    const bool ok = pred[i] == truth[i];
    correct += ok;
    if (class_total != nullptr) {
      (*class_total)[static_cast<size_t>(truth[i])] += 1;
      (*class_correct)[static_cast<size_t>(truth[i])] += ok;
    }
  }
  return correct;
}

// The lr and BN-momentum schedules of `o.schedule`: tf counts samples, the others epochs.
void set_schedules(const ClassifierTrainOptions& o, TrainerOptions& t) {
  if (o.schedule == "tf") {
    t.lr_schedule = nn::pointnet_tf_lr(o.lr, o.decay_step, o.decay_rate, o.min_lr);
    t.bn_momentum_schedule = nn::pointnet_tf_bn_momentum(o.decay_step);
    t.schedule_unit = ScheduleUnit::sample;
    return;
  }
  t.schedule_unit = ScheduleUnit::epoch;
  t.bn_momentum_schedule = std::make_shared<nn::ConstantSchedule>(0.1);
  if (o.schedule == "step") t.lr_schedule = std::make_shared<nn::StepDecay>(o.lr, 20, o.decay_rate, o.min_lr);
  else if (o.schedule == "cosine") t.lr_schedule = std::make_shared<nn::CosineAnnealing>(o.lr, std::max<int64_t>(o.epochs, 1), o.min_lr);
  else if (o.schedule == "constant") t.lr_schedule = std::make_shared<nn::ConstantSchedule>(o.lr);
  else PG_FAIL("train: unknown schedule '", o.schedule, "' (expected tf, step, cosine or constant)");
}

std::string options_string(const ClassifierTrainOptions& o, const models::PointNetConfig& cfg) {
  std::ostringstream s;
  s.precision(17);
  s << models::pointnet_config_string(cfg) << " data=" << o.data_dir << " epochs=" << o.epochs
    << " batch_size=" << o.batch_size << " num_points=" << o.num_points << " lr=" << o.lr
    << " optimizer=" << o.optimizer << " weight_decay=" << o.weight_decay << " schedule=" << o.schedule
    << " decay_step=" << o.decay_step << " decay_rate=" << o.decay_rate << " min_lr=" << o.min_lr
    << " augment=" << o.augment << " label_smoothing=" << o.label_smoothing << " seed=" << o.seed;
  return s.str();
}

}  // namespace

ClassEvaluation evaluate_classifier(models::PointNet& model, const datasets::PointCloudSet& set, Device device,
                                    int64_t batch_size, int64_t num_points) {
  PG_CHECK(set.size() > 0, "evaluate: the data set is empty");
  PG_CHECK(batch_size >= 1, "evaluate: batch size must be positive, got ", batch_size);
  const auto t0 = Clock::now();
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  ClassEvaluation ev;
  const int64_t nc = std::max<int64_t>(set.num_classes(), model.config().num_classes);
  ev.class_correct.assign(static_cast<size_t>(nc), 0);
  ev.class_total.assign(static_cast<size_t>(nc), 0);
  ev.class_names = set.class_names;
  datasets::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.shuffle = false;
  lo.prefetch = 2;
  datasets::DataLoader loader(
      std::make_shared<datasets::CloudSetDataset>(set, "evaluation set", std::min(num_points, set.num_points())), lo);
  datasets::Batch b;
  double loss_sum = 0.0;
  int64_t correct = 0;
  loader.start_epoch(0);
  while (loader.next(b)) {
    const Tensor pts = b["points"].to(model.config().tensor.dtype, device);
    const Tensor labels = b["label"].to(device);
    const models::PointNetOutput out = model.forward(pts);
    loss_sum += cross_entropy(out.logits, labels, Reduction::sum).item_double();
    correct += count_correct(out.logits, labels, &ev.class_correct, &ev.class_total);
    ev.num_shapes += b.size();
  }
  model.train(was_training);
  ev.loss = loss_sum / static_cast<double>(ev.num_shapes);
  ev.accuracy = static_cast<double>(correct) / static_cast<double>(ev.num_shapes);
  double acc_sum = 0.0;
  int64_t present = 0;
  for (size_t c = 0; c < ev.class_total.size(); ++c) {
    if (ev.class_total[c] == 0) continue;
    acc_sum += static_cast<double>(ev.class_correct[c]) / static_cast<double>(ev.class_total[c]);
    ++present;
  }
  ev.mean_class_accuracy = present > 0 ? acc_sum / static_cast<double>(present) : 0.0;
  ev.seconds = seconds_since(t0);
  return ev;
}

std::shared_ptr<models::PointNet> load_pointnet_checkpoint(const std::string& path, Device device) {
  return models::load_model_as<models::PointNet>(path, device, "pointnet");
}

TrainSummary train_pointnet_classifier(const ClassifierTrainOptions& o, const TrainCallbacks& cb) {
  PG_CHECK(!o.data_dir.empty(), "train: no data folder given");
  PG_CHECK(!o.out_dir.empty(), "train: no output folder given");
  PG_CHECK(o.epochs >= 1, "train: epochs must be positive, got ", o.epochs);
  PG_CHECK(o.batch_size >= 2, "train: batch size must be at least 2 (BatchNorm), got ", o.batch_size);
  PG_CHECK(o.num_points >= 1, "train: num_points must be positive, got ", o.num_points);
  PG_CHECK(o.lr > 0.0 && std::isfinite(o.lr), "train: learning rate must be positive, got ", o.lr);
  PG_CHECK(o.eval_every >= 1, "train: eval_every must be positive, got ", o.eval_every);
  auto say = [&](const std::string& s) {
    if (cb.message) cb.message(s);
  };
  const auto t_start = Clock::now();

  datasets::ModelNetReadOptions ro;
  ro.max_points = o.num_points;
  const datasets::PointCloudSet train_set = datasets::read_modelnet40(o.data_dir, datasets::Split::train, ro);
  const datasets::PointCloudSet test_set = datasets::read_modelnet40(o.data_dir, datasets::Split::test, ro);
  PG_CHECK(train_set.num_points() == o.num_points, "train: the data has ", train_set.num_points(),
           " points per shape, fewer than num_points = ", o.num_points);
  PG_CHECK(train_set.size() >= o.batch_size, "train: the training split has ", train_set.size(),
           " shapes, fewer than one batch of ", o.batch_size);
  {
    std::ostringstream s;
    s << "data " << o.data_dir << ": " << train_set.size() << " train / " << test_set.size() << " test shapes, "
      << train_set.num_classes() << " classes, " << o.num_points << " points";
    say(s.str());
  }

  Generator gen(o.seed);
  models::PointNetConfig cfg;
  cfg.variant = o.variant;
  cfg.num_classes = train_set.num_classes();
  cfg.gen = &gen;
  auto model = std::make_shared<models::PointNet>(cfg);
  model->to(o.device);

  TrainerOptions t;
  t.out_dir = o.out_dir;
  t.epochs = o.epochs;
  t.seed = o.seed;
  t.resume = o.resume;
  t.batch_size = o.batch_size;
  t.shuffle = true;
  t.drop_last = true;  // a batch of 1 cannot be batch-normalised
  t.prefetch = o.prefetch;
  if (o.augment) t.transforms = {datasets::point_transform({datasets::rotate_y(), datasets::jitter(0.01, 0.05)})};
  t.optimizer.name = o.optimizer;
  t.optimizer.lr = o.lr;
  t.optimizer.weight_decay = o.weight_decay;
  t.optimizer.momentum = 0.9;
  set_schedules(o, t);
  t.train_metrics = {"acc"};
  t.eval_every = o.eval_every;
  t.keep_all_checkpoints = o.keep_all_checkpoints;
  t.generators = {&gen};  // the dropout masks
  t.sample_unit = "shapes";
  t.config = options_string(o, cfg);
  t.attributes = {{"train.data", o.data_dir}, {"train.seed", std::to_string(o.seed)}};
  EvalFn evaluate;
  TrainSummary summary;
  if (test_set.size() > 0) {
    t.eval_metrics = {"test_loss", "test_acc", "test_mean_class_acc"};
    t.best_metric = "test_acc";
    t.best_goal = Goal::maximize;
    evaluate = [&](nn::Module&) {
      summary.final_eval = evaluate_classifier(*model, test_set, o.device, o.batch_size, o.num_points);
      const ClassEvaluation& ev = summary.final_eval;
      return Metrics{{"test_loss", ev.loss}, {"test_acc", ev.accuracy}, {"test_mean_class_acc", ev.mean_class_accuracy}};
    };
  }
  const DType dtype = cfg.tensor.dtype;
  auto step = [&](const datasets::Batch& b) {
    const Tensor pts = b["points"].to(dtype, o.device);
    const Tensor labels = b["label"].to(o.device);
    const models::PointNetOutput out = model->forward(pts);
    StepOutput so;
    so.loss = model->loss(out, labels, o.label_smoothing);
    NoGradGuard ng;
    const int64_t correct = count_correct(out.logits, labels, nullptr, nullptr);
    so.metrics = {{"acc", static_cast<double>(correct) / static_cast<double>(b.size())}};
    return so;
  };
  auto dataset = std::make_shared<datasets::CloudSetDataset>(train_set, "ModelNet40 train", o.num_points);
  Trainer trainer(model, dataset, step, evaluate, t, cb);
  {
    std::ostringstream s;
    s << "model PointNet (" << models::pointnet_variant_name(o.variant) << "), " << model->num_parameters()
      << " parameters, on " << o.device.str() << "; optimizer " << trainer.optimizer().name() << ", schedule "
      << o.schedule;
    say(s.str());
  }
  const RunSummary run = trainer.fit();
  summary.epochs = run.epochs;
  summary.start_epoch = run.start_epoch;
  summary.best_test_accuracy = run.best_value;
  summary.best_epoch = run.best_epoch;
  summary.last_checkpoint = run.last_checkpoint;
  summary.best_checkpoint = run.best_checkpoint;
  // final_eval holds the evaluation after the last epoch (the last evaluation runs then).
  if (run.epochs.empty() || !run.epochs.back().evaluated) summary.final_eval = ClassEvaluation{};
  summary.seconds = seconds_since(t_start);
  return summary;
}

}  // namespace pg::train
