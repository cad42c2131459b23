// Neural-network functions: softmax family, classification and regression losses, dropout.
// CPU and CUDA (hand-written row kernels in kernels/cuda/nn.cu), float32 and float64.
//
// softmax(x, dim) / log_softmax(x, dim)
//   Along one dim (negative allowed) of a tensor of any rank ≥ 1. Numerically stable: the row
//   maximum is subtracted before exp; log_softmax = (x − max) − log Σ exp(x − max). A row of all
//   −inf gives NaN (as PyTorch). Differentiable in x:
//     softmax:     dx = y ⊙ (dy − Σ dy ⊙ y)          log_softmax: dx = dy − exp(y) ⊙ Σ dy
//
// cross_entropy(logits [B, C], target int64 [B], reduction, label_smoothing = ε)
//   PyTorch's CrossEntropyLoss without class weights: with lp = log_softmax(logits, 1),
//     loss_i = −(1 − ε) · lp[i, t_i] − (ε / C) · Σ_j lp[i, j]
//   reduction mean → 0-dim mean over B, sum → 0-dim sum, none → [B]. ε in [0, 1].
//   Differentiable in logits: dlogits[i, j] = g_i · (softmax[i, j] − (1 − ε)·[j = t_i] − ε/C).
// nll_loss(log_probs [B, C], target int64 [B], reduction)
//   loss_i = −log_probs[i, t_i]; reductions as above. Differentiable in log_probs.
//   Targets are int64 (or int32) on the logits' device and must lie in [0, C): an out-of-range
//   target raises pg::Error naming the op, the value and C (checked before any work; a device
//   sync on CUDA). B = 0 with mean gives NaN (as PyTorch).
//
// kl_div(input, target, reduction, log_target = false)
//   PyTorch's KLDivLoss / F.kl_div: `input` holds LOG-probabilities log q_model, `target` holds
//   probabilities p (or log-probabilities when log_target), same shape, pointwise
//     l = p · (log p − input)           (p = 0 contributes 0: xlogy convention)
//     l = exp(target) · (target − input)   when log_target
//   reduction none → l, sum → Σ l, mean → Σ l / numel (PyTorch's 'mean', NOT the true KL),
//   batchmean → Σ l / size(0) (the mathematically correct KL(p ‖ q) per sample; use this one for
//   distillation: kl_div(log_softmax(student / T), softmax(teacher / T), batchmean) · T²).
//   Differentiable in input (−p) and in target (log p + 1 − input where p > 0, else 0; with
//   log_target: exp(t)·(t − input + 1)). Detach the teacher if it must not receive gradients.
//
// mse_loss(input, target, reduction): (input − target)² with equal shapes (no broadcasting);
//   mean over all elements / sum / none. Differentiable in both.
//
// dropout(x, p, training, gen)
//   training and p > 0: y = x ⊙ m / (1 − p) with m ~ Bernoulli(1 − p) drawn from `gen`
//   (pg::bernoulli; the default generator when null), so one seed gives the same mask on the CPU
//   and on CUDA. p = 1 gives zeros. Not training or p = 0: returns x itself (no copy, no node).
//   p must lie in [0, 1]. Differentiable in x (dx = dy ⊙ m / (1 − p)).
//
// All inputs must share device; float inputs must share dtype (targets are integer tensors).
// Errors name the op and the offending shapes, dtypes, devices or values.
#pragma once

#include <cstdint>

#include "core/random.h"
#include "core/tensor.h"
#include "kernels/op_enums.h"

namespace pg {

// batchmean is accepted by kl_div only.
enum class Reduction : uint8_t { mean, sum, none, batchmean };

const char* reduction_name(Reduction r);

Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);

Tensor cross_entropy(const Tensor& logits, const Tensor& target, Reduction reduction = Reduction::mean,
                     double label_smoothing = 0.0);
Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction = Reduction::mean);
Tensor kl_div(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean,
              bool log_target = false);
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::mean);

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);

// Launch-path override for tests and benchmarks of the softmax row kernels (CUDA; the CPU has
// one path). Auto picks WarpRow for rows ≤ 1024 elements, BlockRow above, Column when the
// softmax dim is not the innermost one.
using kernels::SoftmaxImpl;  // { Auto, WarpRow, BlockRow, Column } (kernels/op_enums.h)
Tensor softmax(const Tensor& x, int64_t dim, SoftmaxImpl impl);
Tensor log_softmax(const Tensor& x, int64_t dim, SoftmaxImpl impl);

}  // namespace pg
