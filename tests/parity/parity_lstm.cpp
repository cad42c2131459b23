// CUDA vs CPU parity of the LSTM cell through the multi-layer module, forward and backward over
// several timesteps, float64 and float32: B·H not a multiple of the 256-thread block (B·H > 256:
// several blocks and grid-stride iterations), H = 1, I ≠ H, a row-strided x[:, t, :] input, an
// explicit initial state. The gate GEMMs are cuBLAS vs OpenBLAS and the device may fuse
// multiply-adds, so results agree to rounding (the recurrence carries rounding forward, hence
// the float32 relative-L2 bounds).
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "models/nn/lstm.h"
#include "test_util.h"

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

struct Run {
  Tensor out, hn, cn, gx, gh0, gc0;
  std::vector<Tensor> gparams;
};

Run run_lstm(nn::LSTM& lstm, const Tensor& x, const Tensor& h0, const Tensor& c0, const Tensor& v, Device dev) {
  lstm.to(dev);
  lstm.zero_grad();
  Tensor xl = x.to(dev).detach(), hl = h0.to(dev).detach(), cl = c0.to(dev).detach();
  xl.requires_grad_(true);
  hl.requires_grad_(true);
  cl.requires_grad_(true);
  nn::LSTMState s = lstm.zero_state(x.size(0));
  s[0] = {hl, cl};
  const nn::LSTMOutput o = lstm.forward(xl, s);
  const int64_t L = lstm.num_layers();
  add(sum(mul(o.output, v.to(dev))), add(sum(o.state[L - 1].c), sum(mul(o.state[0].h, 0.5)))).backward();
  Run r{o.output.to(Device::cpu()), o.state[0].h.to(Device::cpu()), o.state[L - 1].c.to(Device::cpu()),
        xl.grad().to(Device::cpu()), hl.grad().to(Device::cpu()), cl.grad().to(Device::cpu()), {}};
  for (const Tensor& p : lstm.parameters()) r.gparams.push_back(p.grad().to(Device::cpu()));
  lstm.to(Device::cpu());
  return r;
}

}  // namespace

TEST_CASE("lstm parity CUDA vs CPU (module forward and backward over several steps)", "[parity][lstm]") {
  struct Case {
    int64_t B, I, H, L, T;
  };
  for (DType dt : {DType::f64, DType::f32}) {
    for (const Case c : {Case{1, 1, 1, 1, 1}, Case{33, 3, 130, 2, test::emu_size<int64_t>(24, 4)},
                         Case{5, 7, 300, 1, test::emu_size<int64_t>(12, 3)}, Case{2, 3, 128, 2, 2}}) {
      INFO("dtype " << dtype_name(dt) << " B " << c.B << " I " << c.I << " H " << c.H << " L " << c.L << " T " << c.T);
      Generator gen(40 + c.H);
      nn::LSTMOptions lo;
      lo.gen = &gen;
      lo.tensor = TensorOptions(dt);
      nn::LSTM lstm(c.I, c.H, c.L, lo);
      const TensorOptions o(dt);
      const Tensor x = test::uniform({c.B, c.T, c.I}, -1, 1, 1, o);
      const Tensor h0 = test::uniform({c.B, c.H}, -1, 1, 2, o);
      const Tensor c0 = test::uniform({c.B, c.H}, -1, 1, 3, o);
      const Tensor v = test::uniform({c.B, c.T, c.H}, -1, 1, 4, o);
      const Run cpu = run_lstm(lstm, x, h0, c0, v, Device::cpu());
      const Run gpu = run_lstm(lstm, x, h0, c0, v, kCuda);
      std::vector<std::pair<Tensor, Tensor>> pairs = {{gpu.out, cpu.out}, {gpu.hn, cpu.hn}, {gpu.cn, cpu.cn},
                                                      {gpu.gx, cpu.gx},   {gpu.gh0, cpu.gh0}, {gpu.gc0, cpu.gc0}};
      for (size_t k = 0; k < cpu.gparams.size(); ++k) pairs.push_back({gpu.gparams[k], cpu.gparams[k]});
      for (size_t k = 0; k < pairs.size(); ++k) {
        INFO("tensor " << k << " (0 output, 1 h_n, 2 c_n, 3-5 grads x/h0/c0, then parameter grads)");
        if (dt == DType::f64) {
          test::require_close(pairs[k].first, pairs[k].second, 1e-11, 1e-9);
        } else {
          REQUIRE(test::rel_l2(pairs[k].first, pairs[k].second) < 1e-4);
        }
      }
    }
  }
}

TEST_CASE("lstm parity: stepping on CUDA equals the CPU whole-sequence forward", "[parity][lstm]") {
  for (DType dt : {DType::f64, DType::f32}) {
    INFO("dtype " << dtype_name(dt));
    const int64_t B = 9, I = 3, H = 64, L = 2, T = test::emu_size<int64_t>(16, 4);
    Generator gen(77);
    nn::LSTMOptions lo;
    lo.gen = &gen;
    lo.tensor = TensorOptions(dt);
    nn::LSTM lstm(I, H, L, lo);
    const Tensor x = test::uniform({B, T, I}, -1, 1, 5, TensorOptions(dt));
    NoGradGuard ng;
    const Tensor ref = lstm.forward(x).output;
    lstm.to(kCuda);
    const Tensor xc = x.to(kCuda);
    nn::LSTMState s;  // empty: zeros on the first step
    std::vector<Tensor> outs;
    for (int64_t t = 0; t < T; ++t) {
      const nn::LSTMOutput o = lstm.step(select(xc, 1, t), s);
      REQUIRE(o.output.is_cuda());
      s = o.state;
      outs.push_back(o.output);
    }
    const Tensor got = stack(outs, 1).to(Device::cpu());
    if (dt == DType::f64) {
      test::require_close(got, ref, 1e-12, 1e-10);
    } else {
      REQUIRE(test::rel_l2(got, ref) < 1e-5);
    }
  }
}
