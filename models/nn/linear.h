// Linear: y = x · weightᵀ + bias over the last dim of x ([..., in] → [..., out]); weight is
// [out, in] (PyTorch layout), bias [out]. Applied to a point tensor [B, N, C] it is the 1×1
// convolution of PointNet (a shared per-point layer); SharedMLP fuses it with BN/activation.
//
// Initialisation (LinearInit):
//   pytorch (default): weight U(−1/√in, 1/√in) (kaiming_uniform_ with a = √5), bias
//                      U(−1/√in, 1/√in) — nn.Linear / nn.Conv1d(k = 1).
//   xavier:            weight Glorot uniform U(±√(6/(in + out))), bias 0 — TF PointNet's tf_util.
//   lecun_normal:      weight N(0, 1/in), bias 0 — the init of self-normalising (SELU) networks.
//   zeros:             weight 0, bias 0 (e.g. the last T-Net layer before the identity is added).
#pragma once

#include <cstdint>
#include <string>

#include "core/random.h"
#include "models/nn/module.h"

namespace pg::nn {

enum class LinearInit : uint8_t { pytorch, xavier, zeros, lecun_normal };
const char* linear_init_name(LinearInit init);
// "pytorch" | "xavier" | "zeros" | "lecun_normal"; anything else throws naming the choices.
LinearInit parse_linear_init(const std::string& name);

struct LinearOptions {
  bool bias = true;
  LinearInit init = LinearInit::pytorch;
  TensorOptions tensor = {};  // dtype and device of the parameters
  Generator* gen = nullptr;   // initialisation draws (default generator when null)
};

// Initialises a [out, in] weight and optional [out] bias per `init`.
void init_linear_params(const Tensor& weight, const Tensor& bias, LinearInit init, Generator* gen);

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, LinearOptions opts = {});

  // x [..., in] → [..., out].
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

  Tensor weight;  // [out, in]
  Tensor bias;    // [out] or undefined

 private:
  int64_t in_, out_;
};

}  // namespace pg::nn
