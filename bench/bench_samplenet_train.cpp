// bench_samplenet_train: one SampleNet classification training step (issue 10 comparison with
// PyTorch), B = 32, N = 1024, m = 32 / 64 / 128, f32, paper-intent settings.
//   samplenet.cls.m<m>.train_step  the step `pg train samplenet --task cls` runs per batch
//       (models/train/sampler_trainer.cpp): the sampler built from sampler_config_for() with the
//       command's defaults (k = 7, α = 30, β = γ = 1, δ = 0, λ = 1, no output BN, no σ floor,
//       t₀ = 1), LearnedSampler::loss (simplification network forward, soft projection, frozen
//       PointNet on R in eval mode, cross-entropy + α·Lsimplify + λ·σ), zero_grad, backward, and
//       the trainer's optimizer (make_optimizer, Adam lr 0.01) step. The trainer's per-step
//       bookkeeping (metric reads, the non-finite checks, the lr / BN-momentum schedules, which
//       keep their initial values 0.01 / 0.5 for 600,000 samples) is left out, as on the PyTorch
//       side.
// The frozen task network is a vanilla PointNet (40 classes, TF settings) built in code with
// random weights: a trained one costs the same. Inputs rotate between 4 random batches (points
// U(−1, 1), labels uniform in [0, 40)).
// Extra fields: fwd_ms / bwd_ms / opt_ms, the medians of the step's three phases (loss forward;
// zero_grad + backward; optimizer step), timed inside the same repeats; trainable_params (to
// compare with the PyTorch model); loss_after_3_steps. gflops counts GEMM flops only: the
// simplification network 3× its forward (z, dx, dW) and the frozen PointNet 2× (no dW).
// check: the step is repeatable bit for bit — two samplers built from the same seed take the same
// 3 steps and must end with identical parameters (check_tol = 0).
// The PyTorch counterpart is tools/compare/pytorch_samplenet.py (same JSON fields).
// --quick: m = 32 only.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "harness.h"
#include "param_check.h"
#include "models/train/sampler_trainer.h"
#include "models/train/trainer.h"
#include "models/zoo/pointnet.h"
#include "models/zoo/samplenet.h"
#include "ops/ops.h"

namespace {

using namespace pg;
using namespace pg::bench;

constexpr int64_t kBatch = 32;
constexpr int64_t kPoints = 1024;
constexpr int64_t kClasses = 40;
constexpr int kSets = 4;

struct Batches {
  std::vector<models::TaskBatch> b;
};

Batches make_batches(Device dev, uint64_t seed) {
  Generator g(seed);
  Batches out;
  for (int s = 0; s < kSets; ++s) {
    models::TaskBatch tb;
    tb.points = (rand({kBatch, kPoints, 3}, TensorOptions(DType::f32), &g) * 2.0 - 1.0).to(dev);
    tb.labels = randint(0, kClasses, {kBatch}, TensorOptions(DType::i64), &g).to(dev);
    out.b.push_back(tb);
  }
  return out;
}

struct PhaseTimes {
  std::vector<double> fwd, bwd, opt;
};

struct Trainer {
  std::shared_ptr<models::LearnedSampler> model;
  std::unique_ptr<nn::Optimizer> opt;
  double lr = 0.0;
  // One step; phase times appended to `pt` when given.
  void step(const models::TaskBatch& b, PhaseTimes* pt = nullptr) {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    const models::SamplerLoss l = model->loss(b);
    const auto t1 = Clock::now();
    opt->zero_grad();
    l.total.backward();
    const auto t2 = Clock::now();
    opt->step();
    const auto t3 = Clock::now();
    if (pt) {
      auto ms = [](auto a, auto z) { return std::chrono::duration<double, std::milli>(z - a).count(); };
      pt->fwd.push_back(ms(t0, t1));
      pt->bwd.push_back(ms(t1, t2));
      pt->opt.push_back(ms(t2, t3));
    }
  }
};

// The sampler and optimizer as `pg train samplenet --task cls --m <m>` builds them (seeded
// from `seed`; the task network from `task_seed`).
Trainer make_trainer(int64_t m, Device dev, uint64_t seed, uint64_t task_seed) {
  Generator tg(task_seed);
  models::PointNetConfig pc;  // vanilla, TF settings
  pc.num_classes = kClasses;
  pc.gen = &tg;
  auto task = std::make_shared<models::PointNet>(pc);
  task->to(dev);
  task->eval();

  train::SamplerTrainOptions o;
  o.kind = "samplenet";
  o.task = models::SamplerTask::cls;
  o.m = m;
  const models::SamplerConfig cfg = train::sampler_config_for(o);
  Generator gen(seed);
  Trainer t;
  t.model = std::make_shared<models::LearnedSampler>(cfg, task, &gen);
  t.model->to(dev);
  t.model->train();
  t.lr = 0.01;  // the cls recipe (sampler_trainer.cpp)
  train::OptimizerOptions oo;
  oo.name = "adam";
  oo.lr = t.lr;
  t.opt = train::make_optimizer(oo, t.model->trainable_parameters());
  return t;
}

// GEMM multiply-accumulates of one forward of the simplification network and of the frozen
// PointNet on m points.
double chain(const std::vector<double>& w) {
  double s = 0;
  for (size_t i = 0; i + 1 < w.size(); ++i) s += w[i] * w[i + 1];
  return s;
}

double step_flops(int64_t m) {
  const double B = kBatch, N = kPoints, M = static_cast<double>(m);
  const double sampler = B * N * chain({3, 64, 64, 64, 128, 128}) + B * chain({128, 256, 256, 256, 3 * M});
  const double task = B * M * chain({3, 64, 64, 64, 128, 1024}) + B * chain({1024, 512, 256, kClasses});
  return 2.0 * (3.0 * sampler + 2.0 * task);
}

double median_of(std::vector<double> v) {
  return summarize(std::move(v)).median_ms;
}

void run_train(Harness& h, Device dev, int64_t m) {
  const std::string name = "samplenet.cls.m" + std::to_string(m) + ".train_step";
  if (!h.selected(name, dev, dtype_name(DType::f32))) return;
  const Batches data = make_batches(dev, 11);
  Trainer t = make_trainer(m, dev, 1, 2);
  PhaseTimes pt;
  // Phases of every call are recorded; the last st.repeats of them are the timed repeats.
  const Stats st = h.time(dev, [&](int64_t rep) { t.step(data.b[static_cast<size_t>(rep % kSets)], &pt); });
  auto tail = [&](const std::vector<double>& v) {
    const size_t n = std::min(v.size(), static_cast<size_t>(st.repeats));
    return std::vector<double>(v.end() - static_cast<std::ptrdiff_t>(n), v.end());
  };
  // Repeatability: two fresh trainers from the same seeds, same 3 steps, identical parameters.
  Trainer a = make_trainer(m, dev, 5, 6), b = make_trainer(m, dev, 5, 6);
  for (int s = 0; s < 3; ++s) {
    a.step(data.b[static_cast<size_t>(s)]);
    b.step(data.b[static_cast<size_t>(s)]);
  }
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = dtype_name(DType::f32);
  r.shape = shape_string({kBatch, kPoints, 3}) + "->m=" + std::to_string(m);
  r.t = st;
  r.gflops = step_flops(m) / (st.median_ms * 1e-3) / 1e9;
  r.check_rel_err = max_param_diff(*a.model, *b.model);
  r.check_tol = 0.0;
  r.extra.push_back({"shapes_per_s", json_number(static_cast<double>(kBatch) / (st.median_ms * 1e-3))});
  r.extra.push_back({"batch", std::to_string(kBatch)});
  r.extra.push_back({"points", std::to_string(kPoints)});
  r.extra.push_back({"m", std::to_string(m)});
  r.extra.push_back({"fwd_ms", json_number(median_of(tail(pt.fwd)))});
  r.extra.push_back({"bwd_ms", json_number(median_of(tail(pt.bwd)))});
  r.extra.push_back({"opt_ms", json_number(median_of(tail(pt.opt)))});
  r.extra.push_back({"trainable_params", std::to_string(t.model->num_parameters(true))});
  {
    NoGradGuard ng;
    r.extra.push_back({"loss_after_3_steps", json_number(a.model->loss(data.b[0]).total.item_double())});
  }
  h.emit(r);
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_samplenet_train");
  const std::vector<int64_t> ms = h.quick() ? std::vector<int64_t>{32} : std::vector<int64_t>{32, 64, 128};
  for (Device dev : h.devices())
    for (int64_t m : ms) run_train(h, dev, m);
  return h.finish();
}
