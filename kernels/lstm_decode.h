// Fused autoregressive decoder launcher: a multi-layer LSTM whose top-layer output attends over a
// cloud's per-point features, the attention-weighted mean of the points being the next input
// (APSNet-G's generator, ops/lstm_decode.h has the math). Inference only: nothing is saved.
// Defined in kernels/cpu/lstm_decode.cpp (a step loop over the LSTM cell and attention-pooling
// launchers, one batched GEMM per projection) and kernels/cuda/lstm_decode.cu (one persistent
// block per cloud running every step and layer in one launch), instantiated there.
//
// Conventions (the ops layer has validated everything): all tensors contiguous, one floating
// dtype, on the backend's device; B clouds of N points, D coordinates, L layers of H hidden
// units, feature width H, layer 0's input width D.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

struct LstmDecodeArgs {
  Tensor features;           // [B, N, H]
  Tensor coords;             // [B, N, D]
  Tensor x0;                 // [B, D]: the first input
  Tensor h0, c0;             // [L, B, H]: the initial state of every layer
  std::vector<Tensor> w_ih;  // per layer [4H, D] (layer 0) or [4H, H]
  std::vector<Tensor> w_hh;  // per layer [4H, H]
  std::vector<Tensor> b_ih;  // per layer [4H], or all undefined
  std::vector<Tensor> b_hh;  // per layer [4H], or all undefined
  int64_t steps = 0;         // T >= 1
  Tensor points;             // [B, T, D], overwritten: the generated points
};

template <class Backend>
void lstm_attention_decode(const LstmDecodeArgs& a);

// The launcher above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_LSTM_DECODE_LAUNCHERS(X, B) X(B, void, lstm_attention_decode, (const LstmDecodeArgs&))

}  // namespace pg::kernels
