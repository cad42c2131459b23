// PointNet classifier (Qi et al. 2017), the two variants of METHODS.md §3.1 (TF, SampleNet repo).
//
// Vanilla (`pointnet_cls_basic`):
//   per point  3 → 64 → 64 → 64 → 128 → 1024   (each: 1×1 conv + BN + ReLU, one fused op)
//   max pool over points → [B, 1024]
//   FC 512 + BN + ReLU → FC 256 + BN + ReLU → dropout(p = 0.3, TF keep 0.7) → FC num_classes
// Full (`pointnet_cls`):
//   input T-Net (k = 3) → points · T3  →  per point 3 → 64 → 64
//   feature T-Net (k = 64) → features · T64  →  per point 64 → 64 → 128 → 1024
//   max pool → FC 512 + BN + ReLU → dropout → FC 256 + BN + ReLU → dropout → FC num_classes
//   T-Net(k): per point k → 64 → 128 → 1024 (BN + ReLU), max pool, FC 512, FC 256 (BN + ReLU),
//   FC k² with weight and bias initialised to ZERO, plus the identity: the net starts as the
//   identity transform.
//
// Loss: mean softmax cross-entropy (+ label smoothing if asked); the full variant adds
// reg_weight · l2_loss(A·Aᵀ − I) on the 64×64 feature transform A, where TF's l2_loss is
// ½·Σ(squares) over the WHOLE batch (a sum over shapes, not a mean — as in the reference code).
//
// Input: points [B, N, 3] (float32 or float64, any device; B ≥ 2 in training because of BN).
// Initialisation and BN constants default to the TF reference (Xavier uniform, zero biases,
// BN ε = 1e-3); `PointNetConfig::pytorch()` gives PyTorch's defaults instead.
//
// Registry (models/zoo/registry.h): name "pointnet"; model_config() holds variant,
// num_classes, dropout, reg_weight, bn_eps, bn_momentum and init, so load_model() rebuilds the
// trained architecture from a checkpoint alone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "models/nn/dropout.h"
#include "models/nn/linear.h"
#include "models/nn/model_config.h"
#include "models/nn/module.h"
#include "models/nn/shared_mlp.h"
#include "models/zoo/registry.h"

namespace pg::models {

enum class PointNetVariant : uint8_t { vanilla, full };
const char* pointnet_variant_name(PointNetVariant v);
PointNetVariant parse_pointnet_variant(const std::string& s);  // "vanilla" | "full"

struct PointNetConfig {
  PointNetVariant variant = PointNetVariant::vanilla;
  int64_t num_classes = 40;
  double dropout = 0.3;         // probability of dropping (TF keep_prob 0.7)
  double reg_weight = 0.001;    // feature-transform regulariser weight (full variant)
  nn::LinearInit init = nn::LinearInit::xavier;
  double bn_eps = 1e-3;
  double bn_momentum = 0.5;     // PyTorch convention (1 − TF decay); TF's schedule starts at decay 0.5
  TensorOptions tensor = {};    // parameter dtype/device
  Generator* gen = nullptr;     // initialisation and dropout draws (default generator when null)

  // PyTorch's defaults: Kaiming-uniform layers, BN ε 1e-5, momentum 0.1.
  static PointNetConfig pytorch(PointNetVariant v = PointNetVariant::vanilla, int64_t num_classes = 40);
};

// T-Net: predicts a k×k transform from a point set [B, N, k] → [B, k, k].
class TNet : public nn::Module {
 public:
  TNet(int64_t k, const PointNetConfig& cfg);
  Tensor forward(const Tensor& x) const;
  int64_t k() const { return k_; }
  void set_bn_momentum(double m);

  std::shared_ptr<nn::SharedMLP> point_mlp;  // k → 64 → 128 → 1024
  std::shared_ptr<nn::SharedMLP> head;       // 1024 → 512 → 256
  std::shared_ptr<nn::Linear> transform;     // 256 → k², zero-initialised

 private:
  int64_t k_;
  Tensor identity_;  // [k*k] constant (not a buffer: not saved)
};

struct PointNetOutput {
  Tensor logits;             // [B, num_classes]
  Tensor global_feature;     // [B, 1024] (after max pool)
  Tensor input_transform;    // [B, 3, 3] (full variant) or undefined
  Tensor feature_transform;  // [B, 64, 64] (full variant) or undefined
};

class PointNet : public nn::Model {
 public:
  explicit PointNet(PointNetConfig cfg = {});

  nn::ModelConfig model_config() const override;

  PointNetOutput forward(const Tensor& points) const;
  Tensor operator()(const Tensor& points) const { return forward(points).logits; }

  // Training loss of one forward: mean cross-entropy (+ the regulariser for the full variant).
  Tensor loss(const PointNetOutput& out, const Tensor& labels, double label_smoothing = 0.0) const;
  // The regulariser reg_weight · ½·Σ_b ||A_b·A_bᵀ − I||² (0-dim; zero for the vanilla variant).
  Tensor transform_regularizer(const PointNetOutput& out) const;

  // Sets the momentum of every BatchNorm (BN decay schedules).
  void set_bn_momentum(double m);

  const PointNetConfig& config() const { return cfg_; }

  std::shared_ptr<TNet> input_tnet;           // full only
  std::shared_ptr<nn::SharedMLP> mlp1;        // full: 3 → 64 → 64 ; vanilla: the whole point MLP
  std::shared_ptr<TNet> feature_tnet;         // full only
  std::shared_ptr<nn::SharedMLP> mlp2;        // full: 64 → 64 → 128 → 1024
  std::shared_ptr<nn::SharedMLPLayer> fc1;    // 1024 → 512 (+BN+ReLU)
  std::shared_ptr<nn::Dropout> drop1;         // full only (TF puts dropout after fc1 and fc2)
  std::shared_ptr<nn::SharedMLPLayer> fc2;    // 512 → 256 (+BN+ReLU)
  std::shared_ptr<nn::Dropout> drop2;
  std::shared_ptr<nn::Linear> fc3;            // 256 → num_classes

 private:
  PointNetConfig cfg_;
};

// The config string stored in checkpoints ("variant=full num_classes=40 ...") and its parser,
// so `pg eval` rebuilds the trained architecture.
std::string pointnet_config_string(const PointNetConfig& cfg);
PointNetConfig parse_pointnet_config_string(const std::string& s);

// The registry's view: PointNetConfig ↔ ModelConfig "pointnet" (missing keys keep the defaults
// of PointNetConfig, so older checkpoints load), and the factory registered as "pointnet".
nn::ModelConfig pointnet_model_config(const PointNetConfig& cfg);
PointNetConfig pointnet_config_from(const nn::ModelConfig& cfg);
ModelFactory pointnet_factory();

}  // namespace pg::models
