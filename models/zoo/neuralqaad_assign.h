// QAAD_GREEDY (NeuralQAAD, METHODS.md §12.4): the initial bijection between the template points
// and each training shape's points.
//
// qaad_greedy(pred, target, opts) for pred, target [B, n, 3] (pred = the decoder's output for
// every template point, in template row order; target = the shape's points; same n, float dtype,
// device):
//  1. EM-kD's leaf auctions (ops/emkd.h: both clouds ordered by the joint balanced k-d tree,
//     leaf i paired with leaf i, one batched auction) give a claim a(j) ∈ leaf(j)'s partner leaf
//     for every template point j. With MSN-mode auctions (the paper's 100 iterations, ε = 1) the
//     last round is forced, so several j can claim the same target.
//  2. Repair to a bijection: a target claimed by several points is kept by the claimant CLOSEST
//     to it (Euclidean distance of pred_j to the target; ties: the lower j); the other
//     claimants are left over. Leftover points and unclaimed targets of the same leaf pair
//     (equal in number, since each leaf pair has equal sizes and claims stay inside it) are
//     matched by a uniformly random pairing (the paper: "matched randomly"; we keep it inside
//     the leaf pair, which is local and never worse in expectation than a global random match).
//  3. perm[b][j] = the target index of template point j: a permutation of 0..n−1 per shape,
//     stored as one int64 row per shape (the training target of point j is target[b][perm[b][j]]).
//
// The random pairing of shape b draws from a stream named by (seed, b), so the result does not
// depend on the batch composition. Runs the auction where the clouds are (CPU or CUDA); the
// repair on the host. Not differentiable (an assignment).
//
// Errors (pg::Error): as emkd() (shapes, dtypes, devices, empty clouds, NaN/Inf coordinates,
// leaf_size < 2).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "ops/emkd.h"

namespace pg::models {

struct QaadGreedyOptions {
  // The paper's setting: 1,024-point leaves, auction ε = 1 (in coordinate units), 100 rounds.
  EmkdOptions emkd{1024, EmdOptions::msn(1.0, 100)};
  uint64_t seed = 0;  // of the random pairing of leftovers
};

struct QaadGreedyResult {
  Tensor perm;      // [B, n] int64 on the host, a permutation per shape (template point j → target index)
  Tensor kept;      // [B] int64: points whose auction claim was kept (unique or closest claimant)
  Tensor repaired;  // [B] int64: points matched by the random pairing (n − kept)
};

QaadGreedyResult qaad_greedy(const Tensor& pred, const Tensor& target, const QaadGreedyOptions& opts = {});

// True when every row of perm [B, n] (int64) is a permutation of 0..n−1.
bool is_permutation_rows(const Tensor& perm);

}  // namespace pg::models
