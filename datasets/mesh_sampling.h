// Uniform random points on the surface of a triangle mesh (area-weighted), for converting
// meshes (.off/.ply with faces) to point clouds.
//
//   sample_mesh_surface(vertices [V, 3] float32/float64, faces [F, 3] int64, n, rng, what)
//     → [n, 3] float32
//
// Each point picks a triangle with probability proportional to its area (binary search in the
// cumulative areas, accumulated in float64) and then a uniform point in it: with r1, r2 ~ U[0,1),
// p = (1 − √r1)·a + √r1·(1 − r2)·b + √r1·r2·c. The points are i.i.d. and a function of the rng
// stream only. Degenerate (zero-area) triangles are never picked.
// Errors (pg::Error starting with `what`, e.g. the mesh's file name): wrong shapes/dtypes, n < 1, face indices outside
// [0, V), no faces or zero total area, NaN/Inf vertices.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "datasets/host_rng.h"

namespace pg::datasets {

Tensor sample_mesh_surface(const Tensor& vertices, const Tensor& faces, int64_t n, HostRng& rng,
                           const std::string& what = "sample_mesh_surface");

}  // namespace pg::datasets
