// Learned-sampler inference (issue 10 and 11 speed targets) per cloud at batch 1 and 32,
// m = 32 … 512, N = 1024 (classification setting), eval mode, no gradient:
//   samplenet.B<b>.m<m>  simplification network, then matching + FPS completion (SampleNet-M);
//   apsnet_g.B<b>.m<m>   APSNet-G: the LSTM generates min(m, 128) points (attention over the
//                        per-point features each step), FPS-seeded completion beyond 128
//                        (the released code's rule, SamplerConfig::max_generated);
//   apsnet_m.B<b>.m<m>   APSNet-M: the same, matched + FPS-completed to m input points.
// Baseline: plain FPS of m points on the same clouds (what the learned sampler competes with).
// Extra field per_cloud_ms = median / B. Check: the matched rows hold m distinct indices
// (check_rel_err = fraction of clouds with a repeated index, tol 0); the APSNet-G rows check
// that the output has m points (check_rel_err = 1 when it does not).
// The network is randomly initialised (timing does not depend on the weights); the frozen task
// network it needs is a vanilla PointNet built in code.
#include <set>

#include "harness.h"
#include "models/zoo/pointnet.h"
#include "models/zoo/samplenet.h"
#include "ops/ops.h"

using namespace pg;
using namespace pg::bench;

namespace {

// kind: "samplenet" or "apsnet"; generated: time soft_sample (APSNet-G) instead of sample.
void run_case(Harness& h, Device dev, const std::string& kind, bool generated, int64_t B, int64_t m) {
  const std::string row = kind == "samplenet" ? "samplenet" : (generated ? "apsnet_g" : "apsnet_m");
  const std::string name = row + ".B" + std::to_string(B) + ".m" + std::to_string(m);
  if (!h.selected(name, dev, "float32")) return;
  const int64_t N = 1024;
  Generator g(17);
  models::PointNetConfig pc;
  pc.gen = &g;
  auto task = std::make_shared<models::PointNet>(pc);
  models::SamplerConfig sc = models::default_sampler_config(kind, models::SamplerTask::cls, m, N);
  models::LearnedSampler sampler(sc, task, &g);
  sampler.to(dev);
  sampler.eval();
  const int nsets = 4;
  std::vector<Tensor> sets;
  for (int s = 0; s < nsets; ++s) sets.push_back(rand({B, N, 3}, TensorOptions(DType::f32, dev), &g) * 2.0 - 1.0);
  auto learned = [&](int64_t rep) {
    NoGradGuard ng;
    const Tensor& cloud = sets[static_cast<size_t>(rep % nsets)];
    if (generated)
      sampler.soft_sample(cloud, m);
    else
      sampler.sample(cloud, m);
  };
  auto plain_fps = [&](int64_t rep) {
    NoGradGuard ng;
    fps(sets[static_cast<size_t>(rep % nsets)], m);
  };
  const auto st = h.time_interleaved(dev, {learned, plain_fps});
  NoGradGuard ng;
  double check = 0;
  if (generated) {
    check = sampler.soft_sample(sets[0], m).shape() == Shape{B, m, 3} ? 0.0 : 1.0;
  } else {
    const std::vector<int64_t> idx = sampler.sample(sets[0], m).indices.to(Device::cpu()).to_vector<int64_t>();
    int64_t repeated = 0;
    for (int64_t b = 0; b < B; ++b)
      repeated += std::set<int64_t>(idx.begin() + b * m, idx.begin() + (b + 1) * m).size() != static_cast<size_t>(m);
    check = static_cast<double>(repeated) / static_cast<double>(B);
  }
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = "float32";
  r.shape = shape_string({B, N, 3}) + ",m=" + std::to_string(m);
  r.t = st[0];
  r.baseline = "fps";
  r.baseline_ms = st[1].median_ms;
  r.check_rel_err = check;
  r.check_tol = 0.0;
  r.extra.push_back({"per_cloud_ms", std::to_string(st[0].median_ms / static_cast<double>(B))});
  h.emit(r);
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_samplers");
  for (Device dev : h.devices())
    for (int64_t B : {1, 32})
      for (int64_t m : {32, 64, 128, 256, 512}) {
        run_case(h, dev, "samplenet", false, B, m);
        run_case(h, dev, "apsnet", true, B, m);
        run_case(h, dev, "apsnet", false, B, m);
      }
  return h.finish();
}
