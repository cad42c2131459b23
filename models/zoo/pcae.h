// PCAE: the point-cloud autoencoder of Achlioptas et al. as SampleNet uses it for reconstruction
// (METHODS.md §3.3).
//
//   encoder  per point 3 → 64 → 128 → 128 → 256 → bottleneck (128)   (1×1 conv + BN + ReLU each)
//   max pool over points → code [B, bottleneck]
//   decoder  FC bottleneck → 256 (ReLU) → 256 (ReLU) → points·3 (linear), no BN; → [B, points, 3]
//
// The encoder takes any number of input points (the max pool makes it size-agnostic), which is
// what a sampler needs: the frozen PCAE reconstructs `points` points from m sampled ones.
// Loss: Chamfer (§1.2: squared distances, the two directional means summed), batch mean.
// Init: Xavier (TFLearn's FC default) for every layer, zero biases; BN ε 1e-5 (TFLearn); the
// BN γ init N(1, 0.002) of TFLearn is not reproduced (γ = 1; docs/decisions.md).
//
// Registry name "pcae"; model_config(): points, bottleneck, bn_eps, bn_momentum.
// Errors (pg::Error naming "PCAE"): points or bottleneck < 1; input not [B, N, 3] float with
// N >= 1; B < 2 in training mode (BatchNorm statistics).
#pragma once

#include <cstdint>
#include <memory>

#include "models/nn/model_config.h"
#include "models/nn/sequential.h"
#include "models/nn/shared_mlp.h"
#include "models/zoo/registry.h"

namespace pg::models {

struct PCAEConfig {
  int64_t points = 2048;     // reconstructed points
  int64_t bottleneck = 128;  // code size (last encoder width)
  double bn_eps = 1e-5;
  double bn_momentum = 0.1;  // PyTorch convention (TFLearn decay 0.9)
  TensorOptions tensor = {};
  Generator* gen = nullptr;  // initialisation draws (default generator when null)
};

// The PCAE encoder (BN + ReLU on every layer, Xavier init) and decoder (no BN, linear output of
// `out_dim`), built in that order from `gen`. SampleNet's reconstruction simplification network
// is the same pair with out_dim = 3·m.
struct PCAEStacks {
  std::shared_ptr<nn::SharedMLP> encoder;
  std::shared_ptr<nn::Sequential> decoder;
};
PCAEStacks make_pcae_stacks(int64_t bottleneck, int64_t out_dim, double bn_eps, double bn_momentum,
                            const TensorOptions& tensor, Generator* gen);

class PCAE : public nn::Model {
 public:
  explicit PCAE(PCAEConfig cfg = {});
  nn::ModelConfig model_config() const override;

  // The code [B, bottleneck] of points [B, N, 3].
  Tensor encode(const Tensor& points) const;
  // The reconstruction [B, points, 3] of a code.
  Tensor decode(const Tensor& code) const;
  // decode(encode(points)).
  Tensor forward(const Tensor& points) const;
  // Chamfer(reconstruction, target) as in §1.2, 0-d batch mean (reduction none: [B]).
  static Tensor loss(const Tensor& reconstruction, const Tensor& target, bool per_shape = false);

  void set_bn_momentum(double m);
  const PCAEConfig& config() const { return cfg_; }

  std::shared_ptr<nn::SharedMLP> encoder;   // 3 → 64 → 128 → 128 → 256 → bottleneck
  std::shared_ptr<nn::Sequential> decoder;  // bottleneck → 256 → 256 → points·3

 private:
  PCAEConfig cfg_;
};

PCAEConfig pcae_config_from(const nn::ModelConfig& m);
ModelFactory pcae_factory();

}  // namespace pg::models
