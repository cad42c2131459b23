// Per-item transforms for the DataLoader: augmentations and normalisation of point tensors.
//
// A point transform is built from STEPS and applied to named point tensors of an item
// (default {"points"}; each [P, 3] float32 or float64, any P ≥ 0):
//
//   Transform t = point_transform({rotate_y(), jitter(0.01, 0.05)});           // PointNet's recipe
//   Transform u = point_transform({normalize_unit_sphere(), rotate_so3()}, {"template", "source"});
//
// How a step runs (what makes compositions reproducible and bit-exact):
// * Each item gets ONE random stream (HostRng, from the loader: named by (seed, epoch,
//   position)). First every step DRAWS its per-item parameters, in step order (an angle, a
//   rotation, a scale, ...); then, for each name in order, the cloud is converted to float64 once,
//   every step is APPLIED in order (per-point noise such as jitter draws here, point by point,
//   x, y, z), and the result is rounded back to the tensor's dtype once.
// * So the drawn parameters are shared by all named tensors of the item (a rigid rotation of
//   "template" and "source" is the same rotation), and a composition rounds only once.
// * The PointNet recipe {rotate_y(), jitter(σ, clip)} consumes the random numbers exactly as the
//   loader of issue 3 did (angle, then the normals point by point), so batches are bit-identical
//   to it.
//
// Steps (all geometry in float64):
//   rotate_y()                      PointNet's rotate_point_cloud: angle a ~ U[0, 2π),
//                                   (x, y, z) → (x cos a − z sin a, y, x sin a + z cos a).
//   rotate_axis(axis, max_angle)    rotation about the unit vector axis/|axis| by an angle
//                                   ~ U[−max_angle, max_angle] (right-handed, Rodrigues).
//   rotate_so3()                    a uniformly distributed rotation (Haar measure on SO(3)): a
//                                   uniform unit quaternion (Shoemake's method, 3 uniforms).
//   scale(lo, hi)                   isotropic scale s ~ U[lo, hi] (0 < lo ≤ hi).
//   shift(r)                        translation, each axis ~ U[−r, r] (r ≥ 0).
//   jitter(σ, clip)                 every coordinate + clamp(σ·N(0, 1), −clip, clip) (σ, clip ≥ 0).
//   normalize_unit_sphere()         centre at the centroid, then scale so the farthest point is
//                                   at distance 1 (a cloud of coincident points is only centred;
//                                   an empty cloud is left alone). Draws nothing.
// Errors (pg::Error): invalid parameters at construction (naming the step and values); at run
// time a missing name, a tensor that is not [P, 3] float32/float64 on the CPU (naming the
// transform, the tensor and its shape/dtype).
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "datasets/dataset.h"
#include "datasets/host_rng.h"
#include "datasets/registration.h"  // quaternion_to_matrix

namespace pg::datasets {

// Applies drawn parameters to one cloud: xyz is [n, 3] float64, row-major, edited in place;
// `rng` is the item's stream (for per-point noise).
using PointApply = std::function<void(double* xyz, int64_t n, HostRng& rng)>;
// A step: draws its parameters from the item's stream and returns how to apply them.
struct PointStep {
  std::string name;  // for messages ("rotate_y", "jitter", ...)
  std::function<PointApply(HostRng& rng)> draw;
};

PointStep rotate_y();
PointStep rotate_axis(std::array<double, 3> axis, double max_angle);
PointStep rotate_so3();
PointStep scale(double lo, double hi);
PointStep shift(double range);
PointStep jitter(double sigma, double clip);
PointStep normalize_unit_sphere();

// The transform that runs `steps` on the tensors `names` of an item (see above).
Transform point_transform(std::vector<PointStep> steps, std::vector<std::string> names = {"points"});

// A uniformly distributed random unit quaternion (w, x, y, z) (w ≥ 0 is NOT enforced: q and −q
// are the same rotation). Its matrix: quaternion_to_matrix (datasets/registration.h).
std::array<double, 4> random_unit_quaternion(HostRng& rng);

}  // namespace pg::datasets
