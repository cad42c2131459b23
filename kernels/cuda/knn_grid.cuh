// CUDA kNN through a uniform grid of the reference cloud (KnnImpl::Grid; Auto above the size rule
// of knn.cu's grid_wins). Include only from kernels/cuda/knn.cu.
//
// Build, on the device, per call (O(B·R) memory):
//   1. one CTA per cloud: the reference bounding box (block reduction), then the cloud's grid:
//      gx·gy·gz <= C cells (C = the same cell budget for every cloud, about R / points-per-cell),
//      per-axis cell sizes extent / g (a flat or single-point cloud gets one cell on that axis);
//   2. a key per reference point: b·C + cell (cell clamped into the grid);
//   3. cub::DeviceRadixSort::SortPairs of (key, b·R + j): stable, so inside a cell the points
//      keep increasing index order;
//   4. per sorted position: the point's coordinates and index gathered into sorted order, and the
//      cells' [start, end) ranges (positions relative to the cloud; empty cells stay [0, 0)).
// Search, one thread per query: the query's cell (clamped into the grid: queries outside the
// reference's box work), then rings of cells at Chebyshev distance r = 0, 1, 2, … from it. After
// ring r the unvisited points all lie outside the box of the visited cells; the search stops
// when the K-th best squared distance is below the squared distance from the query to that box
// (the gap to the nearest side that still has cells beyond it), shrunk by a rounding margin
// (the cell of a point and the box sides are computed in T: a point within a few ulps of a side
// may sit in the neighbouring cell), or when no cell is left.
//
// Exactness: the top-K is ordered by (distance, index) — a candidate displaces the K-th entry
// when its distance is smaller, or equal with a smaller index — so the result is the K smallest
// pairs (distance, index), which is exactly what the brute force's "index order, strictly
// smaller displaces" yields: same entries, ties included. Distances use nn_sqdist (same bits as
// the brute-force kernels up to nvcc's contraction choices).
//
// Top-K storage: K <= 32 in registers (compile-time buckets 1 … 32; the bucket's extra entries
// are searched too and dropped); larger K keeps the sorted list in the query's output row.
#pragma once

#include <cub/device/device_radix_sort.cuh>
#include <limits>

#include "core/parallel_for_cuda.cuh"
#include "kernels/common/knn_impl.h"

namespace pg::kernels {
namespace knn_grid {

constexpr int kBoxThreads = 256;
constexpr int kQueryThreads = 128;
constexpr int64_t kMaxCellsPerAxis = 1024;
constexpr int64_t kMaxCellsPerCloud = int64_t(1) << 22;

// One cloud's grid: origin, per-axis cell size and its inverse, cells per axis.
template <class T>
struct GridParams {
  T o[3];
  T cs[3];
  T inv[3];
  int g[3];
};

// Points per cell targeted by the cell budget: about a quarter of K (at least 2), so that the
// query's cell and its first ring (27 cells) usually hold the K nearest.
inline int64_t cell_budget(int64_t R, int64_t K) {
  const int64_t ppc = K / 4 > 2 ? K / 4 : 2;
  int64_t c = R / ppc;
  if (c < 1) c = 1;
  return c < kMaxCellsPerCloud ? c : kMaxCellsPerCloud;
}

template <class T>
__device__ __forceinline__ T tmin(T a, T b) {
  return b < a ? b : a;
}
template <class T>
__device__ __forceinline__ T tmax(T a, T b) {
  return a < b ? b : a;
}

// Cell coordinate of x on one axis, clamped into [0, g); NaN lands in cell 0.
template <class T>
__device__ __forceinline__ int cell_of(T x, T o, T inv, int g) {
  T t = (x - o) * inv;
  if (!(t > T(0))) t = T(0);  // also NaN
  if (t > static_cast<T>(g - 1)) t = static_cast<T>(g - 1);
  return static_cast<int>(t);
}

// Bounding box of cloud blockIdx.x (one CTA) and its grid parameters (thread 0).
template <class T>
__global__ void __launch_bounds__(kBoxThreads)
    grid_params_kernel(const T* __restrict__ ref, int64_t R, int64_t C, GridParams<T>* __restrict__ out) {
  __shared__ T lo[3][kBoxThreads], hi[3][kBoxThreads];
  const int64_t b = blockIdx.x;
  const T* rb = ref + b * R * 3;
  T l[3], h[3];
  for (int a = 0; a < 3; ++a) {
    l[a] = nn_detail::inf_value<T>();
    h[a] = -nn_detail::inf_value<T>();
  }
  for (int64_t j = threadIdx.x; j < R; j += blockDim.x) {
    for (int a = 0; a < 3; ++a) {
      const T v = rb[j * 3 + a];
      l[a] = tmin(l[a], v);  // NaN never wins a comparison: ignored
      h[a] = tmax(h[a], v);
    }
  }
  for (int a = 0; a < 3; ++a) {
    lo[a][threadIdx.x] = l[a];
    hi[a][threadIdx.x] = h[a];
  }
  __syncthreads();
  for (unsigned w = kBoxThreads / 2; w > 0; w >>= 1) {
    if (threadIdx.x < w) {
      for (int a = 0; a < 3; ++a) {
        lo[a][threadIdx.x] = tmin(lo[a][threadIdx.x], lo[a][threadIdx.x + w]);
        hi[a][threadIdx.x] = tmax(hi[a][threadIdx.x], hi[a][threadIdx.x + w]);
      }
    }
    __syncthreads();
  }
  if (threadIdx.x != 0) return;
  T e[3];
  T m = T(0);
  bool finite = true;
  for (int a = 0; a < 3; ++a) {
    e[a] = hi[a][0] - lo[a][0];
    finite = finite && nn_detail::is_finite_hd(lo[a][0]) && nn_detail::is_finite_hd(e[a]);
    m = tmax(m, e[a]);
  }
  GridParams<T> p;
  if (!finite || !(m > T(0))) {  // one cell: duplicates only, or non-finite input (unchecked)
    for (int a = 0; a < 3; ++a) {
      p.o[a] = finite ? lo[a][0] : T(0);
      p.cs[a] = T(1);
      p.inv[a] = T(0);
      p.g[a] = 1;
    }
    out[b] = p;
    return;
  }
  // Cube cells of side s with gx·gy·gz <= C: extents below m / cbrt(C) count as one cell.
  const double cr = cbrt(static_cast<double>(C));
  double vol = 1.0;
  for (int a = 0; a < 3; ++a) vol *= tmax(static_cast<double>(e[a]), static_cast<double>(m) / cr);
  const double s = cbrt(vol / static_cast<double>(C));
  for (int a = 0; a < 3; ++a) {
    double gd = floor(static_cast<double>(e[a]) / s);
    gd = gd < 1.0 ? 1.0 : (gd > double(kMaxCellsPerAxis) ? double(kMaxCellsPerAxis) : gd);
    const int g = static_cast<int>(gd);
    p.o[a] = lo[a][0];
    p.g[a] = g;
    p.cs[a] = e[a] > T(0) ? e[a] / static_cast<T>(g) : T(1);
    p.inv[a] = e[a] > T(0) ? T(1) / p.cs[a] : T(0);
  }
  // Rounding in the double arithmetic above must not push the product past the budget.
  while (static_cast<int64_t>(p.g[0]) * p.g[1] * p.g[2] > C) {
    const int a = p.g[0] >= p.g[1] && p.g[0] >= p.g[2] ? 0 : (p.g[1] >= p.g[2] ? 1 : 2);
    p.g[a] -= 1;
    p.cs[a] = e[a] / static_cast<T>(p.g[a]);
    p.inv[a] = T(1) / p.cs[a];
  }
  out[b] = p;
}

// Key b·C + cell and value b·R + j of every reference point.
template <class T>
struct CellKeyBody {
  const T* ref;
  const GridParams<T>* prm;
  uint64_t* keys;
  int64_t* vals;
  int64_t R, C;
  __device__ void operator()(int64_t i) const {
    const int64_t b = i / R;
    const GridParams<T>& p = prm[b];
    const int cx = cell_of(ref[i * 3 + 0], p.o[0], p.inv[0], p.g[0]);
    const int cy = cell_of(ref[i * 3 + 1], p.o[1], p.inv[1], p.g[1]);
    const int cz = cell_of(ref[i * 3 + 2], p.o[2], p.inv[2], p.g[2]);
    const int64_t cell = (static_cast<int64_t>(cz) * p.g[1] + cy) * p.g[0] + cx;
    keys[i] = static_cast<uint64_t>(b * C + cell);
    vals[i] = i;
  }
};

// Sorted position i: gathers the point, marks its cell's start / end (positions within the cloud).
template <class T>
struct CellRangeBody {
  const T* ref;
  const uint64_t* keys;  // sorted
  const int64_t* vals;   // b·R + j, in sorted order
  T* sorted;             // [B·R, 3]
  int32_t* sidx;         // [B·R] j
  int32_t* start;        // [B·C]
  int32_t* end;          // [B·C]
  int64_t n, R;
  __device__ void operator()(int64_t i) const {
    const int64_t v = vals[i];
    const int64_t b = v / R;
    sorted[i * 3 + 0] = ref[v * 3 + 0];
    sorted[i * 3 + 1] = ref[v * 3 + 1];
    sorted[i * 3 + 2] = ref[v * 3 + 2];
    sidx[i] = static_cast<int32_t>(v - b * R);
    const uint64_t k = keys[i];
    if (i == 0 || keys[i - 1] != k) start[k] = static_cast<int32_t>(i - b * R);
    if (i == n - 1 || keys[i + 1] != k) end[k] = static_cast<int32_t>(i + 1 - b * R);
  }
};

// (v, j) before (w, i) in the top-K order.
template <class T>
__device__ __forceinline__ bool before(T v, int j, T w, int i) {
  return v < w || (v == w && j < i);
}

// Top-K in registers (compile-time K), ordered by (distance, index).
template <class T, int K>
struct RegTopK {
  T d[K];
  int ix[K];
  __device__ void init(T*, int64_t*) {
#pragma unroll
    for (int s = 0; s < K; ++s) {
      d[s] = nn_detail::inf_value<T>();
      ix[s] = std::numeric_limits<int>::max();
    }
  }
  __device__ __forceinline__ T kth() const {
    return d[K - 1];
  }
  __device__ __forceinline__ void offer(T v, int j) {
    if (!before(v, j, d[K - 1], ix[K - 1])) return;
#pragma unroll
    for (int s = K - 1; s > 0; --s) {
      const bool shift = before(v, j, d[s - 1], ix[s - 1]);
      const bool here = !shift && before(v, j, d[s], ix[s]);
      d[s] = shift ? d[s - 1] : (here ? v : d[s]);
      ix[s] = shift ? ix[s - 1] : (here ? j : ix[s]);
    }
    if (before(v, j, d[0], ix[0])) {
      d[0] = v;
      ix[0] = j;
    }
  }
  __device__ void store(T* od, int64_t* oi, int k_out) const {
#pragma unroll
    for (int s = 0; s < K; ++s) {
      if (s < k_out) {
        od[s] = d[s];
        oi[s] = ix[s] == std::numeric_limits<int>::max() ? -1 : ix[s];
      }
    }
  }
};

// Top-K kept sorted in the query's output row (any K); the K-th entry cached in registers.
template <class T>
struct RowTopK {
  T* d = nullptr;
  int64_t* ix = nullptr;
  int64_t K = 0;
  T kd;
  int64_t ki;
  __device__ void init(T* od, int64_t* oi) {
    d = od;
    ix = oi;
    for (int64_t s = 0; s < K; ++s) {
      d[s] = nn_detail::inf_value<T>();
      ix[s] = std::numeric_limits<int64_t>::max();
    }
    kd = nn_detail::inf_value<T>();
    ki = std::numeric_limits<int64_t>::max();
  }
  __device__ __forceinline__ T kth() const { return kd; }
  __device__ void offer(T v, int j) {
    if (!(v < kd || (v == kd && j < ki))) return;
    int64_t p = K - 1;
    while (p > 0 && (v < d[p - 1] || (v == d[p - 1] && j < ix[p - 1]))) {
      d[p] = d[p - 1];
      ix[p] = ix[p - 1];
      --p;
    }
    d[p] = v;
    ix[p] = j;
    kd = d[K - 1];
    ki = ix[K - 1];
  }
  __device__ void store(T*, int64_t*, int) const {
    for (int64_t s = 0; s < K; ++s) {
      if (ix[s] == std::numeric_limits<int64_t>::max()) ix[s] = -1;
    }
  }
};

template <class T, class TopK>
__global__ void __launch_bounds__(kQueryThreads)
    grid_query_kernel(const T* __restrict__ query, int64_t n, int64_t Q, int64_t R, int64_t C, int k_out,
                      const GridParams<T>* __restrict__ prm, const T* __restrict__ sorted,
                      const int32_t* __restrict__ sidx, const int32_t* __restrict__ start,
                      const int32_t* __restrict__ end, T* __restrict__ dist, int64_t* __restrict__ idx, TopK top) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const int64_t b = i / Q;
  const GridParams<T> p = prm[b];
  const T q[3] = {query[i * 3 + 0], query[i * 3 + 1], query[i * 3 + 2]};
  int c[3];
  for (int a = 0; a < 3; ++a) c[a] = cell_of(q[a], p.o[a], p.inv[a], p.g[a]);
  // Rounding margin of a box side: the coordinates' magnitude times a few ulps.
  constexpr T eps = std::numeric_limits<T>::epsilon();
  T scale = T(0);
  for (int a = 0; a < 3; ++a) {
    const T ax = p.o[a] < T(0) ? -p.o[a] : p.o[a];
    const T qa = q[a] < T(0) ? -q[a] : q[a];
    scale = tmax(scale, tmax(ax + p.cs[a] * static_cast<T>(p.g[a]), qa));
  }
  const T margin = T(16) * eps * scale;
  top.init(dist + i * k_out, idx + i * k_out);
  const T* sb = sorted + b * R * 3;
  const int32_t* ib = sidx + b * R;
  const int32_t* st = start + b * C;
  const int32_t* en = end + b * C;
  for (int r = 0;; ++r) {
    const int z0 = c[2] - r < 0 ? 0 : c[2] - r, z1 = c[2] + r >= p.g[2] ? p.g[2] - 1 : c[2] + r;
    const int y0 = c[1] - r < 0 ? 0 : c[1] - r, y1 = c[1] + r >= p.g[1] ? p.g[1] - 1 : c[1] + r;
    const int x0 = c[0] - r < 0 ? 0 : c[0] - r, x1 = c[0] + r >= p.g[0] ? p.g[0] - 1 : c[0] + r;
    for (int z = z0; z <= z1; ++z) {
      const bool zside = z == c[2] - r || z == c[2] + r;
      for (int y = y0; y <= y1; ++y) {
        const bool full = zside || y == c[1] - r || y == c[1] + r;
        // Inside the shell's faces only the two x ends are on ring r.
        const int step = full ? 1 : 2 * r;
        for (int x = full ? x0 : c[0] - r; x <= (full ? x1 : c[0] + r); x += step) {
          if (x < x0 || x > x1) continue;
          const int64_t cell = (static_cast<int64_t>(z) * p.g[1] + y) * p.g[0] + x;
          const int32_t e = en[cell];
          for (int32_t s = st[cell]; s < e; ++s) {
            const T v = nn_detail::nn_sqdist(q[0], q[1], q[2], sb[s * 3 + 0], sb[s * 3 + 1], sb[s * 3 + 2]);
            top.offer(v, ib[s]);
          }
        }
      }
    }
    // Gap from the query to the box of the visited cells, over the sides with cells beyond.
    T gap = nn_detail::inf_value<T>();
    for (int a = 0; a < 3; ++a) {
      if (c[a] - r > 0) gap = tmin(gap, q[a] - (p.o[a] + static_cast<T>(c[a] - r) * p.cs[a]));
      if (c[a] + r + 1 < p.g[a]) gap = tmin(gap, (p.o[a] + static_cast<T>(c[a] + r + 1) * p.cs[a]) - q[a]);
    }
    if (gap == nn_detail::inf_value<T>()) break;  // every cell visited
    gap -= margin;
    if (gap > T(0) && top.kth() < gap * gap * (T(1) - T(8) * eps)) break;
  }
  top.store(dist + i * k_out, idx + i * k_out, k_out);
}

}  // namespace knn_grid
}  // namespace pg::kernels
