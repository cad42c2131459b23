// CUDA reductions. Work decomposition (ReduceExec<CudaBackend>); every output o reduces R
// elements, and the reduced range may be split into `nsplit` chunks:
// * thread kernel — one thread per (output, chunk), a sequential loop over the chunk. Used when R
//   is small (<= 32), and for "column" layouts (consecutive outputs are consecutive in memory,
//   the reduced elements strided, e.g. summing [N, C] over N with C >= 32): adjacent threads
//   take adjacent outputs, so every load instruction of a warp is coalesced.
// * group kernel — a group of G threads (G = 32..256, a power of two sized from R) per
//   (output, chunk) inside 256-thread blocks: threads stride over the chunk (4 loads in flight),
//   then a warp-shuffle tree and, for G > 32, a shared-memory step across the group's warps.
//   One warp per output for moderate R, one block per output for large R.
// * Few outputs with a large R (down to a full reduction of a huge tensor): R is split into
//   chunks so that ~2^18 threads are busy (all SMs work); each (output, chunk) writes its
//   partial accumulator to a workspace, and a finalize kernel (one warp per output) combines
//   the partials in a fixed tree order. This two-pass scheme uses no atomics, so repeated runs
//   are bit-identical; Max/Min break ties on the reduced index, so their result equals the CPU's.
#include <algorithm>
#include <bit>

#include "core/parallel_for_cuda.cuh"
#include "kernels/common/reduce_impl.h"

namespace pg::kernels {
namespace reduce_detail {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kTargetThreads = int64_t(1) << 18;  // enough to fill an H100/H200

template <class A>
__device__ __forceinline__ A shfl_down(const A& v, int delta) {
  static_assert(sizeof(A) % 4 == 0, "accumulator size must be a multiple of 4 bytes");
  constexpr int W = sizeof(A) / 4;
  uint32_t w[W];
  memcpy(w, &v, sizeof(A));
#pragma unroll
  for (int k = 0; k < W; ++k) w[k] = __shfl_down_sync(0xffffffffu, w[k], delta);
  A out;
  memcpy(&out, w, sizeof(A));
  return out;
}

// Tree reduction over the 32 lanes of a warp; lane 0 holds the result.
template <class Red>
__device__ __forceinline__ typename Red::acc_t warp_reduce(const Red& red, typename Red::acc_t a) {
#pragma unroll
  for (int d = 16; d > 0; d >>= 1) a = red.combine(a, shfl_down(a, d));
  return a;
}

// Offset of reduced element r, general rank (div/mod).
__device__ __forceinline__ int64_t red_offset(const StridedIndexer<1>& ix, int64_t r) {
  return offset_of(ix, r);
}

template <class Red>
__global__ void reduce_thread_kernel(const typename Red::in_t* __restrict__ x, Red red, ReduceGeom g, int64_t nsplit,
                                     int64_t chunk, typename Red::acc_t* __restrict__ partial) {
  using A = typename Red::acc_t;
  const int64_t items = g.n_out * nsplit;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t it = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; it < items; it += stride) {
    const int64_t o = it % g.n_out, s = it / g.n_out;
    const int64_t r0 = s * chunk, r1 = r0 + chunk < g.R ? r0 + chunk : g.R;
    const typename Red::in_t* base = x + offset_of(g.outer, o);
    A a = red.init();
    if (g.red.ndim <= 1) {
      const int64_t rs = g.red.ndim ? g.red.strides[0][0] : 0;
      for (int64_t r = r0; r < r1; ++r) a = red.reduce(a, base[r * rs], r);
    } else {
      for (int64_t r = r0; r < r1; ++r) a = red.reduce(a, base[red_offset(g.red, r)], r);
    }
    if (nsplit == 1) {
      red.write(o, a);
    } else {
      partial[s * g.n_out + o] = a;
    }
  }
}

template <class Red>
__global__ void __launch_bounds__(kThreads)
    reduce_group_kernel(const typename Red::in_t* __restrict__ x, Red red, ReduceGeom g, int G, int64_t nsplit,
                        int64_t chunk, typename Red::acc_t* __restrict__ partial) {
  using A = typename Red::acc_t;
  using T = typename Red::in_t;
  __shared__ A warp_acc[kThreads / 32];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int per_block = kThreads / G;
  const int gl = tid % G;  // thread within its group
  const int64_t items = g.n_out * nsplit;
  for (int64_t blk = blockIdx.x; blk * per_block < items; blk += gridDim.x) {
    const int64_t it = blk * per_block + tid / G;
    A a = red.init();
    if (it < items) {
      const int64_t o = it / nsplit, s = it % nsplit;
      const int64_t r0 = s * chunk, r1 = r0 + chunk < g.R ? r0 + chunk : g.R;
      const T* base = x + offset_of(g.outer, o);
      int64_t r = r0 + gl;
      if (g.red.ndim <= 1) {
        const int64_t rs = g.red.ndim ? g.red.strides[0][0] : 0;
        for (; r + 3 * G < r1; r += 4 * G) {
          const T v0 = base[r * rs], v1 = base[(r + G) * rs], v2 = base[(r + 2 * G) * rs], v3 = base[(r + 3 * G) * rs];
          a = red.reduce(a, v0, r);
          a = red.reduce(a, v1, r + G);
          a = red.reduce(a, v2, r + 2 * G);
          a = red.reduce(a, v3, r + 3 * G);
        }
        for (; r < r1; r += G) a = red.reduce(a, base[r * rs], r);
      } else {
        for (; r < r1; r += G) a = red.reduce(a, base[red_offset(g.red, r)], r);
      }
    }
    a = warp_reduce(red, a);
    if (G > 32) {
      if (lane == 0) warp_acc[warp] = a;
      __syncthreads();
      if (gl < 32) {
        a = lane < G / 32 ? warp_acc[warp + lane] : red.init();
        a = warp_reduce(red, a);
      }
      __syncthreads();
    }
    if (gl == 0 && it < items) {
      if (nsplit == 1) {
        red.write(it, a);
      } else {
        const int64_t o = it / nsplit, s = it % nsplit;
        partial[s * g.n_out + o] = a;
      }
    }
  }
}

// One warp per output: combines the nsplit partials (lane l takes chunks l, l+32, ... in order,
// then a shuffle tree), so the combination order is fixed.
template <class Red>
__global__ void reduce_finalize_kernel(Red red, const typename Red::acc_t* __restrict__ partial, int64_t n_out,
                                       int64_t nsplit) {
  using A = typename Red::acc_t;
  const int lane = threadIdx.x & 31;
  const int64_t warps = (static_cast<int64_t>(blockDim.x) * gridDim.x) / 32;
  for (int64_t o = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32; o < n_out; o += warps) {
    A a = red.init();
    for (int64_t s = lane; s < nsplit; s += 32) a = red.combine(a, partial[s * n_out + o]);
    a = warp_reduce(red, a);
    if (lane == 0) red.write(o, a);
  }
}

}  // namespace

template <>
struct ReduceExec<CudaBackend> {
  template <class Red>
  static void run(const ReduceGeom& g, const typename Red::in_t* x, const Red& red) {
    using A = typename Red::acc_t;
    const int64_t n_out = g.n_out, R = g.R;
    const cudaStream_t stream = current_cuda_stream();
    const bool column = n_out >= 32 && g.outer.ndim > 0 && ReduceGeom::inner_stride(g.outer) == 1 &&
                        ReduceGeom::inner_size(g.outer) >= 32 && g.red.ndim > 0 && ReduceGeom::inner_stride(g.red) != 1;
    const bool thread_path = R <= 32 || column;
    int G = 32;
    int64_t nsplit = 1;
    if (thread_path) {
      if (R > 64 && n_out < kTargetThreads) nsplit = std::min((kTargetThreads + n_out - 1) / n_out, R / 32);
    } else {
      G = static_cast<int>(
          std::clamp<int64_t>(static_cast<int64_t>(std::bit_floor(static_cast<uint64_t>(R / 8))), 32, kThreads));
      const int64_t groups_wanted = kTargetThreads / G;
      if (n_out < groups_wanted) nsplit = std::min((groups_wanted + n_out - 1) / n_out, R / (16 * G));
    }
    nsplit = std::max<int64_t>(nsplit, 1);
    const int64_t chunk = (R + nsplit - 1) / nsplit;
    if (nsplit > 1) nsplit = (R + chunk - 1) / chunk;

    Tensor ws;
    A* partial = nullptr;
    if (nsplit > 1) {
      ws = empty({static_cast<int64_t>(sizeof(A)) * n_out * nsplit}, TensorOptions(DType::u8, Device::cuda(g.device)));
      partial = static_cast<A*>(ws.raw_data());
    }
    const int64_t items = n_out * nsplit;
    if (thread_path) {
      pg::cuda::launch_kernel("reduce_thread_kernel", reduce_thread_kernel<Red>, grid_for(items, kThreads), kThreads, 0,
                              stream, x, red, g, nsplit, chunk, partial);
    } else {
      pg::cuda::launch_kernel("reduce_group_kernel", reduce_group_kernel<Red>, grid_for(items * G, kThreads), kThreads,
                              0, stream, x, red, g, G, nsplit, chunk, partial);
    }
    if (nsplit > 1) {
      pg::cuda::launch_kernel("reduce_finalize_kernel", reduce_finalize_kernel<Red>, grid_for(n_out * 32, kThreads),
                              kThreads, 0, stream, red, partial, n_out, nsplit);
    }
  }
};

}  // namespace reduce_detail

PG_INSTANTIATE_LAUNCHERS(PG_REDUCE_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
