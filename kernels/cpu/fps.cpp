// CPU farthest point sampling (FpsExec<CpuBackend>). Work decomposition: every cloud is copied
// to SoA (x[], y[], z[], field d[]) padded to blocks of 64 points (padding has d = −1, never
// picked). One iteration is one fused vectorised pass (AVX-512 / AVX2 / SSE2 clone chosen at
// run time) that min-updates the field with the distance to the last pick and records every
// block's maximum; the pick is the first block whose maximum equals the overall maximum, then
// the first point of that block with that value (lowest index on ties).
// * Clouds of N >= 8192 points use the bucket path instead (QuickFPS-style k-d tree with
//   bounding boxes and field maxima per node; a pick only touches the nodes it can change;
//   exact, see below).
// * OpenMP over clouds (one cloud per thread; a cloud is never split, so there is no barrier
//   per pick and the result does not depend on the thread count).
//
// Compiled without floating-point contraction: the distances equal fps_sqdist bit for bit
// (and hence the CUDA kernels' distances).
#include <omp.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/common/fps_impl.h"

#pragma GCC optimize("fp-contract=off")

namespace pg::kernels {
namespace {

constexpr int64_t kBlk = 64;
constexpr int64_t kBucketMinPoints = 8192;

template <class T>
__attribute__((always_inline)) inline T update_blocks_body(const T* __restrict x, const T* __restrict y,
                                                           const T* __restrict z, T* __restrict d, int64_t blk0,
                                                           int64_t blk1, T lx, T ly, T lz, T* __restrict bmax) {
  T gmax = T(-2);
  for (int64_t blk = blk0; blk < blk1; ++blk) {
    T m = T(-2);
    const int64_t o = blk * kBlk;
#pragma omp simd reduction(max : m)
    for (int64_t j = 0; j < kBlk; ++j) {
      const T dx = x[o + j] - lx;
      const T dy = y[o + j] - ly;
      const T dz = z[o + j] - lz;
      const T dd = (dx * dx + dy * dy) + dz * dz;
      const T v = dd < d[o + j] ? dd : d[o + j];
      d[o + j] = v;
      m = v > m ? v : m;
    }
    bmax[blk] = m;
    gmax = m > gmax ? m : gmax;
  }
  return gmax;
}

__attribute__((target_clones("avx512f", "avx2", "default"))) float update_blocks(const float* x, const float* y,
                                                                                 const float* z, float* d, int64_t blk0,
                                                                                 int64_t blk1, float lx, float ly,
                                                                                 float lz, float* bmax) {
  return update_blocks_body(x, y, z, d, blk0, blk1, lx, ly, lz, bmax);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) double update_blocks(const double* x, const double* y,
                                                                                  const double* z, double* d,
                                                                                  int64_t blk0, int64_t blk1, double lx,
                                                                                  double ly, double lz, double* bmax) {
  return update_blocks_body(x, y, z, d, blk0, blk1, lx, ly, lz, bmax);
}

// First index in blocks [blk0, blk1) whose value equals `v` (v is the maximum of those blocks).
template <class T>
int64_t first_index_of(const T* d, const T* bmax, int64_t blk0, int64_t blk1, T v) {
  int64_t blk = blk0;
  while (blk + 1 < blk1 && bmax[blk] != v) ++blk;
  const int64_t o = blk * kBlk;
  int64_t j = 0;
  while (j + 1 < kBlk && d[o + j] != v) ++j;
  return o + j;
}

// Per-thread SoA buffers of one cloud.
template <class T>
struct CloudBuf {
  std::vector<T> x, y, z, d, bmax;
  int64_t nblk = 0;
  void load(const T* p, int64_t n) {
    nblk = (n + kBlk - 1) / kBlk;
    const size_t np = static_cast<size_t>(nblk * kBlk);
    x.assign(np, T(0));
    y.assign(np, T(0));
    z.assign(np, T(0));
    d.assign(np, T(-1));
    bmax.assign(static_cast<size_t>(nblk), T(-1));
    for (int64_t i = 0; i < n; ++i) {
      x[i] = p[i * 3 + 0];
      y[i] = p[i * 3 + 1];
      z[i] = p[i * 3 + 2];
      d[i] = nn_detail::inf_value<T>();
    }
  }
};

struct FpsArgs {
  int64_t N, S, m;
  const int64_t* seeds;
  const int64_t* num_seeds;
};

// One cloud on the calling thread.
template <class T>
void fps_cloud_serial(const T* p, const FpsArgs& a, int64_t b, CloudBuf<T>& cb, int64_t* oi, T* orad) {
  cb.load(p, a.N);
  const int64_t* sd = a.seeds + b * a.S;
  const int64_t s = a.num_seeds ? a.num_seeds[b] : a.S;
  int64_t last = sd[0];
  oi[0] = last;
  orad[0] = nn_detail::inf_value<T>();
  for (int64_t it = 1; it < a.m; ++it) {
    const T best = update_blocks(cb.x.data(), cb.y.data(), cb.z.data(), cb.d.data(), 0, cb.nblk, cb.x[last], cb.y[last],
                                 cb.z[last], cb.bmax.data());
    int64_t pick;
    T rad;
    if (it < s) {
      pick = sd[it];
      rad = cb.d[pick];
    } else {
      pick = first_index_of(cb.d.data(), cb.bmax.data(), 0, cb.nblk, best);
      rad = best;
    }
    oi[it] = pick;
    orad[it] = rad;
    last = pick;
  }
}

// ---- bucket (k-d pruned) FPS for large clouds ----
// The cloud is split by a k-d tree (median of the widest axis) into leaves of at most kLeaf
// points; each leaf stores its points (ascending original index), its bounding box and the
// (max, first index) of its field. A pick only touches the leaves whose box lower bound to the
// pick is below the leaf's field maximum (with a rounding margin); every other point's distance
// to the pick is provably >= its field value, so its min-update would change nothing. The field
// values, and therefore the picks (lowest index on ties), equal the vanilla loop's exactly.
// Inner nodes carry the same (box, max) summary, so a pick walks down from the root and stops at
// every node it cannot change (a child's box lies inside its parent's, so its bound is no
// smaller): the per-pick cost follows the touched region, not the leaf count (10^6 points →
// 16384 leaves of 64, most never looked at after the first picks), and the root holds the next pick.

constexpr int64_t kLeaf = 64;

template <class T>
__attribute__((always_inline)) inline T update_range_body(const T* __restrict x, const T* __restrict y,
                                                          const T* __restrict z, T* __restrict d, int64_t n, T lx, T ly,
                                                          T lz) {
  T m = T(-2);
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; ++j) {
    const T dx = x[j] - lx;
    const T dy = y[j] - ly;
    const T dz = z[j] - lz;
    const T dd = (dx * dx + dy * dy) + dz * dz;
    const T v = dd < d[j] ? dd : d[j];
    d[j] = v;
    m = v > m ? v : m;
  }
  return m;
}
__attribute__((target_clones("avx512f", "avx2", "default"))) float update_range(const float* x, const float* y,
                                                                                const float* z, float* d, int64_t n,
                                                                                float lx, float ly, float lz) {
  return update_range_body(x, y, z, d, n, lx, ly, lz);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) double update_range(const double* x, const double* y,
                                                                                 const double* z, double* d, int64_t n,
                                                                                 double lx, double ly, double lz) {
  return update_range_body(x, y, z, d, n, lx, ly, lz);
}

// The bucket path's k-d tree: median splits on the widest axis down to leaves of at most kLeaf
// points; every node keeps its bounding box and the maximum of the field inside it (value and
// original index of the first maximum). A pick visits only the nodes its distance can change
// (box lower bound ≤ node maximum), updates the leaves reached, and re-combines the maxima on the
// way back up, so the root holds the exact argmax (fps_better: larger value, then lower index).
template <class T>
struct BucketCloud {
  struct Node {
    T lo[3], hi[3];
    T maxv;
    int64_t maxi;
    int32_t left, right;  // children (−1 for a leaf)
    int64_t b, e;         // positions [b, e) covered
  };
  std::vector<int64_t> orig;    // position → original index (ascending inside each leaf)
  std::vector<int64_t> pos_of;  // original index → position
  std::vector<T> x, y, z, d;    // SoA in position order
  std::vector<Node> nodes;      // pre-order: children after their parent

  struct PtI {
    T c[3];
    int64_t i;
  };
  std::vector<PtI> pts;  // build scratch: points with their index, split in place (contiguous)

  void build(const T* p, int64_t n) {
    pts.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) pts[i] = PtI{{p[3 * i], p[3 * i + 1], p[3 * i + 2]}, i};
    nodes.clear();
    split(0, n);
    orig.resize(static_cast<size_t>(n));
    pos_of.resize(static_cast<size_t>(n));
    x.resize(static_cast<size_t>(n));
    y.resize(static_cast<size_t>(n));
    z.resize(static_cast<size_t>(n));
    d.assign(static_cast<size_t>(n), nn_detail::inf_value<T>());
    for (size_t v = nodes.size(); v-- > 0;) {  // children first
      Node& nd = nodes[v];
      nd.maxv = nn_detail::inf_value<T>();
      if (nd.left >= 0) {
        const Node& l = nodes[nd.left];
        const Node& r = nodes[nd.right];
        for (int c = 0; c < 3; ++c) {
          nd.lo[c] = std::min(l.lo[c], r.lo[c]);
          nd.hi[c] = std::max(l.hi[c], r.hi[c]);
        }
        nd.maxi = std::min(l.maxi, r.maxi);
        continue;
      }
      std::sort(pts.begin() + nd.b, pts.begin() + nd.e, [](const PtI& u, const PtI& w) { return u.i < w.i; });
      for (int c = 0; c < 3; ++c) {
        nd.lo[c] = nn_detail::inf_value<T>();
        nd.hi[c] = -nn_detail::inf_value<T>();
      }
      for (int64_t q = nd.b; q < nd.e; ++q) {
        const PtI& pt = pts[q];
        orig[q] = pt.i;
        pos_of[pt.i] = q;
        x[q] = pt.c[0];
        y[q] = pt.c[1];
        z[q] = pt.c[2];
        for (int c = 0; c < 3; ++c) {
          nd.lo[c] = std::min(nd.lo[c], pt.c[c]);
          nd.hi[c] = std::max(nd.hi[c], pt.c[c]);
        }
      }
      nd.maxi = orig[nd.b];
    }
  }

  // Depth-first median splits on the widest axis (ties by index); returns the node.
  int32_t split(int64_t b, int64_t e) {
    const int32_t v = static_cast<int32_t>(nodes.size());
    nodes.push_back(Node{});
    nodes[v].b = b;
    nodes[v].e = e;
    nodes[v].left = nodes[v].right = -1;
    if (e - b <= kLeaf) return v;
    T mn[3], mx[3];
    for (int c = 0; c < 3; ++c) {
      mn[c] = nn_detail::inf_value<T>();
      mx[c] = -nn_detail::inf_value<T>();
    }
    for (int64_t q = b; q < e; ++q) {
      for (int c = 0; c < 3; ++c) {
        mn[c] = std::min(mn[c], pts[q].c[c]);
        mx[c] = std::max(mx[c], pts[q].c[c]);
      }
    }
    int ax = 0;
    for (int c = 1; c < 3; ++c) {
      if (mx[c] - mn[c] > mx[ax] - mn[ax]) ax = c;
    }
    const int64_t mid = b + (e - b) / 2;
    std::nth_element(pts.begin() + b, pts.begin() + mid, pts.begin() + e, [ax](const PtI& u, const PtI& w) {
      return u.c[ax] < w.c[ax] || (u.c[ax] == w.c[ax] && u.i < w.i);
    });
    const int32_t l = split(b, mid);
    const int32_t r = split(mid, e);
    nodes[v].left = l;
    nodes[v].right = r;
    return v;
  }

  // Applies the pick (lx, ly, lz) below node v. A node is skipped only when its box bound exceeds
  // its field maximum by more than the rounding of both distance evaluations (a few ulps).
  void visit(int32_t v, T lx, T ly, T lz) {
    Node& nd = nodes[v];
    const T margin = T(1) + T(16) * std::numeric_limits<T>::epsilon();
    T dx = nd.lo[0] - lx;
    dx = dx > T(0) ? dx : (lx - nd.hi[0] > T(0) ? lx - nd.hi[0] : T(0));
    T dy = nd.lo[1] - ly;
    dy = dy > T(0) ? dy : (ly - nd.hi[1] > T(0) ? ly - nd.hi[1] : T(0));
    T dz = nd.lo[2] - lz;
    dz = dz > T(0) ? dz : (lz - nd.hi[2] > T(0) ? lz - nd.hi[2] : T(0));
    const T lb = (dx * dx + dy * dy) + dz * dz;
    if (lb > nd.maxv * margin) return;
    if (nd.left < 0) {
      const int64_t q0 = nd.b, n = nd.e - q0;
      const T m = update_range(x.data() + q0, y.data() + q0, z.data() + q0, d.data() + q0, n, lx, ly, lz);
      int64_t q = q0;
      while (d[q] != m) ++q;
      nd.maxv = m;
      nd.maxi = orig[q];
      return;
    }
    visit(nd.left, lx, ly, lz);
    visit(nd.right, lx, ly, lz);
    const Node& l = nodes[nd.left];
    const Node& r = nodes[nd.right];
    const bool right = fps_detail::fps_better(r.maxv, r.maxi, l.maxv, l.maxi);
    nd.maxv = right ? r.maxv : l.maxv;
    nd.maxi = right ? r.maxi : l.maxi;
  }
};

template <class T>
void fps_cloud_bucket(const T* p, const FpsArgs& a, int64_t b, BucketCloud<T>& bc, int64_t* oi, T* orad) {
  bc.build(p, a.N);
  const int64_t* sd = a.seeds + b * a.S;
  const int64_t s = a.num_seeds ? a.num_seeds[b] : a.S;
  int64_t last = sd[0];
  oi[0] = last;
  orad[0] = nn_detail::inf_value<T>();
  for (int64_t it = 1; it < a.m; ++it) {
    const int64_t lp = bc.pos_of[last];
    bc.visit(0, bc.x[lp], bc.y[lp], bc.z[lp]);
    int64_t pick;
    T rad;
    if (it < s) {
      pick = sd[it];
      rad = bc.d[bc.pos_of[pick]];
    } else {
      pick = bc.nodes[0].maxi;
      rad = bc.nodes[0].maxv;
    }
    oi[it] = pick;
    orad[it] = rad;
    last = pick;
  }
}

template <class T>
void fps_cpu_fast(const T* points, const FpsArgs& a, int64_t B, int64_t* out_idx, T* out_rad) {
  const int nthreads = cpu_num_threads();
  const bool bucket = a.N >= kBucketMinPoints;
#pragma omp parallel num_threads(nthreads) if (B > 1 && nthreads > 1)
  {
    CloudBuf<T> cb;
    BucketCloud<T> bc;
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < B; ++b) {
      if (bucket) {
        fps_cloud_bucket(points + b * a.N * 3, a, b, bc, out_idx + b * a.m, out_rad + b * a.m);
      } else {
        fps_cloud_serial(points + b * a.N * 3, a, b, cb, out_idx + b * a.m, out_rad + b * a.m);
      }
    }
  }
}

}  // namespace

bool fps_onchip_fits(int64_t n, DType dtype) {
  return n <= (dtype == DType::f32 ? 8192 : 4096);
}

template <>
struct FpsExec<CpuBackend> {
  static void run(const Tensor& points, const Tensor& seeds, const Tensor& num_seeds, int64_t m, const Tensor& out_idx,
                  const Tensor& out_radius, FpsImpl path) {
    const int64_t B = points.size(0), N = points.size(1), S = seeds.size(1);
    const int64_t* ns = num_seeds.defined() ? num_seeds.data<int64_t>() : nullptr;
    dispatch_floating(points.dtype(), "fps", [&]<class T>() {
      if (path == FpsImpl::Generic) {
        Tensor field = empty({B, N}, points.options());
        nn_detail::run_heavy<CpuBackend>(
            B, fps_detail::FpsGenericBody<T>{points.data<T>(), seeds.data<int64_t>(), ns, field.data<T>(),
                                             out_idx.data<int64_t>(), out_radius.data<T>(), N, S, m});
      } else {
        fps_cpu_fast<T>(points.data<T>(), FpsArgs{N, S, m, seeds.data<int64_t>(), ns}, B, out_idx.data<int64_t>(),
                        out_radius.data<T>());
      }
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_FPS_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
