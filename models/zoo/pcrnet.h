// PCRNet, single pass, as SampleNet / APSNet use it for registration (METHODS.md §3.4).
//
//   encoder (shared by template and source)  per point 3 → 64 → 64 → 64 → 128 → 1024, ReLU, NO BN;
//            max pool → [B, 1024] each
//   head     concat [B, 2048] → FC 1024 → 1024 → 512 → 512 → 256 (ReLU each) → FC 7 (linear)
//   output   q = first 4 / ‖first 4‖ (unit quaternion w, x, y, z), t = last 3,
//            rotation R̂ [B, 3, 3] of q (row-major, the convention of datasets/registration.h:
//            source ≈ R̂ · template + t).
//   loss     ‖R̂ · Rᵀ − I‖²_F (mean over the batch) + Chamfer(source, R̂ · template + t̂)
//            (§1.2 Chamfer, weights 1 and 1), R the ground-truth rotation.
// Template and source may have different point counts (the sampler feeds m-point subsets).
// Init: PyTorch defaults (the PyTorch reference).
//
// Registry name "pcrnet"; model_config(): feature (1024).
// Errors (pg::Error naming "PCRNet"): inputs not [B, N, 3] float, batch sizes that differ,
// a ground-truth quaternion not [B, 4].
#pragma once

#include <cstdint>
#include <memory>

#include "models/nn/model_config.h"
#include "models/nn/sequential.h"
#include "models/nn/shared_mlp.h"
#include "models/zoo/registry.h"

namespace pg::models {

struct PCRNetConfig {
  int64_t feature = 1024;  // the encoder's output width (the head's input is twice this)
  TensorOptions tensor = {};
  Generator* gen = nullptr;
};

struct PCRNetOutput {
  Tensor quaternion;   // [B, 4] unit (w, x, y, z)
  Tensor translation;  // [B, 3]
  Tensor rotation;     // [B, 3, 3]
};

class PCRNet : public nn::Model {
 public:
  explicit PCRNet(PCRNetConfig cfg = {});
  nn::ModelConfig model_config() const override;

  // The motion taking `template_points` [B, N, 3] onto `source` [B, M, 3].
  PCRNetOutput forward(const Tensor& template_points, const Tensor& source) const;
  // The training loss of one forward (0-d): rotation term + Chamfer term; `rotation_gt` is the
  // ground-truth quaternion [B, 4] (w, x, y, z); the Chamfer term compares the FULL clouds given.
  static Tensor loss(const PCRNetOutput& out, const Tensor& rotation_gt, const Tensor& template_points,
                     const Tensor& source);
  // The two terms separately (0-d each).
  static Tensor rotation_loss(const PCRNetOutput& out, const Tensor& rotation_gt);
  static Tensor alignment_loss(const PCRNetOutput& out, const Tensor& template_points, const Tensor& source);

  const PCRNetConfig& config() const { return cfg_; }

  std::shared_ptr<nn::SharedMLP> encoder;
  std::shared_ptr<nn::Sequential> head;

 private:
  PCRNetConfig cfg_;
};

// Rotation matrices [B, 3, 3] of unit quaternions [B, 4] (w, x, y, z), differentiable.
Tensor quaternion_rotation(const Tensor& q);
// The angle (degrees) of the relative rotation between unit quaternions a and b [B, 4]:
// acos(clamp(2⟨a, b⟩² − 1, −1, 1)) (sign-invariant: q and −q are one rotation), as doubles.
std::vector<double> rotation_error_degrees(const Tensor& a, const Tensor& b);

PCRNetConfig pcrnet_config_from(const nn::ModelConfig& m);
ModelFactory pcrnet_factory();

}  // namespace pg::models
