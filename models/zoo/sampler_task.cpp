#include "models/zoo/sampler_task.h"

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "models/nn/checkpoint.h"
#include "models/zoo/pcae.h"
#include "models/zoo/pcrnet.h"
#include "models/zoo/pointnet.h"
#include "models/zoo/registry.h"
#include "ops/ops.h"

namespace pg::models {

const char* sampler_task_name(SamplerTask t) {
  switch (t) {
    case SamplerTask::cls:
      return "cls";
    case SamplerTask::rec:
      return "rec";
    case SamplerTask::reg:
      return "reg";
  }
  return "?";
}

SamplerTask parse_sampler_task(const std::string& s) {
  if (s == "cls") return SamplerTask::cls;
  if (s == "rec") return SamplerTask::rec;
  if (s == "reg") return SamplerTask::reg;
  PG_FAIL("sampler: unknown task '", s, "' (expected cls, rec or reg)");
}

const char* task_network_name(SamplerTask t) {
  switch (t) {
    case SamplerTask::cls:
      return "pointnet";
    case SamplerTask::rec:
      return "pcae";
    case SamplerTask::reg:
      return "pcrnet";
  }
  return "?";
}

std::shared_ptr<nn::Model> load_task_network(const std::string& path, SamplerTask task, Device device) {
  const nn::CheckpointData data = nn::read_checkpoint(path);
  const nn::ModelConfig held = checkpoint_model_config(path, data.meta);
  const std::string want = task_network_name(task);
  PG_CHECK(held.name() == want, "task model '", path, "' is a '", held.name(), "' checkpoint; task ",
           sampler_task_name(task), " needs a '", want, "' (pg train ", want, ")");
  return load_model(path, device, want);
}

TaskBatch make_task_batch(const datasets::Batch& b, SamplerTask task, DType dtype, Device device) {
  TaskBatch t;
  if (task == SamplerTask::reg) {
    t.points = b["template"].to(dtype, device);
    t.source = b["source"].to(dtype, device);
    t.rotation = b["rotation"].to(dtype, device);
  } else {
    t.points = b["points"].to(dtype, device);
    if (task == SamplerTask::cls) t.labels = b["label"].to(device);
  }
  return t;
}

Tensor task_loss(SamplerTask task, const nn::Model& net, const TaskBatch& batch, const Tensor& sampled,
                 const Tensor& sampled_source) {
  switch (task) {
    case SamplerTask::cls: {
      const auto& pn = dynamic_cast<const PointNet&>(net);
      return pn.loss(pn.forward(sampled), batch.labels);
    }
    case SamplerTask::rec: {
      const auto& ae = dynamic_cast<const PCAE&>(net);
      return PCAE::loss(ae.forward(sampled), batch.points);
    }
    case SamplerTask::reg: {
      PG_CHECK(sampled_source.defined(), "sampler: the registration task needs a sampled source cloud");
      const auto& pcr = dynamic_cast<const PCRNet&>(net);
      return PCRNet::loss(pcr.forward(sampled, sampled_source), batch.rotation, batch.points, batch.source);
    }
  }
  PG_FAIL("sampler: unknown task");
}

Tensor task_kd_loss(SamplerTask task, const nn::Model& net, const TaskBatch& batch, const Tensor& sampled,
                    const Tensor& sampled_source) {
  switch (task) {
    case SamplerTask::cls: {
      const auto& pn = dynamic_cast<const PointNet&>(net);
      Tensor teacher;
      {
        NoGradGuard no_grad;
        teacher = softmax(pn.forward(batch.points).logits, 1).detach();
      }
      return kl_div(log_softmax(pn.forward(sampled).logits, 1), teacher, Reduction::batchmean);
    }
    case SamplerTask::rec: {
      const auto& ae = dynamic_cast<const PCAE&>(net);
      Tensor target;
      {
        NoGradGuard no_grad;
        target = ae.forward(batch.points).detach();
      }
      return PCAE::loss(ae.forward(sampled), target);
    }
    case SamplerTask::reg: {
      PG_CHECK(sampled_source.defined(), "sampler: the registration task needs a sampled source cloud");
      const auto& pcr = dynamic_cast<const PCRNet&>(net);
      Tensor q_full;
      {
        NoGradGuard no_grad;
        q_full = pcr.forward(batch.points, batch.source).quaternion.detach();
      }
      return PCRNet::loss(pcr.forward(sampled, sampled_source), q_full, batch.points, batch.source);
    }
  }
  PG_FAIL("sampler: unknown task");
}

Tensor simplify_loss(const Tensor& q, const Tensor& p, const SimplifyWeights& w) {
  const ChamferResult c = chamfer(q, p);  // dist_a: Q → P, dist_b: P → Q
  const Tensor la_qp = mean(c.dist_a);
  const Tensor lm_qp = mean(max(c.dist_a, 1));
  const Tensor la_pq = mean(c.dist_b);
  const double w_pq = w.gamma + w.delta * static_cast<double>(q.size(1));
  return add(add(la_qp, mul(lm_qp, w.beta)), mul(la_pq, w_pq));
}

SamplerLossWeights default_loss_weights(SamplerTask task, bool progressive) {
  SamplerLossWeights w;
  switch (task) {
    case SamplerTask::cls:
      w.alpha = 30.0;
      w.simplify = progressive ? SimplifyWeights{1.0, 0.5, 1.0 / 30.0} : SimplifyWeights{1.0, 1.0, 0.0};
      w.lambda = 1.0;
      w.k = 7;
      break;
    case SamplerTask::rec:
      w.alpha = 0.01;
      w.simplify = SimplifyWeights{1.0, 0.0, 1.0 / 64.0};
      w.lambda = 1e-4;
      w.k = 16;
      break;
    case SamplerTask::reg:
      w.alpha = 0.01;
      w.simplify = SimplifyWeights{1.0, 1.0, 0.0};
      w.lambda = 0.01;
      w.k = 8;
      break;
  }
  return w;
}

std::vector<int64_t> control_sizes(int64_t min_size, int64_t max_size) {
  PG_CHECK(min_size >= 1 && min_size <= max_size, "sampler: control sizes need 1 <= min (", min_size, ") <= max (",
           max_size, ")");
  std::vector<int64_t> out;
  int64_t c = 1;
  while (c < min_size) c *= 2;
  for (; c <= max_size; c *= 2) out.push_back(c);
  if (out.empty() || out.back() != max_size) out.push_back(max_size);
  return out;
}

}  // namespace pg::models
