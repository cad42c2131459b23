#include "models/train/tasknet_trainer.h"

#include <sstream>

#include "core/error.h"
#include "datasets/cloud_set_dataset.h"
#include "datasets/registration.h"
#include "models/train/task_eval.h"
#include "models/zoo/pcae.h"
#include "models/zoo/pcrnet.h"
#include "ops/ops.h"

namespace pg::train {

namespace {

struct Splits {
  datasets::PointCloudSet train, test;
};

Splits load_splits(const TaskNetTrainOptions& o, int64_t points, int64_t batch, const TrainCallbacks& cb) {
  PG_CHECK(!o.data_dir.empty(), "train: no data folder given");
  PG_CHECK(!o.out_dir.empty(), "train: no output folder given");
  PG_CHECK(o.epochs >= 1, "train: epochs must be positive, got ", o.epochs);
  PG_CHECK(batch >= 2, "train: batch size must be at least 2, got ", batch);
  Splits s{load_task_set(o.data_dir, datasets::Split::train, points, o.class_name),
           load_task_set(o.data_dir, datasets::Split::test, points, o.class_name)};
  PG_CHECK(s.train.num_points() == points, "train: the data has ", s.train.num_points(),
           " points per shape, fewer than points = ", points);
  PG_CHECK(s.train.size() >= batch, "train: the training split has ", s.train.size(),
           " shapes, fewer than one batch of ", batch);
  if (cb.message) {
    std::ostringstream m;
    m << "data " << o.data_dir << (o.class_name.empty() ? "" : " (class " + o.class_name + ")") << ": "
      << s.train.size() << " train / " << s.test.size() << " test shapes, " << points << " points";
    cb.message(m.str());
  }
  return s;
}

TrainerOptions base_options(const TaskNetTrainOptions& o, int64_t batch, double lr) {
  TrainerOptions t;
  t.out_dir = o.out_dir;
  t.epochs = o.epochs;
  t.seed = o.seed;
  t.resume = o.resume;
  t.batch_size = batch;
  t.drop_last = true;
  t.prefetch = o.prefetch;
  t.optimizer = {"adam", lr};
  t.eval_every = o.eval_every;
  t.sample_unit = "shapes";
  t.attributes = {{"train.data", o.data_dir}, {"train.class", o.class_name}, {"train.seed", std::to_string(o.seed)}};
  return t;
}

}  // namespace

RunSummary train_pcae(const TaskNetTrainOptions& o, const TrainCallbacks& cb) {
  const int64_t points = o.points > 0 ? o.points : 2048, batch = o.batch_size > 0 ? o.batch_size : 50;
  const double lr = o.lr > 0.0 ? o.lr : 5e-4;
  const Splits s = load_splits(o, points, batch, cb);
  Generator gen(o.seed);
  models::PCAEConfig cfg;
  cfg.points = points;
  cfg.gen = &gen;
  auto model = std::make_shared<models::PCAE>(cfg);
  model->to(o.device);
  TrainerOptions t = base_options(o, batch, lr);
  t.config = "pcae points=" + std::to_string(points) + " batch=" + std::to_string(batch);
  EvalFn evaluate;
  if (s.test.size() > 0) {
    t.eval_metrics = {"test_chamfer"};
    t.best_metric = "test_chamfer";
    t.best_goal = Goal::minimize;
    const auto test = task_eval_dataset(models::SamplerTask::rec, s.test, "test");
    evaluate = [&, test](nn::Module&) {
      const TaskEvaluation ev = evaluate_task(models::SamplerTask::rec, *model, test, nullptr, o.device, batch);
      return Metrics{{"test_chamfer", ev.aux}};
    };
  }
  auto step = [&](const datasets::Batch& b) {
    const Tensor pts = b["points"].to(DType::f32, o.device);
    return StepOutput{models::PCAE::loss(model->forward(pts), pts), {}};
  };
  if (cb.message)
    cb.message("model PCAE, " + std::to_string(model->num_parameters()) + " parameters, on " + o.device.str());
  auto data = std::make_shared<datasets::CloudSetDataset>(s.train, "train", points);
  return Trainer(model, data, step, evaluate, t, cb).fit();
}

RunSummary train_pcrnet(const TaskNetTrainOptions& o, const TrainCallbacks& cb) {
  const int64_t points = o.points > 0 ? o.points : 1024, batch = o.batch_size > 0 ? o.batch_size : 32;
  const double lr = o.lr > 0.0 ? o.lr : 1e-3;
  const Splits s = load_splits(o, points, batch, cb);
  Generator gen(o.seed);
  models::PCRNetConfig cfg;
  cfg.gen = &gen;
  auto model = std::make_shared<models::PCRNet>(cfg);
  model->to(o.device);
  TrainerOptions t = base_options(o, batch, lr);
  datasets::RigidMotionRange range;
  range.max_angle_deg = o.max_angle_deg;
  t.transforms = {datasets::registration_transform(range)};
  std::ostringstream c;
  c << "pcrnet points=" << points << " batch=" << batch << " max_angle=" << o.max_angle_deg;
  t.config = c.str();
  t.attributes["train.max_angle_deg"] = nn::format_double(o.max_angle_deg);
  EvalFn evaluate;
  if (s.test.size() > 0) {
    t.eval_metrics = {"test_loss", "test_mre"};
    t.best_metric = "test_loss";
    t.best_goal = Goal::minimize;
    const auto test = task_eval_dataset(models::SamplerTask::reg, s.test, "test",
                                        PairOptions{o.max_angle_deg, o.test_seed, o.test_repeat});
    evaluate = [&, test](nn::Module&) {
      const TaskEvaluation ev = evaluate_task(models::SamplerTask::reg, *model, test, nullptr, o.device, batch);
      return Metrics{{"test_loss", ev.aux}, {"test_mre", ev.metric}};
    };
  }
  auto step = [&](const datasets::Batch& b) {
    const Tensor tmpl = b["template"].to(DType::f32, o.device), src = b["source"].to(DType::f32, o.device);
    const models::PCRNetOutput out = model->forward(tmpl, src);
    return StepOutput{models::PCRNet::loss(out, b["rotation"].to(DType::f32, o.device), tmpl, src), {}};
  };
  if (cb.message)
    cb.message("model PCRNet, " + std::to_string(model->num_parameters()) + " parameters, on " + o.device.str());
  auto data = std::make_shared<datasets::CloudSetDataset>(s.train, "train", points);
  return Trainer(model, data, step, evaluate, t, cb).fit();
}

}  // namespace pg::train
