// The generic Trainer on a tiny model: log columns and checkpoints, best by min/max, exact
// resume, NaN/Inf stops, gradient clipping, frozen sub-networks, option validation.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "datasets/ds_test_util.h"
#include "datasets/transforms.h"
#include "models/nn/checkpoint.h"
#include "models/tiny_models.h"
#include "models/train/trainer.h"
#include "test_util.h"

using namespace pg;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  return lines;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == ',') out.emplace_back();
    else out.back() += c;
  }
  return out;
}

// A row without its two timing columns.
std::string without_timing(const std::string& row) {
  auto cells = split(row);
  cells.resize(cells.size() - 2);
  std::string out;
  for (const auto& c : cells) out += c + ",";
  return out;
}

int64_t count_correct(const Tensor& logits, const Tensor& y) {
  NoGradGuard ng;
  const auto p = argmax(logits, 1).to_vector<int64_t>();
  const auto t = y.to_vector<int64_t>();
  int64_t c = 0;
  for (size_t i = 0; i < p.size(); ++i) c += p[i] == t[i];
  return c;
}

// Trainer pieces for a TinyNet classifier.
struct TinySetup {
  std::shared_ptr<test::TinyNet> net;
  datasets::DatasetPtr train_set = std::make_shared<test::TinyData>(40, 1);
  datasets::DatasetPtr val_set = std::make_shared<test::TinyData>(15, 2);
  std::function<Tensor(const datasets::Batch&)> poison;  // optional: a loss override

  explicit TinySetup(double dropout = 0.3) : net(std::make_shared<test::TinyNet>(16, dropout)) {}

  train::TrainerOptions options(const std::string& out) {
    train::TrainerOptions o;
    o.out_dir = out;
    o.epochs = 3;
    o.batch_size = 8;
    o.seed = 11;
    o.prefetch = 2;
    o.optimizer = {"adam", 0.01};
    o.lr_schedule = std::make_shared<nn::StepDecay>(0.01, 5, 0.5);
    o.schedule_unit = train::ScheduleUnit::step;
    o.train_metrics = {"acc"};
    o.eval_metrics = {"val_loss", "val_acc"};
    o.best_metric = "val_loss";
    o.best_goal = train::Goal::minimize;
    o.generators = {&net->gen};
    return o;
  }
  train::StepFn step() {
    return [this](const datasets::Batch& b) {
      const Tensor logits = net->forward(b["x"]);
      train::StepOutput out;
      out.loss = poison ? poison(b) : cross_entropy(logits, b["y"]);
      out.metrics = {{"acc", double(count_correct(logits, b["y"])) / double(b.size())}};
      return out;
    };
  }
  train::EvalFn evaluate() {
    return [this](nn::Module&) {
      datasets::LoaderOptions lo;
      lo.batch_size = 100;
      lo.shuffle = false;
      lo.prefetch = 0;
      datasets::DataLoader dl(val_set, lo);
      datasets::Batch b;
      REQUIRE(dl.next(b));
      const Tensor logits = net->forward(b["x"]);
      return train::Metrics{{"val_loss", cross_entropy(logits, b["y"]).item_double()},
                            {"val_acc", double(count_correct(logits, b["y"])) / double(b.size())}};
    };
  }
};

}  // namespace

TEST_CASE("trainer: log columns, checkpoints, best by a minimised metric, callbacks", "[train][trainer]") {
  test::TempDir dir("pg_trainer_generic");
  TinySetup s;
  train::TrainerOptions o = s.options(dir.file("run"));
  o.eval_every = 2;
  int batches = 0, epochs = 0;
  train::TrainCallbacks cb;
  cb.on_batch = [&](const train::BatchProgress& p) {
    ++batches;
    CHECK(p.batches == 5);  // 40 items / 8
    REQUIRE(p.running.size() == 2);
    CHECK(p.running[0].first == "loss");
    CHECK(p.running[1].first == "acc");
  };
  cb.on_epoch = [&](const train::EpochRecord& r) {
    ++epochs;
    CHECK(r.evaluated == (r.epoch != 1));  // every 2 epochs and after the last
  };
  train::Trainer t(s.net, s.train_set, s.step(), s.evaluate(), o, cb);
  CHECK(t.log_header() == "epoch,lr,bn_momentum,train_loss,train_acc,val_loss,val_acc,epoch_seconds,train_samples_per_s");
  const train::RunSummary sum = t.fit();
  CHECK(batches == 15);
  CHECK(epochs == 3);
  const auto log = read_lines(dir.file("run/log.csv"));
  REQUIRE(log.size() == 4);
  CHECK(log[0] == t.log_header());
  CHECK(split(log[1])[5].empty());  // epoch 1: no evaluation
  CHECK(split(log[1])[6].empty());
  CHECK_FALSE(split(log[2])[5].empty());
  // lr follows the step schedule: 5 steps per epoch, halved every 5 steps.
  CHECK(split(log[1])[1] == "0.01");
  CHECK(split(log[2])[1] == "0.005");
  CHECK(split(log[3])[1] == "0.0025");
  // best.h5 is the evaluated epoch with the lowest val_loss.
  const double l2 = std::stod(split(log[2])[5]), l3 = std::stod(split(log[3])[5]);
  const int64_t best = l3 < l2 ? 3 : 2;
  CHECK(sum.best_epoch == best);
  CHECK(sum.best_value == Approx(std::min(l2, l3)).epsilon(1e-6));
  const nn::CheckpointData b = nn::read_checkpoint(dir.file("run/best.h5"));
  CHECK(b.meta.epoch == best);
  const nn::CheckpointData last = nn::read_checkpoint(dir.file("run/last.h5"));
  CHECK(last.meta.epoch == 3);
  CHECK(last.meta.scalars.at("samples_seen") == 120.0);
  CHECK(last.meta.scalars.at("steps") == 15.0);
  CHECK(last.meta.scalars.at("best_epoch") == double(best));
  CHECK(last.meta.scalars.at("val_acc") == Approx(std::stod(split(log[3])[6])).epsilon(1e-6));
  CHECK(last.meta.attributes.at("model") == "test_tiny");
  CHECK(last.meta.attributes.at("model.hidden") == "16");
  CHECK(last.has_optimizer);
  // A maximised metric picks the highest instead.
  TinySetup s2;
  train::TrainerOptions o2 = s2.options(dir.file("run2"));
  o2.best_metric = "train_acc";
  o2.best_goal = train::Goal::maximize;
  double best_acc = -1;
  int64_t best_ep = 0;
  train::TrainCallbacks cb2;
  cb2.on_epoch = [&](const train::EpochRecord& r) {
    const double a = *r.find("train_acc");
    if (a > best_acc) best_acc = a, best_ep = r.epoch;  // strictly better: the first of equals wins
  };
  const train::RunSummary sum2 = train::Trainer(s2.net, s2.train_set, s2.step(), s2.evaluate(), o2, cb2).fit();
  CHECK(sum2.best_epoch == best_ep);
  CHECK(sum2.best_value == best_acc);
  CHECK(nn::read_checkpoint(dir.file("run2/best.h5")).meta.epoch == best_ep);
}

TEST_CASE("trainer: resuming reproduces the uninterrupted run bit for bit", "[train][trainer][slow]") {
  test::TempDir dir("pg_trainer_generic_resume");
  const auto aug = datasets::point_transform({datasets::jitter(0.05, 0.2)}, {"x3"});
  // Items get a 3-vector view "x3" of x to exercise transforms (the step uses x itself + x3).
  class WithX3 : public datasets::Dataset {
   public:
    datasets::DatasetPtr base = std::make_shared<test::TinyData>(40, 1);
    int64_t size() const override { return base->size(); }
    datasets::Example get(int64_t i) const override {
      datasets::Example e = base->get(i);
      const auto x = e.at("x").to_vector<float>();
      e["x3"] = from_vector(std::vector<float>{x[0], x[1], x[2]}, {1, 3});
      return e;
    }
    std::string describe() const override { return "WithX3"; }
  };
  auto run = [&](const std::string& out, int64_t epochs, bool resume, int prefetch) {
    TinySetup s;
    s.train_set = std::make_shared<WithX3>();
    train::TrainerOptions o = s.options(out);
    o.epochs = epochs;
    o.resume = resume;
    o.prefetch = prefetch;
    o.transforms = {aug};
    o.clip_grad_norm = 1.0;
    o.bn_momentum_schedule = std::make_shared<nn::StepDecay>(0.5, 7, 0.5, 0.01);
    train::StepFn base = s.step();
    train::StepFn step = [base](const datasets::Batch& b) {
      train::StepOutput out = base(b);
      // Depend on the transformed tensor too, so augmentation differences would show.
      out.loss = add(out.loss, mul(mean(square(b["x3"])), 0.01));
      return out;
    };
    train::Trainer(s.net, s.train_set, step, s.evaluate(), o).fit();
  };
  run(dir.file("full"), 4, false, 0);
  run(dir.file("part"), 2, false, 3);
  run(dir.file("part"), 4, true, 1);
  const nn::CheckpointData a = nn::read_checkpoint(dir.file("full/last.h5"));
  const nn::CheckpointData b = nn::read_checkpoint(dir.file("part/last.h5"));
  REQUIRE(a.parameters.size() == b.parameters.size());
  for (size_t i = 0; i < a.parameters.size(); ++i) {
    INFO(a.parameters[i].first);
    CHECK(test::max_abs_diff(a.parameters[i].second, b.parameters[i].second) == 0.0);
  }
  for (size_t i = 0; i < a.buffers.size(); ++i) CHECK(test::max_abs_diff(a.buffers[i].second, b.buffers[i].second) == 0.0);
  REQUIRE(a.optimizer_state.size() == b.optimizer_state.size());
  for (size_t i = 0; i < a.optimizer_state.size(); ++i) {
    CHECK(test::max_abs_diff(a.optimizer_state[i].second, b.optimizer_state[i].second) == 0.0);
  }
  const auto la = read_lines(dir.file("full/log.csv")), lb = read_lines(dir.file("part/log.csv"));
  REQUIRE(la.size() == 5);
  REQUIRE(lb.size() == 5);
  for (size_t i = 1; i < la.size(); ++i) CHECK(without_timing(la[i]) == without_timing(lb[i]));
  // A different seed gives a different run (the comparison above can fail).
  TinySetup s;
  train::TrainerOptions o = s.options(dir.file("other"));
  o.epochs = 1;
  o.seed = 12;
  train::Trainer(s.net, s.train_set, s.step(), s.evaluate(), o).fit();
  CHECK(without_timing(read_lines(dir.file("other/log.csv"))[1]) != without_timing(la[1]));
}

TEST_CASE("trainer: a NaN loss stops naming epoch, step and parameter; last.h5 stays intact", "[train][trainer][errors]") {
  test::TempDir dir("pg_trainer_nan");
  {
    TinySetup s;
    train::TrainerOptions o = s.options(dir.file("run"));
    o.epochs = 2;
    train::Trainer(s.net, s.train_set, s.step(), s.evaluate(), o).fit();
  }
  const std::string last = dir.file("run/last.h5");
  const std::string bytes = test::read_bytes(last);
  const auto log_before = read_lines(dir.file("run/log.csv"));

  SECTION("non-finite loss with a NaN parameter") {
    TinySetup s;
    train::TrainerOptions o = s.options(dir.file("run"));
    o.epochs = 4;
    o.resume = true;
    s.poison = [&s](const datasets::Batch& b) {
      if (b.index == 2) {  // batch 3 of epoch 3: a NaN weight in the second Linear
        NoGradGuard ng;
        auto lin = s.net->mlp->at<nn::Linear>(4);
        lin->weight.copy_(full_like(lin->weight, NAN));
      }
      return cross_entropy(s.net->forward(b["x"]), b["y"]);
    };
    train::Trainer t(s.net, s.train_set, s.step(), s.evaluate(), o);
    CHECK_THROWS_WITH(t.fit(), Catch::Contains("the loss is nan at epoch 3, batch 3/5 (step 13)") &&
                                   Catch::Contains("first non-finite parameter: mlp.4.weight") &&
                                   Catch::Contains("last good checkpoint is " + last));
  }
  SECTION("non-finite gradient with a finite loss") {
    TinySetup s;
    train::TrainerOptions o = s.options(dir.file("run"));
    o.epochs = 4;
    o.resume = true;
    s.poison = [&s](const datasets::Batch& b) {
      Tensor loss = cross_entropy(s.net->forward(b["x"]), b["y"]);
      if (b.index != 1) return loss;
      // sqrt'(0) = inf: 0 · Σ sqrt(|b| − |b|) adds exactly 0 to the loss and NaN (0 · inf) to
      // the gradient of the output layer's bias only.
      const Tensor bias = s.net->mlp->at<nn::Linear>(8)->bias;
      const Tensor zero = sub(abs(bias), abs(bias));
      return add(loss, mul(sum(sqrt(zero)), 0.0));
    };
    train::Trainer t(s.net, s.train_set, s.step(), s.evaluate(), o);
    CHECK_THROWS_WITH(t.fit(), Catch::Contains("non-finite gradient at epoch 3, batch 2/5 (step 12)") &&
                                   Catch::Contains("first non-finite parameter: mlp.8.bias"));
  }
  // Nothing was written for the failed epoch.
  CHECK(test::read_bytes(last) == bytes);
  CHECK(nn::read_checkpoint(last).meta.epoch == 2);
  CHECK(read_lines(dir.file("run/log.csv")) == log_before);
}

TEST_CASE("trainer: gradient clipping bounds the update", "[train][trainer]") {
  test::TempDir dir("pg_trainer_clip");
  auto one_step_change = [&](double clip_value, double clip_norm) {
    TinySetup s(0.0);
    train::TrainerOptions o = s.options(dir.file("c" + std::to_string(clip_value) + std::to_string(clip_norm)));
    o.epochs = 1;
    o.batch_size = 40;  // one step
    o.optimizer = {"sgd", 1.0, 0.0, 0.0};
    o.lr_schedule = nullptr;
    o.clip_grad_value = clip_value;
    o.clip_grad_norm = clip_norm;
    o.eval_metrics.clear();
    o.best_metric.clear();
    std::vector<Tensor> before;
    for (const auto& p : s.net->trainable_parameters()) before.push_back(p.clone());
    train::Trainer(s.net, s.train_set, s.step(), nullptr, o).fit();
    double max_elem = 0, sq = 0;
    const auto after = s.net->trainable_parameters();
    for (size_t i = 0; i < before.size(); ++i) {
      for (double d : sub(after[i], before[i]).to_vector<double>()) {
        max_elem = std::max(max_elem, std::fabs(d));
        sq += d * d;
      }
    }
    return std::make_pair(max_elem, std::sqrt(sq));
  };
  const auto free = one_step_change(0.0, 0.0);
  const auto by_value = one_step_change(1e-3, 0.0);
  const auto by_norm = one_step_change(0.0, 0.05);
  CHECK(free.first > 0.01);
  // (float32 parameters: Δ = (w − u) − w carries rounding of order 1e-7·|w|)
  CHECK(by_value.first <= 1e-3 * (1 + 1e-3));
  CHECK(by_value.first > 0.9e-3);
  CHECK(by_norm.second <= 0.05 * (1 + 1e-3));
  CHECK(by_norm.second > 0.049);
}

TEST_CASE("trainer: a frozen task network is not trained, not saved and checked on load", "[train][trainer][frozen]") {
  test::register_tiny_models();
  test::TempDir dir("pg_trainer_frozen");
  // The "pretrained" task network: a checkpoint with its config.
  auto task = std::make_shared<test::TinyNet>(8, 0.5, 3);
  const std::string task_path = dir.file("task.h5");
  nn::CheckpointMeta tm;
  tm.attributes = models::checkpoint_attributes(*task);
  nn::save_checkpoint(task_path, *task, nullptr, tm);

  auto sampler = std::make_shared<test::TinySampler>(task_path);
  const nn::NamedTensors task_before = [&] {
    nn::NamedTensors c;
    for (const auto& [n, t] : sampler->task->state_dict()) c.emplace_back(n, t.clone());
    return c;
  }();
  datasets::DatasetPtr data = std::make_shared<test::TinyData>(24, 4);
  train::TrainerOptions o;
  o.out_dir = dir.file("run");
  o.epochs = 2;
  o.batch_size = 8;
  o.seed = 2;
  o.prefetch = 0;
  o.optimizer = {"adam", 0.05};
  o.bn_momentum_schedule = std::make_shared<nn::ConstantSchedule>(0.9);
  int steps = 0;
  train::StepFn step = [&](const datasets::Batch& b) {
    ++steps;
    CHECK(sampler->is_training());
    CHECK(sampler->adapter->is_training());
    CHECK_FALSE(sampler->task->is_training());  // kept in eval mode by the parent's train()
    return train::StepOutput{cross_entropy(sampler->forward(b["x"]), b["y"]), {}};
  };
  train::Trainer t(sampler, data, step, nullptr, o);
  CHECK(t.optimizer().params().size() == 2);  // adapter weight and bias only
  t.fit();
  CHECK(steps == 6);
  // The task network did not change (weights, BN statistics, BN momentum) ...
  const nn::NamedTensors task_after = sampler->task->state_dict();
  REQUIRE(task_after.size() == task_before.size());
  for (size_t i = 0; i < task_after.size(); ++i) {
    INFO(task_after[i].first);
    CHECK(test::max_abs_diff(task_after[i].second, task_before[i].second) == 0.0);
  }
  CHECK(sampler->task->mlp->at<nn::BatchNorm1d>(1)->momentum() == 0.1);
  // ... while the adapter did, and only the adapter is in the checkpoint and the optimizer state.
  const nn::CheckpointData ck = nn::read_checkpoint(dir.file("run/last.h5"));
  std::vector<std::string> saved;
  for (const auto& [n, v] : ck.parameters) saved.push_back(n);
  CHECK(saved == std::vector<std::string>{"adapter.weight", "adapter.bias"});
  CHECK(ck.buffers.empty());
  for (const auto& [n, v] : ck.optimizer_state) CHECK((n[0] == '0' || n[0] == '1'));
  CHECK(ck.meta.attributes.at("model") == "test_sampler");
  CHECK(ck.meta.attributes.at("frozen.task.source") == task_path);
  CHECK(ck.meta.attributes.at("frozen.task.fingerprint").size() == 16);

  // The registry rebuilds the sampler from the file alone (the task from its recorded source).
  auto back = models::load_model_as<test::TinySampler>(dir.file("run/last.h5"), Device::cpu(), "test_sampler");
  sampler->eval();
  const Tensor x = test::uniform({5, 4}, -2, 2, 9);
  test::require_close(back->forward(x), sampler->forward(x), 0.0);
  CHECK(back->task->parameters().front().requires_grad() == false);

  // Resuming checks the frozen network too; a changed task checkpoint is refused on load.
  auto other = std::make_shared<test::TinyNet>(8, 0.5, 4);  // other weights, same config
  nn::save_checkpoint(task_path, *other, nullptr, tm);
  CHECK_THROWS_WITH(models::load_model(dir.file("run/last.h5")),
                    Catch::Contains("frozen network 'task'") && Catch::Contains("not the one it was trained with"));
}

TEST_CASE("trainer: options and step outputs are validated", "[train][trainer][errors]") {
  test::TempDir dir("pg_trainer_opts");
  TinySetup s;
  train::TrainerOptions o = s.options(dir.file("run"));
  o.best_metric = "val_f1";
  CHECK_THROWS_WITH(train::Trainer(s.net, s.train_set, s.step(), s.evaluate(), o),
                    Catch::Contains("best_metric 'val_f1' is not a metric column"));
  o = s.options(dir.file("run"));
  CHECK_THROWS_WITH(train::Trainer(s.net, s.train_set, s.step(), nullptr, o),
                    Catch::Contains("no evaluation function"));
  o.batch_size = 41;
  CHECK_THROWS_WITH(train::Trainer(s.net, s.train_set, s.step(), s.evaluate(), o),
                    Catch::Contains("fewer than one batch of 41"));
  o = s.options(dir.file("run"));
  o.train_metrics = {"acc", "acc"};
  CHECK_THROWS_WITH(train::Trainer(s.net, s.train_set, s.step(), s.evaluate(), o),
                    Catch::Contains("'train_acc' appears twice"));
  o = s.options(dir.file("run"));
  o.train_metrics = {"top1"};
  CHECK_THROWS_WITH(train::Trainer(s.net, s.train_set, s.step(), s.evaluate(), o).fit(),
                    Catch::Contains("returned the metrics {acc} but the options declare {top1}"));
  o = s.options(dir.file("run"));
  train::StepFn vector_loss = [&](const datasets::Batch& b) {
    return train::StepOutput{cross_entropy(s.net->forward(b["x"]), b["y"], Reduction::none), {{"acc", 0.0}}};
  };
  CHECK_THROWS_WITH(train::Trainer(s.net, s.train_set, vector_loss, s.evaluate(), o).fit(),
                    Catch::Contains("loss with one floating value"));
  o.optimizer.name = "lbfgs";
  CHECK_THROWS_WITH(train::Trainer(s.net, s.train_set, s.step(), s.evaluate(), o), Catch::Contains("unknown optimizer"));
  o = s.options(dir.file("fresh"));
  o.resume = true;
  CHECK_THROWS_WITH(train::Trainer(s.net, s.train_set, s.step(), s.evaluate(), o).fit(),
                    Catch::Contains("no checkpoint"));
  // Resuming with another model configuration names the difference.
  o = s.options(dir.file("cfg"));
  o.epochs = 1;
  train::Trainer(s.net, s.train_set, s.step(), s.evaluate(), o).fit();
  TinySetup wider;
  wider.net = std::make_shared<test::TinyNet>(32, 0.3);
  o = wider.options(dir.file("cfg"));
  o.resume = true;
  CHECK_THROWS_WITH(train::Trainer(wider.net, wider.train_set, wider.step(), wider.evaluate(), o).fit(),
                    Catch::Contains("holds model 'test_tiny' with hidden=16 (expected 32)"));
}
