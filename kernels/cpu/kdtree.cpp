// k-d tree kNN (contract and structure: kernels/cpu/kdtree.h). Compiled without floating-point
// contraction so that leaf distances have the bits of the brute-force body.
#include "kernels/cpu/kdtree.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/parallel_for.h"

#pragma GCC optimize("fp-contract=off")

namespace pg::kernels {
namespace {

// Leaf capacity: leaves hold kLeafSize / 2 … kLeafSize points (median splits). 32 measured best
// among 8 / 16 / 32 / 64 at N = 8192 and 10^5, K = 1 and 16 (docs/decisions.md).
constexpr int64_t kLeafSize = 32;
constexpr int kMaxDepth = 128;  // DFS stack bound: one pending sibling per level

template <class T>
struct Node {
  T lo[3], hi[3];  // tight bounding box of the node's points
  int64_t begin, end;  // the node's points in tree order
  int32_t left;    // index of the left child (the right one is left + 1); −1 for a leaf
  int32_t axis;
  T split;         // left points have coord[axis] <= split, right ones >= split
};

template <class T>
struct Tree {
  std::vector<Node<T>> nodes;  // nodes[0] is the root; empty when no reference is finite
  std::vector<T> x, y, z;      // points in tree order (SoA)
  std::vector<int64_t> id;     // their indices in the reference cloud
};

template <class T>
struct Pt {
  T c[3];
  int64_t id;
};

template <class T>
bool finite3(T a, T b, T c) {
  return std::isfinite(a) && std::isfinite(b) && std::isfinite(c);
}

template <class T>
void build_tree(const T* ref, int64_t R, Tree<T>& t) {
  std::vector<Pt<T>> pts;
  pts.reserve(static_cast<size_t>(R));
  for (int64_t j = 0; j < R; ++j) {
    const T* p = ref + j * 3;
    if (finite3(p[0], p[1], p[2])) pts.push_back({{p[0], p[1], p[2]}, j});
  }
  const int64_t n = static_cast<int64_t>(pts.size());
  if (n == 0) return;
  t.nodes.reserve(static_cast<size_t>(4 * (n / kLeafSize) + 1));
  t.nodes.push_back(Node<T>{{}, {}, 0, n, -1, 0, T(0)});
  std::vector<int32_t> pending{0};  // nodes still to split (depth-first)
  while (!pending.empty()) {
    const int32_t ni = pending.back();
    pending.pop_back();
    const int64_t b = t.nodes[ni].begin, e = t.nodes[ni].end;
    T lo[3], hi[3];
    for (int a = 0; a < 3; ++a) lo[a] = hi[a] = pts[b].c[a];
    for (int64_t j = b + 1; j < e; ++j) {
      for (int a = 0; a < 3; ++a) {
        lo[a] = std::min(lo[a], pts[j].c[a]);
        hi[a] = std::max(hi[a], pts[j].c[a]);
      }
    }
    Node<T>& nd = t.nodes[ni];
    for (int a = 0; a < 3; ++a) {
      nd.lo[a] = lo[a];
      nd.hi[a] = hi[a];
    }
    if (e - b <= kLeafSize) continue;  // a leaf (left = −1)
    int axis = 0;
    for (int a = 1; a < 3; ++a) {
      if (hi[a] - lo[a] > hi[axis] - lo[axis]) axis = a;
    }
    const int64_t mid = b + (e - b) / 2;
    std::nth_element(pts.begin() + b, pts.begin() + mid, pts.begin() + e,
                     [axis](const Pt<T>& u, const Pt<T>& v) { return u.c[axis] < v.c[axis]; });
    nd.axis = axis;
    nd.split = pts[mid].c[axis];
    nd.left = static_cast<int32_t>(t.nodes.size());
    t.nodes.push_back(Node<T>{{}, {}, b, mid, -1, 0, T(0)});  // invalidates nd
    t.nodes.push_back(Node<T>{{}, {}, mid, e, -1, 0, T(0)});
    pending.push_back(t.nodes[ni].left + 1);
    pending.push_back(t.nodes[ni].left);
  }
  t.x.resize(n);
  t.y.resize(n);
  t.z.resize(n);
  t.id.resize(n);
  for (int64_t j = 0; j < n; ++j) {
    t.x[j] = pts[j].c[0];
    t.y[j] = pts[j].c[1];
    t.z[j] = pts[j].c[2];
    t.id[j] = pts[j].id;
  }
}

// Squared distance from q to the box, in nn_sqdist's summation order; each gap is at most the
// |coordinate difference| of any point in the box, so the result never exceeds a point's.
template <class T>
__attribute__((always_inline)) inline T box_dist(const Node<T>& n, T qx, T qy, T qz) {
  const T gx = qx < n.lo[0] ? n.lo[0] - qx : (qx > n.hi[0] ? qx - n.hi[0] : T(0));
  const T gy = qy < n.lo[1] ? n.lo[1] - qy : (qy > n.hi[1] ? qy - n.hi[1] : T(0));
  const T gz = qz < n.lo[2] ? n.lo[2] - qz : (qz > n.hi[2] ? qz - n.hi[2] : T(0));
  return (gx * gx + gy * gy) + gz * gz;
}

// The K nearest of one finite query; od / oi hold inf / −1 on entry. (d, j) enters the list when
// it precedes the current K-th pair lexicographically; an unfilled K-th slot is (inf, −1), which
// no finite distance ties with a lower index, and inf distances never enter (as brute force).
template <class T>
__attribute__((always_inline)) inline void query_one(const Tree<T>& t, T qx, T qy, T qz, int64_t K, T* od,
                                                     int64_t* oi, T* __restrict buf) {
  struct Pending {
    int32_t node;
    T d;
  };
  Pending stack[kMaxDepth];
  int sp = 0;
  const Node<T>* nodes = t.nodes.data();
  const T* __restrict xs = t.x.data();
  const T* __restrict ys = t.y.data();
  const T* __restrict zs = t.z.data();
  const int64_t* ids = t.id.data();
  T kd = od[K - 1];
  int64_t ki = oi[K - 1];
  int32_t cur = 0;
  for (;;) {
    const Node<T>& n = nodes[cur];
    if (n.left >= 0) {
      const T dl = box_dist(nodes[n.left], qx, qy, qz);
      const T dr = box_dist(nodes[n.left + 1], qx, qy, qz);
      const bool left_first = dl <= dr;
      const int32_t near = left_first ? n.left : n.left + 1, far = left_first ? n.left + 1 : n.left;
      const T dn = left_first ? dl : dr, df = left_first ? dr : dl;
      if (!(df > kd)) stack[sp++] = {far, df};
      if (!(dn > kd)) {
        cur = near;
        continue;
      }
    } else {
      const int64_t b = n.begin, m = n.end - n.begin;
#pragma omp simd
      for (int64_t j = 0; j < m; ++j) {
        const T dx = xs[b + j] - qx;
        const T dy = ys[b + j] - qy;
        const T dz = zs[b + j] - qz;
        buf[j] = (dx * dx + dy * dy) + dz * dz;
      }
      for (int64_t j = 0; j < m; ++j) {
        const T d = buf[j];
        if (d < kd || (d == kd && ids[b + j] < ki)) {
          const int64_t r = ids[b + j];
          int64_t p = K - 1;
          while (p > 0 && (d < od[p - 1] || (d == od[p - 1] && r < oi[p - 1]))) {
            od[p] = od[p - 1];
            oi[p] = oi[p - 1];
            --p;
          }
          od[p] = d;
          oi[p] = r;
          kd = od[K - 1];
          ki = oi[K - 1];
        }
      }
    }
    // Next pending sibling that can still hold a candidate.
    while (sp > 0 && stack[sp - 1].d > kd) --sp;
    if (sp == 0) break;
    cur = stack[--sp].node;
  }
}

template <class T>
struct Batch {
  const T* query;
  int64_t Q, K;
  T* dist;
  int64_t* idx;
};

// Queries order[lo, hi) (flat b·Q + q) against their clouds' trees.
template <class T>
__attribute__((always_inline)) inline void query_range_body(const std::vector<Tree<T>>& trees, const Batch<T>& bt,
                                                            const int64_t* order, int64_t lo, int64_t hi) {
  T buf[kLeafSize];
  for (int64_t i = lo; i < hi; ++i) {
    const int64_t qi = order[i];
    const Tree<T>& t = trees[static_cast<size_t>(qi / bt.Q)];
    const T* qp = bt.query + qi * 3;
    T* od = bt.dist + qi * bt.K;
    int64_t* oi = bt.idx + qi * bt.K;
    for (int64_t s = 0; s < bt.K; ++s) {
      od[s] = std::numeric_limits<T>::infinity();
      oi[s] = -1;
    }
    if (t.nodes.empty() || !finite3(qp[0], qp[1], qp[2])) continue;
    query_one(t, qp[0], qp[1], qp[2], bt.K, od, oi, buf);
  }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void query_range(const std::vector<Tree<float>>& trees,
                                                                              const Batch<float>& bt,
                                                                              const int64_t* order, int64_t lo,
                                                                              int64_t hi) {
  query_range_body(trees, bt, order, lo, hi);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void query_range(const std::vector<Tree<double>>& trees,
                                                                              const Batch<double>& bt,
                                                                              const int64_t* order, int64_t lo,
                                                                              int64_t hi) {
  query_range_body(trees, bt, order, lo, hi);
}

// Flat indices b·Q + q of one cloud's queries, grouped by the leaf each falls in (descending by
// the split values), leaves in tree order: a counting sort on the leaf's first position.
template <class T>
void order_queries(const Tree<T>& t, const T* query, int64_t b, int64_t Q, int64_t* out) {
  if (t.nodes.empty()) {
    for (int64_t q = 0; q < Q; ++q) out[q] = b * Q + q;
    return;
  }
  const int64_t n = static_cast<int64_t>(t.x.size());
  std::vector<int64_t> key(static_cast<size_t>(Q));
  std::vector<int64_t> start(static_cast<size_t>(n + 1), 0);
  for (int64_t q = 0; q < Q; ++q) {
    const T* qp = query + (b * Q + q) * 3;
    int32_t cur = 0;
    while (t.nodes[cur].left >= 0) {
      const Node<T>& nd = t.nodes[cur];
      cur = qp[nd.axis] < nd.split ? nd.left : nd.left + 1;  // NaN goes right: any leaf will do
    }
    key[q] = t.nodes[cur].begin;
    ++start[key[q] + 1];
  }
  for (int64_t j = 0; j < n; ++j) start[j + 1] += start[j];
  for (int64_t q = 0; q < Q; ++q) out[start[key[q]]++] = b * Q + q;
}

template <class T>
void knn_kdtree_impl(const T* query, const T* ref, int64_t B, int64_t Q, int64_t R, int64_t K, T* dist,
                     int64_t* idx) {
  std::vector<Tree<T>> trees(static_cast<size_t>(B));
  std::vector<int64_t> order(static_cast<size_t>(B * Q));
  const int nthreads = cpu_num_threads();
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (B > 1)
  for (int64_t b = 0; b < B; ++b) {
    build_tree(ref + b * R * 3, R, trees[b]);
    order_queries(trees[b], query, b, Q, order.data() + b * Q);
  }
  const Batch<T> bt{query, Q, K, dist, idx};
  constexpr int64_t kChunk = 64;  // consecutive queries (neighbours in space) per task
  const int64_t nchunks = (B * Q + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) if (nchunks > 1)
  for (int64_t c = 0; c < nchunks; ++c) {
    query_range(trees, bt, order.data(), c * kChunk, std::min(B * Q, (c + 1) * kChunk));
  }
}

}  // namespace

void knn_kdtree(const float* query, const float* ref, int64_t B, int64_t Q, int64_t R, int64_t K, float* dist,
                int64_t* idx) {
  knn_kdtree_impl(query, ref, B, Q, R, K, dist, idx);
}
void knn_kdtree(const double* query, const double* ref, int64_t B, int64_t Q, int64_t R, int64_t K, double* dist,
                int64_t* idx) {
  knn_kdtree_impl(query, ref, B, Q, R, K, dist, idx);
}

}  // namespace pg::kernels
