#include "models/zoo/samplenet.h"

#include <filesystem>

#include "core/error.h"
#include "ops/ops.h"

namespace pg::models {

namespace {

bool valid_kind(const std::string& k) {
  return k == "samplenet" || k == "snet" || k == "progressivenet" || k == "apsnet";
}

// APSNet's joint sizes, released-code variant: m, m/2, m/4, … while >= 8 (at least m itself).
std::vector<int64_t> halving_sizes(int64_t m) {
  std::vector<int64_t> out{m};
  for (int64_t c = m / 2; c >= 8; c /= 2) out.push_back(c);
  return out;
}

}  // namespace

SamplerConfig default_sampler_config(const std::string& kind, SamplerTask task, int64_t m, int64_t in_points,
                                     const std::string& compat, bool progressive) {
  PG_CHECK(valid_kind(kind), "sampler: unknown kind '", kind, "' (expected samplenet, snet, progressivenet or apsnet)");
  PG_CHECK(compat == "paper" || compat == "code", "sampler: compat must be 'paper' or 'code', got '", compat, "'");
  SamplerConfig c;
  c.kind = kind;
  c.task = task;
  c.m = m;
  c.in_points = in_points;
  c.progressive = kind == "samplenet" && progressive;
  const bool prog = kind == "progressivenet" || c.progressive;
  c.weights = default_loss_weights(task, prog);
  c.arch = task == SamplerTask::rec ? SimplifyArch::autoencoder : SimplifyArch::pointnet;
  c.min_control = task == SamplerTask::rec ? 16 : 2;
  c.compat = compat;
  if (compat == "code") {
    c.last_bn = task == SamplerTask::cls;                 // TF classification sampler (§5.6 item 3)
    c.min_sigma = task == SamplerTask::reg ? 1e-2 : 0.0;  // PyTorch registration SampleNet (item 4)
  }
  if (kind == "apsnet") {  // §6.2: β = 1, γ = 1, δ = 0; α ("alpha" in the code) per task; no σ
    c.weights.alpha = task == SamplerTask::cls ? 30.0 : 0.01;
    c.weights.simplify = SimplifyWeights{1.0, 1.0, 0.0};
    c.weights.lambda = 0.0;
    c.arch = SimplifyArch::pointnet;
    c.last_bn = false;
    c.min_sigma = 0.0;
    c.min_control = 8;
  }
  return c;
}

LearnedSampler::LearnedSampler(SamplerConfig cfg, std::shared_ptr<nn::Model> task_net, Generator* gen)
    : nn::Model("LearnedSampler"), cfg_(std::move(cfg)), task_(std::move(task_net)) {
  PG_CHECK(valid_kind(cfg_.kind), "sampler: unknown kind '", cfg_.kind, "'");
  PG_CHECK(task_ != nullptr, "sampler ", cfg_.kind, ": no task network given");
  const nn::ModelConfig tc = task_->model_config();
  PG_CHECK(tc.name() == task_network_name(cfg_.task), "sampler ", cfg_.kind, ": task ", sampler_task_name(cfg_.task),
           " needs a '", task_network_name(cfg_.task), "' task network, got '", tc.name(), "'");
  PG_CHECK(cfg_.m >= 1, "sampler ", cfg_.kind, ": m must be positive, got ", cfg_.m);
  PG_CHECK(cfg_.in_points >= cfg_.m, "sampler ", cfg_.kind, ": m = ", cfg_.m, " is more than the ", cfg_.in_points,
           " input points");
  PG_CHECK(cfg_.weights.k >= 1 && cfg_.weights.k <= cfg_.in_points, "sampler ", cfg_.kind, ": k = ", cfg_.weights.k,
           " must be in 1..", cfg_.in_points);
  PG_CHECK(cfg_.min_sigma >= 0.0 && cfg_.init_temperature > 0.0, "sampler ", cfg_.kind,
           ": need min_sigma >= 0 and init_temperature > 0, got ", cfg_.min_sigma, " and ", cfg_.init_temperature);
  if (is_progressive()) control_sizes(cfg_.min_control, cfg_.m);  // validates min_control
  if (is_apsnet()) {
    PG_CHECK(cfg_.joint == "none" || cfg_.joint == "paper" || cfg_.joint == "code", "sampler apsnet: joint must be ",
             "'none', 'paper' or 'code', got '", cfg_.joint, "'");
    PG_CHECK(cfg_.joint == "none" || cfg_.m >= 8, "sampler apsnet: joint training sums sizes 8, 16, … up to m; m = ",
             cfg_.m, " is below 8");
    PG_CHECK(cfg_.max_generated >= 0, "sampler apsnet: max_generated must be >= 0 (0: no cap), got ",
             cfg_.max_generated);
    APSNetConfig ac;
    ac.bottleneck = cfg_.bottleneck;
    ac.layers = cfg_.lstm_layers;
    ac.gen = gen;
    aps = register_module("aps", std::make_shared<APSNet>(ac));
    register_frozen("task", task_, cfg_.task_model);
    return;
  }
  SimplifyNetConfig sc;
  sc.arch = cfg_.arch;
  sc.out_points = cfg_.m;
  sc.bottleneck = cfg_.bottleneck;
  sc.last_bn = cfg_.last_bn;
  sc.gen = gen;
  net = register_module("net", std::make_shared<SimplifyNet>(sc));
  if (projects()) temperature = register_parameter("temperature", scalar_tensor(cfg_.init_temperature));
  std::string source = cfg_.task_model;
  register_frozen("task", task_, source);
}

Tensor LearnedSampler::generate(const Tensor& points) const {
  return is_apsnet() ? aps->generate(points, cfg_.m) : net->forward(points);
}

APSNetOutput LearnedSampler::generate_steps(const Tensor& points, int64_t steps) const {
  PG_CHECK(is_apsnet(), "sampler ", cfg_.kind, ": generate_steps is APSNet's (autoregressive) only");
  return aps->forward(points, steps);
}

int64_t LearnedSampler::generated_count(int64_t m) const {
  return cfg_.max_generated > 0 ? std::min(m, cfg_.max_generated) : m;
}

SamplerLoss LearnedSampler::apsnet_loss(const TaskBatch& b) const {
  const bool reg = cfg_.task == SamplerTask::reg;
  const Tensor q = generate(b.points);
  const Tensor q_src = reg ? generate(b.source) : Tensor();
  const SimplifyWeights& sw = cfg_.weights.simplify;
  auto simplify = [&](int64_t c) {
    Tensor l = simplify_loss(slice(q, 1, 0, c), b.points, sw);
    if (reg) l = mul(add(l, simplify_loss(slice(q_src, 1, 0, c), b.source, sw)), 0.5);
    return l;
  };
  auto task = [&](int64_t c) {
    const Tensor s = slice(q, 1, 0, c), s_src = reg ? slice(q_src, 1, 0, c) : Tensor();
    return cfg_.kd ? task_kd_loss(cfg_.task, *task_, b, s, s_src) : task_term(b, s, s_src);
  };
  auto accumulate = [](Tensor& sum, const Tensor& t) { sum = sum.defined() ? add(sum, t) : t; };
  SamplerLoss out;
  if (cfg_.joint == "paper") {
    for (int64_t c : control_sizes(8, cfg_.m)) {
      accumulate(out.task, task(c));
      accumulate(out.simplify, simplify(c));
    }
  } else if (cfg_.joint == "code") {
    out.task = task(cfg_.m);
    for (int64_t c : halving_sizes(cfg_.m)) accumulate(out.simplify, simplify(c));
  } else {
    out.task = task(cfg_.m);
    out.simplify = simplify(cfg_.m);
  }
  out.total = add(out.task, mul(out.simplify, cfg_.weights.alpha));
  return out;
}

Tensor LearnedSampler::sigma() const {
  PG_CHECK(projects(), "sampler ", cfg_.kind, " has no soft projection (no temperature)");
  return clamp_min(square(temperature), cfg_.min_sigma);
}

SoftProjectionResult LearnedSampler::project(const Tensor& generated, const Tensor& points) const {
  PG_CHECK(projects(), "sampler ", cfg_.kind, " has no soft projection");
  SoftProjectionOptions o;
  o.k = std::min(cfg_.weights.k, points.size(1));
  o.min_sigma = cfg_.min_sigma;
  const Tensor t = temperature.dtype() == points.dtype() ? temperature : temperature.to(points.dtype());
  return soft_projection(generated, points, t, o);
}

Tensor LearnedSampler::task_term(const TaskBatch& b, const Tensor& s, const Tensor& s_source) const {
  return task_loss(cfg_.task, *task_, b, s, s_source);
}

SamplerLoss LearnedSampler::loss(const TaskBatch& b) const {
  if (is_apsnet()) return apsnet_loss(b);
  const bool reg = cfg_.task == SamplerTask::reg;
  const Tensor q = generate(b.points);
  const Tensor q_src = reg ? generate(b.source) : Tensor();
  Tensor s = q, s_src = q_src;
  if (projects()) {
    s = project(q, b.points).projected;
    if (reg) s_src = project(q_src, b.source).projected;
  }
  const SimplifyWeights& sw = cfg_.weights.simplify;
  auto simplify = [&](int64_t c) {
    Tensor l = simplify_loss(slice(q, 1, 0, c), b.points, sw);
    if (reg) l = mul(add(l, simplify_loss(slice(q_src, 1, 0, c), b.source, sw)), 0.5);
    return l;
  };
  auto task = [&](int64_t c) { return task_term(b, slice(s, 1, 0, c), reg ? slice(s_src, 1, 0, c) : Tensor()); };
  SamplerLoss out;
  if (is_progressive()) {
    for (int64_t c : control_sizes(cfg_.min_control, cfg_.m)) {
      const Tensor t = task(c), l = simplify(c);
      out.task = out.task.defined() ? add(out.task, t) : t;
      out.simplify = out.simplify.defined() ? add(out.simplify, l) : l;
    }
  } else {
    out.task = task(cfg_.m);
    out.simplify = simplify(cfg_.m);
  }
  out.total = add(out.task, mul(out.simplify, cfg_.weights.alpha));
  if (projects()) {
    out.sigma = sigma();
    out.total = add(out.total, mul(out.sigma.to(out.total.dtype()), cfg_.weights.lambda));
  }
  return out;
}

void LearnedSampler::check_m(int64_t m, int64_t n) const {
  PG_CHECK(m >= 1, "sampler ", cfg_.kind, ": m must be positive, got ", m);
  PG_CHECK(m <= n, "sampler ", cfg_.kind, ": cannot sample m = ", m, " points from clouds of ", n, " points");
  if (is_apsnet()) return;  // autoregressive: any m
  if (is_progressive()) {
    PG_CHECK(m <= cfg_.m, "sampler ", cfg_.kind, ": progressive sampler orders ", cfg_.m, " points, asked for m = ", m);
  } else {
    PG_CHECK(m == cfg_.m, "sampler ", cfg_.kind, ": this sampler was trained for m = ", cfg_.m, ", asked for m = ", m,
             " (train one per m, or use a progressive sampler)");
  }
}

Tensor LearnedSampler::soft_sample(const Tensor& points, int64_t m) const {
  check_m(m, points.size(1));
  if (is_apsnet()) {
    const int64_t g = generated_count(m);
    const Tensor q = aps->generate(points, g);
    if (g == m) return q;
    // The code's rule (§6.1): FPS against the input, seeded with the g generated points. The
    // generated points go in front of the input so fps_seeded can start from them; its further
    // picks are input points (the seeds' own distances are 0).
    const int64_t B = points.size(0);
    const Tensor both = cat({q, points}, 1);
    const Tensor seeds = expand(unsqueeze(arange(g, TensorOptions(DType::i64, points.device())), 0), {B, g});
    const Tensor idx = fps_seeded(both.detach(), seeds.contiguous(), m).indices;  // [B, m], first g = seeds
    const Tensor picked = slice(idx, 1, g, m);
    const Tensor gather_idx = expand(unsqueeze(picked, 2), {B, m - g, 3}).contiguous();
    return cat({q, gather(both, 1, gather_idx)}, 1);
  }
  const Tensor q = slice(generate(points), 1, 0, m);
  return projects() ? project(q, points).projected : q;
}

MatchResult LearnedSampler::sample(const Tensor& points, int64_t m) const {
  check_m(m, points.size(1));
  if (is_apsnet()) return match_and_complete(aps->generate(points, generated_count(m)), points, m);
  const Tensor q = slice(generate(points), 1, 0, m);
  return match_and_complete(q, points, m);
}

// ------------------------------------------------------------------------------------ config

nn::ModelConfig sampler_model_config(const SamplerConfig& c) {
  nn::ModelConfig m(c.kind);
  m.set("task", sampler_task_name(c.task)).set("arch", simplify_arch_name(c.arch));
  m.set_int("m", c.m).set_int("in_points", c.in_points).set_bool("progressive", c.progressive);
  m.set_int("min_control", c.min_control).set_int("bottleneck", c.bottleneck).set_bool("last_bn", c.last_bn);
  m.set_int("k", c.weights.k).set_double("min_sigma", c.min_sigma).set_double("init_temperature", c.init_temperature);
  m.set_double("alpha", c.weights.alpha).set_double("beta", c.weights.simplify.beta);
  m.set_double("gamma", c.weights.simplify.gamma).set_double("delta", c.weights.simplify.delta);
  m.set_double("lambda", c.weights.lambda).set("compat", c.compat).set("task_model", c.task_model);
  if (c.kind == "apsnet") {
    m.set_bool("kd", c.kd).set("joint", c.joint).set_int("max_generated", c.max_generated);
    m.set_int("lstm_layers", c.lstm_layers);
  }
  return m;
}

SamplerConfig sampler_config_from(const nn::ModelConfig& m) {
  PG_CHECK(valid_kind(m.name()), "sampler: the config describes model '", m.name(),
           "', not a sampler (samplenet, snet, progressivenet or apsnet)");
  SamplerConfig c;
  c.kind = m.name();
  c.task = parse_sampler_task(m.get("task"));
  c.arch = parse_simplify_arch(m.get("arch"));
  c.m = m.get_int("m");
  c.in_points = m.get_int("in_points");
  c.progressive = m.get_bool("progressive");
  c.min_control = m.get_int("min_control");
  c.bottleneck = m.get_int("bottleneck");
  c.last_bn = m.get_bool("last_bn");
  c.weights.k = m.get_int("k");
  c.min_sigma = m.get_double("min_sigma");
  c.init_temperature = m.get_double("init_temperature");
  c.weights.alpha = m.get_double("alpha");
  c.weights.simplify.beta = m.get_double("beta");
  c.weights.simplify.gamma = m.get_double("gamma");
  c.weights.simplify.delta = m.get_double("delta");
  c.weights.lambda = m.get_double("lambda");
  c.compat = m.get("compat");
  c.task_model = m.get("task_model");
  if (c.kind == "apsnet") {
    c.kd = m.get_bool("kd");
    c.joint = m.get("joint");
    c.max_generated = m.get_int("max_generated");
    c.lstm_layers = m.get_int("lstm_layers");
  }
  return c;
}

nn::ModelConfig LearnedSampler::model_config() const {
  return sampler_model_config(cfg_);
}

ModelFactory sampler_factory() {
  return [](const nn::ModelConfig& m) -> std::shared_ptr<nn::Model> {
    const SamplerConfig c = sampler_config_from(m);
    PG_CHECK(std::filesystem::exists(c.task_model), "sampler ", c.kind, ": its task network '", c.task_model,
             "' (recorded in the checkpoint) does not exist");
    return std::make_shared<LearnedSampler>(c, load_task_network(c.task_model, c.task, Device::cpu()));
  };
}

}  // namespace pg::models
