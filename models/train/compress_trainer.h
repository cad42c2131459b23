// Compression of a consistent shape collection into an auto-decoder (the library behind
// `pg compress` / `pg decompress`): NeuralQAAD's schedule (METHODS.md §12.2) and its two
// baselines, on the generic Trainer (models/train/trainer.h).
//
// Methods (all start with the same warm-up, then differ in stage 3):
//   qaad        NeuralQAAD: warm-up → QAAD_GREEDY assignment → MSE against the assignment with
//               QAAD_REASSIGNMENT after every step (decoder "shared").
//   mse-random  the paper's "MSE" ablation: warm-up → a uniformly random assignment per shape →
//               MSE against it, no reassignment (decoder "shared").
//   chamfer     the AtlasNetV2-style baseline: warm-up → augmented-Chamfer auto-decoding
//               (decoder "atlas": per-patch MLPs without sharing).
// Stages:
//   1. warm-up (warmup_epochs): NeuralQAAD + the PointNet encoder on `sample_points` random
//      points of each shape, loss = augmented Chamfer (max of the two directional means of
//      Euclidean NN distances) between the decoded template sample and the shape sample.
//   2. the encoder's codes of each shape (eval mode, a fixed sample) initialise the code table;
//      the encoder is dropped; the assignment is set (greedy / random / none).
//   3. training (epochs): per step, B shapes and the same `sample_points / patches` random
//      template points of every patch (the grouped GEMM needs equal patches); loss = mean over
//      the sampled points of ‖p̂ − target‖² (qaad, mse-random: target = the assigned point) or
//      the augmented Chamfer against a random shape sample (chamfer).
// An epoch visits every shape `repeat` times (tiny collections need more than one step per
// epoch). Adam (lr), constant lr, updates the MLP, the codes (row-sparse) and Q.
// Evaluation: EM-kD (ops/emkd.h; leaves of emkd_leaf points, MSN-mode auction with emkd_iters
// rounds at ε = emkd_eps_rel · D, D = the diagonal of the collection's bounding box) between
// every decoded shape and its input, mean over shapes, every eval_every epochs of stage 3 and at
// the end.
// Files: work_dir/warmup/ and work_dir/train/ (Trainer logs and checkpoints; resume continues
// the stage that was running), then `out`: the compressed collection (codes, Q, decoder weights;
// a registry checkpoint of model "neuralqaad" without encoder or assignment), written atomically.
// Compression ratio = N·M·3·4 bytes (raw float32) ÷ the size of `out`.
//
// Errors (pg::Error): no input, inputs whose shapes differ in point count (naming both files),
// NaN/Inf coordinates, an unknown method, patches not a power of two dividing M, sample_points
// not a positive multiple of patches or above M, fewer than 2 shapes per batch in the warm-up
// (BatchNorm), invalid Trainer options.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/device.h"
#include "models/train/trainer.h"
#include "models/zoo/neuralqaad.h"
#include "ops/emkd.h"

namespace pg::train {

struct CompressOptions {
  std::vector<std::string> inputs;  // one .h5 collection ([N, M, 3]) or several cloud files
  std::string dataset = "data";     // HDF5 dataset name
  std::string out;                  // the compressed collection (.h5)
  std::string work_dir;             // default: out + ".run"
  std::string method = "qaad";      // qaad | mse-random | chamfer
  int64_t latent = 64;
  int64_t patches = 0;      // 0: 16 (qaad, mse-random) or 4 (chamfer)
  int64_t atlas_width = 128;
  int64_t warmup_epochs = 50, epochs = 150, repeat = 1;
  int64_t batch_size = 16;  // capped at the number of shapes
  int64_t sample_points = 2048;
  double lr = 1e-3;
  int64_t emkd_leaf = 1024, emkd_iters = 100;
  double emkd_eps_rel = 0.01;
  int64_t eval_every = 0;  // 0: evaluate at the end only
  uint64_t seed = 1;
  bool resume = false;
  Device device = Device::cpu();
  int prefetch = 2;
};

struct CompressSummary {
  int64_t shapes = 0, points = 0, patches = 0;
  int64_t stored_parameters = 0;  // codes + Q + decoder
  int64_t file_bytes = 0;
  double raw_bytes = 0.0, ratio = 0.0;
  std::vector<double> emkd;  // per shape
  double emkd_mean = 0.0;
  double warmup_seconds = 0.0, assign_seconds = 0.0, train_seconds = 0.0, eval_seconds = 0.0;
  int64_t greedy_kept = 0, greedy_repaired = 0;  // qaad: QAAD_GREEDY totals over the shapes
  // qaad: swaps QAAD_REASSIGNMENT accepted in this call's stage-3 epochs, and the (shape, point)
  // entries whose target differs at the end from the start of those epochs (≤ 2 · swaps).
  int64_t swaps = 0, reassigned = 0;
};

// The collection as float32 [N, M, 3] on the host (validated: equal point counts, finite).
Tensor load_collection(const std::vector<std::string>& inputs, const std::string& dataset = "data");

CompressSummary compress_collection(const CompressOptions& opts, const TrainCallbacks& cb = {});

// EM-kD of every decoded shape against data [N, M, 3] (float64 [N], host); shapes decoded in
// chunks of `chunk` (1: each shape decoded alone, bit-identical to decompress_collection).
Tensor collection_emkd(const models::NeuralQAAD& model, const Tensor& data, const EmkdOptions& eo, int64_t chunk = 1);

// The EM-kD options of CompressOptions for `data` (ε relative to its bounding-box diagonal).
EmkdOptions compress_emkd_options(const Tensor& data, int64_t leaf, int64_t iters, double eps_rel);

// Loads a compressed collection (a "neuralqaad" checkpoint; another model is an error naming
// both) and decodes the shapes `indices` (empty: all; out of range: an error naming the index
// and the count) → float32 [n, M, 3] on the host. Every shape is decoded alone, so a shape's
// points do not depend on which other shapes were requested.
Tensor decompress_collection(const std::string& path, const std::vector<int64_t>& indices, Device device = Device::cpu());

}  // namespace pg::train
