// Point-to-mesh distance ("P2F", PU-GAN's evaluation metric, METHODS §9.4), CPU and CUDA.
//
//   Tensor point_to_mesh_distance(points [N, 3], vertices [V, 3], faces [F, 3] int64, opts)
//     → [N] in points' dtype: the UNSIGNED Euclidean distance from every point to the closest
//       point of the closest triangle (faces index vertices; a face (i, j, k) is the triangle
//       with those corners). Closest point on a triangle: the Voronoi-region method (vertex,
//       edge or face region) evaluated in float64 on both backends, rounded to the dtype once.
//       Degenerate triangles (zero-length edges, collinear or coincident corners: sine of the
//       corner angle below 1e-6) count as the union of their three edges, so a point on such a
//       "triangle" still gets distance 0. Faces may repeat, vertices may be unused.
//   PU-GAN reports mean and std of these distances over a prediction (after normalising the
//   prediction and the mesh together); the statistics are left to the caller.
//   Not differentiable (an evaluation metric): inputs requiring grad are accepted, the output
//   carries no gradient.
//
// Cost: CPU builds a BVH over the faces per call (O(F log F)) and searches it per point
// (OpenMP); CUDA runs a tiled brute force (O(N·F), thread per point). impl = BruteForce runs
// the shared thread-per-point body on either backend (the reference).
//
// Errors (pg::Error naming "point_to_mesh_distance" and the values): undefined inputs, points or
// vertices not [n, 3] float32/float64, mixed dtypes or devices, faces not int64 [F, 3], F == 0,
// V == 0, face indices outside [0, V), NaN/Inf coordinates (unless check_finite is false; on
// CUDA the checks are small reductions with synchronising copies).
//
// Loading a mesh file into (vertices, faces): datasets/mesh_tensors.h.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/op_enums.h"

namespace pg {

using kernels::P2fImpl;  // { Auto, BruteForce } (kernels/op_enums.h)

struct P2fOptions {
  P2fImpl impl = P2fImpl::Auto;
  bool check_finite = true;
};

Tensor point_to_mesh_distance(const Tensor& points, const Tensor& vertices, const Tensor& faces,
                              const P2fOptions& opts = {});

}  // namespace pg
