// PU-Net / PU-GAN point-set losses for upsampling and recovery (METHODS §9.1–9.3), CPU and CUDA.
// Both are compositions of differentiable ops (group_points / gather, elementwise, reductions,
// knn) around index selections that carry no gradient (ball query, FPS, smallest_k): the
// gradient w.r.t. pred flows through the selected coordinates with the indices held fixed, as
// in the TF originals.
//
// ---- repulsion_loss(pred [B, N, 3], opts) → 0-dim loss, pred's dtype
//   Neighbourhood (both variants, the TF code's): idx = ball_query(pred, pred, radius, nsample)
//   (pointnet2 padding: slots past the hits repeat the first hit, which is the lowest index in
//   the ball, often the point itself); d²[b, i, s] = |pred[b, idx[b,i,s]] − pred[b, i]|² over
//   the nsample SLOTS (duplicates included); the num_neighbors + 1 smallest slot values
//   (tf.nn.top_k of −d²) minus the first (the point itself, d² = 0) → num_neighbors values per
//   point. With fewer hits than num_neighbors + 1 the padded duplicates are used, exactly as the
//   TF code does (an isolated point contributes num_neighbors zero distances).
//   Variant PUGAN (default; liruihui/PU-GAN get_repulsion_loss, use_l1 = False):
//       loss = mean over B·N·num_neighbors of max(0, h − d²),  h = 0.001 (squared-distance hinge)
//   Variant PUNet (yulequan/PU-Net get_repulsion_loss4):
//       d² ← max(d², 1e-12), d = √d², loss = mean of (radius − d·exp(−d²/h²)),  h = 0.03
//   opts.h overrides the variant's h. Defaults radius 0.07, nsample 20, num_neighbors 4.
//   Gradient: relu'(0) = 0 at the hinge; clamp passes the gradient at d² = 1e-12 (PUNet).
//
// ---- uniform_loss(pred [B, N, 3], opts) → 0-dim loss, pred's dtype
//   PU-GAN's training code (`get_uniform_loss`, "simplified"), reproduced term by term:
//     npoint = ⌊N·seed_fraction⌋ (0.05) seeds = fps(pred, npoint) (start index 0, as the
//     PointNet++ TF op); for every p in percentages {0.004, 0.006, 0.008, 0.010, 0.012}:
//       nsample = ⌊N·p⌋, r = √(p·radius) (radius = 1: unit-sphere shapes),
//       idx = ball_query(seeds, pred, r, nsample) (padding as above),
//       within every group (its nsample slots, duplicates included) each slot's distance to
//       its nearest OTHER slot: d² = 2nd smallest of the slot distances (the 1st is the slot
//       itself, 0), computed with pg::knn(group, group, 2),
//       d = √|d² + 1e-8|, expected = √(π·radius²·p / nsample) ("square" spacing),
//       term_p = mean over B·npoint·nsample of (d − expected)² / (expected + 1e-8) · (100·p)²;
//     loss = mean of term_p over the percentages.
//   The seeds and ball indices are fixed (no gradient through the selection); the gradient
//   flows through the grouped coordinates.
//   Differences from the PU-GAN PAPER form: no imbalance term U_imbalance = (|S_j| − n̂)²/n̂,
//   the clutter term is a MEAN over all slots instead of a per-seed sum multiplied by
//   U_imbalance, the expected spacing uses the square packing √(π r²/n) instead of the
//   hexagonal √(2π r²/(n√3)), padded duplicate slots count (their nearest-other distance is
//   0), and the (100p)² weight is the code's. Several PyTorch ports take knn values with the
//   opposite sign (√|1e-8 − d²|); this follows the TF original (√|d² + 1e-8|).
//   Requirements: npoint >= 1 and every nsample >= 2 (for the defaults: N >= 500).
//
// Errors (pg::Error naming the loss and the values): pred not a [B, N, 3] float cloud (empty
// clouds included), radius / h not finite or <= 0, nsample < num_neighbors + 1,
// num_neighbors < 1, empty percentages, a percentage outside (0, 1], npoint < 1, nsample < 2,
// NaN/Inf coordinates (through ball_query's knn/fps checks where applicable).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/tensor.h"

namespace pg {

enum class RepulsionVariant : uint8_t { PUGAN, PUNet };

struct RepulsionOptions {
  RepulsionVariant variant = RepulsionVariant::PUGAN;
  double radius = 0.07;
  int64_t nsample = 20;
  int64_t num_neighbors = 4;
  std::optional<double> h;  // default: 0.001 (PUGAN) / 0.03 (PUNet)
};

struct UniformOptions {
  std::vector<double> percentages = {0.004, 0.006, 0.008, 0.010, 0.012};
  double radius = 1.0;
  double seed_fraction = 0.05;
};

Tensor repulsion_loss(const Tensor& pred, const RepulsionOptions& opts = {});
Tensor uniform_loss(const Tensor& pred, const UniformOptions& opts = {});

}  // namespace pg
