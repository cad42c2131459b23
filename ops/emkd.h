// EM-kD (NeuralQAAD, METHODS.md §12.3): EMD approximated on corresponding k-d leaves.
//
// emkd(x1, x2, opts) for x1, x2 [B, n, 3] (same n ≥ 1, same float dtype and device):
//  1. Both clouds are ordered by balanced k-d trees built together (host, float64;
//     kernels/emd.h kd_balanced_order): corresponding nodes of m points are split along the axis
//     of widest extent of their JOINT bounding box (ties x < y < z), each cloud at its own median
//     (the ⌊m/2⌋ points smallest by (coordinate, index) go left), to the depth d = the smallest
//     with ⌈n/2^d⌉ ≤ leaf_size. Any n works: the 2^d leaves hold ⌊n/2^d⌋ or ⌈n/2^d⌉ points and
//     both clouds get identical leaf sizes. Points inside a leaf stay in ascending index order.
//     (METHODS.md §12.3 leaves the split rule open; a per-cloud axis choice would pair unrelated
//     regions whenever the clouds' widest axes differ, e.g. for near-cubic shapes.)
//  2. Leaves are paired canonically (leaf i of x1 with leaf i of x2, left-to-right order) and all
//     B·2^d leaf pairs are solved by ONE batched auction EMD (ops/emd.h semantics and options:
//     opts.emd; NeuralQAAD's setting is EmdOptions::msn(1.0, 100) in its own coordinate units).
//  3. value[b] = Σ over leaf pairs of Σ_j ‖x1_j − x2_a(j)‖ (Euclidean, summed — METHODS Eq. 12).
// The leaf assignments are composed into one global assignment [B, n] (x1 index → x2 index; a
// permutation unless a forced auction round left many-to-one pairs, counted in `unassigned`) for
// reuse, e.g. NeuralQAAD's QAAD_GREEDY initial assignment or emd_dist_from_assignment.
//
// Differentiability: `dist` (squared distances under the assignment) is differentiable w.r.t.
// both clouds exactly as emd()'s; `value` is a detached metric (for a loss use sum(sqrt(dist))).
// On CUDA the k-d ordering runs on the host (the clouds are copied there); the gathers, the
// auction and the composition run on the device.
//
// Errors (pg::Error): as emd() (shapes, dtypes, devices, empty clouds, NaN/Inf coordinates), and
// leaf_size < 2.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "ops/emd.h"

namespace pg {

struct EmkdOptions {
  int64_t leaf_size = 1024;  // L ≥ 2: at most L points per leaf
  EmdOptions emd;            // the auction run on every leaf pair
};

struct EmkdResult {
  Tensor value;       // [B] EM-kD (sum of Euclidean distances), input dtype, detached
  Tensor dist;        // [B, n] squared distances under `assignment`, differentiable
  Tensor assignment;  // [B, n] int64 global assignment (x1 index → x2 index)
  Tensor unassigned;  // [B] int64, summed over the cloud's leaves
  Tensor order1;      // [B, n] int64: x1's k-d order; leaf l = order1[b][leaf_offsets[l] … leaf_offsets[l+1])
  Tensor order2;      // [B, n] int64: x2's k-d order
  std::vector<int64_t> leaf_offsets;  // 2^d + 1 boundaries (the same for every cloud)
};

EmkdResult emkd(const Tensor& x1, const Tensor& x2, const EmkdOptions& opts = {});

}  // namespace pg
