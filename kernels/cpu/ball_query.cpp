// CPU ball query and row top-k. Ball query: per cloud either a uniform grid (cell edge ≈ radius,
// counting-sorted reference points, each query visits the 27 cells around it and selects the S
// smallest hit indices) or the shared generic thread-per-query scan, chosen per cloud by a cost
// estimate on a sample of queries (kernels/cpu/ball_query_grid.h says how and why both paths give
// the same bits). OpenMP over clouds for the grid build, over queries for the search. Row top-k:
// the shared thread-per-row body. Compiled without floating-point contraction (distances
// bit-identical to CUDA's).
#include "kernels/common/ball_query_impl.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/ball_query_grid.h"

#pragma GCC optimize("fp-contract=off")

namespace pg::kernels {
namespace {

// Uniform grid over the finite reference points of one cloud.
template <class T>
struct CellGrid {
  bool use = false;
  double lo[3] = {0, 0, 0};  // minimum corner of the finite points' bounding box
  double h = 0;              // cell edge
  int64_t g[3] = {0, 0, 0};  // cells per axis; cell (x, y, z) is (z·g1 + y)·g0 + x
  std::vector<int32_t> start;  // [cells + 1] first sorted slot of every cell
  std::vector<T> xyz;          // [n, 3] finite reference points in cell order
  std::vector<int32_t> id;     // [n] their indices, increasing within a cell

  void release() {
    use = false;
    start = {};
    xyz = {};
    id = {};
  }
};

// Cell coordinate of v along one axis, clamped to [-2, g + 1] (outside → no neighbour cell).
inline int64_t cell_coord(double v, double lo, double h, int64_t g) {
  const double t = std::floor((v - lo) / h);
  if (!(t >= -2.0)) return -2;
  if (t > static_cast<double>(g + 1)) return g + 1;
  return static_cast<int64_t>(t);
}

// The 3×3×3 neighbourhood of a query, clipped to the grid; false when it is empty or the query
// has a non-finite coordinate (no reference can be inside its ball then).
template <class T>
bool neighbourhood(const CellGrid<T>& G, T qx, T qy, T qz, int64_t lo[3], int64_t hi[3]) {
  const double q[3] = {static_cast<double>(qx), static_cast<double>(qy), static_cast<double>(qz)};
  for (int a = 0; a < 3; ++a) {
    if (!std::isfinite(q[a])) return false;
    const int64_t c = cell_coord(q[a], G.lo[a], G.h, G.g[a]);
    lo[a] = std::max<int64_t>(c - 1, 0);
    hi[a] = std::min<int64_t>(c + 1, G.g[a] - 1);
    if (lo[a] > hi[a]) return false;
  }
  return true;
}

// Number of candidates (references in the neighbourhood) of a query.
template <class T>
int64_t grid_candidates(const CellGrid<T>& G, T qx, T qy, T qz) {
  int64_t lo[3], hi[3];
  if (!neighbourhood(G, qx, qy, qz, lo, hi)) return 0;
  int64_t n = 0;
  for (int64_t z = lo[2]; z <= hi[2]; ++z) {
    for (int64_t y = lo[1]; y <= hi[1]; ++y) {
      const int64_t base = (z * G.g[1] + y) * G.g[0];
      n += G.start[static_cast<size_t>(base + hi[0] + 1)] - G.start[static_cast<size_t>(base + lo[0])];
    }
  }
  return n;
}

// Writes the indices of all references with fps_sqdist(q, ref) < r2 to hits (unordered, at most
// n entries: hits must hold n) and returns their number.
template <class T>
int64_t grid_hits(const CellGrid<T>& G, T qx, T qy, T qz, T r2, int32_t* hits) {
  int64_t lo[3], hi[3];
  if (!neighbourhood(G, qx, qy, qz, lo, hi)) return 0;
  const T* p = G.xyz.data();
  const int32_t* id = G.id.data();
  int64_t c = 0;
  for (int64_t z = lo[2]; z <= hi[2]; ++z) {
    for (int64_t y = lo[1]; y <= hi[1]; ++y) {
      const int64_t base = (z * G.g[1] + y) * G.g[0];
      const int64_t s = G.start[static_cast<size_t>(base + lo[0])];
      const int64_t e = G.start[static_cast<size_t>(base + hi[0] + 1)];
      for (int64_t k = s; k < e; ++k) {
        const T d = fps_detail::fps_sqdist(qx, qy, qz, p[k * 3 + 0], p[k * 3 + 1], p[k * 3 + 2]);
        hits[c] = id[k];  // branch-free append: c ≤ k-th candidate < n, so the slot exists
        c += d < r2 ? 1 : 0;
      }
    }
  }
  return c;
}

// Per-thread hit buffer of at least n entries.
int32_t* hit_buffer(int64_t n) {
  thread_local std::vector<int32_t> buf;
  if (static_cast<int64_t>(buf.size()) < n) buf.resize(static_cast<size_t>(n));
  return buf.data();
}

// Builds the grid of one cloud; false (grid unusable) when r2 is not finite and > 0, no reference
// is finite, the bounding box is not finite, or N > 2^27 (cell ids must fit int32).
template <class T>
bool build_grid(const T* rp, int64_t N, T r2, CellGrid<T>& G) {
  const double r2d = static_cast<double>(r2);
  if (N > (int64_t{1} << 27) || !(r2d > 0.0) || !std::isfinite(r2d)) return false;
  constexpr double inf = std::numeric_limits<double>::infinity();
  double mn[3] = {inf, inf, inf}, mx[3] = {-inf, -inf, -inf};
  int64_t nf = 0;
  for (int64_t j = 0; j < N; ++j) {
    const double v[3] = {static_cast<double>(rp[j * 3]), static_cast<double>(rp[j * 3 + 1]),
                         static_cast<double>(rp[j * 3 + 2])};
    if (!std::isfinite(v[0]) || !std::isfinite(v[1]) || !std::isfinite(v[2])) continue;
    ++nf;
    for (int a = 0; a < 3; ++a) {
      mn[a] = std::min(mn[a], v[a]);
      mx[a] = std::max(mx[a], v[a]);
    }
  }
  if (nf == 0) return false;
  double span[3];
  for (int a = 0; a < 3; ++a) {
    span[a] = mx[a] - mn[a];
    if (!std::isfinite(span[a])) return false;
  }
  // Margin 1e-4 on the edge: far above the relative rounding of the cell coordinates (≈ 1e-15·g)
  // and of fps_sqdist (≈ 4 ulp), so |Δcell| ≥ 2 on an axis implies d² ≥ r2 as computed.
  const double cap = std::max(4096.0, 8.0 * static_cast<double>(N));
  double h = std::max(std::sqrt(r2d) * (1.0 + 1e-4), std::max({span[0], span[1], span[2]}) / cap);
  double gd[3];
  for (;;) {
    for (int a = 0; a < 3; ++a) gd[a] = std::floor(span[a] / h) + 1.0;
    if (gd[0] * gd[1] * gd[2] <= cap) break;
    h *= 1.25;
  }
  G.h = h;
  for (int a = 0; a < 3; ++a) {
    G.lo[a] = mn[a];
    G.g[a] = static_cast<int64_t>(gd[a]);
  }
  const int64_t cells = G.g[0] * G.g[1] * G.g[2];
  std::vector<int32_t> cell(static_cast<size_t>(N), -1);
  G.start.assign(static_cast<size_t>(cells + 1), 0);
  for (int64_t j = 0; j < N; ++j) {
    const double v[3] = {static_cast<double>(rp[j * 3]), static_cast<double>(rp[j * 3 + 1]),
                         static_cast<double>(rp[j * 3 + 2])};
    if (!std::isfinite(v[0]) || !std::isfinite(v[1]) || !std::isfinite(v[2])) continue;
    int64_t c[3];
    for (int a = 0; a < 3; ++a) c[a] = std::clamp<int64_t>(cell_coord(v[a], G.lo[a], h, G.g[a]), 0, G.g[a] - 1);
    const int64_t lin = (c[2] * G.g[1] + c[1]) * G.g[0] + c[0];
    cell[static_cast<size_t>(j)] = static_cast<int32_t>(lin);
    ++G.start[static_cast<size_t>(lin + 1)];
  }
  for (int64_t k = 0; k < cells; ++k) G.start[static_cast<size_t>(k + 1)] += G.start[static_cast<size_t>(k)];
  std::vector<int32_t> next(G.start.begin(), G.start.end() - 1);
  G.xyz.resize(static_cast<size_t>(nf * 3));
  G.id.resize(static_cast<size_t>(nf));
  for (int64_t j = 0; j < N; ++j) {  // increasing j → increasing index within every cell
    const int32_t lin = cell[static_cast<size_t>(j)];
    if (lin < 0) continue;
    const int64_t k = next[static_cast<size_t>(lin)]++;
    G.id[static_cast<size_t>(k)] = static_cast<int32_t>(j);
    for (int a = 0; a < 3; ++a) G.xyz[static_cast<size_t>(k * 3 + a)] = rp[j * 3 + a];
  }
  G.use = true;
  return true;
}

// Cost estimate on up to 32 evenly spaced queries of the cloud: the grid visits its candidates,
// the generic scan stops at the S-th hit (index order) or runs through all N references.
template <class T>
bool grid_pays_off(const CellGrid<T>& G, const T* qp, int64_t M, int64_t N, int64_t S, T r2) {
  if (N <= 64) return false;
  const int64_t ns = std::min<int64_t>(M, 32);
  double cand = 0;
  for (int64_t s = 0; s < ns; ++s) {
    const T* q = qp + (s * M / ns) * 3;
    cand += static_cast<double>(grid_candidates(G, q[0], q[1], q[2]));
  }
  const double grid_cost = cand / static_cast<double>(ns) + 24.0;  // + neighbourhood / selection overhead
  if (grid_cost <= static_cast<double>(std::min(N, S))) return true;  // the scan visits at least min(N, S)
  if (grid_cost >= 0.5 * static_cast<double>(N)) return false;
  double scan = 0;
  int32_t* hits = hit_buffer(N);
  for (int64_t s = 0; s < ns; ++s) {
    const T* q = qp + (s * M / ns) * 3;
    const int64_t c = grid_hits(G, q[0], q[1], q[2], r2, hits);
    if (c < S) {
      scan += static_cast<double>(N);
    } else {
      std::nth_element(hits, hits + (S - 1), hits + c);
      scan += static_cast<double>(hits[S - 1]) + 1.0;
    }
  }
  return grid_cost < scan / static_cast<double>(ns);
}

template <class T>
int64_t run_ball_query(const Tensor& query, const Tensor& ref, double r2d, int64_t S, const Tensor& idx,
                       const Tensor& count, BallQueryPath path) {
  const int64_t B = query.size(0), M = query.size(1), N = ref.size(1);
  const T r2 = static_cast<T>(r2d);
  const T* qp = query.data<T>();
  const T* rp = ref.data<T>();
  int64_t* op = idx.data<int64_t>();
  int64_t* cp = count.data<int64_t>();
  const bq_detail::BallQueryBody<T> generic{qp, rp, op, cp, M, N, S, r2};
  if (path == BallQueryPath::generic) {
    Parallel<CpuBackend>::run(B * M, generic, 64);
    return 0;
  }
  std::vector<CellGrid<T>> grids(static_cast<size_t>(B));
  Parallel<CpuBackend>::run(
      B,
      [&](int64_t b) {
        CellGrid<T>& G = grids[static_cast<size_t>(b)];
        if (!build_grid(rp + b * N * 3, N, r2, G)) return G.release();
        if (path == BallQueryPath::automatic && !grid_pays_off(G, qp + b * M * 3, M, N, S, r2)) G.release();
      },
      2);
  int64_t used = 0;
  for (const auto& G : grids) used += G.use ? 1 : 0;
  if (used == 0) {
    Parallel<CpuBackend>::run(B * M, generic, 64);
    return 0;
  }
  Parallel<CpuBackend>::run(
      B * M,
      [&](int64_t i) {
        const CellGrid<T>& G = grids[static_cast<size_t>(i / M)];
        if (!G.use) return generic(i);
        const T* q = qp + i * 3;
        int32_t* hits = hit_buffer(N);
        const int64_t c = grid_hits(G, q[0], q[1], q[2], r2, hits);
        const int64_t k = std::min(c, S);
        if (c > S) std::nth_element(hits, hits + S, hits + c);  // the S smallest indices first
        std::sort(hits, hits + k);
        int64_t* out = op + i * S;
        for (int64_t s = 0; s < k; ++s) out[s] = hits[s];
        const int64_t pad = k > 0 ? out[0] : 0;
        for (int64_t s = k; s < S; ++s) out[s] = pad;
        cp[i] = k;
      },
      64);
  return used;
}

}  // namespace

int64_t ball_query_cpu(const Tensor& query, const Tensor& ref, double r2, int64_t S, const Tensor& idx,
                       const Tensor& count, BallQueryPath path) {
  if (query.numel() == 0) return 0;
  int64_t used = 0;
  dispatch_floating(query.dtype(), "ball_query",
                    [&]<class T>() { used = run_ball_query<T>(query, ref, r2, S, idx, count, path); });
  return used;
}

template <>
struct BallQueryExec<CpuBackend> {
  static void run(const Tensor& query, const Tensor& ref, double r2, int64_t S, const Tensor& idx,
                  const Tensor& count) {
    ball_query_cpu(query, ref, r2, S, idx, count, BallQueryPath::automatic);
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_BALL_QUERY_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
