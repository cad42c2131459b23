// BatchNorm1d over channels-last tensors: [B, C] (features) or [B, N, C] (points), any rank >= 2
// with the channels LAST (statistics per channel over all leading dims). PyTorch semantics
// (ops/pointnet.h batch_norm): training normalises with the batch statistics (biased variance)
// and updates the running statistics in place with `momentum` (unbiased variance); eval uses
// the running statistics (batch statistics when track_running_stats is off).
//
// Parameters "weight" (γ, init 1) and "bias" (β, init 0) when affine; buffers "running_mean"
// (init 0) and "running_var" (init 1) when track_running_stats.
// PyTorch's defaults: eps 1e-5, momentum 0.1. TF PointNet: eps 1e-3 and momentum = 1 − decay,
// with the decay scheduled (set_momentum each step; see schedule.h pointnet_tf_bn_momentum).
#pragma once

#include <cstdint>

#include "models/nn/module.h"
#include "ops/pointnet.h"

namespace pg::nn {

struct BatchNormOptions {
  double eps = 1e-5;
  double momentum = 0.1;
  bool affine = true;
  bool track_running_stats = true;
  TensorOptions tensor = {};  // dtype and device of parameters and buffers
};

class BatchNorm1d : public Module {
 public:
  explicit BatchNorm1d(int64_t num_features, BatchNormOptions opts = {});

  // x [..., C] → same shape.
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }

  // The arguments of the fused ops (training flag from is_training()).
  BatchNormArgs args() const;

  int64_t num_features() const { return c_; }
  double momentum() const { return opts_.momentum; }
  void set_momentum(double m);
  double eps() const { return opts_.eps; }
  const BatchNormOptions& options() const { return opts_; }

  Tensor weight, bias;               // [C] or undefined (affine = false)
  Tensor running_mean, running_var;  // [C] or undefined (track_running_stats = false)

 private:
  int64_t c_;
  BatchNormOptions opts_;
};

// Sets the momentum of every BatchNorm1d in `model` and its descendants, frozen children
// excepted (BN decay schedules of any model).
void set_bn_momentum(Module& model, double momentum);

}  // namespace pg::nn
