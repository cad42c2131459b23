// bench_lstm: the multi-layer batch-first nn::LSTM (fused lstm_cell op) at APSNet's sizes,
// 2 layers, I = 3, H = 128, float32, B ∈ {32, 128}, T ∈ {32, 128, 512}.
//   lstm.B<B>.T<T>.fwd       LSTM::forward over the whole sequence from a zero state, no grad.
//   lstm.B<B>.T<T>.fwd_bwd   forward with grad + backward of Σ output·v (v fixed, U(−1, 1)/(B·T)),
//                            gradients into the input and all 8 parameters (zeroed each repeat).
// gflops counts GEMM flops only: per step and layer 2·B·4H·(I_k + H) forward, 3× that with the
// backward (dx/dh and dW GEMMs). Extra fields: steps_per_s (timesteps of the whole stack per
// second) and the sizes. No timed baseline; the PyTorch counterpart is
// tools/compare/pytorch_lstm.py bench (same case names and fields).
// check: the fused module against the same network composed from public ops (matmul, sigmoid,
// tanh, slice per step), on the bench's inputs, untimed: max |fused − composed| over the output
// (fwd) or over the input and parameter gradients (fwd_bwd), divided by max(1, max |composed|);
// tolerance 1e-4.
//   decode.B<B>.T<T>         APSNet-G's decoder (PERFORMANCE.md T-LSTM-3/4): the same LSTM whose
//                            top-layer output attends over N = 1024 point features (width H) and
//                            whose input is the attention-weighted point it produced, T steps,
//                            no grad — the fused lstm_attention_decode op (one persistent launch
//                            on CUDA). baseline "eager_step_loop": the same T steps as
//                            nn::LSTM::step + attention_pool (what APSNet::forward runs), timed
//                            interleaved with it; check = max |fused − loop| / max(1, |loop|).
// --quick: B = 32, T = 32 only.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "harness.h"
#include "param_check.h"
#include "models/nn/lstm.h"
#include "ops/ops.h"

namespace {

using namespace pg;
using namespace pg::bench;

constexpr int64_t kLayers = 2, kInput = 3, kHidden = 128;


// The same network from public ops, one step at a time (layer by layer, as the module).
Tensor composed_lstm(const nn::LSTM& m, const Tensor& x) {
  const int64_t B = x.size(0), T = x.size(1), H = m.hidden_size();
  std::vector<Tensor> seq(T);
  for (int64_t t = 0; t < T; ++t) seq[t] = select(x, 1, t);
  for (int64_t k = 0; k < m.num_layers(); ++k) {
    Tensor h = zeros({B, H}, x.options()), c = zeros({B, H}, x.options());
    for (int64_t t = 0; t < T; ++t) {
      const Tensor z = add(add(linear(seq[t], m.weight_ih[k], m.bias_ih[k]), linear(h, m.weight_hh[k])), m.bias_hh[k]);
      const Tensor i = sigmoid(slice(z, 1, 0, H)), f = sigmoid(slice(z, 1, H, 2 * H));
      const Tensor g = tanh(slice(z, 1, 2 * H, 3 * H)), o = sigmoid(slice(z, 1, 3 * H, 4 * H));
      c = add(mul(f, c), mul(i, g));
      h = mul(o, tanh(c));
      seq[t] = h;
    }
  }
  return stack(seq, 1);
}

void run_case(Harness& h, Device dev, int64_t B, int64_t T, bool bwd) {
  const std::string dt = dtype_name(DType::f32);
  const std::string name = "lstm.B" + std::to_string(B) + ".T" + std::to_string(T) + (bwd ? ".fwd_bwd" : ".fwd");
  if (!h.selected(name, dev, dt)) return;
  Generator g(7100 + B + T);
  nn::LSTMOptions lo;
  lo.gen = &g;
  lo.tensor = TensorOptions(DType::f32, dev);
  nn::LSTM lstm(kInput, kHidden, kLayers, lo);
  const TensorOptions o(DType::f32, dev);
  Tensor x = rand({B, T, kInput}, o, &g) * 2.0 - 1.0;
  const Tensor v = (rand({B, T, kHidden}, o, &g) * 2.0 - 1.0) * (1.0 / static_cast<double>(B * T));
  if (bwd) x.requires_grad_(true);
  const std::vector<Tensor> params = lstm.parameters();
  auto zero = [&] {
    x.zero_grad();
    lstm.zero_grad();
  };
  auto body = [&](int64_t) {
    if (bwd) {
      zero();
      lstm.forward(x).output.backward(v);
    } else {
      NoGradGuard ng;
      lstm.forward(x);
    }
  };
  const Stats st = h.time(dev, body);

  double err = 0;
  if (bwd) {
    zero();
    lstm.forward(x).output.backward(v);
    std::vector<Tensor> fused{x.grad().clone()};
    for (const Tensor& p : params) fused.push_back(p.grad().clone());
    zero();
    composed_lstm(lstm, x).backward(v);
    err = scaled_max_diff(fused[0], x.grad());
    for (size_t k = 0; k < params.size(); ++k) err = std::max(err, scaled_max_diff(fused[k + 1], params[k].grad()));
    zero();
  } else {
    NoGradGuard ng;
    err = scaled_max_diff(lstm.forward(x).output, composed_lstm(lstm, x));
  }
  double flops = 0;
  for (int64_t k = 0; k < kLayers; ++k) flops += 2.0 * B * 4 * kHidden * ((k == 0 ? kInput : kHidden) + kHidden) * T;
  if (bwd) flops *= 3;
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({B, T, kInput}) + "->" + shape_string({B, T, kHidden});
  r.t = st;
  r.gflops = flops / (st.median_ms * 1e-3) * 1e-9;
  r.check_rel_err = err;
  r.check_tol = 1e-4;
  r.extra.push_back({"steps_per_s", json_number(static_cast<double>(T) / (st.median_ms * 1e-3))});
  r.extra.push_back({"batch", std::to_string(B)});
  r.extra.push_back({"seq_len", std::to_string(T)});
  r.extra.push_back({"layers", std::to_string(kLayers)});
  r.extra.push_back({"input", std::to_string(kInput)});
  r.extra.push_back({"hidden", std::to_string(kHidden)});
  h.emit(r);
}

void run_decode_case(Harness& h, Device dev, int64_t B, int64_t T) {
  const std::string dt = dtype_name(DType::f32);
  const std::string name = "decode.B" + std::to_string(B) + ".T" + std::to_string(T);
  if (!h.selected(name, dev, dt)) return;
  constexpr int64_t N = 1024;
  Generator g(7300 + B + T);
  nn::LSTMOptions lo;
  lo.gen = &g;
  lo.tensor = TensorOptions(DType::f32, dev);
  nn::LSTM lstm(kInput, kHidden, kLayers, lo);
  const TensorOptions o(DType::f32, dev);
  const Tensor feat = rand({B, N, kHidden}, o, &g) * 0.2;  // post-ReLU-like features
  const Tensor pts = rand({B, N, kInput}, o, &g) * 2.0 - 1.0;
  const Tensor g0 = rand({B, kHidden}, o, &g);
  const Tensor x0 = zeros({B, kInput}, o);
  const Tensor h0 = zeros({kLayers, B, kHidden}, o);
  const Tensor c0 = unsqueeze(g0, 0).expand({kLayers, B, kHidden}).contiguous();
  NoGradGuard ng;
  auto fused = [&] {
    return lstm_attention_decode(feat, pts, x0, h0, c0, {lstm.weight_ih, lstm.weight_hh, lstm.bias_ih, lstm.bias_hh}, T);
  };
  auto loop = [&] {
    nn::LSTMState s;
    for (int64_t l = 0; l < kLayers; ++l) s.push_back({select(h0, 0, l), select(c0, 0, l)});
    Tensor x = x0;
    std::vector<Tensor> qs;
    for (int64_t t = 0; t < T; ++t) {
      nn::LSTMOutput out = lstm.step(x, s);
      x = attention_pool(feat, out.output, pts).output;
      qs.push_back(x);
      s = std::move(out.state);
    }
    return stack(qs, 1);
  };
  const auto st = h.time_interleaved(dev, {[&](int64_t) { fused(); }, [&](int64_t) { loop(); }});
  Record r;
  r.name = name;
  r.device = dev;
  r.dtype = dt;
  r.shape = shape_string({B, N, kHidden}) + ",T=" + std::to_string(T);
  r.t = st[0];
  r.baseline = "eager_step_loop";
  r.baseline_ms = st[1].median_ms;
  r.check_rel_err = scaled_max_diff(fused(), loop());
  r.check_tol = 1e-4;
  r.extra.push_back({"steps_per_s", json_number(static_cast<double>(T) / (st[0].median_ms * 1e-3))});
  h.emit(r);
}

}  // namespace

int main(int argc, char** argv) {
  Harness h(argc, argv, "bench_lstm");
  const std::vector<int64_t> batches = h.quick() ? std::vector<int64_t>{32} : std::vector<int64_t>{32, 128};
  const std::vector<int64_t> lengths = h.quick() ? std::vector<int64_t>{32} : std::vector<int64_t>{32, 128, 512};
  for (Device dev : h.devices()) {
    for (bool bwd : {false, true})
      for (int64_t B : batches)
        for (int64_t T : lengths) run_case(h, dev, B, T, bwd);
    for (int64_t B : h.quick() ? std::vector<int64_t>{32} : std::vector<int64_t>{1, 32, 128})
      for (int64_t T : lengths) run_decode_case(h, dev, B, T);
  }
  return h.finish();
}
