// The simplification network shared by S-NET, ProgressiveNet and SampleNet (METHODS.md §4, §5.1):
// a cloud P [B, N, 3] in, a generated cloud Q [B, out_points, 3] out (not a subset of P).
//
// Arch pointnet (classification and registration samplers):
//   per point 3 → 64 → 64 → 64 → 128 → bottleneck (1×1 conv + BN + ReLU each), max pool;
//   FC bottleneck → 256 → 256 → 256 (FC + BN + ReLU each); FC 256 → 3·out_points, linear,
//   with BN on that last layer only when last_bn (the TF classification code; the PyTorch
//   registration code and the paper have none: METHODS.md §5.6 item 3).
//   BN ε 1e-3 (TF), Xavier init, zero biases.
// Arch autoencoder (reconstruction sampler, the PCAE layout of §3.3):
//   per point 3 → 64 → 128 → 128 → 256 → bottleneck (BN + ReLU), max pool;
//   FC bottleneck → 256 (ReLU) → 256 (ReLU) → 3·out_points (linear), no BN. BN ε 1e-5.
// The 3·out_points vector is read as out_points rows of (x, y, z) (TF's layout).
// Any N works (max pool); B >= 2 in training mode (BatchNorm statistics).
//
// Errors (pg::Error naming "SimplifyNet"): out_points or bottleneck < 1, input not [B, N, 3].
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "models/nn/module.h"
#include "models/nn/sequential.h"
#include "models/nn/shared_mlp.h"

namespace pg::models {

enum class SimplifyArch : uint8_t { pointnet, autoencoder };
const char* simplify_arch_name(SimplifyArch a);
SimplifyArch parse_simplify_arch(const std::string& s);  // "pointnet" | "autoencoder"

struct SimplifyNetConfig {
  SimplifyArch arch = SimplifyArch::pointnet;
  int64_t out_points = 32;
  int64_t bottleneck = 128;
  bool last_bn = false;
  TensorOptions tensor = {};
  Generator* gen = nullptr;
};

class SimplifyNet : public nn::Module {
 public:
  explicit SimplifyNet(SimplifyNetConfig cfg);
  Tensor forward(const Tensor& points) const;  // [B, N, 3] → [B, out_points, 3]
  const SimplifyNetConfig& config() const { return cfg_; }

  std::shared_ptr<nn::SharedMLP> encoder;   // per point, ending in the bottleneck
  std::shared_ptr<nn::SharedMLP> fc;        // pointnet arch: bottleneck → 256 → 256 → 256
  std::shared_ptr<nn::SharedMLPLayer> out;  // pointnet arch: 256 → 3·out_points
  std::shared_ptr<nn::Sequential> decoder;  // autoencoder arch: bottleneck → 256 → 256 → 3·out_points

 private:
  SimplifyNetConfig cfg_;
};

}  // namespace pg::models
