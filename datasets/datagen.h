// Procedural point-cloud data set in the ModelNet40 HDF5 layout (the project's built-in data).
//
// Shape classes (canonical frame, y up; the class's own proportions drawn per shape):
//   sphere, box, cylinder, cone, torus, capsule, pyramid, ellipsoid, helix_spring,
//   ring_of_spheres, cross (three orthogonal bars), hourglass (two cones tip to tip).
// Points are sampled UNIFORMLY on each closed surface: a part (face, cap, lateral surface,
// member sphere) is chosen with probability proportional to its area and a point is drawn
// uniformly on it (exact inverse-CDF maps, or rejection where the area element varies: torus,
// ellipsoid, helix tube; and rejection of points inside another part for the cross).
// Points are i.i.d., so the stored order is random (the loader's first-k is a random subset).
//
// Per shape: canonical points → rotation (so3: uniform random rotation; up: uniform about y;
// none) → centred on their mean, scaled into the unit sphere (max norm 1) → Gaussian noise σ
// → re-centred and re-normalised → isotropic scale U[scale_lo, scale_hi] (≤ 1, so every shape
// stays inside the unit sphere). Every shape has its own random stream named by (seed, split,
// class, index): the output is bit-identical for a seed, whatever the thread count.
//
// Files written (each atomically: temporary file + rename): ply_data_train<i>.h5,
// ply_data_test<i>.h5 (shards of ≤ shard_size shapes, classes interleaved in a seeded random
// order; `data` float32 [N,P,3], `label` uint8 [N,1]), train_files.txt, test_files.txt (lines
// "<basename>", resolved relative to the folder), shape_names.txt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg::datasets {

// All available classes, in label order of the default selection.
const std::vector<std::string>& shape_classes();

// "all", a count "N" (the first N classes), or a comma-separated list of names.
std::vector<std::string> parse_class_selection(const std::string& spec);

enum class RotationMode { so3, up, none };
RotationMode parse_rotation_mode(const std::string& s);  // "so3" | "up" | "none"
const char* rotation_mode_name(RotationMode m);

struct ShapeOptions {
  RotationMode rotation = RotationMode::up;
  double noise = 0.005;  // σ of the Gaussian noise, in units of the unit sphere
  double scale_lo = 0.8, scale_hi = 1.0;
};

// One generated cloud and how it relates to the canonical shape:
//   points[i] = scale · R · canonical[i] + offset + noise_i
// (row-major R; with noise = 0 this is exact up to float rounding).
struct GeneratedShape {
  std::vector<float> points;     // n × 3
  std::vector<float> canonical;  // n × 3, in the class's canonical frame (before rotation)
  double rotation[9];
  double scale = 1.0;
  double offset[3] = {0.0, 0.0, 0.0};
  // The class's drawn proportions, by name (e.g. box: "hx", "hy", "hz" half extents).
  std::vector<std::pair<std::string, double>> params;
  double param(const std::string& name) const;
};

// A shape of class `cls` with `n` points from the stream named by `key` (see host_rng.h).
GeneratedShape generate_shape(const std::string& cls, int64_t n, uint64_t key, const ShapeOptions& opts = {});

struct DatagenOptions {
  std::string out_dir;
  int64_t train_per_class = 100;
  int64_t test_per_class = 25;
  int64_t points = 2048;
  uint64_t seed = 1;
  std::vector<std::string> classes;  // empty: all of shape_classes()
  ShapeOptions shape;
  int64_t shard_size = 2048;
};

struct DatagenSummary {
  std::vector<std::string> class_names;
  int64_t train_shapes = 0, test_shapes = 0;
  std::vector<std::string> files;  // every file written
  double seconds = 0.0;
};

// Generates the data set into opts.out_dir (created if missing; existing files replaced).
DatagenSummary generate_dataset(const DatagenOptions& opts);

}  // namespace pg::datasets
