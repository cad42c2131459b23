#include "models/zoo/apsnet.h"

#include <cmath>
#include <vector>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "ops/ops.h"

namespace pg::models {

APSNet::APSNet(APSNetConfig cfg) : nn::Module("APSNet"), cfg_(cfg) {
  PG_CHECK(cfg.bottleneck >= 1, "APSNet: bottleneck must be positive, got ", cfg.bottleneck);
  PG_CHECK(cfg.layers >= 1, "APSNet: LSTM layers must be positive, got ", cfg.layers);
  nn::SharedMLPConfig m;  // PyTorch conv1d + BatchNorm1d defaults (the released code is PyTorch)
  m.tensor = cfg.tensor;
  m.gen = cfg.gen;
  encoder = register_module(
      "encoder", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{3, 64, 64, 64, 128, cfg.bottleneck}, m));
  nn::LSTMOptions lo;
  lo.tensor = cfg.tensor;
  lo.gen = cfg.gen;
  lstm = register_module("lstm", std::make_shared<nn::LSTM>(3, cfg.bottleneck, cfg.layers, lo));
}

namespace {

// Σ|p| in float64 on the points' device, one scalar read (one sync on CUDA); only a non-finite
// sum scans on the host for the message, which names the first bad coordinate (the LSTM's own
// check would only see features).
void check_finite(const Tensor& points) {
  NoGradGuard no_grad;
  if (std::isfinite(sum(abs(points.detach().to(DType::f64))).item_double())) return;
  const Tensor host = points.detach().to(DType::f64, Device::cpu()).contiguous();
  const double* p = host.data<double>();
  for (int64_t i = 0; i < host.numel(); ++i) {
    if (!std::isfinite(p[i])) {
      const int64_t n = points.size(1);
      PG_FAIL("APSNet: input cloud ", i / (3 * n), " point ", (i / 3) % n, " coordinate ", i % 3, " is ", p[i]);
    }
  }
}

}  // namespace

void APSNet::check_call(const Tensor& points, int64_t steps) const {
  PG_CHECK(points.defined() && points.dim() == 3 && points.size(2) == 3 && points.size(0) >= 1 && points.size(1) >= 1,
           "APSNet: expected points [B, N, 3], got ", points.defined() ? shape_str(points.shape()) : "undefined");
  PG_CHECK(steps >= 1, "APSNet: the number of points to generate must be positive, got ", steps);
  PG_CHECK(!is_training() || points.size(0) >= 2,
           "APSNet: training mode needs a batch of at least 2 clouds (BatchNorm statistics), got ",
           shape_str(points.shape()));
  check_finite(points);
}

Tensor APSNet::generate(const Tensor& points, int64_t steps) const {
  if (autograd::grad_enabled()) return forward(points, steps).points;
  check_call(points, steps);
  const int64_t B = points.size(0), L = lstm->num_layers();
  const Tensor x_feat = encoder->forward(points);   // [B, N, d]
  const Tensor g = max_pool_points(x_feat).values;  // [B, d]
  // h₀ = 0, c₀ = g for every layer, x₀ = 0 (as forward()).
  const Tensor h0 = zeros({L, B, cfg_.bottleneck}, points.options());
  const Tensor c0 = g.unsqueeze(0).expand({L, B, cfg_.bottleneck});
  return lstm_attention_decode(x_feat, points, zeros({B, 3}, points.options()), h0, c0,
                               {lstm->weight_ih, lstm->weight_hh, lstm->bias_ih, lstm->bias_hh}, steps);
}

APSNetOutput APSNet::forward(const Tensor& points, int64_t steps) const {
  check_call(points, steps);
  const int64_t B = points.size(0);
  const Tensor x_feat = encoder->forward(points);          // [B, N, d]
  const Tensor g = max_pool_points(x_feat).values;         // [B, d]
  nn::LSTMState state = lstm->zero_state(B);
  for (auto& layer : state) layer.c = g;                   // c₀ = g, h₀ = 0 (§6.1 [C])
  Tensor x = zeros({B, 3}, points.options());  // the start token
  std::vector<Tensor> qs, ws;
  qs.reserve(static_cast<size_t>(steps));
  ws.reserve(static_cast<size_t>(steps));
  for (int64_t t = 0; t < steps; ++t) {
    nn::LSTMOutput o = lstm->step(x, state);
    AttentionPoolResult a = attention_pool(x_feat, o.output, points);  // [B, 3], [B, N]
    qs.push_back(a.output);
    ws.push_back(a.weights);
    x = a.output;  // fed back: the next input is the point just generated
    state = std::move(o.state);
  }
  return {stack(qs, 1), stack(ws, 1)};
}

}  // namespace pg::models
