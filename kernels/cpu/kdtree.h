// Exact k-nearest-neighbour search through a k-d tree (CPU), the large-cloud path of kNN and,
// through kNN with K = 1, of Chamfer / Hausdorff and 1-NN matching (kernels/cpu/knn.cpp picks
// it; docs/decisions.md "Spatial index for kNN" has the measurements behind the choice).
//
// Contract: the same output as the brute-force body KnnGenericBody (kernels/common/knn_impl.h),
// bit for bit: dist [B, Q, K] ascending squared distances computed with the very same
// expression (nn_sqdist, difference form, no contraction), idx [B, Q, K] int64, ties resolved to
// the lower reference index, slots that no reference fills (fewer than K references at a finite
// distance) left at +inf / −1. A reference with a NaN/Inf coordinate is never selected (brute
// force never inserts it either: its distance is NaN or inf), so it is left out of the tree; a
// query with a NaN/Inf coordinate gets an all-inf / −1 row.
//
// Structure, per cloud: the finite points are split at the median (nth_element) of the widest
// axis of their bounding box until a node holds at most kLeafSize points; the points are then
// stored in tree order as SoA arrays (x[], y[], z[], original index[]) so that a leaf is one
// contiguous vectorised distance loop. Every node keeps the tight bounding box of its points.
// A query descends depth first, nearer child first, and skips a node only when the squared
// distance from the query to the node's box is STRICTLY greater than the current K-th distance
// (an equal distance may still hold a lower index). The box distance is computed in the same
// order as a point distance from gaps that are never larger than the point's own coordinate
// differences, so with IEEE rounding (monotone) it never exceeds the computed distance of any
// point inside: pruning can never drop a point brute force would keep. Candidates are compared as
// (distance, index) pairs, so visiting order does not change the tie rule.
//
// Memory: O(R) per cloud (the points in tree order plus ~R / 8 nodes), built once per call.
// Parallel (OpenMP): trees over clouds, queries over (cloud, chunk of queries); queries are
// processed in the order of the leaf they fall in, so neighbouring queries share cached leaves.
#pragma once

#include <cstdint>

namespace pg::kernels {

// query [B, Q, 3], ref [B, R, 3] contiguous; dist / idx [B, Q, K]; 1 <= K (K may exceed the number
// of finite references: the remaining slots stay inf / −1, as with brute force).
void knn_kdtree(const float* query, const float* ref, int64_t B, int64_t Q, int64_t R, int64_t K, float* dist,
                int64_t* idx);
void knn_kdtree(const double* query, const double* ref, int64_t B, int64_t Q, int64_t R, int64_t K, double* dist,
                int64_t* idx);

}  // namespace pg::kernels
