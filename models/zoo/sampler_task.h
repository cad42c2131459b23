// What a learned sampler needs to know about its task (METHODS.md §1.1, §5.3): the three tasks,
// the frozen task network each one uses, the task loss on sampled clouds, the simplification
// loss, the per-task default weights and the progressive control sizes.
//
// Tasks and their frozen networks:
//   cls  classification   "pointnet" (either variant)  batch {"points" [B,N,3], "label" [B]}
//        task loss = the classifier's training loss (cross-entropy + its T-Net regulariser)
//   rec  reconstruction   "pcae"                       batch {"points" [B,N,3]}
//        task loss = Chamfer(PCAE(sampled), points)     (the FULL input is the target)
//   reg  registration     "pcrnet"                     batch {"template", "source" [B,N,3], "rotation" [B,4]}
//        task loss = PCRNet loss of (sampled template, sampled source) against the ground truth,
//        its Chamfer term on the FULL clouds (§3.4)
//
// Simplification loss (§1.1, all distances squared):
//   Lsimplify(Q, P) = La(Q, P) + β·Lm(Q, P) + (γ + δ·|Q|)·La(P, Q)
//   La(X, Y) = mean over all points of the batch of min_y ‖x − y‖², Lm = batch mean of the
//   per-cloud max. The reconstruction code's hard-coded weight m/64 on La(P, Q) is γ = 0,
//   δ = 1/64 here (the same number; METHODS.md §5.6 item 2).
//
// Default weights (§5.3 table):      α      β   γ     δ      λ      k
//   cls fixed                        30     1   1     0      1      7
//   cls progressive                  30     1   0.5   1/30   1      7
//   rec fixed and progressive        0.01   1   0     1/64   1e-4   16
//   reg                              0.01   1   1     0      0.01   8
// Control sizes (progressive): powers of two from min_size up to max_size (cls 2…1024,
// rec 16…2048), plus max_size itself when it is not a power of two.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "datasets/loader.h"
#include "models/nn/model_config.h"

namespace pg::models {

enum class SamplerTask : uint8_t { cls, rec, reg };
const char* sampler_task_name(SamplerTask t);
SamplerTask parse_sampler_task(const std::string& s);  // "cls" | "rec" | "reg"
// The registry name of the task network a task needs ("pointnet", "pcae", "pcrnet").
const char* task_network_name(SamplerTask t);

// Loads the frozen task network of `task` from `path` (eval mode, on `device`). A checkpoint of
// another model is one error naming the file, what it holds and what the task needs.
std::shared_ptr<nn::Model> load_task_network(const std::string& path, SamplerTask task, Device device);

// The tensors of one batch a task uses, converted to `dtype` on `device`.
struct TaskBatch {
  Tensor points;    // cls, rec: the cloud; reg: the template
  Tensor source;    // reg only
  Tensor labels;    // cls only
  Tensor rotation;  // reg only: ground-truth quaternion [B, 4]
  int64_t size() const { return points.size(0); }
};
TaskBatch make_task_batch(const datasets::Batch& b, SamplerTask task, DType dtype, Device device);

// The task loss (0-d) when the network sees `sampled` (for reg: the sampled template) and, for
// reg, `sampled_source`. Differentiable w.r.t. the sampled clouds; the network is not changed.
Tensor task_loss(SamplerTask task, const nn::Model& net, const TaskBatch& batch, const Tensor& sampled,
                 const Tensor& sampled_source = Tensor());

// Knowledge distillation (APSNet-KD, METHODS.md §6.2): the target is the frozen network's own
// prediction on the FULL clouds (computed without gradient) instead of the label:
//   cls  KL(softmax(T(P)) ‖ softmax(T(S))) = kl_div(log_softmax(T(S)), softmax(T(P)), batchmean)
//   rec  Chamfer(AE(S), AE(P))
//   reg  the PCRNet loss of (S_template, S_source) with T(P_template, P_source)'s quaternion as
//        the ground truth (its Chamfer term on the full clouds, as task_loss)
// Differentiable w.r.t. the sampled clouds only.
Tensor task_kd_loss(SamplerTask task, const nn::Model& net, const TaskBatch& batch, const Tensor& sampled,
                    const Tensor& sampled_source = Tensor());

struct SimplifyWeights {
  double beta = 1.0, gamma = 1.0, delta = 0.0;
};
// Lsimplify(Q, P) above (0-d), Q [B, M, 3], P [B, N, 3].
Tensor simplify_loss(const Tensor& q, const Tensor& p, const SimplifyWeights& w);

struct SamplerLossWeights {
  double alpha = 30.0;
  SimplifyWeights simplify;
  double lambda = 1.0;
  int64_t k = 7;  // soft-projection neighbourhood
};
SamplerLossWeights default_loss_weights(SamplerTask task, bool progressive);

std::vector<int64_t> control_sizes(int64_t min_size, int64_t max_size);

}  // namespace pg::models
