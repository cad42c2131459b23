// Exact linear sum assignment (the oracle of the auction EMD and of `pg metric emd --exact`).
//
// linear_sum_assignment(cost): cost [n, n] or [B, n, n], float32 or float64, CPU, finite, n ≥ 1.
// Returns int64 [n] / [B, n]: row i is assigned column result[i]; the assignment is a
// permutation minimising Σ_i cost[i][result[i]] (computed in float64). Ties between optimal
// assignments are resolved by the algorithm's order (deterministic, not specified further).
// Algorithm: Jonker–Volgenant (column reduction, reduction transfer, augmenting row reduction,
// shortest augmenting paths), O(n³) worst case, dense; batches run in parallel (OpenMP).
// Not differentiable. Errors (pg::Error): non-square, rank not 2/3, empty, non-floating,
// non-CPU, non-finite entries.
//
// lsap_cost(cost, assignment): Σ_i cost[i][assignment[i]] per batch, float64 [B] (or [] for 2-D):
// the value of a given assignment (validated: in range; need not be a permutation).
//
// For point clouds see emd_exact_assignment (ops/emd.h), which builds the Euclidean cost matrix.
#pragma once

#include "core/tensor.h"

namespace pg {

Tensor linear_sum_assignment(const Tensor& cost);
Tensor lsap_cost(const Tensor& cost, const Tensor& assignment);

}  // namespace pg
