// Mesh → (vertices, faces) tensors with fan triangulation.
#include "datasets/mesh_tensors.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "core/error.h"

namespace pg::datasets {

MeshTensors mesh_to_tensors(const Mesh& mesh, DType dtype) {
  PG_CHECK(dtype == DType::f32 || dtype == DType::f64, "mesh_to_tensors: dtype must be float32 or float64, got ",
           dtype_name(dtype));
  PG_CHECK(mesh.vertices.defined() && mesh.vertices.dim() == 2 && mesh.vertices.size(1) == 3,
           "mesh_to_tensors: vertices must be [V, 3]");
  const int64_t V = mesh.vertices.size(0);
  std::vector<int64_t> tri;
  for (size_t f = 0; f < mesh.faces.size(); ++f) {
    const auto& poly = mesh.faces[f];
    PG_CHECK(poly.size() >= 3, "mesh_to_tensors: face ", f, " has ", poly.size(), " corners (at least 3 needed)");
    for (int64_t v : poly) {
      PG_CHECK(v >= 0 && v < V, "mesh_to_tensors: face ", f, " has vertex index ", v, " outside [0, ", V, ")");
    }
    for (size_t i = 1; i + 1 < poly.size(); ++i) {
      tri.push_back(poly[0]);
      tri.push_back(poly[i]);
      tri.push_back(poly[i + 1]);
    }
  }
  MeshTensors out;
  // A host copy in the requested dtype (datasets sit below ops: the raw, non-recording copy).
  out.vertices = empty(mesh.vertices.shape(), TensorOptions(dtype, Device::cpu()));
  detail::copy_raw(out.vertices, mesh.vertices);
  const int64_t F = static_cast<int64_t>(tri.size() / 3);
  out.faces = F > 0 ? from_vector(tri, {F, 3}) : empty({0, 3}, TensorOptions(DType::i64));
  return out;
}

MeshTensors load_mesh_tensors(const std::string& path, DType dtype) {
  const size_t dot = path.find_last_of('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  Mesh mesh;
  if (ext == "off") {
    mesh = read_off(path);
  } else if (ext == "ply") {
    mesh = read_ply(path);
  } else {
    PG_FAIL("load_mesh_tensors: ", path, ": unsupported extension '", ext, "' (expected .off or .ply)");
  }
  PG_CHECK(!mesh.faces.empty(), "load_mesh_tensors: ", path, " has no faces");
  return mesh_to_tensors(mesh, dtype);
}

}  // namespace pg::datasets
