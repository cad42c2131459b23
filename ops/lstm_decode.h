// Fused autoregressive LSTM + attention decoding (APSNet-G's generator, METHODS.md §6.1) for
// inference, CPU and CUDA:
//
//   Tensor lstm_attention_decode(features [B, N, H], coords [B, N, D], x0 [B, D],
//                                h0 [L, B, H], c0 [L, B, H], weights, steps T)  →  points [B, T, D]
//   weights: per layer l = 0 … L−1 (PyTorch's nn.LSTM layout, gate order i, f, g, o)
//            w_ih[l] [4H, D] (l = 0) or [4H, H], w_hh[l] [4H, H], b_ih[l] / b_hh[l] [4H] (all
//            four lists of length L; the bias lists may hold undefined tensors: no bias)
//   x = x0, state = (h0, c0); for t = 0 … T−1:
//     for every layer l: (h_l, c_l) = lstm_cell(input_l, h_l, c_l, …) with input_0 = x and
//                        input_l = h_{l−1} (the same math as pg::lstm_cell)
//     a = softmax_i <features[b, i], h_{L−1}[b]>   (maximum subtracted; pg::attention_pool)
//     q = Σ_i a_i coords[b, i];  points[b, t] = q;  x = q
// The generated points are convex combinations of each cloud's coordinates. The result equals
// T calls of nn::LSTM::step + attention_pool feeding the output back (APSNet::forward):
// bit-identical on the CPU (the same kernels on the same operands), to rounding on CUDA.
//
// Execution: CPU — the step loop over the LSTM-cell and attention-pooling kernels with buffers
// allocated once (no tensor ops, autograd records or allocations per step); CUDA — ONE
// persistent launch, one block per cloud running every step and layer (kernels/lstm_decode.h).
// Not differentiable: it throws when autograd is recording and an input requires a gradient
// (use the op-by-op path, APSNet::forward, for training).
//
// Errors (pg::Error naming "lstm_attention_decode" and the values): wrong ranks or shapes
// (features' width must equal H, x0's width D must equal coords' D and layer 0's input size),
// lists of different lengths or empty, integer or mixed dtypes, mixed devices, an empty
// dimension, steps < 1, more than 8 layers or a shared-memory need above 48 KB on CUDA.
// Inputs are not scanned for NaN/Inf (callers check: APSNet checks its input cloud).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace pg {

struct LstmDecodeWeights {
  std::vector<Tensor> w_ih, w_hh, b_ih, b_hh;  // one per layer, bottom first
};

Tensor lstm_attention_decode(const Tensor& features, const Tensor& coords, const Tensor& x0, const Tensor& h0,
                             const Tensor& c0, const LstmDecodeWeights& weights, int64_t steps);

}  // namespace pg
