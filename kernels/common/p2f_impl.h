// Shared PG_HD pieces of the point-to-mesh distance: the squared distance from a point to a
// triangle (Ericson, "Real-Time Collision Detection" §5.1.5, Voronoi regions of the vertices,
// edges and face), robust to degenerate triangles, and the brute-force thread-per-point body.
// The launcher is defined on top of P2fExec<Backend>, specialised in kernels/cpu/p2f.cpp and
// kernels/cuda/p2f.cu.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/macros.h"
#include "core/parallel_for.h"
#include "kernels/common/knn_impl.h"
#include "kernels/p2f.h"

namespace pg::kernels {
namespace p2f_detail {

struct V3 {
  double x, y, z;
};

PG_HD PG_INLINE V3 sub(V3 a, V3 b) {
  return {a.x - b.x, a.y - b.y, a.z - b.z};
}
PG_HD PG_INLINE double dot(V3 a, V3 b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
PG_HD PG_INLINE V3 cross(V3 a, V3 b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
PG_HD PG_INLINE V3 axpy(double s, V3 x, V3 y) {
  return {y.x + s * x.x, y.y + s * x.y, y.z + s * x.z};
}

// Squared distance from p to the segment [a, b] (a point when a == b).
PG_HD PG_INLINE double seg_sqdist(V3 p, V3 a, V3 b) {
  const V3 ab = sub(b, a), ap = sub(p, a);
  const double l = dot(ab, ab);
  double t = l > 0.0 ? dot(ap, ab) / l : 0.0;
  t = t < 0.0 ? 0.0 : (t > 1.0 ? 1.0 : t);
  const V3 d = axpy(-t, ab, ap);
  return dot(d, d);
}

// Squared distance from p to the triangle (a, b, c). A triangle whose sine of the angle at a is
// below 1e-6 (|ab × ac|² <= 1e-12·|ab|²·|ac|², including zero-length edges and coincident
// corners) is treated as the union of its three edges. In the face region the distance is the
// plane distance (ap·n)²/|n|², exact to rounding for points on the face.
PG_HD PG_INLINE double tri_sqdist(V3 p, V3 a, V3 b, V3 c) {
  const V3 ab = sub(b, a), ac = sub(c, a), ap = sub(p, a);
  const V3 n = cross(ab, ac);
  const double nn = dot(n, n);
  if (!(nn > 1e-12 * dot(ab, ab) * dot(ac, ac))) {
    const double d0 = seg_sqdist(p, a, b), d1 = seg_sqdist(p, b, c), d2 = seg_sqdist(p, c, a);
    const double m = d0 < d1 ? d0 : d1;
    return m < d2 ? m : d2;
  }
  const double d1 = dot(ab, ap), d2 = dot(ac, ap);
  if (d1 <= 0.0 && d2 <= 0.0) return dot(ap, ap);  // vertex a
  const V3 bp = sub(p, b);
  const double d3 = dot(ab, bp), d4 = dot(ac, bp);
  if (d3 >= 0.0 && d4 <= d3) return dot(bp, bp);  // vertex b
  const double vc = d1 * d4 - d3 * d2;
  if (vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0) {  // edge ab
    const V3 d = axpy(-(d1 / (d1 - d3)), ab, ap);
    return dot(d, d);
  }
  const V3 cp = sub(p, c);
  const double d5 = dot(ab, cp), d6 = dot(ac, cp);
  if (d6 >= 0.0 && d5 <= d6) return dot(cp, cp);  // vertex c
  const double vb = d5 * d2 - d1 * d6;
  if (vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0) {  // edge ac
    const V3 d = axpy(-(d2 / (d2 - d6)), ac, ap);
    return dot(d, d);
  }
  const double va = d3 * d6 - d5 * d4;
  if (va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0) {  // edge bc
    const double w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
    const V3 d = axpy(-w, sub(c, b), bp);
    return dot(d, d);
  }
  const double h = dot(ap, n);  // face interior
  return h * h / nn;
}

template <class T>
PG_HD PG_INLINE double tri_sqdist_packed(V3 p, const T* t) {
  return tri_sqdist(p, V3{double(t[0]), double(t[1]), double(t[2])}, V3{double(t[3]), double(t[4]), double(t[5])},
                    V3{double(t[6]), double(t[7]), double(t[8])});
}

// One thread per point, every face.
template <class T>
struct P2fBruteBody {
  const T* points;  // [N, 3]
  const T* tris;    // [F, 9]
  T* out;           // [N]
  int64_t F;
  PG_HD void operator()(int64_t i) const {
    const V3 p{double(points[i * 3 + 0]), double(points[i * 3 + 1]), double(points[i * 3 + 2])};
    double best = tri_sqdist_packed(p, tris);
    for (int64_t f = 1; f < F; ++f) {
      const double d = tri_sqdist_packed(p, tris + f * 9);
      best = d < best ? d : best;
    }
    out[i] = static_cast<T>(sqrt(best));
  }
};

}  // namespace p2f_detail

template <class Backend>
struct P2fExec;

template <class Backend>
void point_to_mesh(const Tensor& points, const Tensor& tris, const Tensor& out, P2fImpl path) {
  const int64_t N = points.size(0), F = tris.size(0);
  if (N == 0) return;
  if (path == P2fImpl::BruteForce) {
    dispatch_floating(points.dtype(), "point_to_mesh_distance", [&]<class T>() {
      nn_detail::run_heavy<Backend>(N, p2f_detail::P2fBruteBody<T>{points.data<T>(), tris.data<T>(), out.data<T>(), F});
    });
    return;
  }
  P2fExec<Backend>::run(points, tris, out);
}

}  // namespace pg::kernels
