// NeuralQAAD (Wagner & Schwanecke, VISAPP 2022; METHODS.md §12): an auto-decoder that stores a
// consistent shape collection as a lookup table of per-shape codes, a trainable template cloud
// Q and a patch MLP decoder — and its Chamfer-trained AtlasNetV2-style baseline, the same class
// with another decoder.
//
//   codes     nn::Embedding [shapes, latent]: one code per training shape ("codes.weight").
//   decoder   nn::PatchMLP: Q [points, 3] split into `patches` k-d leaves; p̂_j = MLP_k(l, q_j).
//             decoder = "shared" (NeuralQAAD): shared 256-128-128-128, per patch 64-3, SELU.
//             decoder = "atlas"  (AtlasNetV2 baseline): no shared layers, per patch
//             atlas_width × 3 hidden layers then 3 (METHODS.md §12.5: "4 layers of width 128
//             per patch, no sharing").
//   encoder   (with encoder = true) the warm-up PointNet encoder: shared MLP
//             3 → 64 → 128 → 256 → latent (BN + ReLU, the last layer linear), max pool over
//             the points. Used for the first training stage only (§12.2); its codes then
//             initialise the table and the encoder is dropped.
//   assignment (with assignment = true) the training assignment, buffer int64 [shapes, points]:
//             row i is a permutation, template row j's target is shape i's point assignment[i][j].
//             Training state, saved in the training checkpoints (exact resume) and not in the
//             compressed file.
//
// Units: the network works on normalised coordinates, x_n = (x − center) / scale (buffers
// "center" [3] and "scale" [1], identity by default; compress sets them from the collection's
// bounding box). decode*() return data units; encode() normalises its input; the template given
// to the constructor is already normalised (it becomes Q).
//
// Row order: the decoder reorders the initial template into patch-major k-d order, so decoded
// row j is template row j (the same surface point on every decoded shape), not input point j.
//
// Registry name "neuralqaad"; model_config(): shapes, points, latent, patches, decoder,
// atlas_width, encoder, assignment. The factory builds Q from zeros (the checkpoint supplies it).
// Errors (pg::Error naming "NeuralQAAD"): sizes < 1, an unknown decoder, a template that is not
// [points, 3], patches not a power of two dividing points (PatchMLP), indices out of range
// (Embedding), encoder inputs that are not [B, S, 3], encode() on a model without encoder.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "models/nn/embedding.h"
#include "models/nn/model_config.h"
#include "models/nn/patch_mlp.h"
#include "models/nn/shared_mlp.h"
#include "models/zoo/registry.h"

namespace pg::models {

struct NeuralQAADConfig {
  int64_t shapes = 1;    // N, rows of the code table
  int64_t points = 1024; // M, template points (= points per shape)
  int64_t latent = 64;   // L
  int64_t patches = 16;  // K, a power of two dividing M
  std::string decoder = "shared";  // shared | atlas
  int64_t atlas_width = 128;       // hidden width of the atlas decoder
  bool encoder = false;
  bool assignment = false;
  TensorOptions tensor = {};
  Generator* gen = nullptr;  // initialisation draws (default generator when null)
};

class NeuralQAAD : public nn::Model {
 public:
  // template_points [points, 3] (undefined: zeros, for the registry).
  explicit NeuralQAAD(NeuralQAADConfig cfg, const Tensor& template_points = Tensor());
  nn::ModelConfig model_config() const override;

  // Sets the data normalisation (center [3], scale > 0).
  void set_normalisation(const std::vector<double>& center, double scale);
  // Codes [B, L] of points [B, S, 3] (data units, any S ≥ 1) through the warm-up encoder.
  Tensor encode(const Tensor& points) const;
  // Every template point decoded: codes [B, L] → [B, M, 3].
  Tensor decode(const Tensor& codes) const;
  // decode(codes of the table rows `index` [B] int64).
  Tensor decode_shapes(const Tensor& index) const;
  // The template rows j = k·P + local[k][s] for local int64 [K, S] → [K·S] int64 (host).
  Tensor template_rows(const Tensor& local) const;
  // Codes [B, L] and local [K, S] → the decoded points of those template rows [B, K·S, 3]
  // (row order of template_rows(local)).
  Tensor decode_rows(const Tensor& codes, const Tensor& local) const;

  const NeuralQAADConfig& config() const { return cfg_; }
  // Parameters of the decoder and the table (what the compressed file holds; Q included).
  int64_t stored_parameter_count() const;

 private:
  Tensor to_data_units(const Tensor& x) const;

 public:
  std::shared_ptr<nn::Embedding> codes;
  std::shared_ptr<nn::PatchMLP> decoder;
  std::shared_ptr<nn::SharedMLP> encoder;  // null without encoder
  Tensor assignment;                        // [N, M] int64, undefined without assignment
  Tensor center, scale;                     // [3], [1]: x = x_n · scale + center

 private:
  NeuralQAADConfig cfg_;
};

// The augmented Chamfer distance of the warm-up stage (§12.2, Eq. 11, AtlasNetV2-style): per
// shape, the MAX of the two directional MEANS of Euclidean nearest-neighbour distances
// (sqrt(d² + 1e-12): the offset keeps the gradient finite at coincident points). a [B, S, 3],
// b [B, T, 3] → [B] (differentiable in both).
Tensor augmented_chamfer(const Tensor& a, const Tensor& b);

NeuralQAADConfig neuralqaad_config_from(const nn::ModelConfig& m);
ModelFactory neuralqaad_factory();

}  // namespace pg::models
