// Registry entries of the LSTM cell: lstm_cell with and without biases. Inputs: x, h, c, w_ih,
// w_hh, b_ih, b_hh; weights U(−0.5, 0.5) and states U(−1, 1) keep the gate pre-activations O(1)
// (no saturation, derivatives well above the finite-difference noise). A rank-3 x [B, T, I] is
// read at t = 1 through select(): the row-strided path the LSTM module uses for batch-first
// sequences; strided() gives a column-strided x that the op copies.
#include <catch2/catch.hpp>

#include "ops/lstm.h"
#include "ops/lstm_decode.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

std::vector<Sample> lstm_samples() {
  auto sample = [](const std::string& label, Tensor x, int64_t B, int64_t I, int64_t H, uint64_t s) {
    return Sample{label,
                  {x, uniform64({B, H}, -1, 1, s), uniform64({B, H}, -1, 1, s + 1),
                   uniform64({4 * H, I}, -0.5, 0.5, s + 2), uniform64({4 * H, H}, -0.5, 0.5, s + 3),
                   uniform64({4 * H}, -0.5, 0.5, s + 4), uniform64({4 * H}, -0.5, 0.5, s + 5)}};
  };
  return {sample("odd sizes B 3, I 5, H 7", uniform64({3, 5}, -1, 1, 200), 3, 5, 7, 201),
          sample("strided x, B 4, I 6, H 3", strided(uniform64({4, 6}, -1, 1, 210)), 4, 6, 3, 211),
          sample("row-strided x[:, 1, :], B 2, I 3, H 9", uniform64({2, 4, 3}, -1, 1, 220), 2, 3, 9, 221),
          sample("B 1, I 1, H 1", uniform64({1, 1}, -1, 1, 230), 1, 1, 1, 231)};
}

Tensor step_input(const Tensor& x) { return x.dim() == 3 ? select(x, 1, 1) : x; }

// lstm_attention_decode inputs: features, coords, x0, h0, c0, then per layer w_ih, w_hh, b_ih,
// b_hh. Weights U(−0.5, 0.5); D = 6 exercises the CUDA kernel's second coordinate group.
Sample decode_sample(const std::string& label, int64_t B, int64_t N, int64_t H, int64_t D, int64_t L, uint64_t s) {
  std::vector<Tensor> in{uniform64({B, N, H}, -1, 1, s), uniform64({B, N, D}, -1, 1, s + 1),
                         uniform64({B, D}, -1, 1, s + 2), uniform64({L, B, H}, -0.5, 0.5, s + 3),
                         uniform64({L, B, H}, -0.5, 0.5, s + 4)};
  for (int64_t l = 0; l < L; ++l) {
    const uint64_t k = s + 10 * static_cast<uint64_t>(l + 1);
    in.push_back(uniform64({4 * H, l == 0 ? D : H}, -0.5, 0.5, k));
    in.push_back(uniform64({4 * H, H}, -0.5, 0.5, k + 1));
    in.push_back(uniform64({4 * H}, -0.5, 0.5, k + 2));
    in.push_back(uniform64({4 * H}, -0.5, 0.5, k + 3));
  }
  return Sample{label, in};
}

std::vector<Sample> decode_samples() {
  return {decode_sample("APSNet-like B 3, N 70, H 40, D 3, L 2", 3, 70, 40, 3, 2, 300),
          decode_sample("B 2, N 9, H 5, D 6, L 1", 2, 9, 5, 6, 1, 330),
          decode_sample("B 1, N 300, H 33, D 3, L 3", 1, 300, 33, 3, 3, 360)};
}

std::vector<Tensor> run_decode(const std::vector<Tensor>& x, int64_t steps) {
  LstmDecodeWeights w;
  for (size_t i = 5; i + 3 < x.size(); i += 4) {
    w.w_ih.push_back(x[i]);
    w.w_hh.push_back(x[i + 1]);
    w.b_ih.push_back(x[i + 2]);
    w.b_hh.push_back(x[i + 3]);
  }
  return {lstm_attention_decode(x[0], x[1], x[2], x[3], x[4], w, steps)};
}

const bool registered = [] {
  Registrar({.name = "lstm_cell",
             .covers = {"lstm_cell"},
             .family = "lstm",
             .samples = lstm_samples,
             .fn =
                 [](const std::vector<Tensor>& x) {
                   const LstmCellResult r = lstm_cell(step_input(x[0]), x[1], x[2], x[3], x[4], x[5], x[6]);
                   return std::vector<Tensor>{r.h, r.c};
                 },
             .differentiable = {0, 1, 2, 3, 4, 5, 6}});
  Registrar({.name = "lstm_cell no bias",
             .covers = {"lstm_cell"},
             .family = "lstm",
             .samples = lstm_samples,
             .fn =
                 [](const std::vector<Tensor>& x) {
                   const LstmCellResult r = lstm_cell(step_input(x[0]), x[1], x[2], x[3], x[4], Tensor(), Tensor());
                   return std::vector<Tensor>{r.h, r.c};
                 },
             .differentiable = {0, 1, 2, 3, 4}});
  // Inference only: no gradcheck. 12 steps of feedback amplify rounding, so the float32 and
  // CUDA tolerances are wider than a single cell's.
  Registrar({.name = "lstm_attention_decode",
             .covers = {"lstm_attention_decode"},
             .family = "lstm",
             .samples = decode_samples,
             .fn = [](const std::vector<Tensor>& x) { return run_decode(x, 12); },
             .differentiable = {},
             .f32_atol = 2e-4,
             .f32_rtol = 2e-4,
             .cuda_atol = 1e-9,
             .cuda_rtol = 1e-9});
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("lstm")

}  // namespace pg::test::registry
