// CUDA farthest point sampling (FpsExec<CudaBackend>). Work decomposition:
// * OnChip (float32 N <= 8192, float64 N <= 4096): one CTA per cloud; thread t owns points
//   t, t + T, …, t + (P−1)·T (P = 1, 2, 4 or 8 chosen from N, T <= 1024 threads) as x, y, z and
//   the field in REGISTERS (compile-time unrolled, no global traffic per iteration). One
//   iteration = P fused min-update/argmax steps, a butterfly (value, index) arg-max over the
//   warp (__shfl_xor, lowest index on ties), lane 0 writes the warp winner and the lane owning it
//   writes its coordinates to a double-buffered shared slot, ONE __syncthreads, then every warp
//   reduces the ≤ 32 slots itself and reads the winner's coordinates from shared memory (no
//   dependent global load). Seed iterations need no barrier: the seed's coordinates come from
//   global memory and its owner thread writes the radius.
// * Global (any N): the same CTA-per-cloud loop with the field in a global scratch [B, N] and
//   the points re-read from global memory / L2 each iteration.
// * Baseline (benchmarks): pointnet2_ops-style — 512 threads, field in global memory, a
//   shared-memory tree arg-max with a barrier per level, the winner re-read from global memory.
// * Generic: FpsGenericBody (one thread per cloud).
// Distances use fps_sqdist (separately rounded _rn operations), so every path returns exactly
// the CPU's indices.
// Not done yet: several clouds per CTA for tiny N, thread-block clusters for one huge cloud,
// and the bucket (k-d pruned) path for N >= 50k.
#include <climits>

#include "core/parallel_for_cuda.cuh"
#include "kernels/common/fps_impl.h"

namespace pg::kernels {
namespace {

constexpr int kMaxThreads = 1024;
constexpr int kBaselineThreads = 512;

template <class T>
__device__ __forceinline__ void warp_argmax(T& v, int& i) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    const T ov = __shfl_xor_sync(0xffffffffu, v, off);
    const int oi = __shfl_xor_sync(0xffffffffu, i, off);
    if (ov > v || (ov == v && oi < i)) {
      v = ov;
      i = oi;
    }
  }
}

// Double-buffered per-warp winners.
template <class T>
struct FpsSlots {
  T v[2][32];
  int i[2][32];
  T x[2][32], y[2][32], z[2][32];
};

// Block-wide pick of (bv, bi) with coordinates (bx, by, bz) of each thread's candidate. Returns
// the winner in (gv, gi) and its coordinates in (lx, ly, lz) for every thread. One barrier.
template <class T>
__device__ __forceinline__ void block_pick(FpsSlots<T>& sl, int buf, T bv, int bi, T bx, T by, T bz, T& gv, int& gi,
                                           T& lx, T& ly, T& lz) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int nwarps = (blockDim.x + 31) >> 5;
  T wv = bv;
  int wi = bi;
  warp_argmax(wv, wi);
  if (lane == 0) {
    sl.v[buf][warp] = wv;
    sl.i[buf][warp] = wi;
  }
  if (bi == wi) {  // exactly one lane of the warp owns the warp winner
    sl.x[buf][warp] = bx;
    sl.y[buf][warp] = by;
    sl.z[buf][warp] = bz;
  }
  __syncthreads();
  gv = lane < nwarps ? sl.v[buf][lane] : T(-3);
  gi = lane < nwarps ? sl.i[buf][lane] : INT_MAX;
  warp_argmax(gv, gi);
  const int ww = (gi % static_cast<int>(blockDim.x)) >> 5;  // point i is owned by thread i % T
  lx = sl.x[buf][ww];
  ly = sl.y[buf][ww];
  lz = sl.z[buf][ww];
}

template <class T, int P>
__global__ void __launch_bounds__(kMaxThreads)
    fps_onchip_kernel(const T* __restrict__ points, int64_t N, const int64_t* __restrict__ seeds, int64_t S,
                      const int64_t* __restrict__ num_seeds, int64_t m, int64_t* __restrict__ out_idx,
                      T* __restrict__ out_rad) {
  __shared__ FpsSlots<T> sl;
  const int64_t b = blockIdx.x;
  const int tid = threadIdx.x, nt = blockDim.x;
  const T* p = points + b * N * 3;
  T px[P], py[P], pz[P], pd[P];
#pragma unroll
  for (int j = 0; j < P; ++j) {
    const int i = tid + j * nt;
    if (i < N) {
      px[j] = p[i * 3 + 0];
      py[j] = p[i * 3 + 1];
      pz[j] = p[i * 3 + 2];
      pd[j] = nn_detail::inf_value<T>();
    } else {
      px[j] = py[j] = pz[j] = T(0);
      pd[j] = T(-1);  // padding: below every real field value, never picked
    }
  }
  const int64_t* sd = seeds + b * S;
  const int64_t s = num_seeds ? num_seeds[b] : S;
  int64_t* oi = out_idx + b * m;
  T* orad = out_rad + b * m;
  int last = static_cast<int>(sd[0]);
  T lx = p[last * 3 + 0], ly = p[last * 3 + 1], lz = p[last * 3 + 2];
  if (tid == 0) {
    oi[0] = last;
    orad[0] = nn_detail::inf_value<T>();
  }
  for (int64_t it = 1; it < m; ++it) {
    T bv = T(-2), bx = T(0), by = T(0), bz = T(0);
    int bi = INT_MAX;
#pragma unroll
    for (int j = 0; j < P; ++j) {
      pd[j] = fps_detail::fmin_exact(pd[j], fps_detail::fps_sqdist(px[j], py[j], pz[j], lx, ly, lz));
      if (pd[j] > bv) {  // strict: lower index (smaller j) wins ties within the thread
        bv = pd[j];
        bi = tid + j * nt;
        bx = px[j];
        by = py[j];
        bz = pz[j];
      }
    }
    if (it < s) {
      const int pick = static_cast<int>(sd[it]);
      if (pick % nt == tid) {
        const int jj = pick / nt;
        T v = T(0);
#pragma unroll
        for (int j = 0; j < P; ++j) {
          if (j == jj) v = pd[j];
        }
        oi[it] = pick;
        orad[it] = v;
      }
      lx = p[pick * 3 + 0];
      ly = p[pick * 3 + 1];
      lz = p[pick * 3 + 2];
      continue;
    }
    T gv;
    int gi;
    block_pick(sl, static_cast<int>(it & 1), bv, bi, bx, by, bz, gv, gi, lx, ly, lz);
    if (tid == 0) {
      oi[it] = gi;
      orad[it] = gv;
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kMaxThreads)
    fps_global_kernel(const T* __restrict__ points, int64_t N, const int64_t* __restrict__ seeds, int64_t S,
                      const int64_t* __restrict__ num_seeds, int64_t m, int64_t* __restrict__ out_idx,
                      T* __restrict__ out_rad, T* __restrict__ field) {
  __shared__ FpsSlots<T> sl;
  const int64_t b = blockIdx.x;
  const int tid = threadIdx.x, nt = blockDim.x;
  const T* p = points + b * N * 3;
  T* f = field + b * N;
  for (int64_t i = tid; i < N; i += nt) f[i] = nn_detail::inf_value<T>();  // own entries only: no barrier
  const int64_t* sd = seeds + b * S;
  const int64_t s = num_seeds ? num_seeds[b] : S;
  int64_t* oi = out_idx + b * m;
  T* orad = out_rad + b * m;
  int last = static_cast<int>(sd[0]);
  T lx = p[last * 3 + 0], ly = p[last * 3 + 1], lz = p[last * 3 + 2];
  if (tid == 0) {
    oi[0] = last;
    orad[0] = nn_detail::inf_value<T>();
  }
  for (int64_t it = 1; it < m; ++it) {
    T bv = T(-2), bx = T(0), by = T(0), bz = T(0);
    int bi = INT_MAX;
    for (int64_t i = tid; i < N; i += nt) {
      const T x = p[i * 3 + 0], y = p[i * 3 + 1], z = p[i * 3 + 2];
      const T v = fps_detail::fmin_exact(f[i], fps_detail::fps_sqdist(x, y, z, lx, ly, lz));
      f[i] = v;
      if (v > bv) {
        bv = v;
        bi = static_cast<int>(i);
        bx = x;
        by = y;
        bz = z;
      }
    }
    if (it < s) {
      const int pick = static_cast<int>(sd[it]);
      if (pick % nt == tid) {  // the owner wrote f[pick] above
        oi[it] = pick;
        orad[it] = f[pick];
      }
      lx = p[pick * 3 + 0];
      ly = p[pick * 3 + 1];
      lz = p[pick * 3 + 2];
      continue;
    }
    T gv;
    int gi;
    block_pick(sl, static_cast<int>(it & 1), bv, bi, bx, by, bz, gv, gi, lx, ly, lz);
    if (tid == 0) {
      oi[it] = gi;
      orad[it] = gv;
    }
  }
}

// pointnet2_ops-style baseline (same semantics, its structure): shared-memory tree arg-max
// with a barrier per level and the winner's coordinates re-read from global memory.
template <class T>
__global__ void __launch_bounds__(kBaselineThreads)
    fps_baseline_kernel(const T* __restrict__ points, int64_t N, const int64_t* __restrict__ seeds, int64_t S,
                        const int64_t* __restrict__ num_seeds, int64_t m, int64_t* __restrict__ out_idx,
                        T* __restrict__ out_rad, T* __restrict__ field) {
  __shared__ T sv[kBaselineThreads];
  __shared__ int si[kBaselineThreads];
  const int64_t b = blockIdx.x;
  const int tid = threadIdx.x;
  const T* p = points + b * N * 3;
  T* f = field + b * N;
  for (int64_t i = tid; i < N; i += kBaselineThreads) f[i] = nn_detail::inf_value<T>();
  const int64_t* sd = seeds + b * S;
  const int64_t s = num_seeds ? num_seeds[b] : S;
  int64_t* oi = out_idx + b * m;
  T* orad = out_rad + b * m;
  int64_t old = sd[0];
  if (tid == 0) {
    oi[0] = old;
    orad[0] = nn_detail::inf_value<T>();
  }
  for (int64_t it = 1; it < m; ++it) {
    const T lx = p[old * 3 + 0], ly = p[old * 3 + 1], lz = p[old * 3 + 2];
    T bv = T(-2);
    int bi = INT_MAX;
    for (int64_t i = tid; i < N; i += kBaselineThreads) {
      const T v =
          fps_detail::fmin_exact(f[i], fps_detail::fps_sqdist(p[i * 3 + 0], p[i * 3 + 1], p[i * 3 + 2], lx, ly, lz));
      f[i] = v;
      if (v > bv) {
        bv = v;
        bi = static_cast<int>(i);
      }
    }
    sv[tid] = bv;
    si[tid] = bi;
    __syncthreads();
    for (int stride = kBaselineThreads / 2; stride > 0; stride >>= 1) {
      if (tid < stride) {
        const T ov = sv[tid + stride];
        const int o = si[tid + stride];
        if (ov > sv[tid] || (ov == sv[tid] && o < si[tid])) {
          sv[tid] = ov;
          si[tid] = o;
        }
      }
      __syncthreads();
    }
    int64_t pick;
    T rad;
    if (it < s) {
      pick = sd[it];
      rad = f[pick];
    } else {
      pick = si[0];
      rad = sv[0];
    }
    if (tid == 0) {
      oi[it] = pick;
      orad[it] = rad;
    }
    old = pick;
    __syncthreads();  // everyone has read sv[0]/si[0] and f[pick] before the next iteration
  }
}

int round_up32(int64_t n) {
  return static_cast<int>((n + 31) / 32 * 32);
}

struct FpsLaunch {
  const void* points;
  int64_t B, N, S, m;
  const int64_t* seeds;
  const int64_t* num_seeds;
  int64_t* out_idx;
  void* out_rad;
};

template <class T, int P>
void launch_onchip(const FpsLaunch& a) {
  const int threads = std::max(32, std::min(kMaxThreads, round_up32((a.N + P - 1) / P)));
  pg::cuda::launch_kernel("fps_onchip_kernel", fps_onchip_kernel<T, P>, static_cast<unsigned>(a.B), threads, 0,
                          current_cuda_stream(), static_cast<const T*>(a.points), a.N, a.seeds, a.S, a.num_seeds, a.m,
                          a.out_idx, static_cast<T*>(a.out_rad));
}

// Smallest P whose CTA stays <= 512 threads, else the largest P (up to 1024 threads).
template <class T>
void dispatch_onchip(const FpsLaunch& a) {
  constexpr int kMaxP = sizeof(T) == 4 ? 8 : 4;
  if (a.N <= 512) return launch_onchip<T, 1>(a);
  if (a.N <= 1024) return launch_onchip<T, 2>(a);
  if (a.N <= 2048 || kMaxP == 4) return launch_onchip<T, 4>(a);
  if constexpr (kMaxP == 8) return launch_onchip<T, 8>(a);
}

}  // namespace

template <>
struct FpsExec<CudaBackend> {
  static void run(const Tensor& points, const Tensor& seeds, const Tensor& num_seeds, int64_t m, const Tensor& out_idx,
                  const Tensor& out_radius, FpsPath path) {
    const int64_t B = points.size(0), N = points.size(1), S = seeds.size(1);
    const int64_t* ns = num_seeds.defined() ? num_seeds.data<int64_t>() : nullptr;
    const FpsLaunch a{points.raw_data(),    B, N, S, m, seeds.data<int64_t>(), ns, out_idx.data<int64_t>(),
                      out_radius.raw_data()};
    dispatch_floating(points.dtype(), "fps", [&]<class T>() {
      const bool onchip = fps_onchip_fits(N, points.dtype()) && (path == FpsPath::Auto || path == FpsPath::OnChip);
      if (onchip) {
        dispatch_onchip<T>(a);
        return;
      }
      Tensor field = empty({B, N}, points.options());
      if (path == FpsPath::Generic) {
        parallel_for<CudaBackend>(B, fps_detail::FpsGenericBody<T>{points.data<T>(), a.seeds, ns, field.data<T>(),
                                                                   a.out_idx, out_radius.data<T>(), N, S, m});
      } else if (path == FpsPath::Baseline) {
        pg::cuda::launch_kernel("fps_baseline_kernel", fps_baseline_kernel<T>, static_cast<unsigned>(B),
                                kBaselineThreads, 0, current_cuda_stream(), points.data<T>(), N, a.seeds, S, ns, m,
                                a.out_idx, out_radius.data<T>(), field.data<T>());
      } else {
        const int threads = std::max(32, std::min(kMaxThreads, round_up32(N)));
        pg::cuda::launch_kernel("fps_global_kernel", fps_global_kernel<T>, static_cast<unsigned>(B), threads, 0,
                                current_cuda_stream(), points.data<T>(), N, a.seeds, S, ns, m, a.out_idx,
                                out_radius.data<T>(), field.data<T>());
      }
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_FPS_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
