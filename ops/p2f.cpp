// point_to_mesh_distance: validation, face-corner packing and dispatch (no autograd).
#include "ops/p2f.h"
#include "ops/view.h"
#include "ops/check.h"

#include "core/parallel_for.h"
#include "kernels/p2f.h"
#include "ops/index.h"
#include "ops/knn.h"
#include "ops/reduce.h"

namespace pg {

Tensor point_to_mesh_distance(const Tensor& points, const Tensor& vertices, const Tensor& faces,
                              const P2fOptions& opts) {
  const char* op = "point_to_mesh_distance";
  check::points(op, "points", points);
  check::points(op, "vertices", vertices);
  check::same_as(op, "points", points, "vertices", vertices);
  check::dtype(op, "faces", faces, DType::i64);
  PG_CHECK(faces.dim() == 2 && faces.size(1) == 3, op, ": faces must be [F, 3], got shape ", shape_str(faces.shape()));
  check::same_device(op, "faces", faces, "points", points);
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
    check::finite(op, "points", p);
    check::finite(op, "vertices", v);
  }
  const Tensor tris = index_select(v, 0, fc.reshape({F * 3})).reshape({F, 9}).contiguous();
  Tensor out = empty({N}, p.options());
  on_backend(p.device(), "point_to_mesh_distance", [&]<class Bk>() { kernels::point_to_mesh<Bk>(p, tris, out, opts.impl); });
  return out;
}

}  // namespace pg
