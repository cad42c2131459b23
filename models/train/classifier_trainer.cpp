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
#include "datasets/atomic_write.h"
#include "datasets/loader.h"
#include "models/nn/checkpoint.h"
#include "models/nn/optim.h"
#include "models/nn/schedule.h"
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

// SplitMix64 of (seed, epoch): the dropout stream of one epoch.
uint64_t epoch_seed(uint64_t seed, int64_t epoch) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch) + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::unique_ptr<nn::Optimizer> make_optimizer(const ClassifierTrainOptions& o, const std::vector<Tensor>& params) {
  if (o.optimizer == "adam" || o.optimizer == "adamw") {
    nn::AdamOptions a;
    a.lr = o.lr;
    a.weight_decay = o.weight_decay;
    if (o.optimizer == "adam") return std::make_unique<nn::Adam>(params, a);
    return std::make_unique<nn::AdamW>(params, a);
  }
  if (o.optimizer == "sgd") {
    nn::SGDOptions s;
    s.lr = o.lr;
    s.momentum = 0.9;
    s.weight_decay = o.weight_decay;
    return std::make_unique<nn::SGD>(params, s);
  }
  PG_FAIL("train: unknown optimizer '", o.optimizer, "' (expected adam, adamw or sgd)");
}

// Learning rate and BN momentum as functions of (epoch index from 0, samples seen).
struct Schedules {
  std::unique_ptr<nn::Schedule> lr, bn;
  bool per_sample = true;  // tf: counter = samples seen; else counter = epoch

  Schedules(const ClassifierTrainOptions& o) {
    if (o.schedule == "tf") {
      lr = nn::pointnet_tf_lr(o.lr, o.decay_step, o.decay_rate, o.min_lr);
      bn = nn::pointnet_tf_bn_momentum(o.decay_step);
      per_sample = true;
      return;
    }
    per_sample = false;
    bn = std::make_unique<nn::ConstantSchedule>(0.1);
    if (o.schedule == "step") lr = std::make_unique<nn::StepDecay>(o.lr, 20, o.decay_rate, o.min_lr);
    else if (o.schedule == "cosine") lr = std::make_unique<nn::CosineAnnealing>(o.lr, std::max<int64_t>(o.epochs, 1), o.min_lr);
    else if (o.schedule == "constant") lr = std::make_unique<nn::ConstantSchedule>(o.lr);
    else PG_FAIL("train: unknown schedule '", o.schedule, "' (expected tf, step, cosine or constant)");
  }
  double lr_at(int64_t epoch, int64_t samples) const { return lr->value(per_sample ? samples : epoch); }
  double bn_at(int64_t epoch, int64_t samples) const { return bn->value(per_sample ? samples : epoch); }
};

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

const char* kCsvHeader =
    "epoch,lr,bn_momentum,train_loss,train_acc,test_loss,test_acc,test_mean_class_acc,epoch_seconds,"
    "train_shapes_per_s\n";

std::string csv_row(const EpochRecord& r) {
  char buf[512];
  if (r.evaluated) {
    std::snprintf(buf, sizeof buf, "%lld,%.6g,%.6g,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%.2f\n",
                  static_cast<long long>(r.epoch), r.lr, r.bn_momentum, r.train_loss, r.train_accuracy, r.test_loss,
                  r.test_accuracy, r.test_mean_class_accuracy, r.seconds, r.shapes_per_second);
  } else {
    std::snprintf(buf, sizeof buf, "%lld,%.6g,%.6g,%.6f,%.6f,,,,%.3f,%.2f\n", static_cast<long long>(r.epoch), r.lr,
                  r.bn_momentum, r.train_loss, r.train_accuracy, r.seconds, r.shapes_per_second);
  }
  return buf;
}

// Keeps the header and the rows of epochs <= last_epoch (a resumed run rewrites what follows).
std::string read_csv_prefix(const std::string& path, int64_t last_epoch) {
  std::ifstream in(path);
  std::string out = kCsvHeader, line;
  if (!in) return out;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const long long e = std::atoll(line.c_str());
    if (e >= 1 && e <= last_epoch) out += line + "\n";
  }
  return out;
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
  lo.num_points = std::min(num_points, set.num_points());
  lo.shuffle = false;
  lo.prefetch = 2;
  datasets::DataLoader loader(set, lo);
  datasets::Batch b;
  double loss_sum = 0.0;
  int64_t correct = 0;
  loader.start_epoch(0);
  while (loader.next(b)) {
    const Tensor pts = b.points.to(model.config().tensor.dtype, device);
    const Tensor labels = b.labels.to(device);
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
  const nn::CheckpointData data = nn::read_checkpoint(path);
  models::PointNetConfig cfg = models::parse_pointnet_config_string(data.meta.config);
  auto model = std::make_shared<models::PointNet>(cfg);
  nn::load_checkpoint(path, *model, nullptr, /*strict=*/true);
  model->to(device);
  model->eval();
  return model;
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
  auto opt = make_optimizer(o, model->trainable_parameters());
  const Schedules sched(o);

  fs::create_directories(o.out_dir);
  const std::string last_path = (fs::path(o.out_dir) / "last.h5").string();
  const std::string best_path = (fs::path(o.out_dir) / "best.h5").string();
  const std::string csv_path = (fs::path(o.out_dir) / "log.csv").string();

  TrainSummary summary;
  int64_t samples_seen = 0;
  if (o.resume) {
    PG_CHECK(fs::exists(last_path), "train: --resume but there is no checkpoint ", last_path);
    const nn::CheckpointMeta meta = nn::load_checkpoint(last_path, *model, opt.get(), true);
    summary.start_epoch = meta.epoch;
    auto get = [&](const char* k) {
      auto it = meta.scalars.find(k);
      return it == meta.scalars.end() ? 0.0 : it->second;
    };
    samples_seen = static_cast<int64_t>(get("samples_seen"));
    summary.best_test_accuracy = get("best_test_accuracy");
    summary.best_epoch = static_cast<int64_t>(get("best_epoch"));
    std::ostringstream s;
    s << "resumed from " << last_path << " after epoch " << meta.epoch << " (" << samples_seen << " samples seen)";
    say(s.str());
    PG_CHECK(meta.epoch < o.epochs, "train: the checkpoint is already at epoch ", meta.epoch, " of ", o.epochs,
             "; raise --epochs to train further");
  }
  std::string csv = o.resume ? read_csv_prefix(csv_path, summary.start_epoch) : std::string(kCsvHeader);
  datasets::write_text_atomic(csv_path, csv);
  {
    std::ostringstream s;
    s << "model PointNet (" << models::pointnet_variant_name(o.variant) << "), " << model->num_parameters()
      << " parameters, on " << o.device.str() << "; optimizer " << opt->name() << ", schedule " << o.schedule;
    say(s.str());
  }

  datasets::LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.num_points = o.num_points;
  lo.shuffle = true;
  lo.drop_last = true;
  lo.seed = o.seed;
  lo.prefetch = o.prefetch;
  if (o.augment) lo.augment = datasets::Augment::pointnet();
  datasets::DataLoader loader(train_set, lo);
  const int64_t batches = loader.batches_per_epoch();
  const std::string config_str = options_string(o, cfg);

  double train_seconds_total = 0.0;
  int64_t epochs_timed = 0;
  for (int64_t e = summary.start_epoch; e < o.epochs; ++e) {
    const auto t_epoch = Clock::now();
    model->train();
    gen.manual_seed(epoch_seed(o.seed, e));
    loader.start_epoch(e);
    EpochRecord rec;
    rec.epoch = e + 1;
    rec.lr = sched.lr_at(e, samples_seen);
    rec.bn_momentum = sched.bn_at(e, samples_seen);
    double loss_sum = 0.0;
    int64_t correct = 0, seen = 0;
    datasets::Batch b;
    while (loader.next(b)) {
      // Schedules advance per batch (TF's global step counts samples).
      const double lr = sched.lr_at(e, samples_seen);
      opt->set_lr(lr);
      model->set_bn_momentum(sched.bn_at(e, samples_seen));
      const Tensor pts = b.points.to(cfg.tensor.dtype, o.device);
      const Tensor labels = b.labels.to(o.device);
      const models::PointNetOutput out = model->forward(pts);
      const Tensor loss = model->loss(out, labels, o.label_smoothing);
      opt->zero_grad();
      loss.backward();
      opt->step();
      const double lv = loss.item_double();
      PG_CHECK(std::isfinite(lv), "train: the loss became ", lv, " at epoch ", e + 1, " batch ", b.index + 1,
               " (lower --lr?)");
      loss_sum += lv * static_cast<double>(b.size());
      {
        NoGradGuard ng;
        correct += count_correct(out.logits, labels, nullptr, nullptr);
      }
      seen += b.size();
      samples_seen += b.size();
      if (cb.on_batch) {
        BatchProgress p;
        p.epoch = e + 1;
        p.epochs = o.epochs;
        p.batch = b.index + 1;
        p.batches = batches;
        p.loss = loss_sum / static_cast<double>(seen);
        p.accuracy = static_cast<double>(correct) / static_cast<double>(seen);
        const double el = seconds_since(t_epoch);
        p.shapes_per_second = static_cast<double>(seen) / std::max(el, 1e-9);
        const double per_epoch = epochs_timed > 0 ? train_seconds_total / static_cast<double>(epochs_timed)
                                                  : el / static_cast<double>(p.batch) * static_cast<double>(batches);
        p.eta_seconds = std::max(0.0, per_epoch - el) + per_epoch * static_cast<double>(o.epochs - e - 1);
        cb.on_batch(p);
      }
    }
    rec.train_loss = loss_sum / static_cast<double>(std::max<int64_t>(seen, 1));
    rec.train_accuracy = static_cast<double>(correct) / static_cast<double>(std::max<int64_t>(seen, 1));
    const double train_secs = seconds_since(t_epoch);
    rec.shapes_per_second = static_cast<double>(seen) / std::max(train_secs, 1e-9);

    const bool last = e + 1 == o.epochs;
    if (((e + 1) % o.eval_every == 0 || last) && test_set.size() > 0) {
      const ClassEvaluation ev = evaluate_classifier(*model, test_set, o.device, o.batch_size, o.num_points);
      rec.evaluated = true;
      rec.test_loss = ev.loss;
      rec.test_accuracy = ev.accuracy;
      rec.test_mean_class_accuracy = ev.mean_class_accuracy;
      if (last) summary.final_eval = ev;
    }
    rec.seconds = seconds_since(t_epoch);
    train_seconds_total += rec.seconds;
    ++epochs_timed;

    const bool is_best = rec.evaluated && (summary.best_epoch == 0 || rec.test_accuracy > summary.best_test_accuracy);
    if (is_best) {
      summary.best_test_accuracy = rec.test_accuracy;
      summary.best_epoch = rec.epoch;
    }
    nn::CheckpointMeta meta;
    meta.epoch = rec.epoch;
    meta.config = config_str;
    meta.scalars = {{"samples_seen", static_cast<double>(samples_seen)},
                    {"train_loss", rec.train_loss},
                    {"train_accuracy", rec.train_accuracy},
                    {"best_test_accuracy", summary.best_test_accuracy},
                    {"best_epoch", static_cast<double>(summary.best_epoch)}};
    if (rec.evaluated) meta.scalars["test_accuracy"] = rec.test_accuracy;
    nn::save_checkpoint(last_path, *model, opt.get(), meta);
    if (is_best) nn::save_checkpoint(best_path, *model, opt.get(), meta);
    if (o.keep_all_checkpoints) {
      char name[32];
      std::snprintf(name, sizeof name, "epoch_%04lld.h5", static_cast<long long>(rec.epoch));
      nn::save_checkpoint((fs::path(o.out_dir) / name).string(), *model, opt.get(), meta);
    }
    csv += csv_row(rec);
    datasets::write_text_atomic(csv_path, csv);
    summary.epochs.push_back(rec);
    if (cb.on_epoch) cb.on_epoch(rec);
  }
  summary.last_checkpoint = last_path;
  summary.best_checkpoint = summary.best_epoch > 0 ? best_path : std::string();
  summary.seconds = seconds_since(t_start);
  return summary;
}

}  // namespace pg::train
