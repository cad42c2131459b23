#include "models/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/error.h"
#include "datasets/atomic_write.h"
#include "models/nn/batchnorm.h"
#include "models/nn/checkpoint.h"
#include "models/nn/clip.h"
#include "models/nn/embedding.h"
#include "models/zoo/registry.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

namespace pg::train {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string names_of(const Metrics& m) {
  std::string out;
  for (const auto& [n, v] : m) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? std::string("none") : out;
}

std::string names_of(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& n : v) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? std::string("none") : out;
}

// The returned metrics must carry exactly the declared names, in order.
void check_metric_names(const Metrics& got, const std::vector<std::string>& declared, const char* what) {
  bool same = got.size() == declared.size();
  for (size_t i = 0; same && i < got.size(); ++i) same = got[i].first == declared[i];
  PG_CHECK(same, "train: the ", what, " returned the metrics {", names_of(got), "} but the options declare {",
           names_of(declared), "} (same names, same order)");
}

// Whether every element of t is finite (empty tensors are).
bool all_finite(const Tensor& t) {
  if (!t.defined() || t.numel() == 0) return true;
  NoGradGuard ng;
  return std::isfinite(max(abs(t.detach())).item_double());
}

std::string fmt_metric(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.8g", v);
  return buf;
}

std::string fmt_g6(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

double metric_value(const Metrics& m, const std::string& name) {
  for (const auto& [n, v] : m) {
    if (n == name) return v;
  }
  PG_FAIL("train: no metric named '", name, "' (metrics: ", names_of(m), ")");
}

const double* EpochRecord::find(const std::string& column) const {
  const std::string prefix = "train_";
  if (column.compare(0, prefix.size(), prefix) == 0) {
    for (const auto& [n, v] : train) {
      if (prefix + n == column) return &v;
    }
  }
  if (evaluated) {
    for (const auto& [n, v] : eval) {
      if (n == column) return &v;
    }
  }
  return nullptr;
}

uint64_t epoch_seed(uint64_t seed, int64_t epoch, size_t index) {
  // SplitMix64 of (seed, epoch); other generators get their own stream key.
  uint64_t z = (seed + static_cast<uint64_t>(index) * 0xD1B54A32D192ED03ULL) * 0x9E3779B97F4A7C15ULL +
               static_cast<uint64_t>(epoch) + 0x632BE59BD9B4E019ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::unique_ptr<nn::Optimizer> make_optimizer(const OptimizerOptions& o, std::vector<Tensor> params) {
  PG_CHECK(o.lr > 0.0 && std::isfinite(o.lr), "train: learning rate must be positive, got ", o.lr);
  if (o.name == "adam" || o.name == "adamw") {
    nn::AdamOptions a;
    a.lr = o.lr;
    a.beta1 = o.beta1;
    a.beta2 = o.beta2;
    a.eps = o.eps;
    a.weight_decay = o.weight_decay;
    if (o.name == "adam") return std::make_unique<nn::Adam>(std::move(params), a);
    return std::make_unique<nn::AdamW>(std::move(params), a);
  }
  if (o.name == "sgd") {
    nn::SGDOptions s;
    s.lr = o.lr;
    s.momentum = o.momentum;
    s.weight_decay = o.weight_decay;
    return std::make_unique<nn::SGD>(std::move(params), s);
  }
  PG_FAIL("train: unknown optimizer '", o.name, "' (expected adam, adamw or sgd)");
}

Trainer::Trainer(std::shared_ptr<nn::Module> model, datasets::DatasetPtr train_data, StepFn step, EvalFn evaluate,
                 TrainerOptions opts, TrainCallbacks callbacks)
    : model_(std::move(model)),
      data_(std::move(train_data)),
      step_(std::move(step)),
      evaluate_(std::move(evaluate)),
      opts_(std::move(opts)),
      cb_(std::move(callbacks)) {
  const TrainerOptions& o = opts_;
  PG_CHECK(model_ != nullptr, "train: the model is null");
  PG_CHECK(data_ != nullptr, "train: the training data set is null");
  PG_CHECK(step_ != nullptr, "train: no step function given");
  PG_CHECK(!o.out_dir.empty(), "train: no output folder given");
  PG_CHECK(o.epochs >= 1, "train: epochs must be positive, got ", o.epochs);
  PG_CHECK(o.batch_size >= 1, "train: batch size must be positive, got ", o.batch_size);
  PG_CHECK(o.eval_every >= 1, "train: eval_every must be positive, got ", o.eval_every);
  PG_CHECK(o.clip_grad_norm >= 0.0 && o.clip_grad_value >= 0.0, "train: clip_grad_norm and clip_grad_value must be ",
           ">= 0 (0 = off), got ", o.clip_grad_norm, " and ", o.clip_grad_value);
  PG_CHECK(evaluate_ != nullptr || o.eval_metrics.empty(), "train: eval metrics {", names_of(o.eval_metrics),
           "} are declared but no evaluation function is given");
  for (Generator* g : o.generators) PG_CHECK(g != nullptr, "train: a null generator in `generators`");
  // Log columns: unique, CSV-safe.
  std::set<std::string> columns;
  std::vector<std::string> all = {"epoch", "lr", "bn_momentum", "train_loss"};
  for (const auto& m : o.train_metrics) all.push_back("train_" + m);
  for (const auto& m : o.eval_metrics) all.push_back(m);
  all.push_back("epoch_seconds");
  all.push_back("train_" + o.sample_unit + "_per_s");
  for (const auto& c : all) {
    PG_CHECK(!c.empty() && c.find_first_of(",\n\r\" ") == std::string::npos, "train: metric name '", c,
             "' cannot be a log column (empty, or with a comma, quote or whitespace)");
    PG_CHECK(columns.insert(c).second, "train: the log column '", c, "' appears twice");
  }
  if (!o.best_metric.empty()) {
    const bool known = o.best_metric == "train_loss" ||
                       std::any_of(o.train_metrics.begin(), o.train_metrics.end(),
                                   [&](const std::string& m) { return "train_" + m == o.best_metric; }) ||
                       std::find(o.eval_metrics.begin(), o.eval_metrics.end(), o.best_metric) != o.eval_metrics.end();
    PG_CHECK(known, "train: best_metric '", o.best_metric, "' is not a metric column (train_loss, ",
             o.train_metrics.empty() ? std::string() : std::string("train_<m> for m in {") + names_of(o.train_metrics) + "}, ",
             "or one of the eval metrics {", names_of(o.eval_metrics), "})");
  }
  datasets::LoaderOptions lo;
  lo.batch_size = o.batch_size;
  lo.shuffle = o.shuffle;
  lo.drop_last = o.drop_last;
  lo.seed = o.seed;
  lo.prefetch = o.prefetch;
  lo.transforms = o.transforms;
  loader_ = std::make_unique<datasets::DataLoader>(data_, lo);
  PG_CHECK(loader_->batches_per_epoch() >= 1, "train: ", data_->describe(), " has ", data_->size(),
           " items, fewer than one batch of ", o.batch_size);
  optimizer_ = make_optimizer(o.optimizer, model_->trainable_parameters());
  // Lookup tables get lazy (per-row) optimizer updates: untouched rows keep values and state.
  nn::mark_row_sparse_parameters(*optimizer_, *model_);
}

Trainer::~Trainer() = default;

int64_t Trainer::batches_per_epoch() const { return loader_->batches_per_epoch(); }

std::string Trainer::log_header() const {
  std::string h = "epoch,lr,bn_momentum,train_loss";
  for (const auto& m : opts_.train_metrics) h += ",train_" + m;
  for (const auto& m : opts_.eval_metrics) h += "," + m;
  h += ",epoch_seconds,train_" + opts_.sample_unit + "_per_s";
  return h;
}

namespace {

// Keeps the header and the rows of epochs <= last_epoch (a resumed run rewrites what follows).
std::string read_log_prefix(const std::string& path, const std::string& header, int64_t last_epoch) {
  std::ifstream in(path);
  std::string out = header + "\n", line;
  if (!in) return out;
  std::getline(in, line);
  PG_CHECK(line == header, "train: the log ", path, " has the columns\n  ", line, "\nbut this run logs\n  ", header,
           "\n(resume with the same metrics, or start a new run folder)");
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const long long e = std::atoll(line.c_str());
    if (e >= 1 && e <= last_epoch) out += line + "\n";
  }
  return out;
}

std::string log_row(const EpochRecord& r, const TrainerOptions& o) {
  std::string row = std::to_string(r.epoch) + "," + fmt_g6(r.lr) + "," + fmt_g6(r.bn_momentum);
  for (const auto& [n, v] : r.train) row.append(",").append(fmt_metric(v));
  for (size_t i = 0; i < o.eval_metrics.size(); ++i) {
    row.append(",");
    if (r.evaluated) row.append(fmt_metric(r.eval[i].second));
  }
  char buf[96];
  std::snprintf(buf, sizeof buf, ",%.3f,%.2f\n", r.seconds, r.samples_per_second);
  return row + buf;
}

}  // namespace

RunSummary Trainer::fit() {
  const TrainerOptions& o = opts_;
  nn::Module& model = *model_;
  nn::Optimizer& opt = *optimizer_;
  auto say = [&](const std::string& s) {
    if (cb_.message) cb_.message(s);
  };
  const auto t_start = Clock::now();
  fs::create_directories(o.out_dir);
  const std::string last_path = (fs::path(o.out_dir) / "last.h5").string();
  const std::string best_path = (fs::path(o.out_dir) / "best.h5").string();
  const std::string log_path = (fs::path(o.out_dir) / "log.csv").string();
  const bool describes_itself = dynamic_cast<const nn::Model*>(&model) != nullptr;

  RunSummary summary;
  summary.log = log_path;
  int64_t samples_seen = 0, steps = 0;
  const std::string best_key = "best_" + o.best_metric;
  if (o.resume) {
    PG_CHECK(fs::exists(last_path), "train: --resume but there is no checkpoint ", last_path);
    const nn::CheckpointData held = nn::read_checkpoint(last_path);
    if (describes_itself) {
      const nn::ModelConfig mine = static_cast<const nn::Model&>(model).model_config();
      models::check_model_config(last_path, models::checkpoint_model_config(last_path, held.meta), mine);
      models::check_frozen_children(last_path, model, held.meta.attributes);
    }
    const nn::CheckpointMeta meta = nn::load_checkpoint(last_path, model, &opt, true);
    summary.start_epoch = meta.epoch;
    auto get = [&](const std::string& k) {
      auto it = meta.scalars.find(k);
      return it == meta.scalars.end() ? 0.0 : it->second;
    };
    samples_seen = static_cast<int64_t>(get("samples_seen"));
    steps = static_cast<int64_t>(get("steps"));
    summary.best_epoch = static_cast<int64_t>(get("best_epoch"));
    if (!o.best_metric.empty()) summary.best_value = get(best_key);
    std::ostringstream s;
    s << "resumed from " << last_path << " after epoch " << meta.epoch << " (" << samples_seen << " "
      << o.sample_unit << " seen)";
    say(s.str());
    PG_CHECK(meta.epoch < o.epochs, "train: the checkpoint is already at epoch ", meta.epoch, " of ", o.epochs,
             "; raise --epochs to train further");
  }
  const std::string header = log_header();
  std::string log = o.resume ? read_log_prefix(log_path, header, summary.start_epoch) : header + "\n";
  datasets::write_text_atomic(log_path, log);

  std::map<std::string, std::string> attributes = o.attributes;
  if (describes_itself) {
    for (auto& [k, v] : models::checkpoint_attributes(model)) attributes[k] = v;
  }
  const int64_t batches = loader_->batches_per_epoch();
  auto counter = [&](int64_t epoch) {
    return o.schedule_unit == ScheduleUnit::epoch ? epoch : o.schedule_unit == ScheduleUnit::step ? steps : samples_seen;
  };
  auto current_bn = [&]() {
    for (auto& [n, m] : model.named_modules(false)) {
      if (auto* bn = dynamic_cast<nn::BatchNorm1d*>(m.get())) return bn->momentum();
    }
    return 0.0;
  };
  const std::vector<Tensor> trainable = model.trainable_parameters();
  const nn::NamedTensors named = model.named_parameters();

  // The first parameter whose gradient (or value) holds a NaN/Inf.
  auto first_non_finite = [&](bool grads) -> std::string {
    for (const auto& [n, p] : named) {
      if (!all_finite(grads ? p.grad() : p)) return n;
    }
    return std::string();
  };

  double seconds_total = 0.0;
  int64_t epochs_timed = 0;
  for (int64_t e = summary.start_epoch; e < o.epochs; ++e) {
    const auto t_epoch = Clock::now();
    model.train();
    for (size_t g = 0; g < o.generators.size(); ++g) o.generators[g]->manual_seed(epoch_seed(o.seed, e, g));
    loader_->start_epoch(e);
    EpochRecord rec;
    rec.epoch = e + 1;
    rec.lr = o.lr_schedule ? o.lr_schedule->value(counter(e)) : opt.lr();
    rec.bn_momentum = o.bn_momentum_schedule ? o.bn_momentum_schedule->value(counter(e)) : current_bn();
    std::vector<double> sums(1 + o.train_metrics.size(), 0.0);
    int64_t seen = 0;
    datasets::Batch b;
    while (loader_->next(b)) {
      if (o.lr_schedule) opt.set_lr(o.lr_schedule->value(counter(e)));
      if (o.bn_momentum_schedule) nn::set_bn_momentum(model, o.bn_momentum_schedule->value(counter(e)));
      const StepOutput out = step_(b);
      const Tensor& loss = out.loss;
      PG_CHECK(loss.defined() && loss.numel() == 1 && is_floating(loss.dtype()),
               "train: the step function must return a loss with one floating value, got ",
               loss.defined() ? dtype_name(loss.dtype()) + std::string(" ") + shape_str(loss.shape())
                              : std::string("an undefined tensor"));
      check_metric_names(out.metrics, o.train_metrics, "step function");
      const double lv = loss.item_double();
      auto where = [&]() {
        std::ostringstream s;
        s << "epoch " << e + 1 << ", batch " << b.index + 1 << "/" << batches << " (step " << steps + 1 << ")";
        return s.str();
      };
      auto last_good = [&]() {
        return fs::exists(last_path) ? "; the last good checkpoint is " + last_path : std::string();
      };
      if (o.check_finite && !std::isfinite(lv)) {
        const std::string p = first_non_finite(false);
        PG_FAIL("train: the loss is ", lv, " at ", where(), "; ",
                p.empty() ? std::string("all parameters are finite") : "first non-finite parameter: " + p,
                " (lower the learning rate or clip gradients?)", last_good());
      }
      opt.zero_grad();
      loss.backward();
      if (o.check_finite && !std::isfinite(nn::grad_norm(trainable, INFINITY))) {
        const std::string p = first_non_finite(true);
        PG_FAIL("train: non-finite gradient at ", where(), " (loss ", lv, "); first non-finite parameter: ",
                p.empty() ? std::string("?") : p, last_good());
      }
      if (o.clip_grad_value > 0.0) nn::clip_grad_value_(trainable, o.clip_grad_value);
      if (o.clip_grad_norm > 0.0) nn::clip_grad_norm_(trainable, o.clip_grad_norm);
      opt.step();
      ++steps;
      const int64_t bs = b.size();
      sums[0] += lv * static_cast<double>(bs);
      for (size_t i = 0; i < out.metrics.size(); ++i) sums[i + 1] += out.metrics[i].second * static_cast<double>(bs);
      seen += bs;
      samples_seen += bs;
      if (cb_.on_batch) {
        BatchProgress p;
        p.epoch = e + 1;
        p.epochs = o.epochs;
        p.batch = b.index + 1;
        p.batches = batches;
        p.running.emplace_back("loss", sums[0] / static_cast<double>(seen));
        for (size_t i = 0; i < o.train_metrics.size(); ++i) {
          p.running.emplace_back(o.train_metrics[i], sums[i + 1] / static_cast<double>(seen));
        }
        const double el = seconds_since(t_epoch);
        p.samples_per_second = static_cast<double>(seen) / std::max(el, 1e-9);
        const double per_epoch = epochs_timed > 0 ? seconds_total / static_cast<double>(epochs_timed)
                                                  : el / static_cast<double>(p.batch) * static_cast<double>(batches);
        p.eta_seconds = std::max(0.0, per_epoch - el) + per_epoch * static_cast<double>(o.epochs - e - 1);
        cb_.on_batch(p);
      }
    }
    const double denom = static_cast<double>(std::max<int64_t>(seen, 1));
    rec.train.emplace_back("loss", sums[0] / denom);
    for (size_t i = 0; i < o.train_metrics.size(); ++i) rec.train.emplace_back(o.train_metrics[i], sums[i + 1] / denom);
    rec.samples_per_second = static_cast<double>(seen) / std::max(seconds_since(t_epoch), 1e-9);

    const bool last = e + 1 == o.epochs;
    if (evaluate_ && ((e + 1) % o.eval_every == 0 || last)) {
      model.eval();
      {
        NoGradGuard ng;
        rec.eval = evaluate_(model);
      }
      model.train();
      check_metric_names(rec.eval, o.eval_metrics, "evaluation function");
      rec.evaluated = true;
    }
    rec.seconds = seconds_since(t_epoch);
    seconds_total += rec.seconds;
    ++epochs_timed;

    bool is_best = false;
    if (!o.best_metric.empty()) {
      if (const double* v = rec.find(o.best_metric)) {
        const bool better = o.best_goal == Goal::maximize ? *v > summary.best_value : *v < summary.best_value;
        is_best = !std::isnan(*v) && (summary.best_epoch == 0 || better);
        if (is_best) {
          summary.best_value = *v;
          summary.best_epoch = rec.epoch;
        }
      }
    }
    nn::CheckpointMeta meta;
    meta.epoch = rec.epoch;
    meta.config = o.config;
    meta.attributes = attributes;
    meta.scalars["samples_seen"] = static_cast<double>(samples_seen);
    meta.scalars["steps"] = static_cast<double>(steps);
    meta.scalars["best_epoch"] = static_cast<double>(summary.best_epoch);
    if (!o.best_metric.empty()) meta.scalars[best_key] = summary.best_value;
    for (const auto& [n, v] : rec.train) meta.scalars["train_" + n] = v;
    if (rec.evaluated) {
      for (const auto& [n, v] : rec.eval) meta.scalars[n] = v;
    }
    nn::save_checkpoint(last_path, model, &opt, meta);
    if (is_best) nn::save_checkpoint(best_path, model, &opt, meta);
    if (o.keep_all_checkpoints) {
      char name[32];
      std::snprintf(name, sizeof name, "epoch_%04lld.h5", static_cast<long long>(rec.epoch));
      nn::save_checkpoint((fs::path(o.out_dir) / name).string(), model, &opt, meta);
    }
    log += log_row(rec, o);
    datasets::write_text_atomic(log_path, log);
    summary.epochs.push_back(rec);
    if (cb_.on_epoch) cb_.on_epoch(rec);
  }
  summary.last_checkpoint = last_path;
  summary.best_checkpoint = summary.best_epoch > 0 && !o.best_metric.empty() ? best_path : std::string();
  summary.seconds = seconds_since(t_start);
  return summary;
}

}  // namespace pg::train
