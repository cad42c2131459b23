// CPU kNN (KnnExec<CpuBackend>). Work decomposition: the reference clouds are copied once to
// SoA (x[], y[], z[]); OpenMP threads take chunks of 8 queries of one cloud; for every tile of
// references (1024 for K = 1, 128 for K > 1; stays in L1 across the chunk) each query computes the tile's
// distances in one vectorised loop (AVX-512 / AVX2 / SSE2 clones chosen at run time) that also
// writes a flag byte per reference (distance below the query's K-th distance at the tile start);
// the flags are scanned 8 at a time and only flagged references go through sorted insertion (K = 1: the loop returns
// the tile minimum and only an improved tile is scanned for its first minimum). References are visited in index order
// and only strictly smaller distances displace entries, so ties keep the lower index.
//
// Compiled without floating-point contraction: every CPU path computes the very same bits as
// the generic body (kernels/common/knn_impl.h).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/common/knn_impl.h"
#include "kernels/cpu/kdtree.h"

#pragma GCC optimize("fp-contract=off")

namespace pg::kernels {
namespace {

constexpr int64_t kTile = 1024;
constexpr int64_t kTileTopK = 128;
constexpr int64_t kQueryChunk = 8;
// Tree thresholds (see tree_wins).
constexpr int64_t kTreeMinRef = 1024;       // any K <= kTreeMaxK
constexpr int64_t kTreeMinRefLargeK = 512;  // K >= kTreeLargeK
constexpr int64_t kTreeLargeK = 16;
constexpr int64_t kTreeMinQuery = 256;
constexpr int64_t kTreeMaxK = 64;
constexpr int64_t kTreeMinRefPerK = 8;

// Distances of one query to n references and a flag byte per reference: distance < thr.
template <class T>
__attribute__((always_inline)) inline void tile_dist_flags_body(const T* __restrict rx, const T* __restrict ry,
                                                                const T* __restrict rz, int64_t n, T qx, T qy, T qz,
                                                                T thr, T* __restrict out, uint8_t* __restrict flags) {
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const T dx = rx[j] - qx;
    const T dy = ry[j] - qy;
    const T dz = rz[j] - qz;
    const T d = (dx * dx + dy * dy) + dz * dz;
    out[j] = d;
    flags[j] = d < thr ? 1 : 0;
  }
}

template <class T>
__attribute__((always_inline)) inline T tile_dist_min_body(const T* __restrict rx, const T* __restrict ry,
                                                           const T* __restrict rz, int64_t n, T qx, T qy, T qz,
                                                           T* __restrict out) {
  T m = nn_detail::inf_value<T>();
#pragma omp simd reduction(min : m)
  for (int64_t j = 0; j < n; ++j) {
    const T dx = rx[j] - qx;
    const T dy = ry[j] - qy;
    const T dz = rz[j] - qz;
    const T d = (dx * dx + dy * dy) + dz * dz;
    out[j] = d;
    m = d < m ? d : m;
  }
  return m;
}

// Note: (rx − qx)² = (qx − rx)² exactly, so these agree bit for bit with nn_sqdist(q, r).
__attribute__((target_clones("avx512f", "avx2", "default"))) void tile_dist_flags(const float* rx, const float* ry,
                                                                                  const float* rz, int64_t n, float qx,
                                                                                  float qy, float qz, float thr,
                                                                                  float* out, uint8_t* flags) {
  tile_dist_flags_body(rx, ry, rz, n, qx, qy, qz, thr, out, flags);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void tile_dist_flags(const double* rx, const double* ry,
                                                                                  const double* rz, int64_t n,
                                                                                  double qx, double qy, double qz,
                                                                                  double thr, double* out,
                                                                                  uint8_t* flags) {
  tile_dist_flags_body(rx, ry, rz, n, qx, qy, qz, thr, out, flags);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) float tile_dist_min(const float* rx, const float* ry,
                                                                                 const float* rz, int64_t n, float qx,
                                                                                 float qy, float qz, float* out) {
  return tile_dist_min_body(rx, ry, rz, n, qx, qy, qz, out);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) double tile_dist_min(const double* rx, const double* ry,
                                                                                  const double* rz, int64_t n,
                                                                                  double qx, double qy, double qz,
                                                                                  double* out) {
  return tile_dist_min_body(rx, ry, rz, n, qx, qy, qz, out);
}

template <class T>
void knn_cpu_fast(const T* query, const T* ref, int64_t B, int64_t Q, int64_t R, int64_t K, T* dist, int64_t* idx) {
  // SoA copy of every reference cloud.
  std::vector<T> soa(static_cast<size_t>(B * R * 3));
  const int nthreads = cpu_num_threads();
#pragma omp parallel for schedule(static) num_threads(nthreads) if (B * R > 65536)
  for (int64_t b = 0; b < B; ++b) {
    T* x = soa.data() + b * R * 3;
    const T* p = ref + b * R * 3;
    for (int64_t j = 0; j < R; ++j) {
      x[j] = p[j * 3 + 0];
      x[R + j] = p[j * 3 + 1];
      x[2 * R + j] = p[j * 3 + 2];
    }
  }
  const int64_t chunks_per_cloud = (Q + kQueryChunk - 1) / kQueryChunk;
  const int64_t nchunks = B * chunks_per_cloud;
#pragma omp parallel num_threads(nthreads) if (nchunks > 1 && B * Q * R > 32768)
  {
    std::vector<T> buf(kTile);
    std::vector<T> thr(kQueryChunk);
    std::vector<uint8_t> flags(kTile + 8, 0);  // + 8: the last 8-byte read may pass n
#pragma omp for schedule(dynamic, 1)
    for (int64_t c = 0; c < nchunks; ++c) {
      const int64_t b = c / chunks_per_cloud;
      const int64_t q0 = (c - b * chunks_per_cloud) * kQueryChunk;
      const int64_t q1 = std::min(Q, q0 + kQueryChunk);
      const T* rx = soa.data() + b * R * 3;
      const T* ry = rx + R;
      const T* rz = ry + R;
      for (int64_t q = q0; q < q1; ++q) {
        T* od = dist + (b * Q + q) * K;
        int64_t* oi = idx + (b * Q + q) * K;
        for (int64_t s = 0; s < K; ++s) {
          od[s] = nn_detail::inf_value<T>();
          oi[s] = -1;
        }
        thr[q - q0] = nn_detail::inf_value<T>();
      }
      // K > 1: short tiles, so the K-th distance that filters the candidates stays fresh.
      const int64_t tile = K == 1 ? kTile : kTileTopK;
      for (int64_t t0 = 0; t0 < R; t0 += tile) {
        const int64_t n = std::min(tile, R - t0);
        for (int64_t q = q0; q < q1; ++q) {
          const T* qp = query + (b * Q + q) * 3;
          T* od = dist + (b * Q + q) * K;
          int64_t* oi = idx + (b * Q + q) * K;
          T& th = thr[q - q0];
          if (K == 1) {
            const T m = tile_dist_min(rx + t0, ry + t0, rz + t0, n, qp[0], qp[1], qp[2], buf.data());
            if (m < th) {
              int64_t j = 0;
              while (buf[j] != m) ++j;
              od[0] = m;
              oi[0] = t0 + j;
              th = m;
            }
          } else {
            // Flags of the candidates (distance below the K-th at the tile start), scanned eight
            // at a time; each candidate is re-tested against the current K-th distance.
            tile_dist_flags(rx + t0, ry + t0, rz + t0, n, qp[0], qp[1], qp[2], th, buf.data(), flags.data());
            std::memset(flags.data() + n, 0, 8);  // no stale flags past the tile's end
            for (int64_t w = 0; w < n; w += 8) {
              uint64_t bits;
              std::memcpy(&bits, flags.data() + w, 8);
              while (bits != 0) {
                const int64_t j = w + (__builtin_ctzll(bits) >> 3);
                bits &= bits - 1;
                if (buf[j] < th) {
                  nn_detail::list_insert(od, oi, 1, K, buf[j], t0 + j);
                  th = od[K - 1];
                }
              }
            }
          }
        }
      }
    }
  }
}

// Auto's choice between the tiled brute force and the k-d tree (kernels/cpu/kdtree.h), from the
// measurements in docs/decisions.md ("Spatial index for kNN", bench_knn knn.tree_vs_tiled.*):
// the tree won at every measured size from R = 1024 (K = 1, 16, 64) and from R = 512 for
// K >= 16; brute force stays for smaller clouds, for K above the measured 64 or above R / 8, and
// for few queries, where the O(R log R) build would cost more than the Q·R scan.
bool tree_wins(int64_t Q, int64_t R, int64_t K) {
  const bool big_enough = R >= kTreeMinRef || (R >= kTreeMinRefLargeK && K >= kTreeLargeK);
  return big_enough && Q >= kTreeMinQuery && K <= kTreeMaxK && K * kTreeMinRefPerK <= R;
}

}  // namespace

template <>
struct KnnExec<CpuBackend> {
  static void forward(const Tensor& query, const Tensor& ref, int64_t k, const Tensor& dist2, const Tensor& idx,
                      KnnImpl path) {
    const int64_t B = query.size(0), Q = query.size(1), R = ref.size(1);
    dispatch_floating(query.dtype(), "knn", [&]<class T>() {
      if (path == KnnImpl::Generic) {
        nn_detail::run_heavy<CpuBackend>(
            B * Q, nn_detail::KnnGenericBody<T>{query.data<T>(), ref.data<T>(), dist2.data<T>(), idx.data<int64_t>(), Q,
                                                R, k});
      } else if (path == KnnImpl::Tree ||
                 ((path == KnnImpl::Auto || path == KnnImpl::Grid) && tree_wins(Q, R, k))) {  // Grid: CUDA only
        knn_kdtree(query.data<T>(), ref.data<T>(), B, Q, R, k, dist2.data<T>(), idx.data<int64_t>());
      } else {
        knn_cpu_fast<T>(query.data<T>(), ref.data<T>(), B, Q, R, k, dist2.data<T>(), idx.data<int64_t>());
      }
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_KNN_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
