// Point-to-triangle-mesh distance kernel launchers. Defined in kernels/common/p2f_impl.h (the
// shared PG_HD closest-point-on-triangle distance and the brute-force body) plus
// kernels/cpu/p2f.cpp (BVH) and kernels/cuda/p2f.cu (shared-memory tiled brute force).
//
// Conventions (the ops layer has validated everything):
// * points [N, 3] contiguous, tris [F, 9] contiguous (the three corner coordinates of every
//   face: ax ay az bx by bz cx cy cz), same floating dtype T, on the backend's device, F >= 1;
// * the distance math runs in float64 for both dtypes; the result is rounded to T;
// * out [N] (T) contiguous, overwritten with the unsigned Euclidean distance to the closest
//   point of the closest triangle.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/op_enums.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// Auto:       CPU: a bounding-volume hierarchy built per call (median split, 4 faces per leaf),
//             branch-and-bound nearest search per point (OpenMP over points);
//             CUDA: thread per point, faces streamed through shared-memory tiles.
// BruteForce: the shared PG_HD body through parallel_for (thread per point, every face): the
//             reference on both backends.
using P2fPath = P2fImpl;  // kernels/cuda/*.cu still spell it so (one type)

template <class Backend>
void point_to_mesh(const Tensor& points, const Tensor& tris, const Tensor& out, P2fImpl path);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_P2F_LAUNCHERS(X, B)                                                      \
  X(B, void, point_to_mesh, (const Tensor&, const Tensor&, const Tensor&, P2fImpl))

}  // namespace pg::kernels
