// CUDA ball query (BallQueryExec<CudaBackend>) and row top-k. Work decomposition:
// * ball query: one thread per query, 256 queries of one cloud per CTA (grid.x = B ·
//   ceil(M/256)). The reference cloud streams through a shared-memory tile of 256 points (SoA,
//   one coalesced load per thread per tile); each thread scans the tile in index order and
//   appends hits to its output row until it has S of them. After every tile the CTA votes
//   (__syncthreads_and) and stops streaming once every query of the CTA is full, so small balls
//   (the usual case: S = 20 of thousands of points) stop early. Distances use the rounded
//   intrinsics of fps_sqdist: hits and their order are identical to the CPU.
// * smallest_k: the shared thread-per-row body through parallel_for (rows are short).
#include "core/parallel_for_cuda.cuh"
#include "kernels/common/ball_query_impl.h"

namespace pg::kernels {
namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void __launch_bounds__(kThreads)
    ball_query_kernel(const T* __restrict__ query, const T* __restrict__ ref, int64_t M, int64_t N, int64_t S,
                      int64_t blocks_per_cloud, T r2, int64_t* __restrict__ idx, int64_t* __restrict__ count) {
  __shared__ T tx[kThreads], ty[kThreads], tz[kThreads];
  const int64_t b = blockIdx.x / blocks_per_cloud;
  const int64_t q = (blockIdx.x - b * blocks_per_cloud) * kThreads + threadIdx.x;
  const bool valid = q < M;
  T qx = 0, qy = 0, qz = 0;
  int64_t* out = nullptr;
  if (valid) {
    const T* p = query + (b * M + q) * 3;
    qx = p[0];
    qy = p[1];
    qz = p[2];
    out = idx + (b * M + q) * S;
  }
  int64_t c = 0;
  const T* rb = ref + b * N * 3;
  for (int64_t t0 = 0; t0 < N; t0 += kThreads) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kThreads), N - t0));
    __syncthreads();
    if (threadIdx.x < n) {
      const T* p = rb + (t0 + threadIdx.x) * 3;
      tx[threadIdx.x] = p[0];
      ty[threadIdx.x] = p[1];
      tz[threadIdx.x] = p[2];
    }
    __syncthreads();
    if (valid && c < S) {
      for (int j = 0; j < n; ++j) {
        const T d = fps_detail::fps_sqdist(qx, qy, qz, tx[j], ty[j], tz[j]);
        if (d < r2) {
          out[c++] = t0 + j;
          if (c == S) break;
        }
      }
    }
    if (__syncthreads_and(!valid || c == S)) break;
  }
  if (valid) {
    const int64_t pad = c > 0 ? out[0] : 0;
    for (int64_t s = c; s < S; ++s) out[s] = pad;
    count[b * M + q] = c;
  }
}

}  // namespace

template <>
struct BallQueryExec<CudaBackend> {
  static void run(const Tensor& query, const Tensor& ref, double r2, int64_t S, const Tensor& idx,
                  const Tensor& count) {
    const int64_t B = query.size(0), M = query.size(1), N = ref.size(1);
    const int64_t bpc = (M + kThreads - 1) / kThreads;
    dispatch_floating(query.dtype(), "ball_query", [&]<class T>() {
      pg::cuda::launch_kernel("ball_query_kernel", ball_query_kernel<T>, static_cast<unsigned>(B * bpc), kThreads, 0,
                              current_cuda_stream(), query.data<T>(), ref.data<T>(), M, N, S, bpc, static_cast<T>(r2),
                              idx.data<int64_t>(), count.data<int64_t>());
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_BALL_QUERY_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
