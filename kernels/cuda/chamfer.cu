// CUDA Chamfer / Hausdorff (ChamferExec<CudaBackend>). Work decomposition:
// * Tiled nearest neighbours, BOTH directions in ONE launch: grid.x = B · (blocks_a + blocks_b);
//   a CTA of 256 threads takes 256 query points of one cloud in one direction (a → b for its
//   first blocks_a CTAs, b → a for the rest), keeps each query in registers and streams the
//   other cloud through a shared-memory tile of 512 points (xyz + pad, one coalesced load per
//   thread per half tile, broadcast 16-byte reads), 4× unrolled; running (min, lowest index)
//   in registers.
// * Generic: the thread-per-query kNN body with K = 1, one launch per direction (the naive
//   two-launch baseline).
// * Row statistics: one 256-thread CTA per row: strided float64 sum and (max, lowest index)
//   per thread, then a fixed-order warp-shuffle + shared-memory tree (deterministic).
// Backward: kernels/knn.h nn_backward (gather per query + atomicAdd scatter).
#include <climits>

#include "core/parallel_for_cuda.cuh"
#include "kernels/common/chamfer_impl.h"

namespace pg::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kTile = 512;
constexpr int kRowThreads = 256;

template <class T>
struct __align__(16) P4 {
  T x, y, z, w;
};

template <class T>
__global__ void __launch_bounds__(kThreads)
    chamfer_tiled_kernel(const T* __restrict__ a, const T* __restrict__ b, int64_t N, int64_t M, int64_t blocks_a,
                         int64_t blocks_b, T* __restrict__ dist_a, int64_t* __restrict__ idx_a, T* __restrict__ dist_b,
                         int64_t* __restrict__ idx_b) {
  __shared__ P4<T> tile[kTile];
  const int64_t per_cloud = blocks_a + blocks_b;
  const int64_t c = blockIdx.x / per_cloud;
  const int64_t r = blockIdx.x - c * per_cloud;
  const bool dir_b = r >= blocks_a;  // uniform per CTA
  const int64_t Q = dir_b ? M : N, R = dir_b ? N : M;
  const T* query = (dir_b ? b : a) + c * Q * 3;
  const T* ref = (dir_b ? a : b) + c * R * 3;
  const int64_t q = (dir_b ? r - blocks_a : r) * kThreads + threadIdx.x;
  const bool valid = q < Q;
  T qx = 0, qy = 0, qz = 0;
  if (valid) {
    qx = query[q * 3 + 0];
    qy = query[q * 3 + 1];
    qz = query[q * 3 + 2];
  }
  T best = nn_detail::inf_value<T>();
  int bi = 0;
  for (int64_t t0 = 0; t0 < R; t0 += kTile) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kTile), R - t0));
    __syncthreads();
    for (int t = threadIdx.x; t < n; t += blockDim.x) {
      const T* p = ref + (t0 + t) * 3;
      tile[t] = P4<T>{p[0], p[1], p[2], T(0)};
    }
    __syncthreads();
    if (valid) {
#pragma unroll 4
      for (int j = 0; j < n; ++j) {
        const P4<T> p = tile[j];
        const T v = nn_detail::nn_sqdist(qx, qy, qz, p.x, p.y, p.z);
        if (v < best) {
          best = v;
          bi = static_cast<int>(t0) + j;
        }
      }
    }
  }
  if (valid) {
    T* od = (dir_b ? dist_b : dist_a) + c * Q;
    int64_t* oi = (dir_b ? idx_b : idx_a) + c * Q;
    od[q] = best;
    oi[q] = bi;
  }
}

template <class T>
__global__ void __launch_bounds__(kRowThreads) row_stats_kernel(const T* __restrict__ d, int64_t n, T* __restrict__ sum,
                                                                T* __restrict__ max, int64_t* __restrict__ argmax) {
  __shared__ double ssum[kRowThreads / 32];
  __shared__ T smax[kRowThreads / 32];
  __shared__ int64_t sarg[kRowThreads / 32];
  const int64_t row = blockIdx.x;
  const T* r = d + row * n;
  double s = 0.0;
  T m = -nn_detail::inf_value<T>();
  int64_t am = INT64_MAX;
  for (int64_t i = threadIdx.x; i < n; i += kRowThreads) {
    const T v = r[i];
    s += static_cast<double>(v);
    if (v > m) {  // strict: the lowest index of this thread's share wins ties
      m = v;
      am = i;
    }
  }
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    s += __shfl_down_sync(0xffffffffu, s, off);
    const T om = __shfl_down_sync(0xffffffffu, m, off);
    const int64_t oa = __shfl_down_sync(0xffffffffu, am, off);
    if (om > m || (om == m && oa < am)) {
      m = om;
      am = oa;
    }
  }
  if (lane == 0) {
    ssum[warp] = s;
    smax[warp] = m;
    sarg[warp] = am;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    double ts = ssum[0];
    T tm = smax[0];
    int64_t ta = sarg[0];
    for (int w = 1; w < kRowThreads / 32; ++w) {
      ts += ssum[w];
      if (smax[w] > tm || (smax[w] == tm && sarg[w] < ta)) {
        tm = smax[w];
        ta = sarg[w];
      }
    }
    if (sum) sum[row] = static_cast<T>(ts);
    if (max) max[row] = tm;
    if (argmax) argmax[row] = ta;
  }
}

}  // namespace

template <>
struct ChamferExec<CudaBackend> {
  static void nn(const Tensor& a, const Tensor& b, const Tensor& dist_a, const Tensor& idx_a, const Tensor& dist_b,
                 const Tensor& idx_b, ChamferPath path) {
    const int64_t B = a.size(0), N = a.size(1), M = b.size(1);
    dispatch_floating(a.dtype(), "chamfer", [&]<class T>() {
      if (path == ChamferPath::Generic) {
        if (dist_a.defined()) {
          parallel_for<CudaBackend>(B * N, nn_detail::KnnGenericBody<T>{a.data<T>(), b.data<T>(), dist_a.data<T>(),
                                                                        idx_a.data<int64_t>(), N, M, 1});
        }
        if (dist_b.defined()) {
          parallel_for<CudaBackend>(B * M, nn_detail::KnnGenericBody<T>{b.data<T>(), a.data<T>(), dist_b.data<T>(),
                                                                        idx_b.data<int64_t>(), M, N, 1});
        }
        return;
      }
      const int64_t blocks_a = dist_a.defined() ? (N + kThreads - 1) / kThreads : 0;
      const int64_t blocks_b = dist_b.defined() ? (M + kThreads - 1) / kThreads : 0;
      pg::cuda::launch_kernel(
          "chamfer_tiled_kernel", chamfer_tiled_kernel<T>, static_cast<unsigned>(B * (blocks_a + blocks_b)), kThreads,
          0, current_cuda_stream(), a.data<T>(), b.data<T>(), N, M, blocks_a, blocks_b,
          dist_a.defined() ? dist_a.data<T>() : nullptr, idx_a.defined() ? idx_a.data<int64_t>() : nullptr,
          dist_b.defined() ? dist_b.data<T>() : nullptr, idx_b.defined() ? idx_b.data<int64_t>() : nullptr);
    });
  }
  static void row_stats(const Tensor& d, const Tensor& sum, const Tensor& max, const Tensor& argmax) {
    dispatch_floating(d.dtype(), "row_stats", [&]<class T>() {
      pg::cuda::launch_kernel("row_stats_kernel", row_stats_kernel<T>, static_cast<unsigned>(d.size(0)), kRowThreads, 0,
                              current_cuda_stream(), d.data<T>(), d.size(1), sum.defined() ? sum.data<T>() : nullptr,
                              max.defined() ? max.data<T>() : nullptr,
                              argmax.defined() ? argmax.data<int64_t>() : nullptr);
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_CHAMFER_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
