// Learned samplers: SampleNet (Lang et al. 2020, METHODS.md §5), S-NET and ProgressiveNet
// (Dovrat et al. 2019, §4). One class, three registry names, because the three share the
// simplification network (models/zoo/simplify_net.h), the losses and the inference path:
//
//   kind            output Q                      the task network sees (training)   ordered
//   samplenet       m points                      R = soft_projection(Q, P)          no
//   samplenet +     m_max points, loss summed     R's first c points, c in the       yes
//     progressive   over control sizes            control sizes
//   snet            m points                      Q (generated points)               no
//   progressivenet  m_max points, summed over c   Q's first c points                 yes
//
// Training loss (§5.3): fixed: Ltask(S) + α·Lsimplify(Q, P) [+ λ·σ for SampleNet], S = R or Q;
// progressive: Σ_c [Ltask(S[:, :c]) + α·Lsimplify(Q[:, :c], P)] [+ λ·σ once]. Registration
// samples template and source with the same network and averages their two Lsimplify.
// Soft projection: k nearest input points, weights softmax(−d²/σ), σ = max(t², min_sigma), t a
// learned scalar initialised to init_temperature (ops/soft_projection.h).
//
// Inference (§1.4, §5.5): matched = match_and_complete(Q[:, :m], P, m): each generated point's
// nearest input point, unique in first-occurrence order, completed by FPS seeded with them —
// for SampleNet the nearest input point is the argmax of the projection weights (Eq. 12), so
// the matched subset is the hard projection. soft = R[:, :m] (SampleNet) or Q[:, :m] (S-NET):
// what the task network saw in training, reported separately (METHODS.md §15B).
//
// Paper intent vs code (§5.6), `compat` in the config ("paper" default, or "code"):
//   item 3, BN on the output layer: paper none; code: the TF classification sampler has it;
//   item 4, σ floor: paper none; code: 0.01 for registration (PyTorch), none otherwise;
//   items 1, 2, 7 (β, reconstruction weights, k per task) are options with the code's values.
// Both values land in the config (last_bn, min_sigma), so a checkpoint says what it ran.
//
// APSNet (kind "apsnet", METHODS.md §6; network in models/zoo/apsnet.h): Q = the attention
// generator's points, fed to the task network as they are (no projection, no σ).
//   loss (§6.2): Ltask(Q) + α·Lsimplify(Q, P), β = 1, γ = 1, δ = 0, α = 30 (cls), 0.01 (rec, reg);
//   kd: the task target is the frozen task network's own prediction on the full cloud
//       (task_kd_loss in sampler_task.h) instead of the label / ground truth (APSNet-KD);
//   joint "paper" (Eq. 10): Σ_c [Ltask(Q[:, :c]) + α·Lsimplify(Q[:, :c], P)] over
//       c in control_sizes(8, m) (= {8, 16, 32, 64, 128} for m = 128);
//   joint "code" (the released --joint): Ltask(Q) once + α·Σ_c Lsimplify(Q[:, :c], P) over
//       c = m, m/2, m/4, … while c >= 8.
//   Inference: G (soft_sample) = the generated points; M (sample) = match_and_complete of them.
//   max_generated (default 128, the released code's rule, §6.1 [C]): for m > max_generated the
//   network generates max_generated points; G appends the input points chosen by FPS seeded
//   with the generated points, M matches the generated points and completes by FPS. 0: no cap
//   (generate all m points, the paper's reading). Any m in 1..N works (autoregressive).
//
// The frozen task network is the child "task" (nn::Module::register_frozen), loaded from
// `task_model`; the checkpoint records its path and fingerprint, and load_model() reloads and
// checks it. Config keys: task, arch, m, in_points, progressive, min_control, bottleneck,
// last_bn, k, min_sigma, init_temperature, alpha, beta, gamma, delta, lambda, compat,
// task_model; apsnet adds kd, joint, max_generated, lstm_layers.
//
// Errors (pg::Error naming the sampler): a task network of the wrong kind, m < 1 or m > the
// cloud's points, an m a fixed-size sampler was not trained for, NaN/Inf points (from the ops).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/random.h"
#include "models/nn/model_config.h"
#include "models/zoo/apsnet.h"
#include "models/zoo/registry.h"
#include "models/zoo/sampler_task.h"
#include "models/zoo/simplify_net.h"
#include "ops/matching.h"
#include "ops/soft_projection.h"

namespace pg::models {

struct SamplerConfig {
  std::string kind = "samplenet";  // samplenet | snet | progressivenet | apsnet (the registry name)
  SamplerTask task = SamplerTask::cls;
  int64_t m = 32;            // output points (progressive: the largest control size)
  int64_t in_points = 1024;  // points of the training clouds (the input size it was built for)
  bool progressive = false;  // samplenet only (progressivenet always, snet never)
  int64_t min_control = 2;   // smallest control size (progressive)
  int64_t bottleneck = 128;
  SimplifyArch arch = SimplifyArch::pointnet;  // autoencoder for rec
  bool last_bn = false;
  double min_sigma = 0.0;
  double init_temperature = 1.0;
  SamplerLossWeights weights;
  std::string compat = "paper";  // paper | code
  std::string task_model;        // checkpoint of the frozen task network
  // apsnet only
  bool kd = false;               // distillation target (APSNet-KD)
  std::string joint = "none";    // none | paper | code
  int64_t max_generated = 128;   // inference cap on generated points (0: none)
  int64_t lstm_layers = 2;
};

// The defaults of `kind` for `task` and m (§4, §5.3, §5.6 per `compat`); task_model left empty.
SamplerConfig default_sampler_config(const std::string& kind, SamplerTask task, int64_t m, int64_t in_points,
                                     const std::string& compat = "paper", bool progressive = false);

struct SamplerLoss {
  Tensor total, task, simplify, sigma;  // 0-d; sigma undefined for S-NET kinds
};

class LearnedSampler : public nn::Model {
 public:
  // `task_net`: the frozen task network (of the kind the task needs). `gen`: initialisation.
  LearnedSampler(SamplerConfig cfg, std::shared_ptr<nn::Model> task_net, Generator* gen = nullptr);
  nn::ModelConfig model_config() const override;

  const SamplerConfig& config() const { return cfg_; }
  bool projects() const { return cfg_.kind == "samplenet"; }
  bool is_progressive() const {
    return cfg_.kind == "progressivenet" || (cfg_.kind == "samplenet" && cfg_.progressive);
  }
  bool is_apsnet() const { return cfg_.kind == "apsnet"; }
  const nn::Model& task_network() const { return *task_; }

  // Q [B, m, 3] of P [B, N, 3].
  Tensor generate(const Tensor& points) const;
  // APSNet only: the first `steps` generated points and their attention weights.
  APSNetOutput generate_steps(const Tensor& points, int64_t steps) const;
  // R and the projection of Q onto P (SampleNet only).
  SoftProjectionResult project(const Tensor& generated, const Tensor& points) const;
  // σ = max(t², min_sigma) (0-d, differentiable in t); SampleNet only.
  Tensor sigma() const;

  SamplerLoss loss(const TaskBatch& batch) const;

  // The m points the task network sees at inference without matching: R[:, :m] (SampleNet) or
  // Q[:, :m] (S-NET kinds). [B, m, 3].
  Tensor soft_sample(const Tensor& points, int64_t m) const;
  // The matched + FPS-completed subset: indices [B, m] into points (m distinct points when the
  // cloud has m distinct positions).
  MatchResult sample(const Tensor& points, int64_t m) const;
  // Throws unless this sampler can produce m points from clouds of n points.
  void check_m(int64_t m, int64_t n) const;

  std::shared_ptr<SimplifyNet> net;  // not for apsnet
  std::shared_ptr<APSNet> aps;       // apsnet only
  Tensor temperature;  // 0-d, SampleNet only (undefined otherwise)

 private:
  Tensor task_term(const TaskBatch& b, const Tensor& s, const Tensor& s_source) const;
  SamplerLoss apsnet_loss(const TaskBatch& b) const;
  int64_t generated_count(int64_t m) const;
  SamplerConfig cfg_;
  std::shared_ptr<nn::Model> task_;
};

nn::ModelConfig sampler_model_config(const SamplerConfig& cfg);
SamplerConfig sampler_config_from(const nn::ModelConfig& m);
// Factory for the four names: builds the sampler and loads its task network from task_model.
ModelFactory sampler_factory();

}  // namespace pg::models
