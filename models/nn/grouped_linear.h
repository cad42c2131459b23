// GroupedLinear: K independent linear layers, group k applied to its own rows, all K in ONE
// batched GEMM (ops/linalg.h bmm → kernels::GemmBatch; cuBLAS strided-batched on CUDA):
//
//   x [K, M, in] → y [K, M, out],  y[k] = x[k] · weight[k] + bias[k]
//
// weight is [K, in, out] (the bmm layout, so no transpose is needed; NOT PyTorch's [out, in]
// per group) and bias [K, out]. It is the "grouped convolution" of NeuralQAAD's per-patch MLPs
// (every patch gets the same number of points per step). Differentiable in x, weight and bias.
//
// Init per group, fan_in = in (LinearInit, models/nn/linear.h): pytorch U(±1/√in) for weight and
// bias; xavier U(±√(6/(in+out))), bias 0; lecun_normal N(0, 1/in), bias 0; zeros.
//
// Errors (pg::Error): non-positive sizes; an input that is not [K, M, in] (naming both shapes).
#pragma once

#include <cstdint>

#include "models/nn/linear.h"
#include "models/nn/module.h"

namespace pg::nn {

// The functional form: x [K, M, in], weight [K, in, out], bias [K, out] (optional) → [K, M, out].
Tensor grouped_linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

class GroupedLinear : public Module {
 public:
  GroupedLinear(int64_t groups, int64_t in_features, int64_t out_features, LinearOptions opts = {});

  // x [K, M, in] → [K, M, out].
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }

  int64_t groups() const { return groups_; }
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

  Tensor weight;  // [K, in, out]
  Tensor bias;    // [K, out] or undefined

 private:
  int64_t groups_, in_, out_;
};

}  // namespace pg::nn
