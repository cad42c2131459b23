#include "datasets/consistent_shapes.h"

#include "core/error.h"
#include "datasets/cloud_set_dataset.h"
#include "datasets/h5_clouds.h"
#include "datasets/mesh_tensors.h"

namespace pg::datasets {

namespace {

Tensor read_faces_dataset(const H5File& f, const std::string& name, int64_t m) {
  const std::string where = h5_where(f, name);
  const H5TypeInfo t = f.type(name);
  PG_CHECK(t.kind == H5TypeInfo::Kind::integer, where, ": wrong dtype: stored as ", t.describe(),
           ", expected an integer type");
  const Shape s = f.shape(name);
  PG_CHECK(s.size() == 2 && s[1] == 3, where, ": wrong shape ", shape_str(s), ", expected [F, 3] (triangles)");
  Tensor faces = f.read_as(name, DType::i64);
  const auto* v = faces.data<int64_t>();
  for (int64_t i = 0; i < faces.numel(); ++i) {
    PG_CHECK(v[i] >= 0 && v[i] < m, where, ": face ", i / 3, " has vertex index ", v[i], " outside [0, ", m,
             ") (the shapes have ", m, " points)");
  }
  return faces;
}

}  // namespace

ConsistentShapesDataset::ConsistentShapesDataset(const std::string& path, const ConsistentShapesOptions& opts)
    : path_(path) {
  const H5File f = H5File::open(path);
  CloudStackSpec spec;
  spec.allow_double = true;
  spec.check_finite = opts.check_finite;
  points_ = read_cloud_stack(f, opts.dataset, spec);
  PG_CHECK(points_.size(0) > 0, h5_where(f, opts.dataset), ": no shapes");
  const int64_t m = points_.size(1);
  if (!opts.faces_file.empty()) {
    const MeshTensors mesh = load_mesh_tensors(opts.faces_file);
    PG_CHECK(mesh.vertices.size(0) == m, "faces file '", opts.faces_file, "' has ", mesh.vertices.size(0),
             " vertices but the shapes in ", h5_where(f, opts.dataset), " have ", m, " points");
    faces_ = mesh.faces;
    faces_source_ = opts.faces_file;
  } else if (!opts.faces_dataset.empty() && f.exists(opts.faces_dataset)) {
    faces_ = read_faces_dataset(f, opts.faces_dataset, m);
    faces_source_ = path + ":" + opts.faces_dataset;
  }
}

Example ConsistentShapesDataset::get(int64_t i) const {
  PG_CHECK(i >= 0 && i < size(), describe(), ": item ", i, " is outside [0, ", size(), ")");
  return {{"points", copy_row(points_, i)}};
}

std::string ConsistentShapesDataset::describe() const {
  std::string s = "consistent shapes '" + path_ + "' (" + std::to_string(size()) + " shapes, " +
                  std::to_string(num_points()) + " points";
  if (has_faces()) s += ", " + std::to_string(faces_.size(0)) + " shared faces";
  return s + ")";
}

}  // namespace pg::datasets
