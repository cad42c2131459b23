// bench_pointnet: the PointNet classifier (models/zoo/pointnet.h), B=32, N=1024, 40 classes, f32,
// both variants (vanilla = pointnet_cls_basic, full = pointnet_cls with both T-Nets), TF
// settings (Xavier init, BN ε 1e-3, dropout 0.3).
//   pointnet.<variant>.train_step  one training step exactly as the trainer runs it
//       (models/train/classifier_trainer.cpp): train-mode forward, cross-entropy (+ the
//       feature-transform regulariser for full), zero_grad, backward, Adam step (lr 1e-3).
//   pointnet.<variant>.infer       eval-mode forward (running BN statistics, no dropout) under
//       NoGradGuard — what `pg eval` runs per batch.
// Rows carry shapes_per_s (B / median) and gflops counting the GEMM flops only (forward 2·MACs
// of every dense layer and bmm; the train step counts 3× the forward: z, dx and dW GEMMs).
// The inputs rotate between 4 random batches (points U(−1, 1), labels uniform in [0, 40)).
// check: the run is repeatable bit for bit — train_step: two models built from the same seed take
// the same 3 steps and must end with identical parameters; infer: two forwards of one batch give
// identical logits (check_tol = 0).
// The PyTorch counterpart of these rows is tools/compare/pytorch_pointnet.py (same JSON fields).
// --quick: N = 256.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "harness.h"
#include "param_check.h"
#include "models/nn/optim.h"
#include "models/zoo/pointnet.h"
#include "ops/ops.h"

namespace {

using namespace pg;
using namespace pg::bench;
using models::PointNet;
using models::PointNetConfig;
using models::PointNetVariant;

constexpr int64_t kBatch = 32;
constexpr int64_t kClasses = 40;
constexpr int kSets = 4;

std::shared_ptr<PointNet> make_model(PointNetVariant v, Device dev, Generator* gen) {
  PointNetConfig cfg;  // TF defaults: Xavier, BN eps 1e-3, dropout 0.3
  cfg.variant = v;
  cfg.num_classes = kClasses;
  cfg.gen = gen;
  auto m = std::make_shared<PointNet>(cfg);
  m->to(dev);
  return m;
}

// Multiply-accumulates of one forward, GEMM/bmm work only (element-wise work is not counted).
double mlp_macs(const nn::SharedMLP& m) {
  double s = 0;
  for (size_t i = 0; i < m.num_layers(); ++i) {
    const auto& w = m.layer(i)->conv->weight;
    s += static_cast<double>(w.size(0)) * static_cast<double>(w.size(1));
  }
  return s;
}

double forward_macs(const PointNet& m, int64_t B, int64_t N) {
  const double P = static_cast<double>(B) * N, S = static_cast<double>(B);
  auto lin = [](const nn::Linear& l) { return static_cast<double>(l.in_features()) * l.out_features(); };
  double macs = P * mlp_macs(*m.mlp1) + S * (lin(*m.fc1->conv) + lin(*m.fc2->conv) + lin(*m.fc3));
  if (m.mlp2) macs += P * mlp_macs(*m.mlp2);
  for (const auto* t : {m.input_tnet.get(), m.feature_tnet.get()}) {
    if (!t) continue;
    macs += P * mlp_macs(*t->point_mlp) + S * (mlp_macs(*t->head) + lin(*t->transform));
    macs += P * static_cast<double>(t->k()) * t->k();  // the bmm applying the transform
  }
  return macs;
}

struct Batches {
  std::vector<Tensor> points, labels;
};

Batches make_batches(Device dev, int64_t N, uint64_t seed) {
  Generator g(seed);
  Batches b;
  for (int s = 0; s < kSets; ++s) {
    b.points.push_back((rand({kBatch, N, 3}, TensorOptions(DType::f32), &g) * 2.0 - 1.0).to(dev));
    b.labels.push_back(randint(0, kClasses, {kBatch}, TensorOptions(DType::i64), &g).to(dev));
  }
  return b;
}

struct Trainer {
  std::shared_ptr<PointNet> model;
  std::unique_ptr<nn::Adam> opt;
  void step(const Tensor& pts, const Tensor& labels) {
    const models::PointNetOutput out = model->forward(pts);
    const Tensor loss = model->loss(out, labels);
    opt->zero_grad();
    loss.backward();
    opt->step();
  }
};

Trainer make_trainer(PointNetVariant v, Device dev, uint64_t seed, Generator* gen) {
  gen->manual_seed(seed);
  Trainer t;
  t.model = make_model(v, dev, gen);
  t.model->train();
  nn::AdamOptions a;
  a.lr = 1e-3;
  t.opt = std::make_unique<nn::Adam>(t.model->trainable_parameters(), a);
  return t;
}

void fill_record(Record& r, const std::string& name, Device dev, int64_t N, const Stats& st, double flops) {
  r.name = name;
  r.device = dev;
  r.dtype = dtype_name(DType::f32);
  r.shape = shape_string({kBatch, N, 3}) + "->" + std::to_string(kClasses);
  r.t = st;
  r.gflops = flops / (st.median_ms * 1e-3) / 1e9;
  r.extra.push_back({"shapes_per_s", json_number(static_cast<double>(kBatch) / (st.median_ms * 1e-3))});
  r.extra.push_back({"batch", std::to_string(kBatch)});
  r.extra.push_back({"points", std::to_string(N)});
}

void run_train(Harness& h, Device dev, PointNetVariant v, int64_t N) {
  const std::string name = std::string("pointnet.") + models::pointnet_variant_name(v) + ".train_step";
  if (!h.selected(name, dev, dtype_name(DType::f32))) return;
  const Batches data = make_batches(dev, N, 11);
  Generator gen(1);
  Trainer t = make_trainer(v, dev, 1, &gen);
  const Stats st = h.time(dev, [&](int64_t rep) { t.step(data.points[rep % kSets], data.labels[rep % kSets]); });
  // Repeatability: two fresh trainers from the same seed, same 3 steps, identical parameters.
  Generator g1(0), g2(0);
  Trainer a = make_trainer(v, dev, 5, &g1), b = make_trainer(v, dev, 5, &g2);
  for (int s = 0; s < 3; ++s) {
    a.step(data.points[s], data.labels[s]);
    b.step(data.points[s], data.labels[s]);
  }
  Record r;
  fill_record(r, name, dev, N, st, 3.0 * 2.0 * forward_macs(*t.model, kBatch, N));
  r.check_rel_err = max_param_diff(*a.model, *b.model);
  r.check_tol = 0.0;
  {
    NoGradGuard ng;
    const models::PointNetOutput out = a.model->forward(data.points[0]);
    r.extra.push_back({"loss_after_3_steps", json_number(a.model->loss(out, data.labels[0]).item_double())});
  }
  h.emit(r);
}

void run_infer(Harness& h, Device dev, PointNetVariant v, int64_t N) {
  const std::string name = std::string("pointnet.") + models::pointnet_variant_name(v) + ".infer";
  if (!h.selected(name, dev, dtype_name(DType::f32))) return;
  const Batches data = make_batches(dev, N, 12);
  Generator gen(2);
  auto model = make_model(v, dev, &gen);
  {
    // A few training steps so that the running statistics are not the initial (0, 1).
    Generator g(3);
    Trainer t = make_trainer(v, dev, 3, &g);
    for (int s = 0; s < 2; ++s) t.step(data.points[s], data.labels[s]);
    model = t.model;
  }
  model->eval();
  NoGradGuard ng;
  const Stats st = h.time(dev, [&](int64_t rep) { model->forward(data.points[rep % kSets]); });
  Record r;
  fill_record(r, name, dev, N, st, 2.0 * forward_macs(*model, kBatch, N));
  const auto l1 = model->forward(data.points[1]).logits.to(Device::cpu()).to_vector<double>();
  const auto l2 = model->forward(data.points[1]).logits.to(Device::cpu()).to_vector<double>();
  double d = 0.0;
  for (size_t i = 0; i < l1.size(); ++i) d = std::max(d, std::abs(l1[i] - l2[i]));
  r.check_rel_err = d;
  r.check_tol = 0.0;
  h.emit(r);
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_pointnet");
  const int64_t N = h.quick() ? 256 : 1024;
  for (Device dev : h.devices()) {
    for (PointNetVariant v : {PointNetVariant::vanilla, PointNetVariant::full}) {
      run_train(h, dev, v, N);
      run_infer(h, dev, v, N);
    }
  }
  return h.finish();
}
