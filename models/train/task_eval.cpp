#include "models/train/task_eval.h"

#include <chrono>
#include <cmath>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "datasets/cloud_set_dataset.h"
#include "datasets/loader.h"
#include "datasets/registration.h"
#include "models/zoo/pcae.h"
#include "models/zoo/pcrnet.h"
#include "models/zoo/pointnet.h"
#include "ops/ops.h"

namespace pg::train {

datasets::PointCloudSet load_task_set(const std::string& dir, datasets::Split split, int64_t points,
                                      const std::string& class_name) {
  datasets::ModelNetReadOptions ro;
  ro.max_points = points;
  datasets::PointCloudSet set = datasets::read_modelnet40(dir, split, ro);
  if (class_name.empty()) return set;
  int64_t cls = -1;
  for (size_t c = 0; c < set.class_names.size(); ++c)
    if (set.class_names[c] == class_name) cls = static_cast<int64_t>(c);
  PG_CHECK(cls >= 0, "data ", dir, ": no class named '", class_name, "' in shape_names.txt");
  const std::vector<int64_t> labels = set.labels.to_vector<int64_t>();
  std::vector<int64_t> keep;
  for (size_t i = 0; i < labels.size(); ++i)
    if (labels[i] == cls) keep.push_back(static_cast<int64_t>(i));
  PG_CHECK(!keep.empty(), "data ", dir, ": the ", datasets::split_name(split), " split has no '", class_name,
           "' shapes");
  const Tensor idx = from_vector(keep, {static_cast<int64_t>(keep.size())});
  set.points = index_select(set.points, 0, idx).contiguous();
  set.labels = index_select(set.labels, 0, idx).contiguous();
  set.files.clear();
  set.file_offsets.clear();
  return set;
}

datasets::DatasetPtr task_eval_dataset(models::SamplerTask task, const datasets::PointCloudSet& set,
                                       const std::string& name, const PairOptions& pairs) {
  PG_CHECK(set.size() > 0, "evaluation: the set '", name, "' is empty");
  auto clouds = std::make_shared<datasets::CloudSetDataset>(set, name);
  if (task != models::SamplerTask::reg) return clouds;
  datasets::RegistrationOptions ro;
  ro.range.max_angle_deg = pairs.max_angle_deg;
  ro.seed = pairs.seed;
  ro.repeat = pairs.repeat;
  return std::make_shared<datasets::RegistrationPairs>(clouds, ro);
}

const char* task_metric_name(models::SamplerTask task) {
  switch (task) {
    case models::SamplerTask::cls:
      return "acc";
    case models::SamplerTask::rec:
      return "nre";
    case models::SamplerTask::reg:
      return "mre";
  }
  return "?";
}

bool task_metric_higher_is_better(models::SamplerTask task) {
  return task == models::SamplerTask::cls;
}

TaskEvaluation evaluate_task(models::SamplerTask task, const nn::Model& net, const datasets::DatasetPtr& data,
                             const SampleFn& sample, Device device, int64_t batch_size) {
  using models::SamplerTask;
  PG_CHECK(data && data->size() > 0, "evaluation: the data set is empty");
  PG_CHECK(batch_size >= 1, "evaluation: batch size must be positive, got ", batch_size);
  PG_CHECK(net.model_config().name() == models::task_network_name(task), "evaluation: task ",
           models::sampler_task_name(task), " needs a '", models::task_network_name(task), "' network, got '",
           net.model_config().name(), "'");
  PG_CHECK(!net.is_training(), "evaluation: the task network must be in eval mode");
  const auto t0 = std::chrono::steady_clock::now();
  NoGradGuard no_grad;
  datasets::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.shuffle = false;
  lo.prefetch = 2;
  datasets::DataLoader loader(data, lo);
  loader.start_epoch(0);
  const auto apply = [&](const Tensor& p) { return sample ? sample(p) : p; };
  double metric_sum = 0.0, aux_sum = 0.0;
  TaskEvaluation ev;
  datasets::Batch b;
  while (loader.next(b)) {
    const models::TaskBatch tb = models::make_task_batch(b, task, DType::f32, device);
    const int64_t n = tb.size();
    if (task == SamplerTask::cls) {
      const auto& pn = dynamic_cast<const models::PointNet&>(net);
      const Tensor logits = pn.forward(apply(tb.points)).logits;
      aux_sum += cross_entropy(logits, tb.labels, Reduction::sum).item_double();
      const std::vector<int64_t> pred = argmax(logits, 1).to(Device::cpu()).to_vector<int64_t>();
      const std::vector<int64_t> truth = tb.labels.to(Device::cpu()).to_vector<int64_t>();
      for (size_t i = 0; i < pred.size(); ++i) metric_sum += pred[i] == truth[i] ? 1.0 : 0.0;
    } else if (task == SamplerTask::rec) {
      const auto& ae = dynamic_cast<const models::PCAE&>(net);
      const std::vector<double> cd_s = models::PCAE::loss(ae.forward(apply(tb.points)), tb.points, true)
                                           .to(DType::f64, Device::cpu())
                                           .to_vector<double>();
      const std::vector<double> cd_p =
          models::PCAE::loss(ae.forward(tb.points), tb.points, true).to(DType::f64, Device::cpu()).to_vector<double>();
      for (size_t i = 0; i < cd_s.size(); ++i) {
        aux_sum += cd_s[i];
        metric_sum += cd_p[i] > 0.0 ? cd_s[i] / cd_p[i] : (cd_s[i] > 0.0 ? INFINITY : 1.0);
      }
    } else {
      const auto& pcr = dynamic_cast<const models::PCRNet&>(net);
      const models::PCRNetOutput out = pcr.forward(apply(tb.points), apply(tb.source));
      aux_sum += models::PCRNet::loss(out, tb.rotation, tb.points, tb.source).item_double() * static_cast<double>(n);
      for (double e : models::rotation_error_degrees(out.quaternion, tb.rotation)) metric_sum += e;
    }
    ev.items += n;
  }
  ev.metric = metric_sum / static_cast<double>(ev.items);
  ev.aux = aux_sum / static_cast<double>(ev.items);
  ev.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return ev;
}

}  // namespace pg::train
