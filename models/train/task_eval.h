// Data and evaluation protocols of the sampler tasks (METHODS.md §5.5), shared by the task
// network trainers (pg train pcae / pcrnet), the sampler trainer and `pg eval sampling`.
//
// Data: a ModelNet40-layout folder (datasets/modelnet40.h), one split, the first `points` points
// of every shape, optionally only the shapes of one class (e.g. "airplane" for registration).
// Registration evaluation pairs are RegistrationPairs over that set (fixed motions per seed,
// `repeat` pairs per shape, Euler angles in ±max_angle degrees).
//
// Protocols, each over the whole evaluation set with the task network in eval mode and no
// gradient; `sample` maps clouds [B, N, 3] to the clouds the network sees ([B, m, 3]; null:
// the full clouds):
//   cls  metric "acc": instance accuracy (fraction), aux: mean cross-entropy
//   rec  metric "nre": mean over shapes of CD(P, AE(S)) / CD(P, AE(P)) (per-shape ratios, not a
//        ratio of means; CD as §1.2, P the full input), aux: mean CD(P, AE(S))
//   reg  metric "mre": mean over pairs of the relative-rotation angle in degrees,
//        acos(clamp(2⟨q̂, q⟩² − 1, −1, 1)), template and source both sampled; aux: mean PCRNet loss
//        (with the full clouds in its Chamfer term)
// Errors: an empty set, a class name the folder does not have, a class with no shapes, a
// network of the wrong kind (pg::Error naming them).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/device.h"
#include "datasets/dataset.h"
#include "datasets/modelnet40.h"
#include "models/nn/model_config.h"
#include "models/zoo/sampler_task.h"

namespace pg::train {

// A split of a ModelNet40-layout folder: first `points` points (-1: all), only `class_name`
// when not empty.
datasets::PointCloudSet load_task_set(const std::string& dir, datasets::Split split, int64_t points,
                                      const std::string& class_name = "");

struct PairOptions {
  double max_angle_deg = 45.0;
  uint64_t seed = 0;
  int64_t repeat = 1;
};
// The items a task evaluates: cls/rec the clouds ({"points", "label"}), reg fixed pairs.
datasets::DatasetPtr task_eval_dataset(models::SamplerTask task, const datasets::PointCloudSet& set,
                                       const std::string& name, const PairOptions& pairs = {});

// The metric's name ("acc", "nre", "mre") and whether larger is better.
const char* task_metric_name(models::SamplerTask task);
bool task_metric_higher_is_better(models::SamplerTask task);

using SampleFn = std::function<Tensor(const Tensor& points)>;

struct TaskEvaluation {
  double metric = 0.0;
  double aux = 0.0;
  int64_t items = 0;
  double seconds = 0.0;
};

TaskEvaluation evaluate_task(models::SamplerTask task, const nn::Model& net, const datasets::DatasetPtr& data,
                             const SampleFn& sample, Device device, int64_t batch_size = 32);

}  // namespace pg::train
