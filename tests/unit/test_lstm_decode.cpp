// lstm_attention_decode (the fused inference decoder): its points against the step-by-step path
// it replaces (nn::LSTM::step + attention_pool, the output fed back) — bit-identical on the CPU
// in float32 and float64, with and without biases, 1–3 layers, D = 3 and D = 6; APSNet::generate
// under NoGradGuard against APSNet::forward; the refusal to run while autograd records; every
// error the contract lists. CUDA parity and the float32/float64 agreement are registry entries
// (tests/registry/entries/lstm.cpp).
#include <catch2/catch.hpp>

#include "models/nn/lstm.h"
#include "models/zoo/apsnet.h"
#include "ops/ops.h"
#include "test_util.h"

using namespace pg;
using pg::test::max_abs_diff;
using pg::test::uniform;

namespace {

struct DecodeCase {
  Tensor features, coords, x0, h0, c0;
  std::shared_ptr<nn::LSTM> lstm;
};

DecodeCase make_case(int64_t B, int64_t N, int64_t H, int64_t D, int64_t L, bool bias, DType t, uint64_t seed) {
  const TensorOptions o(t);
  Generator g(seed);
  nn::LSTMOptions lo;
  lo.bias = bias;
  lo.tensor = o;
  lo.gen = &g;
  DecodeCase c;
  c.lstm = std::make_shared<nn::LSTM>(D, H, L, lo);
  c.features = uniform({B, N, H}, -1, 1, seed + 1, o);
  c.coords = uniform({B, N, D}, -1, 1, seed + 2, o);
  c.x0 = uniform({B, D}, -1, 1, seed + 3, o);
  c.h0 = uniform({L, B, H}, -0.5, 0.5, seed + 4, o);
  c.c0 = uniform({L, B, H}, -0.5, 0.5, seed + 5, o);
  return c;
}

// The reference: T steps of the module and the attention op, the output fed back.
Tensor stepwise(const DecodeCase& c, int64_t T) {
  nn::LSTMState s;
  for (int64_t l = 0; l < c.lstm->num_layers(); ++l) s.push_back({select(c.h0, 0, l), select(c.c0, 0, l)});
  Tensor x = c.x0;
  std::vector<Tensor> qs;
  for (int64_t t = 0; t < T; ++t) {
    nn::LSTMOutput o = c.lstm->step(x, s);
    x = attention_pool(c.features, o.output, c.coords).output;
    qs.push_back(x);
    s = o.state;
  }
  return stack(qs, 1);
}

LstmDecodeWeights weights_of(const nn::LSTM& m) {
  return {m.weight_ih, m.weight_hh, m.bias_ih, m.bias_hh};
}

Tensor fused(const DecodeCase& c, int64_t T) {
  return lstm_attention_decode(c.features, c.coords, c.x0, c.h0, c.c0, weights_of(*c.lstm), T);
}

}  // namespace

TEST_CASE("lstm_attention_decode equals the step-by-step LSTM + attention loop bit for bit (CPU)", "[lstm_decode]") {
  NoGradGuard ng;
  struct Shape5 {
    int64_t B, N, H, D, L;
    bool bias;
  };
  for (DType t : {DType::f64, DType::f32})
    for (const Shape5 s :
         {Shape5{3, 37, 20, 3, 2, true}, Shape5{2, 5, 9, 6, 1, false}, Shape5{1, 64, 33, 3, 3, true}}) {
      INFO("dtype " << dtype_name(t) << " B " << s.B << " N " << s.N << " H " << s.H << " D " << s.D << " L " << s.L);
      const DecodeCase c = make_case(s.B, s.N, s.H, s.D, s.L, s.bias, t, 700 + s.H);
      const int64_t T = 11;
      const Tensor a = fused(c, T), b = stepwise(c, T);
      REQUIRE(a.shape() == Shape{s.B, T, s.D});
      REQUIRE(max_abs_diff(a, b) == 0.0);
      // The first steps do not depend on T (autoregressive).
      REQUIRE(max_abs_diff(fused(c, 4), slice(b, 1, 0, 4)) == 0.0);
    }
}

TEST_CASE("lstm_attention_decode: generated points are convex combinations of the cloud", "[lstm_decode]") {
  NoGradGuard ng;
  const DecodeCase c = make_case(2, 50, 16, 3, 2, true, DType::f64, 811);
  const Tensor p = fused(c, 20);
  const Tensor lo = min(c.coords, 1, true), hi = max(c.coords, 1, true);  // [B, 1, 3]
  REQUIRE(max_abs_diff(maximum(p, lo), p) == 0.0);
  REQUIRE(max_abs_diff(minimum(p, hi), p) == 0.0);
}

TEST_CASE("APSNet::generate runs the fused decoder under NoGradGuard and matches forward()", "[lstm_decode][apsnet]") {
  Generator g(5);
  models::APSNetConfig cfg;
  cfg.bottleneck = 24;
  cfg.tensor = TensorOptions(DType::f64);
  cfg.gen = &g;
  models::APSNet net(cfg);
  net.eval();
  const Tensor pts = uniform({2, 40, 3}, -1, 1, 6, TensorOptions(DType::f64));
  NoGradGuard ng;
  const Tensor a = net.generate(pts, 9), b = net.forward(pts, 9).points;
  REQUIRE(a.shape() == Shape{2, 9, 3});
  REQUIRE(max_abs_diff(a, b) == 0.0);
}

TEST_CASE("lstm_attention_decode refuses to run while autograd records a gradient", "[lstm_decode]") {
  const DecodeCase c = make_case(2, 8, 4, 3, 1, true, DType::f64, 901);  // parameters require grad
  REQUIRE_THROWS_WITH(fused(c, 3), Catch::Contains("inference only"));
  NoGradGuard ng;
  REQUIRE(fused(c, 3).shape() == Shape{2, 3, 3});
}

TEST_CASE("lstm_attention_decode: errors name the op and the values", "[lstm_decode]") {
  NoGradGuard ng;
  const DecodeCase c = make_case(2, 8, 4, 3, 2, true, DType::f64, 950);
  const LstmDecodeWeights w = weights_of(*c.lstm);
  auto err = [&](const std::function<void()>& f, const std::string& text) {
    REQUIRE_THROWS_WITH(f(), Catch::Contains("lstm_attention_decode") && Catch::Contains(text));
  };
  err([&] { lstm_attention_decode(c.features, c.coords, c.x0, c.h0, c.c0, w, 0); }, "steps must be at least 1");
  err([&] { lstm_attention_decode(slice(c.features, 2, 0, 3), c.coords, c.x0, c.h0, c.c0, w, 2); }, "h0 must be");
  err([&] { lstm_attention_decode(c.features, slice(c.coords, 1, 0, 5), c.x0, c.h0, c.c0, w, 2); }, "coords must be");
  err([&] { lstm_attention_decode(c.features, c.coords, slice(c.x0, 1, 0, 2), c.h0, c.c0, w, 2); }, "x0 must be");
  err([&] { lstm_attention_decode(c.features, c.coords, c.x0, c.h0, slice(c.c0, 0, 0, 1), w, 2); }, "c0 must have");
  LstmDecodeWeights short_w = w;
  short_w.w_hh.pop_back();
  err([&] { lstm_attention_decode(c.features, c.coords, c.x0, c.h0, c.c0, short_w, 2); }, "one w_ih, w_hh");
  LstmDecodeWeights bad = w;
  bad.w_ih[1] = zeros({16, 3}, TensorOptions(DType::f64));  // layer 1 reads h (width 4), not x
  err([&] { lstm_attention_decode(c.features, c.coords, c.x0, c.h0, c.c0, bad, 2); },
      "w_ih[1] must have shape [16, 4]");
  err([&] { lstm_attention_decode(c.features.to(DType::f32), c.coords, c.x0, c.h0, c.c0, w, 2); }, "coords");
  err([&] { lstm_attention_decode(c.features.to(DType::i64), c.coords, c.x0, c.h0, c.c0, w, 2); }, "features");
  err([&] { lstm_attention_decode(reshape(c.features, {16, 4}), c.coords, c.x0, c.h0, c.c0, w, 2); }, "[B, N, H]");
}
