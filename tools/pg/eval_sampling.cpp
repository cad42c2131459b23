// pg eval sampling: the SampleNet evaluation protocols (METHODS.md §5.5) for one sampling method
// at one or more m, with a frozen task network:
//   pg eval sampling --method random|fps|snet|progressive|samplenet|apsnet [--sampler RUN/best.h5]
//                    --m 8,16,32 [--task-model FILE.h5] --data DIR [--class C] [--json]
// The task (cls accuracy, rec NRE, reg MRE) follows from the task network's kind. Learned
// samplers report the soft value (the task network on the projected / generated points, what
// training optimises) and the matched value (on the matched + FPS-completed subset: the number
// to compare) separately; random and FPS report the one value. For apsnet soft is APSNet-G (the
// generated points, FPS-completed beyond max_generated) and matched APSNet-M; the text output
// labels them G and M (the JSON keys stay soft / matched).
#include <omp.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "models/nn/checkpoint.h"
#include "models/train/task_eval.h"
#include "models/zoo/pointnet.h"
#include "models/zoo/registry.h"
#include "models/zoo/sampling_methods.h"
#include "tools/pg/cli_validators.h"
#include "tools/pg/commands.h"

namespace pg::cli {

namespace {

namespace fs = std::filesystem;

struct SamplingEvalCli {
  std::string method, sampler, task_model, data, class_name, split = "test", device = "cpu";
  std::vector<int64_t> m;
  int64_t points = 0, batch_size = 32, test_repeat = 1;
  uint64_t seed = 1, test_seed = 7;
  double max_angle = 45.0;
  bool json = false;
  int threads = 0;
};

models::SamplerTask task_of(const std::string& network_name, const std::string& path) {
  for (auto t : {models::SamplerTask::cls, models::SamplerTask::rec, models::SamplerTask::reg})
    if (network_name == models::task_network_name(t)) return t;
  PG_FAIL("pg eval sampling: task model '", path, "' is a '", network_name,
          "' checkpoint, not a task network (pointnet, pcae or pcrnet)");
}

std::string value_str(models::SamplerTask task, double v) {
  char buf[64];
  if (task == models::SamplerTask::cls)
    std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * v);
  else if (task == models::SamplerTask::reg)
    std::snprintf(buf, sizeof buf, "%.3f deg", v);
  else
    std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

void run(const SamplingEvalCli& c) {
  if (c.threads > 0) omp_set_num_threads(c.threads);
  const Device dev = Device::parse(c.device);
  std::shared_ptr<models::LearnedSampler> sampler;
  if (models::is_learned_method(c.method)) {
    PG_CHECK(!c.sampler.empty(), "pg eval sampling: method ", c.method, " needs --sampler CHECKPOINT");
    PG_CHECK(fs::exists(c.sampler), "pg eval sampling: sampler checkpoint not found: ", c.sampler);
    sampler = models::load_model_as<models::LearnedSampler>(c.sampler, dev, models::learned_method_model(c.method));
  } else {
    PG_CHECK(c.sampler.empty(), "pg eval sampling: --sampler is for learned methods, not ", c.method);
  }
  std::string task_path = c.task_model;
  if (task_path.empty()) {
    PG_CHECK(sampler != nullptr, "pg eval sampling: give --task-model FILE.h5");
    task_path = sampler->config().task_model;
  }
  PG_CHECK(fs::exists(task_path), "pg eval sampling: task model not found: ", task_path);
  const nn::CheckpointData ck = nn::read_checkpoint(task_path);
  const models::SamplerTask task = task_of(models::checkpoint_model_config(task_path, ck.meta).name(), task_path);
  if (sampler) {
    PG_CHECK(sampler->config().task == task, "pg eval sampling: the sampler was trained for task ",
             models::sampler_task_name(sampler->config().task), ", the task model '", task_path, "' is for ",
             models::sampler_task_name(task));
  }
  auto net = models::load_task_network(task_path, task, dev);
  const int64_t points = c.points > 0 ? c.points
                         : sampler    ? sampler->config().in_points
                                      : (task == models::SamplerTask::rec ? 2048 : 1024);
  PG_CHECK(!c.m.empty(), "pg eval sampling: give --m");
  const datasets::PointCloudSet set = train::load_task_set(
      c.data, c.split == "train" ? datasets::Split::train : datasets::Split::test, points, c.class_name);
  PG_CHECK(set.num_points() == points, "pg eval sampling: the data has ", set.num_points(),
           " points per shape, fewer than ", points);
  if (task == models::SamplerTask::cls) {
    const int64_t classes = dynamic_cast<const models::PointNet&>(*net).config().num_classes;
    PG_CHECK(classes == set.num_classes(), "pg eval sampling: the task model '", task_path, "' has ", classes,
             " classes, ", c.data, " has ", set.num_classes());
  }
  for (int64_t m : c.m) {
    PG_CHECK(m >= 1 && m <= points, "pg eval sampling: m = ", m, " is outside 1..", points, " (the points per cloud)");
    if (sampler) sampler->check_m(m, points);
  }
  const auto data =
      train::task_eval_dataset(task, set, c.split, train::PairOptions{c.max_angle, c.test_seed, c.test_repeat});
  const char* metric = train::task_metric_name(task);
  if (!c.json) {
    std::printf("pg eval sampling: %s on %s/%s%s (%lld items, %lld points), task %s with %s\n", c.method.c_str(),
                c.data.c_str(), c.split.c_str(), c.class_name.empty() ? "" : (" class " + c.class_name).c_str(),
                static_cast<long long>(data->size()), static_cast<long long>(points), models::sampler_task_name(task),
                task_path.c_str());
    if (task != models::SamplerTask::rec) {
      const train::TaskEvaluation full = train::evaluate_task(task, *net, data, nullptr, dev, c.batch_size);
      std::printf("  all %lld points: %s %s\n", static_cast<long long>(points), metric,
                  value_str(task, full.metric).c_str());
    }
    std::fflush(stdout);
  }
  for (int64_t m : c.m) {
    Generator gen(c.seed);
    const train::SampleFn matched = [&](const Tensor& p) {
      return models::gather_points(p, models::sample_indices(c.method, sampler.get(), p, m, &gen));
    };
    const train::TaskEvaluation ev = train::evaluate_task(task, *net, data, matched, dev, c.batch_size);
    double soft = NAN;
    if (sampler) {
      const train::SampleFn soft_fn = [&](const Tensor& p) { return sampler->soft_sample(p, m); };
      soft = train::evaluate_task(task, *net, data, soft_fn, dev, c.batch_size).metric;
    }
    if (c.json) {
      std::printf("{\"method\": \"%s\", \"task\": \"%s\", \"metric\": \"%s\", \"m\": %lld, \"matched\": %.8g, ",
                  c.method.c_str(), models::sampler_task_name(task), metric, static_cast<long long>(m), ev.metric);
      if (std::isnan(soft))
        std::printf("\"soft\": null, ");
      else
        std::printf("\"soft\": %.8g, ", soft);
      std::printf("\"items\": %lld, \"seconds\": %.3f}\n", static_cast<long long>(ev.items), ev.seconds);
    } else if (sampler) {
      const bool aps = sampler->is_apsnet();
      std::printf("  m = %4lld: %s %s %s  %s %s  (%.1f s)\n", static_cast<long long>(m), metric, aps ? "G" : "soft",
                  value_str(task, soft).c_str(), aps ? "M" : "matched", value_str(task, ev.metric).c_str(), ev.seconds);
    } else {
      std::printf("  m = %4lld: %s %s  (%.1f s)\n", static_cast<long long>(m), metric,
                  value_str(task, ev.metric).c_str(), ev.seconds);
    }
    std::fflush(stdout);
  }
}

}  // namespace

void register_sampling_eval(CLI::App& app) {
  static SamplingEvalCli c;
  CLI::App* eval = app.get_subcommand("eval");
  auto* cmd = eval->add_subcommand("sampling",
                                   "Task accuracy / NRE / MRE of a sampling method at given m (SampleNet protocols)");
  cmd->add_option("--method", c.method, "random, fps, snet, progressive, samplenet or apsnet (APSNet-M)")
      ->required()
      ->check(CLI::IsMember({"random", "fps", "snet", "progressive", "samplenet", "apsnet"}));
  cmd->add_option("--sampler", c.sampler, "learned sampler checkpoint (pg train samplenet|snet|progressive|apsnet)");
  cmd->add_option("--m", c.m, "sample sizes, e.g. 8,16,32")->required()->delimiter(',')->check(PositiveInt());
  cmd->add_option("--task-model", c.task_model, "frozen task network (default: the sampler's)");
  cmd->add_option("--data", c.data, "data folder (ModelNet40 HDF5 layout)")->required();
  cmd->add_option("--class", c.class_name, "only this class (e.g. airplane for registration)");
  cmd->add_option("--split", c.split, "test or train")->capture_default_str()->check(CLI::IsMember({"test", "train"}));
  cmd->add_option("--points", c.points, "first k points of every shape (0: the sampler's, else cls/reg 1024, rec 2048)")
      ->check(NonNegativeInt());
  cmd->add_option("--batch-size", c.batch_size, "clouds per batch")->capture_default_str()->check(PositiveInt());
  cmd->add_option("--seed", c.seed, "seed of the random method")->capture_default_str();
  cmd->add_option("--max-angle", c.max_angle, "reg: Euler angles of the test pairs in ±degrees")->capture_default_str();
  cmd->add_option("--test-repeat", c.test_repeat, "reg: pairs per test shape")
      ->capture_default_str()
      ->check(PositiveInt());
  cmd->add_option("--test-seed", c.test_seed, "reg: seed of the test motions")->capture_default_str();
  cmd->add_option("--device", c.device, "cpu or cuda[:N]")->capture_default_str();
  cmd->add_flag("--json", c.json, "one JSON object per m instead of text");
  cmd->add_option("--threads", c.threads, "CPU threads (0: OpenMP default)")->capture_default_str();
  cmd->callback([] { run(c); });
}

}  // namespace pg::cli
