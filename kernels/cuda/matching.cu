// CUDA first-occurrence unique (MatchingExec<CudaBackend>). Work decomposition: one CTA of 512
// threads per cloud and a scratch `first` [B, N] int32 in global memory (no zero-fill: only
// the entries the cloud touches are reset). Three block-wide phases separated by barriers:
//   1. first[nn[j]] = INT_MAX for every j (strided over the M entries);
//   2. atomicMin(first[nn[j]], j)  → first[v] is the position of v's first occurrence;
//   3. in chunks of 512 entries: keep[j] = (first[nn[j]] == j); a warp-shuffle block exclusive
//      scan of keep gives each kept entry its output slot (running base across chunks).
// The output order is therefore exactly the serial first-occurrence order (deterministic, no
// dependence on scheduling), identical to the CPU body. Padding and the count follow.
#include <climits>

#include "core/parallel_for_cuda.cuh"
#include "kernels/common/matching_impl.h"

namespace pg::kernels {
namespace {

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;

__global__ void __launch_bounds__(kThreads)
    unique_first_kernel(const int64_t* __restrict__ nn, int* __restrict__ first, int64_t* __restrict__ uniq,
                        int64_t* __restrict__ count, int64_t M, int64_t N, int64_t m) {
  __shared__ int warp_sums[kWarps];
  const int64_t b = blockIdx.x;
  const int64_t* in = nn + b * M;
  int* f = first + b * N;
  int64_t* out = uniq + b * M;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  for (int64_t j = tid; j < M; j += kThreads) f[in[j]] = INT_MAX;
  __syncthreads();
  for (int64_t j = tid; j < M; j += kThreads) atomicMin(f + in[j], static_cast<int>(j));
  __syncthreads();
  int64_t base = 0;
  for (int64_t c0 = 0; c0 < M; c0 += kThreads) {
    const int64_t j = c0 + tid;
    int64_t v = 0;
    int keep = 0;
    if (j < M) {
      v = in[j];
      keep = f[v] == static_cast<int>(j) ? 1 : 0;
    }
    int incl = keep;  // inclusive scan within the warp
#pragma unroll
    for (int o = 1; o < 32; o <<= 1) {
      const int t = __shfl_up_sync(0xffffffffu, incl, o);
      if (lane >= o) incl += t;
    }
    if (lane == 31) warp_sums[warp] = incl;
    __syncthreads();
    if (warp == 0) {
      int s = lane < kWarps ? warp_sums[lane] : 0;
#pragma unroll
      for (int o = 1; o < 32; o <<= 1) {
        const int t = __shfl_up_sync(0xffffffffu, s, o);
        if (lane >= o) s += t;
      }
      __syncwarp();
      if (lane < kWarps) warp_sums[lane] = s;  // inclusive warp offsets
    }
    __syncthreads();
    const int warp_off = warp > 0 ? warp_sums[warp - 1] : 0;
    if (keep) out[base + warp_off + incl - 1] = v;
    base += warp_sums[kWarps - 1];
    __syncthreads();  // warp_sums is rewritten by the next chunk
  }
  const int64_t pad = out[0];
  for (int64_t j = base + tid; j < M; j += kThreads) out[j] = pad;
  if (tid == 0) count[b] = base < m ? base : m;
}

}  // namespace

template <>
struct MatchingExec<CudaBackend> {
  static void unique(const Tensor& nn, int64_t N, int64_t m, const Tensor& uniq, const Tensor& count) {
    const int64_t B = nn.size(0), M = nn.size(1);
    Tensor first = empty({B, N}, TensorOptions(DType::i32, nn.device()));
    pg::cuda::launch_kernel("unique_first_kernel", unique_first_kernel, static_cast<unsigned>(B), kThreads, 0,
                            current_cuda_stream(), nn.data<int64_t>(), first.data<int32_t>(), uniq.data<int64_t>(),
                            count.data<int64_t>(), M, N, m);
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_MATCHING_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
