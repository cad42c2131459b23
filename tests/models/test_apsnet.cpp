// APSNet (models/zoo/apsnet.h, the "apsnet" kind of models/zoo/samplenet.h): the generator
// against a naive attention loop, convex combinations, prefixes, the ≤ max_generated rule,
// APSNet-M subsets, losses (supervised, KD, joint paper/code) against direct recomputation,
// gradient flow, config and checkpoint round trips, bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <set>

#include "datasets/ds_test_util.h"
#include "models/nn/optim.h"
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


SamplerConfig aps_config(int64_t m, int64_t n) {
  return models::default_sampler_config("apsnet", SamplerTask::cls, m, n);
}

std::shared_ptr<LearnedSampler> make_aps(SamplerConfig c, uint64_t seed = 5) {
  static Generator g(0);
  g.manual_seed(seed);
  return std::make_shared<LearnedSampler>(c, test::tiny_classifier(seed + 100), &g);
}

}  // namespace

TEST_CASE("apsnet: defaults of METHODS §6.2 and the network's layout", "[apsnet][models]") {
  const SamplerConfig cls = aps_config(32, 1024);
  CHECK(cls.weights.alpha == 30.0);
  CHECK((cls.weights.simplify.beta == 1.0 && cls.weights.simplify.gamma == 1.0 && cls.weights.simplify.delta == 0.0));
  CHECK(models::default_sampler_config("apsnet", SamplerTask::rec, 32, 2048).weights.alpha == 0.01);
  CHECK(models::default_sampler_config("apsnet", SamplerTask::reg, 32, 1024).weights.alpha == 0.01);
  CHECK((cls.max_generated == 128 && cls.joint == "none" && !cls.kd && cls.lstm_layers == 2));
  auto s = make_aps(aps_config(8, 64));
  REQUIRE(s->aps != nullptr);
  CHECK(s->net == nullptr);
  CHECK(s->aps->lstm->num_layers() == 2);
  CHECK(s->aps->lstm->hidden_size() == 128);
  CHECK(s->aps->lstm->input_size() == 3);
  CHECK(s->num_parameters(true) == s->aps->num_parameters());
}

TEST_CASE("apsnet: generation against a naive attention loop; convex combinations", "[apsnet][models]") {
  auto s = make_aps(aps_config(6, 20));
  s->eval();
  const int64_t B = 2, N = 20, T = 6;
  const Tensor p = test::uniform({B, N, 3}, -1, 1, 17);
  const models::APSNetOutput out = s->generate_steps(p, T);
  REQUIRE(out.points.shape() == Shape{B, T, 3});
  REQUIRE(out.weights.shape() == Shape{B, T, N});
  // Reference: the LSTM stepped here with c₀ = g, h₀ = 0, x₀ = 0; attention by hand in double.
  NoGradGuard ng;
  const Tensor feat = s->aps->encoder->forward(p);
  const int64_t C = feat.size(2);
  nn::LSTMState st = s->aps->lstm->zero_state(B);
  const Tensor g = max(feat, 1);
  for (auto& l : st) l.c = g;
  Tensor x = zeros({B, 3});
  const std::vector<double> pts = p.to(DType::f64).to_vector<double>();
  const std::vector<double> F = feat.contiguous().to(DType::f64).to_vector<double>();
  const std::vector<double> got = out.points.contiguous().to(DType::f64).to_vector<double>();
  const std::vector<double> gw = out.weights.contiguous().to(DType::f64).to_vector<double>();
  for (int64_t t = 0; t < T; ++t) {
    nn::LSTMOutput o = s->aps->lstm->step(x, st);
    const std::vector<double> h = o.output.contiguous().to(DType::f64).to_vector<double>();
    std::vector<float> next(static_cast<size_t>(B * 3));
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> sc(static_cast<size_t>(N));
      double mx = -1e300, z = 0.0, wsum = 0.0;
      for (int64_t i = 0; i < N; ++i) {
        double d = 0.0;
        for (int64_t c = 0; c < C; ++c) d += F[static_cast<size_t>((b * N + i) * C + c)] * h[static_cast<size_t>(b * C + c)];
        sc[static_cast<size_t>(i)] = d;
        mx = std::max(mx, d);
      }
      for (double& v : sc) z += (v = std::exp(v - mx));
      double q[3] = {0, 0, 0};
      for (int64_t i = 0; i < N; ++i) {
        const double a = sc[static_cast<size_t>(i)] / z;
        const double w = gw[static_cast<size_t>((b * T + t) * N + i)];
        CHECK(w == Approx(a).margin(1e-5));
        CHECK(w >= 0.0);
        wsum += w;
        for (int k = 0; k < 3; ++k) q[k] += a * pts[static_cast<size_t>((b * N + i) * 3 + k)];
      }
      CHECK(wsum == Approx(1.0).margin(1e-5));
      for (int k = 0; k < 3; ++k) {
        CHECK(got[static_cast<size_t>((b * T + t) * 3 + k)] == Approx(q[k]).margin(1e-5));
        next[static_cast<size_t>(b * 3 + k)] = static_cast<float>(got[static_cast<size_t>((b * T + t) * 3 + k)]);
      }
    }
    x = from_vector(next, {B, 3});  // the generated point is the next input
    st = o.state;
  }
  // The weights reproduce the points (a weighted mean of the inputs, weights summing to 1).
  test::require_close(out.points, bmm(out.weights, p), 1e-5);
  // Autoregressive: a prefix is the output of fewer steps.
  test::require_close(s->generate_steps(p, 3).points, slice(out.points, 1, 0, 3), 0.0);
}

TEST_CASE("apsnet: APSNet-M is m distinct input points; G and the max_generated rule", "[apsnet][models]") {
  SamplerConfig c = aps_config(8, 64);
  c.max_generated = 4;
  auto s = make_aps(c);
  s->eval();
  const Tensor p = test::uniform({2, 64, 3}, -1, 1, 21);
  for (int64_t m : {3, 8, 12}) {  // any m (autoregressive), below, at and above the trained m
    const MatchResult r = s->sample(p, m);
    REQUIRE(r.indices.shape() == Shape{2, m});
    for (int64_t b = 0; b < 2; ++b) {
      const auto idx = select(r.indices, 0, b).to_vector<int64_t>();
      CHECK(std::set<int64_t>(idx.begin(), idx.end()).size() == static_cast<size_t>(m));
      CHECK(select(r.num_unique, 0, b).item_int() <= std::min<int64_t>(m, 4));
    }
  }
  // G with m <= max_generated: the generated points themselves.
  test::require_close(s->soft_sample(p, 3), s->generate_steps(p, 3).points, 0.0);
  // G with m > max_generated: 4 generated points, then input points chosen by FPS.
  const Tensor g = s->soft_sample(p, 10);
  REQUIRE(g.shape() == Shape{2, 10, 3});
  test::require_close(slice(g, 1, 0, 4), s->generate_steps(p, 4).points, 0.0);
  for (int64_t b = 0; b < 2; ++b) {
    const auto cloud = test::cloud_at(p, b), got = test::cloud_at(g, b);
    std::set<std::vector<double>> seen;
    for (size_t i = 4; i < 10; ++i) {
      CHECK(test::naive_nn2(got, i, cloud) == 0.0);  // an input point
      seen.insert({got[3 * i], got[3 * i + 1], got[3 * i + 2]});
    }
    CHECK(seen.size() == 6);
  }
  // The switch off: all m points generated.
  SamplerConfig all = c;
  all.max_generated = 0;
  auto s0 = make_aps(all);
  s0->eval();
  test::require_close(s0->soft_sample(p, 10), s0->generate_steps(p, 10).points, 0.0);
}

TEST_CASE("apsnet: bad input is one clear error", "[apsnet][models][errors]") {
  auto s = make_aps(aps_config(8, 16));
  s->eval();
  const Tensor p = test::uniform({2, 16, 3}, -1, 1, 2);
  CHECK_THROWS_WITH(s->sample(p, 17), Catch::Contains("apsnet") && Catch::Contains("m = 17") &&
                                           Catch::Contains("16 points"));
  CHECK_THROWS_WITH(s->soft_sample(p, 0), Catch::Contains("apsnet") && Catch::Contains("got 0"));
  std::vector<float> v = p.contiguous().to_vector<float>();
  v[3 * 16 + 3 * 5 + 1] = std::nanf("");
  const Tensor bad = from_vector(v, {2, 16, 3});
  CHECK_THROWS_WITH(s->sample(bad, 4), Catch::Contains("APSNet") && Catch::Contains("cloud 1 point 5") &&
                                           Catch::Contains("nan"));
  CHECK_THROWS_WITH(s->generate_steps(p, 0), Catch::Contains("APSNet") && Catch::Contains("got 0"));
  SamplerConfig c = aps_config(8, 16);
  c.joint = "both";
  CHECK_THROWS_WITH(make_aps(c), Catch::Contains("joint") && Catch::Contains("'both'"));
  CHECK_THROWS_WITH(models::sample_indices("apsnet", nullptr, p, 4), Catch::Contains("needs a trained sampler"));
}

TEST_CASE("apsnet: gradient reaches the sampler, never the frozen task net", "[apsnet][models]") {
  for (const bool kd : {false, true}) {
    SamplerConfig c = aps_config(8, 64);
    c.kd = kd;
    auto s = make_aps(c);
    s->train();
    CHECK(!s->task_network().is_training());
    const auto before = nn::state_fingerprint(s->task_network().state_dict());
    nn::Adam opt(s->trainable_parameters(), {0.01});
    for (int step = 0; step < 3; ++step) {
      opt.zero_grad();
      s->loss(test::cls_batch(4, 64, 40 + step)).total.backward();
      if (step == 0) {
        double enc = 0.0, lstm = 0.0;
        for (const Tensor& w : s->aps->encoder->parameters())
          if (w.grad().defined()) enc += sum(abs(w.grad())).item_double();
        for (const Tensor& w : s->aps->lstm->parameters())
          if (w.grad().defined()) lstm += sum(abs(w.grad())).item_double();
        CHECK(enc > 0.0);
        CHECK(lstm > 0.0);
        for (const Tensor& w : s->task_network().parameters()) {
          CHECK(!w.requires_grad());
          CHECK(!w.grad().defined());
        }
      }
      opt.step();
    }
    CHECK(nn::state_fingerprint(s->task_network().state_dict()) == before);
  }
}

TEST_CASE("apsnet: supervised, KD and joint losses against recomputation", "[apsnet][models]") {
  const models::TaskBatch b = test::cls_batch(3, 64, 9);
  SamplerConfig c = aps_config(16, 64);
  auto s = make_aps(c);
  s->eval();
  const auto& pn = dynamic_cast<const models::PointNet&>(s->task_network());
  const auto& sw = s->config().weights.simplify;
  const Tensor q = s->generate(b.points);
  auto simp = [&](int64_t k) { return models::simplify_loss(slice(q, 1, 0, k), b.points, sw).item_double(); };
  auto task = [&](int64_t k) { return pn.loss(pn.forward(slice(q, 1, 0, k)), b.labels).item_double(); };
  {
    const models::SamplerLoss l = s->loss(b);
    CHECK(l.task.item_double() == Approx(task(16)).epsilon(1e-5));
    CHECK(l.total.item_double() == Approx(task(16) + 30.0 * simp(16)).epsilon(1e-5));
    CHECK(!l.sigma.defined());
  }
  {  // KD: KL(softmax(T(P)) || softmax(T(Q))) with batch mean, by a naive loop.
    SamplerConfig k = c;
    k.kd = true;
    auto sk = make_aps(k);
    sk->eval();
    const Tensor qk = sk->generate(b.points);
    const auto& t = dynamic_cast<const models::PointNet&>(sk->task_network());
    const auto teacher = t.forward(b.points).logits.to(DType::f64).to_vector<double>();
    const auto student = t.forward(qk).logits.to(DType::f64).to_vector<double>();
    double kl = 0.0;
    for (int64_t i = 0; i < 3; ++i) {
      double zt = 0.0, zs = 0.0;
      for (int64_t j = 0; j < 3; ++j) {
        zt += std::exp(teacher[static_cast<size_t>(3 * i + j)]);
        zs += std::exp(student[static_cast<size_t>(3 * i + j)]);
      }
      for (int64_t j = 0; j < 3; ++j) {
        const double pt = std::exp(teacher[static_cast<size_t>(3 * i + j)]) / zt;
        const double ps = std::exp(student[static_cast<size_t>(3 * i + j)]) / zs;
        kl += pt * (std::log(pt) - std::log(ps));
      }
    }
    kl /= 3.0;
    const models::SamplerLoss l = sk->loss(b);
    CHECK(l.task.item_double() == Approx(kl).epsilon(1e-4).margin(1e-7));
    CHECK(l.task.item_double() >= 0.0);
  }
  {  // joint, paper (Eq. 10): sizes 8, 16 (m = 16), task and sampling terms at every size.
    SamplerConfig j = c;
    j.joint = "paper";
    auto sj = make_aps(j);
    sj->eval();
    const Tensor qj = sj->generate(b.points);
    const auto& t = dynamic_cast<const models::PointNet&>(sj->task_network());
    double tk = 0.0, sp = 0.0;
    for (int64_t k : {8, 16}) {
      tk += t.loss(t.forward(slice(qj, 1, 0, k)), b.labels).item_double();
      sp += models::simplify_loss(slice(qj, 1, 0, k), b.points, sw).item_double();
    }
    const models::SamplerLoss l = sj->loss(b);
    CHECK(l.task.item_double() == Approx(tk).epsilon(1e-5));
    CHECK(l.simplify.item_double() == Approx(sp).epsilon(1e-5));
    CHECK(l.total.item_double() == Approx(tk + 30.0 * sp).epsilon(1e-5));
  }
  {  // joint, released code: task once at m = 32; sampling loss at 32, 16, 8.
    SamplerConfig j = aps_config(32, 64);
    j.joint = "code";
    auto sj = make_aps(j);
    sj->eval();
    const Tensor qj = sj->generate(b.points);
    const auto& t = dynamic_cast<const models::PointNet&>(sj->task_network());
    double sp = 0.0;
    for (int64_t k : {32, 16, 8}) sp += models::simplify_loss(slice(qj, 1, 0, k), b.points, sw).item_double();
    const models::SamplerLoss l = sj->loss(b);
    CHECK(l.task.item_double() == Approx(t.loss(t.forward(qj), b.labels).item_double()).epsilon(1e-5));
    CHECK(l.simplify.item_double() == Approx(sp).epsilon(1e-5));
  }
}

TEST_CASE("apsnet: KD targets for reconstruction and registration", "[apsnet][models]") {
  Generator g(8);
  {
    models::PCAEConfig ac;
    ac.points = 40;
    ac.gen = &g;
    auto ae = std::make_shared<models::PCAE>(ac);
    ae->eval();
    SamplerConfig c = models::default_sampler_config("apsnet", SamplerTask::rec, 16, 40);
    c.kd = true;
    auto s = std::make_shared<LearnedSampler>(c, ae, &g);
    s->eval();
    models::TaskBatch b;
    b.points = test::uniform({2, 40, 3}, -1, 1, 51);
    const Tensor q = s->generate(b.points);
    const double want = models::PCAE::loss(ae->forward(q), ae->forward(b.points)).item_double();
    const models::SamplerLoss l = s->loss(b);
    CHECK(l.task.item_double() == Approx(want).epsilon(1e-5));
    CHECK(l.total.item_double() ==
          Approx(want + 0.01 * models::simplify_loss(q, b.points, c.weights.simplify).item_double()).epsilon(1e-5));
  }
  {
    models::PCRNetConfig rc;
    rc.gen = &g;
    auto pcr = std::make_shared<models::PCRNet>(rc);
    pcr->eval();
    SamplerConfig c = models::default_sampler_config("apsnet", SamplerTask::reg, 8, 48);
    c.kd = true;
    auto s = std::make_shared<LearnedSampler>(c, pcr, &g);
    s->eval();
    models::TaskBatch b;
    b.points = test::uniform({2, 48, 3}, -1, 1, 52);
    b.source = test::uniform({2, 48, 3}, -1, 1, 53);
    b.rotation = tensor({1, 0, 0, 0, 0.6, 0.8, 0, 0}, {2, 4});  // ignored by KD
    const Tensor qt = s->generate(b.points), qs = s->generate(b.source);
    const Tensor teacher = pcr->forward(b.points, b.source).quaternion;
    const double want = models::PCRNet::loss(pcr->forward(qt, qs), teacher, b.points, b.source).item_double();
    const double sup = models::PCRNet::loss(pcr->forward(qt, qs), b.rotation, b.points, b.source).item_double();
    const models::SamplerLoss l = s->loss(b);
    CHECK(l.task.item_double() == Approx(want).epsilon(1e-5));
    CHECK(std::abs(want - sup) > 1e-6);  // the target really is the teacher's, not the label
  }
}

TEST_CASE("apsnet: config round trip and save -> load -> identical samples", "[apsnet][models][checkpoint]") {
  test::TempDir dir("pg_apsnet");
  auto pn = test::tiny_classifier(41);
  test::save_model(dir.file("task.h5"), *pn);
  Generator g(4);
  SamplerConfig c = aps_config(8, 64);
  c.task_model = dir.file("task.h5");
  c.kd = true;
  c.joint = "code";
  c.max_generated = 6;
  const SamplerConfig back = models::sampler_config_from(models::sampler_model_config(c));
  CHECK(models::sampler_model_config(back).describe() == models::sampler_model_config(c).describe());
  CHECK((back.kd && back.joint == "code" && back.max_generated == 6 && back.lstm_layers == 2));

  auto s =
      std::make_shared<LearnedSampler>(c, models::load_task_network(c.task_model, SamplerTask::cls, Device::cpu()), &g);
  {  // a step so that BN statistics and weights differ from the initialisation
    nn::Adam opt(s->trainable_parameters(), {0.01});
    s->loss(test::cls_batch(4, 64, 3)).total.backward();
    opt.step();
  }
  s->eval();
  test::save_model(dir.file("s.h5"), *s);
  auto s2 = models::load_model_as<LearnedSampler>(dir.file("s.h5"), Device::cpu(), "apsnet");
  CHECK(s2->is_apsnet());
  const Tensor p = test::uniform({3, 64, 3}, -1, 1, 12);
  CHECK(s2->sample(p, 8).indices.to_vector<int64_t>() == s->sample(p, 8).indices.to_vector<int64_t>());
  test::require_close(s2->soft_sample(p, 8), s->soft_sample(p, 8), 0.0);
  CHECK(models::sample_indices("apsnet", s2.get(), p, 8).to_vector<int64_t>() ==
        s->sample(p, 8).indices.to_vector<int64_t>());
  CHECK_THROWS_WITH(models::sample_indices("samplenet", s2.get(), p, 8), Catch::Contains("'apsnet'"));
}
