// Triangle meshes as tensors (for pg::point_to_mesh_distance, ops/p2f.h).
//
//   MeshTensors mesh_to_tensors(mesh, dtype)
//     vertices [V, 3] in `dtype` (float32/float64), faces [F, 3] int64, both on the CPU.
//     Polygons with n > 3 corners are fan-triangulated (0, i, i+1) for i = 1 … n−2; polygons
//     with fewer than 3 corners are an error naming the polygon.
//   MeshTensors load_mesh_tensors(path, dtype)
//     read_off (.off) or read_ply (.ply) by extension (case-insensitive), then mesh_to_tensors;
//     a file without faces is an error naming the file.
#pragma once

#include <string>

#include "core/tensor.h"
#include "datasets/pointcloud_io.h"

namespace pg::datasets {

struct MeshTensors {
  Tensor vertices;  // [V, 3] float
  Tensor faces;     // [F, 3] int64
};

MeshTensors mesh_to_tensors(const Mesh& mesh, DType dtype = DType::f32);
MeshTensors load_mesh_tensors(const std::string& path, DType dtype = DType::f32);

}  // namespace pg::datasets
