// CPU point-to-mesh distance (P2fExec<CpuBackend>). Work decomposition: a bounding-volume
// hierarchy over the faces is built once per call (float64 boxes; median split of the face
// centroids along the longest axis of their bounds; leaves of at most 4 faces; nodes in
// depth-first order, the left child right after its parent). Each point then runs a
// branch-and-bound search (explicit stack, nearer child first, a subtree is skipped when its
// box is not closer than the best squared distance so far); OpenMP over points. The distance of
// a point to a face is the shared tri_sqdist, so the result equals the brute-force body's.
#include <algorithm>
#include <vector>

#include "kernels/common/p2f_impl.h"

namespace pg::kernels {
namespace {

using p2f_detail::V3;

struct Node {
  double lo[3], hi[3];
  int64_t right;       // index of the right child (the left child is this + 1); -1 for a leaf
  int64_t begin, end;  // face range in `order` (leaves)
};

struct Bvh {
  std::vector<Node> nodes;
  std::vector<int64_t> order;
  std::vector<double> tris;  // [F, 9] float64, permuted into `order`
};

constexpr int64_t kLeaf = 4;

template <class T>
Bvh build_bvh(const T* tris, int64_t F) {
  Bvh bvh;
  std::vector<double> cen(static_cast<size_t>(F * 3));
  for (int64_t f = 0; f < F; ++f) {
    for (int k = 0; k < 3; ++k) {
      cen[f * 3 + k] = (double(tris[f * 9 + k]) + double(tris[f * 9 + 3 + k]) + double(tris[f * 9 + 6 + k])) / 3.0;
    }
  }
  bvh.order.resize(static_cast<size_t>(F));
  for (int64_t f = 0; f < F; ++f) bvh.order[f] = f;
  bvh.nodes.reserve(static_cast<size_t>(2 * (F / kLeaf + 1)));
  struct Item {
    int64_t begin, end, parent;  // parent whose `right` to set (-1: none / left child)
  };
  std::vector<Item> stack{{0, F, -1}};
  while (!stack.empty()) {
    const Item it = stack.back();
    stack.pop_back();
    const int64_t id = static_cast<int64_t>(bvh.nodes.size());
    if (it.parent >= 0) bvh.nodes[it.parent].right = id;
    Node nd;
    double clo[3], chi[3];
    for (int k = 0; k < 3; ++k) {
      nd.lo[k] = clo[k] = 1e300;
      nd.hi[k] = chi[k] = -1e300;
    }
    for (int64_t s = it.begin; s < it.end; ++s) {
      const int64_t f = bvh.order[s];
      for (int v = 0; v < 3; ++v) {
        for (int k = 0; k < 3; ++k) {
          const double x = double(tris[f * 9 + v * 3 + k]);
          nd.lo[k] = std::min(nd.lo[k], x);
          nd.hi[k] = std::max(nd.hi[k], x);
        }
      }
      for (int k = 0; k < 3; ++k) {
        clo[k] = std::min(clo[k], cen[f * 3 + k]);
        chi[k] = std::max(chi[k], cen[f * 3 + k]);
      }
    }
    nd.right = -1;
    nd.begin = it.begin;
    nd.end = it.end;
    bvh.nodes.push_back(nd);
    if (it.end - it.begin <= kLeaf) continue;
    int axis = 0;
    for (int k = 1; k < 3; ++k) {
      if (chi[k] - clo[k] > chi[axis] - clo[axis]) axis = k;
    }
    const int64_t mid = (it.begin + it.end) / 2;
    std::nth_element(bvh.order.begin() + it.begin, bvh.order.begin() + mid, bvh.order.begin() + it.end,
                     [&](int64_t a, int64_t b) {
                       const double ca = cen[a * 3 + axis], cb = cen[b * 3 + axis];
                       return ca < cb || (ca == cb && a < b);
                     });
    // Right pushed first so that the left child is built next (at id + 1).
    stack.push_back({mid, it.end, id});
    stack.push_back({it.begin, mid, -1});
  }
  bvh.tris.resize(static_cast<size_t>(F * 9));
  for (int64_t s = 0; s < F; ++s) {
    for (int k = 0; k < 9; ++k) bvh.tris[s * 9 + k] = double(tris[bvh.order[s] * 9 + k]);
  }
  return bvh;
}

inline double box_sqdist(const Node& nd, const double* p) {
  double d = 0.0;
  for (int k = 0; k < 3; ++k) {
    const double e = p[k] < nd.lo[k] ? nd.lo[k] - p[k] : (p[k] > nd.hi[k] ? p[k] - nd.hi[k] : 0.0);
    d += e * e;
  }
  return d;
}

double nearest_sqdist(const Bvh& bvh, const double* p) {
  const V3 pv{p[0], p[1], p[2]};
  double best = 1e300;
  int64_t stack[128];
  int top = 0;
  stack[top++] = 0;
  while (top > 0) {
    const Node& nd = bvh.nodes[stack[--top]];
    if (box_sqdist(nd, p) >= best) continue;
    if (nd.right < 0) {
      for (int64_t s = nd.begin; s < nd.end; ++s) {
        const double d = p2f_detail::tri_sqdist_packed(pv, bvh.tris.data() + s * 9);
        best = d < best ? d : best;
      }
      continue;
    }
    const int64_t l = &nd - bvh.nodes.data() + 1, r = nd.right;
    const double dl = box_sqdist(bvh.nodes[l], p), dr = box_sqdist(bvh.nodes[r], p);
    // Push the farther child first so that the nearer one is searched first.
    if (dl <= dr) {
      if (dr < best) stack[top++] = r;
      if (dl < best) stack[top++] = l;
    } else {
      if (dl < best) stack[top++] = l;
      if (dr < best) stack[top++] = r;
    }
  }
  return best;
}

}  // namespace

template <>
struct P2fExec<CpuBackend> {
  static void run(const Tensor& points, const Tensor& tris, const Tensor& out) {
    const int64_t N = points.size(0), F = tris.size(0);
    dispatch_floating(points.dtype(), "point_to_mesh_distance", [&]<class T>() {
      const Bvh bvh = build_bvh(tris.data<T>(), F);
      const T* pts = points.data<T>();
      T* o = out.data<T>();
#pragma omp parallel for schedule(dynamic, 64) num_threads(cpu_num_threads()) if (N * F > 65536)
      for (int64_t i = 0; i < N; ++i) {
        const double p[3] = {double(pts[i * 3 + 0]), double(pts[i * 3 + 1]), double(pts[i * 3 + 2])};
        o[i] = static_cast<T>(std::sqrt(nearest_sqdist(bvh, p)));
      }
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_P2F_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
