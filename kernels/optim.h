// Optimizer update kernels (fused: one pass over each parameter reads param, grad and state and
// writes param and state). Defined in kernels/common/optim_impl.h (the per-element math, shared
// by both backends), instantiated in kernels/cpu/optim.cpp and kernels/cuda/optim.cu; the CUDA
// file adds a multi-tensor path (many parameters per launch).
//
// Conventions: every tensor of one entry has the parameter's shape, dtype (float32/float64) and
// device, and is contiguous (the optimizer layer checks). The element math runs in the
// parameter's dtype, following PyTorch's single-tensor implementations (see optim_impl.h).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// Launch-path choice (CUDA; the CPU has one path). Auto = MultiTensor on CUDA.
enum class OptimImpl : uint8_t { Auto, PerTensor, MultiTensor };

struct SgdHyper {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

struct SgdEntry {
  Tensor param, grad;
  Tensor momentum_buffer;   // required when momentum != 0
  bool first_step = false;  // the buffer is initialised to the (decayed) gradient on this step
};

struct AdamHyper {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled_weight_decay = false;  // AdamW
  bool amsgrad = false;
};

struct AdamEntry {
  Tensor param, grad, exp_avg, exp_avg_sq;
  Tensor max_exp_avg_sq;  // required with amsgrad
  int64_t step = 1;       // this parameter's step count INCLUDING the current step (>= 1)
};

template <class Backend>
void sgd_step(const std::vector<SgdEntry>& entries, const SgdHyper& h, OptimImpl impl = OptimImpl::Auto);

template <class Backend>
void adam_step(const std::vector<AdamEntry>& entries, const AdamHyper& h, OptimImpl impl = OptimImpl::Auto);

// t *= s, in place (contiguous float tensor). Used by gradient clipping.
template <class Backend>
void scale_inplace(const Tensor& t, double s);

// t = min(max(t, lo), hi), in place (contiguous float tensor; NaN stays NaN).
template <class Backend>
void clamp_inplace(const Tensor& t, double lo, double hi);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_OPTIM_LAUNCHERS(X, B)                                                      \
  X(B, void, sgd_step, (const std::vector<SgdEntry>&, const SgdHyper&, OptimImpl))    \
  X(B, void, adam_step, (const std::vector<AdamEntry>&, const AdamHyper&, OptimImpl)) \
  X(B, void, scale_inplace, (const Tensor&, double))                                  \
  X(B, void, clamp_inplace, (const Tensor&, double, double))

}  // namespace pg::kernels
