// LSTMCell and a multi-layer, batch-first LSTM on the fused pg::lstm_cell op (ops/lstm.h), in
// PyTorch's parameter layout so weights move between the two by name:
//   LSTMCell: weight_ih [4H, I], weight_hh [4H, H], bias_ih [4H], bias_hh [4H]   (nn.LSTMCell)
//   LSTM:     weight_ih_l{k} [4H, I_k], weight_hh_l{k} [4H, H], bias_ih_l{k}, bias_hh_l{k}
//             for k = 0 … L−1, I_0 = input_size, I_k = H above (nn.LSTM, batch_first = True,
//             no projection, no dropout between layers, unidirectional)
// Gate order i, f, g, o; initialisation PyTorch's: every parameter U(−1/√H, 1/√H), drawn in
// registration order from `gen`.
//
// State: one LSTMLayerState {h [B, H], c [B, H]} per layer. An empty LSTMState means zeros.
//   LSTM::forward(x [B, T, I], state) → output [B, T, H] (the top layer's h at every step) and the
//       final state of every layer. Layer by layer: layer k runs all T steps before layer k + 1.
//   LSTM::step(x [B, I], state) → the top layer's new h [B, H] and the new state: one timestep
//       through all layers, for models that feed their output back as the next input. T calls of
//       step() give the same values as one forward() (same ops on the same operands; the GEMM
//       may read x with another row stride, so equal to rounding: within 1e-14 in float64).
// Everything is differentiable (the op's backward), on CPU and CUDA.
//
// Errors (pg::Error naming the module, "LSTM" or "LSTMCell", and the values): a sequence of
// length 0, an input whose last dim is not input_size, a batch or state shape that does not match
// (names the layer and both shapes), a parameter whose shape no longer matches hidden_size /
// input_size (e.g. weights of another hidden size assigned directly; load_state_dict already
// refuses them naming the parameter and both shapes), and non-finite inputs or states: the error
// names the tensor, the first bad element's index and its value (input and state are checked
// together: Σ|t| per tensor added on the device, one scalar read per call, so one sync on CUDA).
#pragma once

#include <cstdint>
#include <vector>

#include "core/random.h"
#include "models/nn/module.h"

namespace pg::nn {

struct LSTMOptions {
  bool bias = true;
  TensorOptions tensor = {};  // dtype and device of the parameters
  Generator* gen = nullptr;   // initialisation draws (default generator when null)
};

struct LSTMLayerState {
  Tensor h;  // [B, H]
  Tensor c;  // [B, H]
};
using LSTMState = std::vector<LSTMLayerState>;  // one per layer, bottom first

class LSTMCell : public Module {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, LSTMOptions opts = {});

  // x [B, I] and state {h, c} ([B, H] each; undefined h and c = zeros) → the new {h, c}.
  LSTMLayerState forward(const Tensor& x, const LSTMLayerState& state = {}) const;

  int64_t input_size() const { return input_; }
  int64_t hidden_size() const { return hidden_; }

  Tensor weight_ih, weight_hh, bias_ih, bias_hh;

 private:
  int64_t input_, hidden_;
};

struct LSTMOutput {
  Tensor output;       // forward: [B, T, H]; step: [B, H]
  LSTMState state;     // final {h, c} of every layer
};

class LSTM : public Module {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, int64_t num_layers = 1, LSTMOptions opts = {});

  LSTMOutput forward(const Tensor& x, const LSTMState& state = {}) const;
  LSTMOutput step(const Tensor& x, const LSTMState& state = {}) const;
  // Zeros for every layer, [batch, H], with the parameters' dtype and device.
  LSTMState zero_state(int64_t batch) const;

  int64_t input_size() const { return input_; }
  int64_t hidden_size() const { return hidden_; }
  int64_t num_layers() const { return layers_; }

  // Per layer (the registered parameters weight_ih_l{k}, ...; bias_* empty without bias).
  std::vector<Tensor> weight_ih, weight_hh, bias_ih, bias_hh;

 private:
  // The state to start from (zeros when empty), validated against batch size B.
  LSTMState initial_state(const LSTMState& state, int64_t B) const;
  void check_params() const;

  int64_t input_, hidden_, layers_;
};

}  // namespace pg::nn
