// Learned samplers (models/zoo/samplenet.h, sampler_task.h, sampling_methods.h): loss terms
// against naive loops, defaults and switches, shapes, gradient flow, the learned temperature,
// matched subsets, progressive prefixes, config and checkpoint round trips, bad input.
#include <catch2/catch.hpp>
#include <set>

#include "datasets/ds_test_util.h"
#include "models/nn/optim.h"
#include "models/train/task_eval.h"
#include "models/zoo/pcae.h"
#include "models/zoo/pcrnet.h"
#include "models/zoo/pointnet.h"
#include "models/zoo/samplenet.h"
#include "models/zoo/sampling_methods.h"
#include "sampler_test_util.h"

using namespace pg;
using models::LearnedSampler;
using models::SamplerConfig;
using models::SamplerTask;

namespace {


std::shared_ptr<LearnedSampler> make_sampler(const std::string& kind, int64_t m, int64_t n, bool progressive = false,
                                             uint64_t seed = 3) {
  static Generator g(0);
  g.manual_seed(seed);
  SamplerConfig c = models::default_sampler_config(kind, SamplerTask::cls, m, n, "paper", progressive);
  return std::make_shared<LearnedSampler>(c, test::tiny_classifier(seed + 100), &g);
}

}  // namespace

TEST_CASE("sampler: control sizes and the default weights of METHODS §5.3", "[sampler][models]") {
  CHECK(models::control_sizes(2, 1024) == std::vector<int64_t>{2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  CHECK(models::control_sizes(16, 2048) == std::vector<int64_t>{16, 32, 64, 128, 256, 512, 1024, 2048});
  CHECK(models::control_sizes(3, 20) == std::vector<int64_t>{4, 8, 16, 20});
  CHECK_THROWS(models::control_sizes(0, 4));
  const auto cls = models::default_loss_weights(SamplerTask::cls, false);
  CHECK((cls.alpha == 30 && cls.simplify.gamma == 1 && cls.simplify.delta == 0 && cls.lambda == 1 && cls.k == 7));
  const auto prog = models::default_loss_weights(SamplerTask::cls, true);
  CHECK((prog.simplify.gamma == 0.5 && prog.simplify.delta == Approx(1.0 / 30)));
  const auto rec = models::default_loss_weights(SamplerTask::rec, false);
  CHECK((rec.alpha == 0.01 && rec.simplify.gamma == 0 && rec.simplify.delta == Approx(1.0 / 64) && rec.lambda == 1e-4 &&
         rec.k == 16));
  const auto reg = models::default_loss_weights(SamplerTask::reg, false);
  CHECK((reg.alpha == 0.01 && reg.simplify.gamma == 1 && reg.lambda == 0.01 && reg.k == 8));
  for (auto w : {cls, prog, rec, reg}) CHECK(w.simplify.beta == 1.0);
}

TEST_CASE("sampler: paper-intent and code-compatible switches", "[sampler][models]") {
  const SamplerConfig p = models::default_sampler_config("samplenet", SamplerTask::cls, 32, 1024);
  CHECK((!p.last_bn && p.min_sigma == 0.0 && p.compat == "paper"));
  const SamplerConfig c = models::default_sampler_config("samplenet", SamplerTask::cls, 32, 1024, "code");
  CHECK((c.last_bn && c.min_sigma == 0.0));
  const SamplerConfig r = models::default_sampler_config("samplenet", SamplerTask::reg, 32, 1024, "code");
  CHECK((!r.last_bn && r.min_sigma == 0.01));
  const SamplerConfig a = models::default_sampler_config("snet", SamplerTask::rec, 32, 2048);
  CHECK((a.arch == models::SimplifyArch::autoencoder && a.min_control == 16 && a.weights.k == 16));
  CHECK_THROWS_WITH(models::default_sampler_config("samplenet", SamplerTask::cls, 8, 64, "tf"),
                    Catch::Contains("compat"));
  CHECK_THROWS_WITH(models::default_sampler_config("fastnet", SamplerTask::cls, 8, 64), Catch::Contains("fastnet"));
}

TEST_CASE("sampler: simplification loss against a naive loop", "[sampler][models]") {
  const Tensor q = test::uniform({2, 5, 3}, -1, 1, 21, DType::f64),
               p = test::uniform({2, 11, 3}, -1, 1, 22, DType::f64);
  const models::SimplifyWeights w{0.7, 0.3, 0.05};
  double la_qp = 0, lm_qp = 0, la_pq = 0;
  for (int64_t b = 0; b < 2; ++b) {
    const auto cq = test::cloud_at(q, b), cp = test::cloud_at(p, b);
    double mx = 0;
    for (size_t i = 0; i < 5; ++i) {
      const double d = test::naive_nn2(cq, i, cp);
      la_qp += d / 10;
      mx = std::max(mx, d);
    }
    lm_qp += mx / 2;
    for (size_t j = 0; j < 11; ++j) la_pq += test::naive_nn2(cp, j, cq) / 22;
  }
  const double want = la_qp + 0.7 * lm_qp + (0.3 + 0.05 * 5) * la_pq;
  CHECK(models::simplify_loss(q, p, w).item_double() == Approx(want).epsilon(1e-12));
}

TEST_CASE("sampler: shapes, and matched samples are m distinct input points", "[sampler][models]") {
  for (const std::string kind : {"samplenet", "snet"}) {
    auto s = make_sampler(kind, 8, 64);
    s->eval();
    const Tensor p = test::uniform({3, 64, 3}, -1, 1, 5);
    CHECK(s->generate(p).shape() == Shape{3, 8, 3});
    CHECK(s->soft_sample(p, 8).shape() == Shape{3, 8, 3});
    const MatchResult r = s->sample(p, 8);
    REQUIRE(r.indices.shape() == Shape{3, 8});
    const auto idx = r.indices.to_vector<int64_t>();
    const Tensor got = models::gather_points(p, r.indices);
    for (int64_t b = 0; b < 3; ++b) {
      const std::set<int64_t> distinct(idx.begin() + 8 * b, idx.begin() + 8 * (b + 1));
      CHECK(distinct.size() == 8);
      for (int64_t j = 0; j < 8; ++j) {
        const int64_t i = idx[static_cast<size_t>(8 * b + j)];
        REQUIRE((i >= 0 && i < 64));
        test::require_close(select(select(got, 0, b), 0, j), select(select(p, 0, b), 0, i), 0.0);
      }
    }
    CHECK_THROWS_WITH(s->sample(p, 4), Catch::Contains("trained for m = 8"));
    CHECK_THROWS_WITH(s->sample(p, 80), Catch::Contains("cannot sample m = 80"));
  }
}

TEST_CASE("sampler: gradient reaches the sampler and its temperature, never the frozen task net", "[sampler][models]") {
  auto s = make_sampler("samplenet", 8, 64);
  s->train();
  CHECK(!s->task_network().is_training());
  const auto before = nn::state_fingerprint(s->task_network().state_dict());
  const double t0 = s->temperature.item_double();
  nn::Adam opt(s->trainable_parameters(), {0.01});
  for (int step = 0; step < 5; ++step) {
    opt.zero_grad();
    const models::SamplerLoss l = s->loss(test::cls_batch(4, 64, 30 + step));
    l.total.backward();
    if (step == 0) {
      REQUIRE(s->temperature.grad().defined());
      CHECK(s->temperature.grad().item_double() != 0.0);
      double gsum = 0.0;
      for (const Tensor& w : s->net->parameters())
        if (w.grad().defined()) gsum += sum(abs(w.grad())).item_double();
      CHECK(gsum > 0.0);
      for (const Tensor& w : s->task_network().parameters()) {
        CHECK(!w.requires_grad());
        CHECK(!w.grad().defined());
      }
    }
    opt.step();
  }
  CHECK(s->temperature.item_double() != t0);  // t is learned (the λ·σ term pulls it down)
  CHECK(s->temperature.item_double() < t0);
  CHECK(nn::state_fingerprint(s->task_network().state_dict()) == before);
  CHECK(s->num_parameters(true) == s->net->num_parameters() + 1);
}

TEST_CASE("sampler: loss = task + alpha * simplify (+ lambda * sigma), per kind", "[sampler][models]") {
  const models::TaskBatch b = test::cls_batch(4, 64, 7);
  for (const std::string kind : {"samplenet", "snet"}) {
    auto s = make_sampler(kind, 8, 64);
    s->eval();  // deterministic BN for the recomputation
    const models::SamplerLoss l = s->loss(b);
    const Tensor q = s->generate(b.points);
    const Tensor seen = kind == "samplenet" ? s->project(q, b.points).projected : q;
    const auto& pn = dynamic_cast<const models::PointNet&>(s->task_network());
    const double task = pn.loss(pn.forward(seen), b.labels).item_double();
    const double simp = models::simplify_loss(q, b.points, s->config().weights.simplify).item_double();
    double want = task + 30.0 * simp;
    if (kind == "samplenet") want += 1.0 * s->sigma().item_double();
    CHECK(l.task.item_double() == Approx(task).epsilon(1e-5));
    CHECK(l.total.item_double() == Approx(want).epsilon(1e-5));
    CHECK(l.sigma.defined() == (kind == "samplenet"));
  }
}

TEST_CASE("sampler: progressive output is ordered (prefixes) and sums the control sizes", "[sampler][models]") {
  auto s = make_sampler("samplenet", 16, 64, /*progressive=*/true);
  s->eval();
  const Tensor p = test::uniform({2, 64, 3}, -1, 1, 8);
  test::require_close(s->soft_sample(p, 4), slice(s->soft_sample(p, 16), 1, 0, 4), 0.0);
  CHECK(s->sample(p, 5).indices.shape() == Shape{2, 5});
  CHECK_THROWS_WITH(s->sample(p, 17), Catch::Contains("orders 16 points"));
  // The loss sums over 2, 4, 8, 16.
  const models::TaskBatch b = test::cls_batch(2, 64, 9);
  const models::SamplerLoss l = s->loss(b);
  const Tensor q = s->generate(b.points);
  double simp = 0.0;
  for (int64_t c : {2, 4, 8, 16})
    simp += models::simplify_loss(slice(q, 1, 0, c), b.points, s->config().weights.simplify).item_double();
  CHECK(l.simplify.item_double() == Approx(simp).epsilon(1e-5));
}

TEST_CASE("sampler: config round trip and save -> load -> identical samples", "[sampler][models][checkpoint]") {
  test::TempDir dir("pg_sampler");
  auto pn = test::tiny_classifier(41);
  test::save_model(dir.file("task.h5"), *pn);
  Generator g(4);
  SamplerConfig c = models::default_sampler_config("samplenet", SamplerTask::cls, 8, 64, "code");
  c.task_model = dir.file("task.h5");
  c.weights.alpha = 12.5;
  c.min_sigma = 1e-3;
  const SamplerConfig back = models::sampler_config_from(models::sampler_model_config(c));
  CHECK(models::sampler_model_config(back).describe() == models::sampler_model_config(c).describe());
  CHECK((back.last_bn && back.weights.alpha == 12.5 && back.min_sigma == 1e-3 && back.compat == "code"));

  auto s =
      std::make_shared<LearnedSampler>(c, models::load_task_network(c.task_model, SamplerTask::cls, Device::cpu()), &g);
  {  // a step so that BN statistics, weights and t differ from the initialisation
    nn::Adam opt(s->trainable_parameters(), {0.01});
    s->loss(test::cls_batch(4, 64, 3)).total.backward();
    opt.step();
  }
  s->eval();
  test::save_model(dir.file("s.h5"), *s);
  auto s2 = models::load_model_as<LearnedSampler>(dir.file("s.h5"), Device::cpu(), "samplenet");
  const Tensor p = test::uniform({3, 64, 3}, -1, 1, 12);
  CHECK(s2->sample(p, 8).indices.to_vector<int64_t>() == s->sample(p, 8).indices.to_vector<int64_t>());
  test::require_close(s2->soft_sample(p, 8), s->soft_sample(p, 8), 0.0);
  CHECK(s2->temperature.item_double() == s->temperature.item_double());
  CHECK_THROWS_WITH(models::load_model(dir.file("s.h5"), Device::cpu(), "snet"), Catch::Contains("expected 'snet'"));
}

TEST_CASE("sampler: a task network of the wrong kind is one clear error", "[sampler][models][errors]") {
  test::TempDir dir("pg_sampler_err");
  Generator g(1);
  models::PCAEConfig ac;
  ac.points = 16;
  ac.gen = &g;
  models::PCAE ae(ac);
  test::save_model(dir.file("ae.h5"), ae);
  CHECK_THROWS_WITH(models::load_task_network(dir.file("ae.h5"), SamplerTask::cls, Device::cpu()),
                    Catch::Contains("is a 'pcae' checkpoint") && Catch::Contains("needs a 'pointnet'"));
  auto ae_ptr = models::load_model(dir.file("ae.h5"));
  CHECK_THROWS_WITH(LearnedSampler(models::default_sampler_config("snet", SamplerTask::cls, 8, 64), ae_ptr),
                    Catch::Contains("needs a 'pointnet' task network"));
  CHECK_THROWS_WITH(LearnedSampler(models::default_sampler_config("snet", SamplerTask::rec, 80, 64), ae_ptr),
                    Catch::Contains("more than the 64 input points"));
}

TEST_CASE("sampling methods: random and FPS subsets, method checks, bad input", "[sampler][models][errors]") {
  const Tensor p = test::uniform({2, 40, 3}, -1, 1, 15);
  Generator g(9);
  for (const std::string m : {"random", "fps"}) {
    const auto idx = models::sample_indices(m, nullptr, p, 12, &g).to_vector<int64_t>();
    for (int b = 0; b < 2; ++b) CHECK(std::set<int64_t>(idx.begin() + 12 * b, idx.begin() + 12 * (b + 1)).size() == 12);
  }
  CHECK(models::sample_indices("fps", nullptr, p, 5).to_vector<int64_t>() == fps(p, 5).indices.to_vector<int64_t>());
  CHECK_THROWS_WITH(models::sample_indices("fps", nullptr, p, 41), Catch::Contains("m = 41"));
  CHECK_THROWS_WITH(models::sample_indices("random", nullptr, p, 0), Catch::Contains("positive"));
  CHECK_THROWS_WITH(models::sample_indices("median", nullptr, p, 4), Catch::Contains("unknown method 'median'"));
  CHECK_THROWS_WITH(models::sample_indices("samplenet", nullptr, p, 4), Catch::Contains("needs a trained sampler"));
  auto snet = make_sampler("snet", 4, 40);
  CHECK_THROWS_WITH(models::sample_indices("samplenet", snet.get(), p, 4),
                    Catch::Contains("the sampler given is a 'snet'"));
  Tensor bad = p.clone();
  bad.data<float>()[3 * 7 + 1] = NAN;
  CHECK_THROWS_WITH(models::sample_indices("random", nullptr, bad, 4),
                    Catch::Contains("non-finite") && Catch::Contains("point 7"));
}

TEST_CASE("task evaluation: the full clouds give NRE 1 and the classifier's own accuracy", "[sampler][models]") {
  datasets::PointCloudSet set;
  set.points = test::uniform({5, 32, 3}, -1, 1, 17);
  set.labels = from_vector(std::vector<int64_t>{0, 1, 2, 0, 1}, {5});
  set.class_names = {"a", "b", "c"};
  Generator g(2);
  models::PCAEConfig ac;
  ac.points = 32;
  ac.gen = &g;
  models::PCAE ae(ac);
  ae.eval();
  const auto data = train::task_eval_dataset(SamplerTask::rec, set, "t");
  CHECK(train::evaluate_task(SamplerTask::rec, ae, data, nullptr, Device::cpu(), 2).metric ==
        Approx(1.0).epsilon(1e-12));
  auto pn = test::tiny_classifier(5);
  const train::TaskEvaluation ev = train::evaluate_task(SamplerTask::cls, *pn, data, nullptr, Device::cpu(), 2);
  const auto pred = argmax(pn->forward(set.points).logits, 1).to_vector<int64_t>();
  double ok = 0;
  for (int i = 0; i < 5; ++i)
    ok += pred[static_cast<size_t>(i)] == set.labels.to_vector<int64_t>()[static_cast<size_t>(i)];
  CHECK(ev.metric == Approx(ok / 5));
  CHECK(ev.items == 5);
  CHECK_THROWS_WITH(train::evaluate_task(SamplerTask::reg, *pn, data, nullptr, Device::cpu(), 2),
                    Catch::Contains("needs a 'pcrnet'"));
}

TEST_CASE("sampler: registration and reconstruction losses", "[sampler][models]") {
  Generator g(6);
  {  // reg: one network samples template and source; the two Lsimplify are averaged.
    models::PCRNetConfig rc;
    rc.gen = &g;
    auto pcr = std::make_shared<models::PCRNet>(rc);
    pcr->eval();
    auto s =
        std::make_shared<LearnedSampler>(models::default_sampler_config("samplenet", SamplerTask::reg, 8, 48), pcr, &g);
    s->eval();
    models::TaskBatch b;
    b.points = test::uniform({2, 48, 3}, -1, 1, 31);
    b.source = test::uniform({2, 48, 3}, -1, 1, 32);
    b.rotation = tensor({1, 0, 0, 0, 0.6, 0.8, 0, 0}, {2, 4});
    const models::SamplerLoss l = s->loss(b);
    const auto& w = s->config().weights;
    const Tensor qt = s->generate(b.points), qs = s->generate(b.source);
    const double simp = 0.5 * (models::simplify_loss(qt, b.points, w.simplify).item_double() +
                               models::simplify_loss(qs, b.source, w.simplify).item_double());
    CHECK(l.simplify.item_double() == Approx(simp).epsilon(1e-5));
    const models::PCRNetOutput out =
        pcr->forward(s->project(qt, b.points).projected, s->project(qs, b.source).projected);
    CHECK(l.task.item_double() ==
          Approx(models::PCRNet::loss(out, b.rotation, b.points, b.source).item_double()).epsilon(1e-5));
    CHECK(l.total.item_double() ==
          Approx(l.task.item_double() + 0.01 * simp + 0.01 * s->sigma().item_double()).epsilon(1e-5));
  }
  {  // rec: autoencoder-layout sampler; the PCAE reconstructs from R and is compared with P.
    models::PCAEConfig ac;
    ac.points = 40;
    ac.gen = &g;
    auto ae = std::make_shared<models::PCAE>(ac);
    ae->eval();
    auto s =
        std::make_shared<LearnedSampler>(models::default_sampler_config("samplenet", SamplerTask::rec, 16, 40), ae, &g);
    s->eval();
    CHECK(s->net->decoder != nullptr);
    models::TaskBatch b;
    b.points = test::uniform({3, 40, 3}, -1, 1, 33);
    const models::SamplerLoss l = s->loss(b);
    const Tensor r = s->project(s->generate(b.points), b.points).projected;
    CHECK(l.task.item_double() == Approx(models::PCAE::loss(ae->forward(r), b.points).item_double()).epsilon(1e-5));
    CHECK(s->config().weights.k == 16);
  }
}
