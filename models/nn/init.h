// Parameter initialisation, in place (values only: no autograd, the version is bumped), on the
// tensor's own device, from a pg::Generator (the default generator when null). Formulas follow
// torch.nn.init so models start from the same distributions as their PyTorch references:
//
//   fans (PyTorch's _calculate_fan_in_and_fan_out): for a weight of shape [out, in, k...]
//     fan_in = in · prod(k), fan_out = out · prod(k); rank < 2 is an error.
//   gain(nonlinearity, param): linear/sigmoid/identity 1, tanh 5/3, relu √2,
//     leaky_relu √(2 / (1 + param²)), selu 3/4.
//   kaiming_uniform_(a, mode, nl):  bound = gain(nl, a) · √(3 / fan_mode)  → U(−bound, bound)
//   kaiming_normal_(a, mode, nl):   std = gain(nl, a) / √fan_mode          → N(0, std²)
//   xavier_uniform_(gain):          bound = gain · √(6 / (fan_in + fan_out)) (TF's glorot_uniform)
//   xavier_normal_(gain):           std = gain · √(2 / (fan_in + fan_out))
//   lecun_normal_:                  std = 1 / √fan_in (= kaiming_normal_ with the linear gain; the
//                                   init SELU networks need to be self-normalising)
//
// PyTorch's default nn.Linear / nn.Conv1d init is kaiming_uniform_(a = √5), i.e. weights
// U(−1/√fan_in, 1/√fan_in), and a bias U(−1/√fan_in, 1/√fan_in): see default_linear_init_.
#pragma once

#include <cstdint>
#include <utility>

#include "core/random.h"
#include "core/tensor.h"

namespace pg::nn::init {

enum class Nonlinearity : uint8_t { linear, identity, sigmoid, tanh, relu, leaky_relu, selu };
enum class FanMode : uint8_t { fan_in, fan_out };

// {fan_in, fan_out} of a weight of rank >= 2.
std::pair<int64_t, int64_t> fans(const Tensor& weight);
double calculate_gain(Nonlinearity nl, double param = 0.01);

void uniform_(const Tensor& t, double lo, double hi, Generator* gen = nullptr);
void normal_(const Tensor& t, double mean, double std, Generator* gen = nullptr);
void constant_(const Tensor& t, double value);
void zeros_(const Tensor& t);
void ones_(const Tensor& t);
// A 2-D identity (rectangular allowed: ones on the main diagonal).
void eye_(const Tensor& t);

void kaiming_uniform_(const Tensor& w, double a = 0.0, FanMode mode = FanMode::fan_in,
                      Nonlinearity nl = Nonlinearity::leaky_relu, Generator* gen = nullptr);
void kaiming_normal_(const Tensor& w, double a = 0.0, FanMode mode = FanMode::fan_in,
                     Nonlinearity nl = Nonlinearity::leaky_relu, Generator* gen = nullptr);
void xavier_uniform_(const Tensor& w, double gain = 1.0, Generator* gen = nullptr);
void xavier_normal_(const Tensor& w, double gain = 1.0, Generator* gen = nullptr);
void lecun_normal_(const Tensor& w, Generator* gen = nullptr);

// PyTorch's nn.Linear.reset_parameters: weight kaiming_uniform_(a = √5) (= U(±1/√fan_in)),
// bias (when defined) U(±1/√fan_in) with fan_in from the weight.
void default_linear_init_(const Tensor& weight, const Tensor& bias, Generator* gen = nullptr);
// TF tf_util's init: weight xavier_uniform_, bias (when defined) zeros.
void xavier_linear_init_(const Tensor& weight, const Tensor& bias, Generator* gen = nullptr);
// For SELU layers (Klambauer et al. 2017): weight lecun_normal_, bias (when defined) zeros.
void lecun_linear_init_(const Tensor& weight, const Tensor& bias, Generator* gen = nullptr);

}  // namespace pg::nn::init
