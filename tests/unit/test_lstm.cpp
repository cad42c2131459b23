// lstm_cell and the LSTMCell / LSTM modules: values and gradients against the same math composed
// from public ops (matmul, sigmoid, tanh, slice) in float64, the module's PyTorch layout and
// initialisation, stepping versus whole-sequence forward, state carry-over, gradchecks through
// the multi-layer module, and every error the contracts list. The op's own gradcheck / float32 /
// CUDA parity checks are registry entries (tests/registry/entries/lstm.cpp).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "models/nn/lstm.h"
#include "test_util.h"

using namespace pg;
using pg::test::check_grad;
using pg::test::leaf64;
using pg::test::max_abs_diff;
using pg::test::uniform;

namespace {

const TensorOptions kF64(DType::f64);

// The cell from public ops: the reference the fused op must match.
LstmCellResult reference_cell(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& wi, const Tensor& wh,
                              const Tensor& bi, const Tensor& bh) {
  const int64_t H = h.size(1);
  Tensor z = add(matmul(x, transpose(wi, 0, 1)), matmul(h, transpose(wh, 0, 1)));
  if (bi.defined()) z = add(z, bi);
  if (bh.defined()) z = add(z, bh);
  const Tensor i = sigmoid(slice(z, 1, 0, H)), f = sigmoid(slice(z, 1, H, 2 * H));
  const Tensor g = tanh(slice(z, 1, 2 * H, 3 * H)), o = sigmoid(slice(z, 1, 3 * H, 4 * H));
  LstmCellResult r;
  r.c = add(mul(f, c), mul(i, g));
  r.h = mul(o, tanh(r.c));
  return r;
}

struct CellInputs {
  std::vector<Tensor> t;  // x, h, c, w_ih, w_hh, b_ih, b_hh (float64 leaves)
};

CellInputs cell_inputs(int64_t B, int64_t I, int64_t H, uint64_t seed, double wscale = 0.5) {
  return {{leaf64({B, I}, -1, 1, seed), leaf64({B, H}, -1, 1, seed + 1), leaf64({B, H}, -1, 1, seed + 2),
           leaf64({4 * H, I}, -wscale, wscale, seed + 3), leaf64({4 * H, H}, -wscale, wscale, seed + 4),
           leaf64({4 * H}, -wscale, wscale, seed + 5), leaf64({4 * H}, -wscale, wscale, seed + 6)}};
}

// Σ h·vh + Σ c·vc: a scalar touching both outputs with unequal weights.
Tensor probe(const LstmCellResult& r, uint64_t seed) {
  const Tensor vh = uniform(r.h.shape(), -1, 1, seed, r.h.options());
  const Tensor vc = uniform(r.c.shape(), -1, 1, seed + 1, r.c.options());
  return add(sum(mul(r.h, vh)), sum(mul(r.c, vc)));
}

std::vector<Tensor> grads_of(const std::vector<Tensor>& leaves) {
  std::vector<Tensor> g;
  for (const Tensor& t : leaves) g.push_back(t.grad());
  return g;
}

void zero_grads(const std::vector<Tensor>& leaves) {
  for (const Tensor& t : leaves) t.zero_grad();
}

}  // namespace

TEST_CASE("lstm_cell: values and all seven gradients equal the composed reference (float64)", "[lstm]") {
  for (bool bias : {true, false}) {
    INFO("bias " << bias);
    CellInputs in = cell_inputs(5, 3, 6, 10, 1.5);  // wide weights: gates near saturation too
    const Tensor bi = bias ? in.t[5] : Tensor(), bh = bias ? in.t[6] : Tensor();
    const LstmCellResult r = lstm_cell(in.t[0], in.t[1], in.t[2], in.t[3], in.t[4], bi, bh);
    const LstmCellResult ref = reference_cell(in.t[0], in.t[1], in.t[2], in.t[3], in.t[4], bi, bh);
    REQUIRE(max_abs_diff(r.h, ref.h) < 1e-14);
    REQUIRE(max_abs_diff(r.c, ref.c) < 1e-14);
    const std::vector<Tensor> leaves = bias ? in.t : std::vector<Tensor>(in.t.begin(), in.t.begin() + 5);
    probe(r, 77).backward();
    const std::vector<Tensor> g = grads_of(leaves);
    zero_grads(leaves);
    probe(ref, 77).backward();
    const std::vector<Tensor> gr = grads_of(leaves);
    for (size_t k = 0; k < leaves.size(); ++k) {
      INFO("input " << k);
      REQUIRE(g[k].defined());
      REQUIRE(max_abs_diff(g[k], gr[k]) < 1e-13);
    }
  }
}

TEST_CASE("lstm_cell: gate order is i, f, g, o (PyTorch's)", "[lstm]") {
  // One unit, x = 0, h = 0: z = bias. Drive each gate to a known value through its bias block.
  const Tensor x = zeros({1, 1}, kF64), h = zeros({1, 1}, kF64), c = tensor({2.0}, {1, 1}, kF64);
  const Tensor wi = zeros({4, 1}, kF64), wh = zeros({4, 1}, kF64);
  // i = σ(40) ≈ 1, f = σ(−40) ≈ 0, g = tanh(0.5), o = σ(0) = 0.5.
  const Tensor b = tensor({40.0, -40.0, 0.5, 0.0}, {4}, kF64);
  const LstmCellResult r = lstm_cell(x, h, c, wi, wh, b, Tensor());
  const double g = std::tanh(0.5);
  REQUIRE(r.c.item<double>() == Approx(g).epsilon(1e-12));
  REQUIRE(r.h.item<double>() == Approx(0.5 * std::tanh(g)).epsilon(1e-12));
}

TEST_CASE("lstm_cell: only the requested gradients, and the row-strided input path", "[lstm]") {
  CellInputs in = cell_inputs(3, 4, 5, 30);
  // x[:, 2, :] of a [B, T, I] sequence: read in place, its gradient lands in the right slots.
  const Tensor seq = leaf64({3, 4, 4}, -1, 1, 40);
  const Tensor xt = select(seq, 1, 2);
  const LstmCellResult r = lstm_cell(xt, in.t[1], in.t[2], in.t[3], in.t[4], in.t[5], in.t[6]);
  const LstmCellResult ref = reference_cell(select(seq, 1, 2).contiguous(), in.t[1], in.t[2], in.t[3], in.t[4], in.t[5], in.t[6]);
  REQUIRE(max_abs_diff(r.h, ref.h) < 1e-14);
  probe(r, 5).backward();
  const Tensor gseq = seq.grad();
  const Tensor gw = in.t[3].grad();
  seq.zero_grad();
  in.t[3].zero_grad();
  probe(ref, 5).backward();
  REQUIRE(max_abs_diff(gseq, seq.grad()) < 1e-14);
  REQUIRE(max_abs_diff(gw, in.t[3].grad()) < 1e-13);
  REQUIRE(max_abs_diff(select(gseq, 1, 0), zeros({3, 4}, kF64)) == 0.0);

  // Only w_hh requires grad: the others stay without gradient.
  const Tensor x = uniform({2, 3}, -1, 1, 1, kF64), h = uniform({2, 4}, -1, 1, 2, kF64), c = uniform({2, 4}, -1, 1, 3, kF64);
  const Tensor wi = uniform({16, 3}, -1, 1, 4, kF64), bi = uniform({16}, -1, 1, 5, kF64);
  Tensor wh = uniform({16, 4}, -1, 1, 6, kF64);
  wh.requires_grad_(true);
  test::check_grad([&](const std::vector<Tensor>& v) { return lstm_cell(x, h, c, wi, v[0], bi, bi).h; }, {wh});
  test::check_grad([&](const std::vector<Tensor>& v) { return lstm_cell(x, h, c, wi, v[0], bi, bi).c; }, {wh});
}

TEST_CASE("lstm_cell: errors name the op and the shapes", "[lstm]") {
  const Tensor x = zeros({2, 3}), h = zeros({2, 4}), c = zeros({2, 4});
  const Tensor wi = zeros({16, 3}), wh = zeros({16, 4}), b = zeros({16});
  REQUIRE_NOTHROW(lstm_cell(x, h, c, wi, wh, b, b));
  REQUIRE_THROWS_WITH(lstm_cell(x, h, c, zeros({12, 3}), wh, b, b),
                      Catch::Contains("lstm_cell: w_ih must have shape [4H, I] = [16, 3]") && Catch::Contains("[12, 3]"));
  REQUIRE_THROWS_WITH(lstm_cell(x, h, c, wi, zeros({16, 5}), b, b),
                      Catch::Contains("lstm_cell: w_hh must have shape [4H, H] = [16, 4]") && Catch::Contains("[16, 5]"));
  REQUIRE_THROWS_WITH(lstm_cell(x, h, c, wi, wh, zeros({15}), b), Catch::Contains("lstm_cell: b_ih must have shape [4H]"));
  REQUIRE_THROWS_WITH(lstm_cell(x, h, zeros({2, 5}), wi, wh, b, b), Catch::Contains("h and c must have the same shape"));
  REQUIRE_THROWS_WITH(lstm_cell(zeros({3, 3}), h, c, wi, wh, b, b), Catch::Contains("batch sizes differ: x has 3 rows"));
  REQUIRE_THROWS_WITH(lstm_cell(zeros({0, 3}), zeros({0, 4}), zeros({0, 4}), wi, wh, b, b),
                      Catch::Contains("lstm_cell: empty dimension"));
  REQUIRE_THROWS_WITH(lstm_cell(zeros({2, 3}, kF64), h, c, wi, wh, b, b), Catch::Contains("lstm_cell"));
  REQUIRE_THROWS_WITH(lstm_cell(zeros({2, 3, 1}), h, c, wi, wh, b, b), Catch::Contains("lstm_cell") && Catch::Contains("x"));
}

TEST_CASE("LSTM: PyTorch parameter names, shapes, order and initialisation bound", "[lstm]") {
  Generator gen(3);
  nn::LSTMOptions o;
  o.gen = &gen;
  nn::LSTM lstm(3, 128, 2, o);
  const nn::NamedTensors p = lstm.named_parameters();
  const std::vector<std::pair<std::string, Shape>> want = {
      {"weight_ih_l0", {512, 3}}, {"weight_hh_l0", {512, 128}}, {"bias_ih_l0", {512}}, {"bias_hh_l0", {512}},
      {"weight_ih_l1", {512, 128}}, {"weight_hh_l1", {512, 128}}, {"bias_ih_l1", {512}}, {"bias_hh_l1", {512}}};
  REQUIRE(p.size() == want.size());
  const double bound = 1.0 / std::sqrt(128.0);
  for (size_t k = 0; k < want.size(); ++k) {
    INFO(p[k].first);
    REQUIRE(p[k].first == want[k].first);
    REQUIRE(p[k].second.shape() == want[k].second);
    REQUIRE(p[k].second.requires_grad());
    const std::vector<double> v = p[k].second.to_vector<double>();
    double lo = 1, hi = -1, mean = 0;
    for (double e : v) lo = std::min(lo, e), hi = std::max(hi, e), mean += e / v.size();
    REQUIRE(lo >= -bound);
    REQUIRE(hi <= bound);
    REQUIRE(hi - lo > 1.8 * bound);  // spread over the whole interval, not a narrower one
    REQUIRE(std::fabs(mean) < 0.2 * bound);
  }
  nn::LSTMCell cell(3, 8, o);
  const nn::NamedTensors pc = cell.named_parameters();
  REQUIRE(pc.size() == 4);
  REQUIRE(pc[0].first == "weight_ih");
  REQUIRE(pc[1].first == "weight_hh");
  REQUIRE(pc[2].first == "bias_ih");
  REQUIRE(pc[3].first == "bias_hh");
  nn::LSTMOptions nb;
  nb.bias = false;
  REQUIRE(nn::LSTM(3, 8, 2, nb).named_parameters().size() == 4);
}

TEST_CASE("LSTM: T steps equal one forward; a split sequence continues from the returned state", "[lstm]") {
  Generator gen(11);
  nn::LSTMOptions o;
  o.gen = &gen;
  o.tensor = kF64;
  nn::LSTM lstm(3, 16, 2, o);
  const int64_t B = 4, T = 9;
  const Tensor x = uniform({B, T, 3}, -1, 1, 12, kF64);
  const nn::LSTMState s0 = {{uniform({B, 16}, -1, 1, 13, kF64), uniform({B, 16}, -1, 1, 14, kF64)},
                            {uniform({B, 16}, -1, 1, 15, kF64), uniform({B, 16}, -1, 1, 16, kF64)}};
  const nn::LSTMOutput full = lstm.forward(x, s0);
  REQUIRE(full.output.shape() == Shape{B, T, 16});
  REQUIRE(full.state.size() == 2);
  nn::LSTMState s = s0;
  for (int64_t t = 0; t < T; ++t) {
    const nn::LSTMOutput st = lstm.step(select(x, 1, t).contiguous(), s);
    REQUIRE(max_abs_diff(st.output, select(full.output, 1, t)) < 1e-14);
    s = st.state;
  }
  for (int k = 0; k < 2; ++k) {
    REQUIRE(max_abs_diff(s[k].h, full.state[k].h) < 1e-14);
    REQUIRE(max_abs_diff(s[k].c, full.state[k].c) < 1e-14);
  }
  REQUIRE(max_abs_diff(full.state[1].h, select(full.output, 1, T - 1)) == 0.0);
  const nn::LSTMOutput a = lstm.forward(slice(x, 1, 0, 4), s0);
  const nn::LSTMOutput b = lstm.forward(slice(x, 1, 4, T), a.state);
  REQUIRE(max_abs_diff(b.output, slice(full.output, 1, 4, T)) < 1e-14);
  // An empty state is zeros.
  REQUIRE(max_abs_diff(lstm.forward(x).output, lstm.forward(x, lstm.zero_state(B)).output) == 0.0);
  // LSTMCell = one layer of LSTM with the same weights.
  nn::LSTMCell cell(3, 16, o);
  cell.load_state_dict({{"weight_ih", lstm.weight_ih[0]}, {"weight_hh", lstm.weight_hh[0]},
                        {"bias_ih", lstm.bias_ih[0]}, {"bias_hh", lstm.bias_hh[0]}});
  const nn::LSTMLayerState cs = cell.forward(select(x, 1, 0), s0[0]);
  REQUIRE(max_abs_diff(cs.h, lstm.step(select(x, 1, 0), s0).state[0].h) < 1e-15);
}

TEST_CASE("LSTM: float64 gradcheck through two layers and several steps", "[lstm]") {
  Generator gen(21);
  nn::LSTMOptions o;
  o.gen = &gen;
  o.tensor = kF64;
  nn::LSTM lstm(2, 3, 2, o);
  const Tensor x = leaf64({2, 4, 2}, -1, 1, 22), h0 = leaf64({2, 3}, -1, 1, 23), c0 = leaf64({2, 3}, -1, 1, 24);
  std::vector<Tensor> inputs{x, h0, c0};
  for (const Tensor& p : lstm.parameters()) inputs.push_back(p.detach().clone().requires_grad_(true));
  // The op chained in the module's layout (parameters as gradcheck inputs): two layers, four
  // steps, the top output of every step and the final c of both layers.
  auto run = [](const std::vector<Tensor>& v) {
    std::vector<Tensor> h{v[1], v[1]}, c{v[2], v[2]};
    std::vector<Tensor> outs;
    for (int64_t t = 0; t < 4; ++t) {
      Tensor in = select(v[0], 1, t);
      for (int k = 0; k < 2; ++k) {
        const LstmCellResult r = lstm_cell(in, h[k], c[k], v[3 + 4 * k], v[4 + 4 * k], v[5 + 4 * k], v[6 + 4 * k]);
        h[k] = r.h;
        c[k] = r.c;
        in = r.h;
      }
      outs.push_back(in);
    }
    outs.push_back(c[0]);
    outs.push_back(c[1]);
    return cat(outs, 1);
  };
  check_grad(run, inputs);
  // The module itself: gradient of its output w.r.t. x and h0 of layer 0 against central differences.
  check_grad(
      [&](const std::vector<Tensor>& v) {
        nn::LSTMState s = lstm.zero_state(2);
        s[0].h = v[1];
        s[1].c = v[2];
        const nn::LSTMOutput out = lstm.forward(v[0], s);
        return cat({reshape(out.output, {2, 12}), out.state[0].c, out.state[1].h}, 1);
      },
      {x, h0, c0});
}

TEST_CASE("LSTM: errors name the module and the values", "[lstm]") {
  nn::LSTM lstm(3, 8, 2);
  REQUIRE_THROWS_WITH(lstm.forward(zeros({2, 0, 3})),
                      Catch::Contains("LSTM: sequence length is 0") && Catch::Contains("[2, 0, 3]"));
  REQUIRE_THROWS_WITH(lstm.forward(zeros({2, 5, 4})), Catch::Contains("LSTM: input has 4 features") &&
                                                          Catch::Contains("input_size = 3"));
  REQUIRE_THROWS_WITH(lstm.forward(zeros({2, 5})), Catch::Contains("LSTM: input must have shape [B, T, I]"));
  REQUIRE_THROWS_WITH(lstm.step(zeros({2, 5, 3})), Catch::Contains("LSTM: input must have shape [B, I]"));
  // Non-finite input: the error names the element and its value.
  std::vector<float> v(2 * 5 * 3, 0.5f);
  v[1 * 15 + 3 * 3 + 2] = std::numeric_limits<float>::quiet_NaN();
  REQUIRE_THROWS_WITH(lstm.forward(from_vector(v, {2, 5, 3})),
                      Catch::Contains("LSTM: input contains a non-finite value: input[1, 3, 2] = nan"));
  v[1 * 15 + 3 * 3 + 2] = std::numeric_limits<float>::infinity();
  REQUIRE_THROWS_WITH(lstm.step(select(from_vector(v, {2, 5, 3}), 1, 3)),
                      Catch::Contains("input[1, 2] = inf"));
  // State: wrong layer count, wrong shape, NaN.
  nn::LSTMState s = lstm.zero_state(2);
  s.pop_back();
  REQUIRE_THROWS_WITH(lstm.forward(zeros({2, 5, 3}), s), Catch::Contains("LSTM: the state has 1 layers but") &&
                                                             Catch::Contains("num_layers = 2"));
  s = lstm.zero_state(2);
  s[1].c = zeros({2, 9});
  REQUIRE_THROWS_WITH(lstm.forward(zeros({2, 5, 3}), s),
                      Catch::Contains("LSTM: c of layer 1 must have shape [B, H] = [2, 8], got [2, 9]"));
  s = lstm.zero_state(2);
  s[0].h = full({2, 8}, std::nan(""));
  REQUIRE_THROWS_WITH(lstm.forward(zeros({2, 5, 3}), s), Catch::Contains("h of layer 0 contains a non-finite value"));
  // Weights of another hidden size: load_state_dict refuses them by name and shape ...
  nn::LSTM other(3, 16, 2);
  REQUIRE_THROWS_WITH(lstm.load_state_dict(other.state_dict()),
                      Catch::Contains("weight_hh_l0") && Catch::Contains("[32, 8]") && Catch::Contains("[64, 16]"));
  // ... and a forward refuses parameters swapped in directly.
  *lstm.weight_hh[1].impl() = *zeros({64, 16}).impl();
  REQUIRE_THROWS_WITH(lstm.forward(zeros({2, 5, 3})),
                      Catch::Contains("LSTM: parameter weight_hh_l1 has shape [64, 16] but hidden_size = 8 needs [32, 8]"));
  REQUIRE_THROWS_WITH(nn::LSTM(3, 0, 1), Catch::Contains("LSTM: input_size and hidden_size must be positive"));
  REQUIRE_THROWS_WITH(nn::LSTM(3, 4, 0), Catch::Contains("LSTM: num_layers must be at least 1, got 0"));
  nn::LSTMCell cell(3, 4);
  REQUIRE_THROWS_WITH(cell.forward(zeros({2, 4})), Catch::Contains("LSTMCell: input has 4 features"));
  REQUIRE_THROWS_WITH(cell.forward(zeros({2, 3}), {zeros({2, 4}), Tensor()}), Catch::Contains("LSTMCell: c is undefined"));
}

TEST_CASE("LSTM: a small model learns to reproduce a delayed input (training smoke)", "[lstm]") {
  // Target: y_t = x_{t−1} (memory over one step); a 1-layer LSTM + linear readout, plain SGD
  // with the module's gradients. The loss must fall by a large factor.
  Generator gen(5);
  nn::LSTMOptions o;
  o.gen = &gen;
  nn::LSTM lstm(1, 12, 1, o);
  Tensor wout = uniform({1, 12}, -0.3, 0.3, 6);
  wout.requires_grad_(true);
  const int64_t B = 16, T = 10;
  const Tensor x = uniform({B, T, 1}, -1, 1, 7);
  const Tensor y = cat({zeros({B, 1, 1}), slice(x, 1, 0, T - 1)}, 1);
  std::vector<Tensor> params = lstm.parameters();
  params.push_back(wout);
  double first = 0, last = 0;
  for (int it = 0; it < 300; ++it) {
    const Tensor pred = matmul(lstm.forward(x).output, transpose(wout, 0, 1));
    const Tensor loss = mean(square(sub(pred, y)));
    if (it == 0) first = loss.item<double>();
    last = loss.item<double>();
    for (const Tensor& p : params) p.zero_grad();
    loss.backward();
    NoGradGuard ng;
    for (Tensor p : params) p.copy_(sub(p, mul(p.grad(), 1.0)));
  }
  INFO("loss " << first << " -> " << last);
  REQUIRE(last < 0.1 * first);
}

TEST_CASE("lstm_cell float32: the vectorised CPU pass matches float64 over saturating pre-activations", "[lstm]") {
  // x = h = 0, so z = b_ih + b_hh: every gate sees pre-activations spread over [−100, 100]
  // (saturated, steep and flat regions, tiny values near 0), c over [−3, 3].
  const int64_t B = 7, H = 131;  // H not a multiple of the vector width: the scalar tail runs too
  std::vector<double> bias(4 * H), cv(B * H);
  for (int64_t k = 0; k < 4 * H; ++k) {
    const double u = static_cast<double>(k) / static_cast<double>(4 * H - 1);  // [0, 1]
    bias[k] = (k % 3 == 0) ? 200.0 * u - 100.0 : (k % 3 == 1 ? 8.0 * u - 4.0 : 1e-3 * (u - 0.5));
  }
  for (int64_t k = 0; k < B * H; ++k) cv[k] = 6.0 * static_cast<double>((k * 37) % (B * H)) / (B * H) - 3.0;
  const Tensor b64 = from_vector(bias, {4 * H}), c64 = from_vector(cv, {B, H});
  const Tensor x64 = zeros({B, 2}, kF64), h64 = zeros({B, H}, kF64);
  const Tensor wi64 = uniform({4 * H, 2}, -1, 1, 1, kF64), wh64 = uniform({4 * H, H}, -1, 1, 2, kF64);
  const LstmCellResult r64 = lstm_cell(x64, h64, c64, wi64, wh64, b64, Tensor());
  const Tensor b32 = b64.to(DType::f32), c32 = c64.to(DType::f32);
  const LstmCellResult r32 = lstm_cell(x64.to(DType::f32), h64.to(DType::f32), c32, wi64.to(DType::f32),
                                       wh64.to(DType::f32), b32, Tensor());
  REQUIRE(r32.h.dtype() == DType::f32);
  REQUIRE(max_abs_diff(r32.h, r64.h) < 1e-6);
  REQUIRE(max_abs_diff(r32.c, r64.c) < 2e-6);
  // Gradients through the float32 backward pass against float64.
  auto grads = [&](DType dt) {
    Tensor c = c64.to(dt).detach();
    Tensor b = b64.to(dt).detach();
    c.requires_grad_(true);
    b.requires_grad_(true);
    const LstmCellResult r = lstm_cell(x64.to(dt), h64.to(dt), c, wi64.to(dt), wh64.to(dt), b, Tensor());
    probe(r, 9).backward();
    return std::vector<Tensor>{c.grad(), b.grad()};
  };
  const auto g64 = grads(DType::f64), g32 = grads(DType::f32);
  REQUIRE(max_abs_diff(g32[0], g64[0]) < 2e-6);
  REQUIRE(max_abs_diff(g32[1], g64[1]) < 1e-5);
  // NaN propagates through the float32 pass (the op does not scan its inputs).
  std::vector<float> cn(B * H, 0.5f);
  cn[3] = std::numeric_limits<float>::quiet_NaN();
  const LstmCellResult rn = lstm_cell(x64.to(DType::f32), h64.to(DType::f32), from_vector(cn, {B, H}),
                                      wi64.to(DType::f32), wh64.to(DType::f32), b32, Tensor());
  const std::vector<float> hv = rn.h.to_vector<float>();
  REQUIRE(std::isnan(hv[3]));
  REQUIRE(std::isfinite(hv[4]));
}
