// Resampling of consistent shape collections (datasets/consistent_shapes.h): N shapes whose V
// vertices are in correspondence and share one set of faces, turned into N point sets of M
// points that are still in correspondence (point j is the same surface point on every shape).
//
// Dense surface sampling:
//   ConsistentSample draw_consistent_sample(vertices [N, V, 3] float, faces [F, 3] int, n, seed, what)
//     → face [n] int64, bary [n, 3] float32
//   Tensor apply_consistent_sample(vertices, faces, sample, what) → [N, n, 3] float32
// The sample is drawn ONCE: each point picks a face with probability proportional to the face's
// area averaged over the N shapes (mean of the per-shape areas; docs/decisions.md, "Consistent
// resampling"), by binary search in the cumulative areas (float64), then uniform barycentric
// weights in that face: s = √r1, (w0, w1, w2) = (1 − s, s·(1 − r2), s·r2), r1, r2 ~ U[0, 1),
// stored as float32 (each ≥ 0, sum 1 up to float rounding). The stream is HostRng(seed, tag):
// the same seed gives the same sample. Zero-area faces are never picked. Applying the sample
// evaluates p = w0·a + w1·b + w2·c in float64 from the stored float32 weights for every shape,
// so the same (face, weights) give the same surface point on every shape, and a user who reads
// `sample_face` / `sample_bary` back reproduces the output exactly.
//
// Vertex subset (M divisible by `multiple`, the fewest vertices dropped):
//   Tensor mean_shape(vertices [N, V, 3]) → [V, 3] float32: the per-vertex mean over the shapes
//     (the reference the caller orders by farthest point sampling; FPS is an op, above this layer).
//   Tensor vertex_subset_from_order(order [V] int64, V, multiple, what) → [M] int64
//     M = floor(V / multiple)·multiple; the first M entries of `order` (a permutation of [0, V),
//     e.g. an FPS ordering), sorted ascending (the kept vertices keep their mesh order).
//   Tensor gather_vertices(vertices [N, V, 3], index [M]) → [N, M, 3] float32 (same rows for every shape).
//   Tensor subset_faces(faces [F, 3], index [M] ascending, V) → [F', 3] int64: the faces whose
//     three corners are all kept, renumbered into [0, M).
//
// Errors (pg::Error starting with `what`, e.g. the input file's name): vertices not float
// [N, V, 3] or N = 0 or V = 0, NaN/Inf coordinates, faces not integer [F, 3], no faces, face
// indices outside [0, V), zero total area, n < 1, a sample whose faces or weights do not fit the
// mesh; multiple < 1 or > V; an order that is not a permutation of [0, V).
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace pg::datasets {

struct ConsistentSample {
  Tensor face;  // [n] int64, indices into the faces
  Tensor bary;  // [n, 3] float32, weights of the face's corners 0, 1, 2
};

ConsistentSample draw_consistent_sample(const Tensor& vertices, const Tensor& faces, int64_t n, uint64_t seed,
                                        const std::string& what = "consistent sample");

Tensor apply_consistent_sample(const Tensor& vertices, const Tensor& faces, const ConsistentSample& sample,
                               const std::string& what = "consistent sample");

Tensor mean_shape(const Tensor& vertices, const std::string& what = "consistent vertex subset");

Tensor vertex_subset_from_order(const Tensor& order, int64_t num_vertices, int64_t multiple,
                                const std::string& what = "consistent vertex subset");

Tensor gather_vertices(const Tensor& vertices, const Tensor& index,
                       const std::string& what = "consistent vertex subset");

Tensor subset_faces(const Tensor& faces, const Tensor& index, int64_t num_vertices,
                    const std::string& what = "consistent vertex subset");

}  // namespace pg::datasets
