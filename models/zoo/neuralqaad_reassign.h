// QAAD_REASSIGNMENT (NeuralQAAD, METHODS.md §12.4, the paper's Algorithm 2): during training,
// improve the assignment of the sampled template points by pairwise target swaps.
//
// qaad_reassign(pred, target, perm, sample, opts) for
//   target [B, n, 3]  the shapes' points (float32/float64);
//   perm   [B, n]     int64, the current assignment: a permutation per shape (template point j's
//                     training target is target[b][perm[b][j]]), as qaad_greedy() produces;
//   sample [B, s]     int64, the template points of this step: s distinct indices in [0, n) per
//                     shape (1 <= s <= n);
//   pred   [B, s, 3]  the decoder's output for those points (pred[b][i] for sample[b][i]),
//                     target's dtype.
// Per shape, with the target subset 𝒫 = the CURRENT targets of the sampled points (so the point
// q' = A⁻¹(𝒜(q)) is always sampled and its prediction is at hand; the paper leaves 𝒫 open):
//  1. Proposals (independent per sampled point, the nearest-neighbour queries run batched
//     through knn(), k-d tree for large s): 𝒜(q) = the element of 𝒫 nearest to pred(q) (ties:
//     the lower sample slot), q' = its owner. If q' ≠ q, the pair's squared error before,
//     ‖pred(q) − A(q)‖² + ‖pred(q') − A(q')‖², and after the swap, ‖pred(q) − A(q')‖² +
//     ‖pred(q') − A(q)‖², give gain = before − after; only gain > 0 is proposed (we use the
//     squared norm of the training MSE, and a strict "<" so that ties never churn).
//  2. Conflict rule: a point may appear in several proposals (its own and others'). Proposals
//     are accepted in order of decreasing gain; a proposal is dropped when either of its two
//     points is already in an accepted swap. Equal gains are ordered by a random priority of the
//     proposing slot drawn from a stream named by (seed, b) (no bias towards low indices).
//     So every index is in at most one swap, the swaps are disjoint transpositions (the result is
//     a permutation again), every swapped pair's error strictly drops, and the total squared
//     error over the sampled points (indeed over all points) drops by the sum of the gains.
// Returns a new assignment; perm is not modified; unsampled points keep their targets.
// Deterministic given opts.seed; shape b's result does not depend on the other shapes. Not
// differentiable (an assignment); the decisions run on the host.
//
// Errors (pg::Error naming "qaad_reassign" and the offending value): wrong ranks / last dim /
// sizes that do not agree, non-int64 perm or sample, non-float or mixed pred/target dtypes, a
// perm row that is not a permutation, a sample index out of [0, n) or repeated within a shape,
// s = 0, NaN/Inf in pred or target.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace pg::models {

struct QaadReassignOptions {
  uint64_t seed = 0;  // of the tie-break priorities between equal gains
};

struct QaadReassignResult {
  Tensor perm;      // [B, n] int64 on the host, the refined permutation per shape
  Tensor proposed;  // [B] int64: beneficial proposals (gain > 0) before the conflict rule
  Tensor swaps;     // [B] int64: swaps accepted (each changes two points' targets)
  Tensor gain;      // [B] float64: total squared-error decrease (sum of accepted gains, >= 0)
};

QaadReassignResult qaad_reassign(const Tensor& pred, const Tensor& target, const Tensor& perm,
                                 const Tensor& sample, const QaadReassignOptions& opts = {});

}  // namespace pg::models
