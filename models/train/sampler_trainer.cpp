#include "models/train/sampler_trainer.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "datasets/cloud_set_dataset.h"
#include "datasets/registration.h"
#include "models/nn/schedule.h"
#include "models/train/task_eval.h"
#include "models/zoo/pcae.h"
#include "models/zoo/pointnet.h"
#include "models/zoo/sampling_methods.h"
#include "ops/ops.h"

namespace pg::train {

namespace fs = std::filesystem;
using models::SamplerTask;

models::SamplerConfig sampler_config_for(const SamplerTrainOptions& o) {
  const int64_t in_points = o.in_points > 0 ? o.in_points : (o.task == SamplerTask::rec ? 2048 : 1024);
  models::SamplerConfig c = models::default_sampler_config(o.kind, o.task, o.m, in_points, o.compat, o.progressive);
  if (o.alpha) c.weights.alpha = *o.alpha;
  if (o.beta) c.weights.simplify.beta = *o.beta;
  if (o.gamma) c.weights.simplify.gamma = *o.gamma;
  if (o.delta) c.weights.simplify.delta = *o.delta;
  if (o.lambda) c.weights.lambda = *o.lambda;
  if (o.min_sigma) c.min_sigma = *o.min_sigma;
  if (o.k) c.weights.k = *o.k;
  if (o.last_bn) c.last_bn = *o.last_bn;
  c.init_temperature = o.init_temperature;
  c.bottleneck = o.bottleneck;
  c.kd = o.kd;
  c.joint = o.joint;
  c.max_generated = o.max_generated;
  c.task_model = o.task_model.empty() ? std::string() : fs::absolute(o.task_model).lexically_normal().string();
  return c;
}

RunSummary train_sampler(const SamplerTrainOptions& o, const TrainCallbacks& cb) {
  PG_CHECK(!o.task_model.empty(), "train ", o.kind, ": no task model given (--task-model FILE.h5)");
  PG_CHECK(fs::exists(o.task_model), "train ", o.kind, ": task model not found: ", o.task_model);
  PG_CHECK(!o.data_dir.empty() && !o.out_dir.empty(), "train ", o.kind, ": need a data folder and an output folder");
  PG_CHECK(o.epochs >= 1, "train ", o.kind, ": epochs must be positive, got ", o.epochs);
  const models::SamplerConfig cfg = sampler_config_for(o);
  const int64_t batch = o.batch_size > 0 ? o.batch_size : (o.task == SamplerTask::rec ? 50 : 32);
  const double lr = o.lr > 0.0 ? o.lr : (o.task == SamplerTask::cls ? 0.01 : o.task == SamplerTask::rec ? 5e-4 : 1e-3);
  PG_CHECK(batch >= 2, "train ", o.kind, ": batch size must be at least 2 (BatchNorm), got ", batch);

  auto task_net = models::load_task_network(cfg.task_model, cfg.task, o.device);
  const datasets::PointCloudSet train_set =
      load_task_set(o.data_dir, datasets::Split::train, cfg.in_points, o.class_name);
  const datasets::PointCloudSet test_set =
      load_task_set(o.data_dir, datasets::Split::test, cfg.in_points, o.class_name);
  PG_CHECK(train_set.num_points() == cfg.in_points, "train ", o.kind, ": the data has ", train_set.num_points(),
           " points per shape, fewer than the ", cfg.in_points, " the sampler takes");
  PG_CHECK(train_set.size() >= batch, "train ", o.kind, ": the training split has ", train_set.size(),
           " shapes, fewer than one batch of ", batch);
  if (cfg.task == SamplerTask::cls) {
    const auto& pn = dynamic_cast<const models::PointNet&>(*task_net);
    PG_CHECK(pn.config().num_classes == train_set.num_classes(), "train ", o.kind, ": the task model has ",
             pn.config().num_classes, " classes, the data ", train_set.num_classes());
  }
  if (cfg.task == SamplerTask::rec) {
    const auto& ae = dynamic_cast<const models::PCAE&>(*task_net);
    PG_CHECK(ae.config().points == cfg.in_points, "train ", o.kind, ": the task model reconstructs ",
             ae.config().points, " points, the sampler's clouds have ", cfg.in_points, " (--points)");
  }
  if (cb.message) {
    std::ostringstream m;
    m << "data " << o.data_dir << (o.class_name.empty() ? "" : " (class " + o.class_name + ")") << ": "
      << train_set.size() << " train / " << test_set.size() << " test shapes, " << cfg.in_points << " points";
    cb.message(m.str());
  }

  Generator gen(o.seed);
  auto model = std::make_shared<models::LearnedSampler>(cfg, task_net, &gen);
  model->to(o.device);
  if (cb.message) {
    std::ostringstream m;
    m << "model " << model->model_config().describe() << "; " << model->num_parameters(true)
      << " trainable parameters, task network " << cfg.task_model;
    cb.message(m.str());
  }

  TrainerOptions t;
  t.out_dir = o.out_dir;
  t.epochs = o.epochs;
  t.seed = o.seed;
  t.resume = o.resume;
  t.batch_size = batch;
  t.drop_last = true;
  t.prefetch = o.prefetch;
  t.optimizer = {"adam", lr};
  const bool aps = model->is_apsnet();
  if (aps && cfg.task == SamplerTask::cls) t.optimizer.weight_decay = 1e-4;
  if (aps && cfg.task != SamplerTask::reg) t.lr_schedule = std::make_shared<nn::StepDecay>(lr, 20, 0.7);
  if (!aps && cfg.task == SamplerTask::cls) {
    t.lr_schedule = nn::pointnet_tf_lr(lr, 600000, 0.7, 1e-5);
    t.bn_momentum_schedule = nn::pointnet_tf_bn_momentum(600000);
    t.schedule_unit = ScheduleUnit::sample;
  }
  if (cfg.task == SamplerTask::reg) {
    datasets::RigidMotionRange range;
    range.max_angle_deg = o.max_angle_deg;
    t.transforms = {datasets::registration_transform(range)};
  }
  t.train_metrics = {"task_loss", "simplify_loss"};
  if (model->projects()) t.train_metrics.push_back("sigma");
  t.eval_every = o.eval_every;
  t.sample_unit = "shapes";
  t.config = model->model_config().describe();
  t.attributes = {{"train.data", o.data_dir}, {"train.class", o.class_name}, {"train.seed", std::to_string(o.seed)}};

  const std::string metric = task_metric_name(cfg.task);
  const int64_t eval_m = model->is_progressive() ? (o.eval_m > 0 ? o.eval_m : std::min<int64_t>(32, cfg.m))
                         : aps && o.eval_m > 0 ? o.eval_m
                                               : cfg.m;
  model->check_m(eval_m, cfg.in_points);
  EvalFn evaluate;
  if (test_set.size() > 0) {
    const std::string soft = "test_soft_" + metric, matched = "test_matched_" + metric;
    t.eval_metrics = {soft, matched};
    t.best_metric = matched;
    t.best_goal = task_metric_higher_is_better(cfg.task) ? Goal::maximize : Goal::minimize;
    t.attributes["train.eval_m"] = std::to_string(eval_m);
    const auto test =
        task_eval_dataset(cfg.task, test_set, "test", PairOptions{o.max_angle_deg, o.test_seed, o.test_repeat});
    evaluate = [&, test, soft, matched, eval_m](nn::Module&) {
      const SampleFn soft_fn = [&](const Tensor& p) { return model->soft_sample(p, eval_m); };
      const SampleFn matched_fn = [&](const Tensor& p) {
        return models::gather_points(p, model->sample(p, eval_m).indices);
      };
      const double s = evaluate_task(cfg.task, *task_net, test, soft_fn, o.device, batch).metric;
      const double mt = evaluate_task(cfg.task, *task_net, test, matched_fn, o.device, batch).metric;
      return Metrics{{soft, s}, {matched, mt}};
    };
  }
  auto step = [&](const datasets::Batch& b) {
    const models::TaskBatch tb = models::make_task_batch(b, cfg.task, DType::f32, o.device);
    const models::SamplerLoss l = model->loss(tb);
    StepOutput out;
    out.loss = l.total;
    out.metrics = {{"task_loss", l.task.item_double()}, {"simplify_loss", l.simplify.item_double()}};
    if (model->projects()) out.metrics.push_back({"sigma", l.sigma.item_double()});
    return out;
  };
  auto data = std::make_shared<datasets::CloudSetDataset>(train_set, "train", cfg.in_points);
  return Trainer(model, data, step, evaluate, t, cb).fit();
}

}  // namespace pg::train
