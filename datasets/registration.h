// Rigid registration pairs from any point-cloud dataset, following the SampleNet / APSNet
// registration protocol built on PCRNet (METHODS.md §2.1 "Registration" and §3.4).
//
// Motion convention (the one SampleNet's and PCRNet's data code use: QuaterNet's
// euler_to_quaternion(angles, "xyz")):
//   * Euler angles (ax, ay, az) in radians, each uniform in [−θ, θ] (θ = 45° by default);
//   * q = qx(ax) ⊗ qy(ay) ⊗ qz(az) (Hamilton product, q = (w, x, y, z)), i.e.
//     R = Rx(ax) · Ry(ay) · Rz(az): intrinsic x–y′–z″ rotations, equivalently a point is turned
//     about the fixed z axis first, then y, then x;
//   * the quaternion is stored with w ≥ 0 (QuaterNet flips the sign of "xyz" results; q and −q
//     are the same rotation, and w ≥ 0 makes the stored value unique);
//   * translation t: each component uniform in [−τ, τ]. τ = 0 by default because SampleNet and
//     APSNet pass translation 0 (their PCRNet head predicts it but the data never moves);
//     PCRNet's own experiments use a non-zero range, so τ is an option;
//   * source = R · template + t (per point; computed in float64, stored as float32).
//
// Items: the base item with its points (key `points_key`, [P, 3] float32) renamed to
//   "template" [P, 3], plus "source" [P, 3], "rotation" [4] (unit quaternion w, x, y, z) and
//   "translation" [3], all float32; other keys of the base item (e.g. "label") are kept.
//
// Determinism: RegistrationPairs draws the motion of pair i from a HostRng named by
// (seed, i) only, so a seed fixes the whole set (a fixed test set per seed) whatever the order
// of access or the thread. For training with a fresh motion per epoch, use
// registration_transform() in the DataLoader: it draws from the item's stream, which the
// loader names by (seed, epoch, position).
//
// Errors (pg::Error): θ outside [0°, 180°], τ < 0 or non-finite, repeat < 1, an empty base, an
// item without `points_key` or whose points are not float32 [P, 3], an item that already has a
// "template"/"source"/"rotation"/"translation" key.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "datasets/dataset.h"

namespace pg::datasets {

struct RigidMotionRange {
  double max_angle_deg = 45.0;   // θ: every Euler angle uniform in [−θ, θ]
  double max_translation = 0.0;  // τ: every translation component uniform in [−τ, τ]
};

struct RigidMotion {
  std::array<double, 3> euler{};        // (ax, ay, az), radians
  std::array<double, 4> quaternion{};   // (w, x, y, z), unit norm, w ≥ 0
  std::array<double, 9> rotation{};     // R, row-major
  std::array<double, 3> translation{};  // t
};

// The motion with these Euler angles (radians) and translation, in the convention above.
RigidMotion rigid_motion_from_euler_xyz(double ax, double ay, double az, const std::array<double, 3>& t = {});
// Rotation matrix (row-major) of a unit quaternion (w, x, y, z).
std::array<double, 9> quaternion_to_matrix(const std::array<double, 4>& q);
// Draws angles then translation from `rng` (three uniforms each, in x, y, z order).
RigidMotion draw_rigid_motion(HostRng& rng, const RigidMotionRange& range);

// Turns `item` into a pair with motion `m` (see "Items" above).
void make_registration_pair(Example& item, const RigidMotion& m, const std::string& points_key = "points");

struct RegistrationOptions {
  RigidMotionRange range;
  uint64_t seed = 0;
  // Pairs per base item: pair i uses base item i mod N (SampleNet: 25 for training, 5 for its
  // final test; each repetition gets its own motion).
  int64_t repeat = 1;
  std::string points_key = "points";
};

class RegistrationPairs : public Dataset {
 public:
  RegistrationPairs(DatasetPtr base, RegistrationOptions opts = {});

  int64_t size() const override { return base_->size() * opts_.repeat; }
  Example get(int64_t i) const override;
  std::string describe() const override;
  std::vector<std::string> class_names() const override { return base_->class_names(); }

  // The motion of pair i: a pure function of (seed, i).
  RigidMotion motion(int64_t i) const;
  const RegistrationOptions& options() const { return opts_; }

 private:
  DatasetPtr base_;
  RegistrationOptions opts_;
};

// A transform that turns each item into a pair with a motion drawn from the item's stream.
Transform registration_transform(const RigidMotionRange& range = {}, const std::string& points_key = "points");

}  // namespace pg::datasets
