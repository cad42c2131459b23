// point_to_mesh_distance: validation, face-corner packing and dispatch (no autograd).
#include "ops/p2f.h"
#include "ops/view.h"

#include "core/parallel_for.h"
#include "kernels/p2f.h"
#include "ops/index.h"
#include "ops/knn.h"
#include "ops/reduce.h"

namespace pg {

namespace {

void check_coords(const char* name, const Tensor& t) {
  PG_CHECK(t.defined(), "point_to_mesh_distance: ", name, " is an undefined tensor");
  PG_CHECK(t.dim() == 2 && t.size(1) == 3, "point_to_mesh_distance: ", name, " must be [n, 3], got shape ",
           shape_str(t.shape()));
  PG_CHECK(is_floating(t.dtype()), "point_to_mesh_distance: ", name, " must be float32 or float64, got ",
           dtype_name(t.dtype()));
}

}  // namespace

Tensor point_to_mesh_distance(const Tensor& points, const Tensor& vertices, const Tensor& faces,
                              const P2fOptions& opts) {
  check_coords("points", points);
  check_coords("vertices", vertices);
  PG_CHECK(points.dtype() == vertices.dtype(), "point_to_mesh_distance: points is ", dtype_name(points.dtype()),
           " but vertices is ", dtype_name(vertices.dtype()));
  PG_CHECK(points.device() == vertices.device(), "point_to_mesh_distance: points is on ", points.device().str(),
           " but vertices is on ", vertices.device().str());
  PG_CHECK(faces.defined(), "point_to_mesh_distance: faces is an undefined tensor");
  PG_CHECK(faces.dim() == 2 && faces.size(1) == 3, "point_to_mesh_distance: faces must be [F, 3], got shape ",
           shape_str(faces.shape()));
  PG_CHECK(faces.dtype() == DType::i64, "point_to_mesh_distance: faces must be int64, got ", dtype_name(faces.dtype()));
  PG_CHECK(faces.device() == points.device(), "point_to_mesh_distance: faces is on ", faces.device().str(),
           " but points is on ", points.device().str());
  const int64_t N = points.size(0), V = vertices.size(0), F = faces.size(0);
  PG_CHECK(V >= 1, "point_to_mesh_distance: the mesh has no vertices");
  PG_CHECK(F >= 1, "point_to_mesh_distance: the mesh has no faces");
  const Tensor fc = faces.detach().contiguous();
  const int64_t lo = min(fc).item_int(), hi = max(fc).item_int();
  PG_CHECK(lo >= 0 && hi < V, "point_to_mesh_distance: face index ", lo < 0 ? lo : hi, " is outside [0, ", V,
           ") (the mesh has ", V, " vertices)");
  const Tensor p = points.detach().contiguous();
  const Tensor v = vertices.detach().contiguous();
  if (opts.check_finite) {
    if (N > 0) detail::check_finite_coords("point_to_mesh_distance", "points", p);
    detail::check_finite_coords("point_to_mesh_distance", "vertices", v);
  }
  const Tensor tris = index_select(v, 0, fc.reshape({F * 3})).reshape({F, 9}).contiguous();
  Tensor out = empty({N}, p.options());
  const kernels::P2fPath path =
      opts.impl == P2fImpl::BruteForce ? kernels::P2fPath::BruteForce : kernels::P2fPath::Auto;
  on_backend(p.device(), "point_to_mesh_distance", [&]<class Bk>() { kernels::point_to_mesh<Bk>(p, tris, out, path); });
  return out;
}

}  // namespace pg
