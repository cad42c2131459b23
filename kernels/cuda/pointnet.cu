// CUDA point-cloud layer kernels (Fast path; Generic runs the shared bodies through parallel_for).
//
// Per-channel reductions over z [R, C] (channel_stats, act_backward_reduce): 256-thread blocks of
// 32 channels × 8 row lanes. grid = (ceil(C / 32), S): block (t, s) owns channel tile t and the
// row range s·rows_per_split … (s+1)·rows_per_split; a warp reads 32 consecutive channels of one
// row (one coalesced 128-byte line for float32) and its lanes step over rows by 8. Every thread
// accumulates float64 (shifted by row 0 for the statistics); the 8 row lanes are merged through
// shared memory in lane order, and with S > 1 the per-split partials go to a [S, C] workspace that
// a finalize kernel adds in split order. No atomics: results are bit-reproducible run to run.
// S is chosen so that about 4 blocks per SM are busy (never more splits than rows / 64).
// act_backward_reduce also writes dz = coef·gu in the same sweep when asked.
//
// Epilogues (affine_act, bn_backward_apply): grid-stride, one thread per 16-byte vector (float4 /
// double2) when C is a multiple of the vector width and the pointers are aligned, else one
// thread per element; per-channel parameters come through L1.
//
// max_pool_points: blocks of 32 channels × 8 point lanes, grid = (ceil(C / 32), B, S). Each
// thread scans its points in ascending order (strict > keeps the lowest index), the 8 lanes merge
// through shared memory with the (value, index) order of pool_better (ties → lower index, NaN
// wins); with S > 1 point chunks, per-chunk (value, index) partials are merged in chunk order by
// a second kernel. Loads are coalesced along C. S > 1 only when B · ceil(C / 32) blocks cannot
// fill the GPU.
#include <algorithm>
#include <cstdint>

#include "core/parallel_for_cuda.cuh"
#include "kernels/common/pointnet_impl.h"

namespace pg::kernels {

namespace {

using namespace pn_detail;

constexpr int kTC = 32;  // channels per tile (one warp)
constexpr int kTR = 8;   // row / point lanes per block
constexpr int kThreads = kTC * kTR;

struct Acc2 {
  double a, b;
};

// Splits of R rows for C channels: ~4 blocks per SM, at least 64 rows per split.
int64_t row_splits(int64_t R, int64_t C) {
  const int64_t tiles = (C + kTC - 1) / kTC;
  const int64_t want = std::max<int64_t>(1, (4 * detail::cuda_sm_count() + tiles - 1) / tiles);
  const int64_t by_rows = std::max<int64_t>(1, R / 64);
  return std::min<int64_t>({want, by_rows, 65535});
}

// Merges the 8 row lanes of a block in lane order; lane ty == 0 returns the total.
__device__ __forceinline__ Acc2 merge_lanes(Acc2 v, Acc2 (*sm)[kTC]) {
  sm[threadIdx.y][threadIdx.x] = v;
  __syncthreads();
  Acc2 r{0.0, 0.0};
  if (threadIdx.y == 0) {
#pragma unroll
    for (int j = 0; j < kTR; ++j) {
      r.a += sm[j][threadIdx.x].a;
      r.b += sm[j][threadIdx.x].b;
    }
  }
  return r;
}

template <class T>
__device__ __forceinline__ void write_stats(T* mean, T* var, int64_t c, double k, double s, double ss, int64_t R) {
  const double m = s / static_cast<double>(R);
  const double v = ss / static_cast<double>(R) - m * m;
  mean[c] = static_cast<T>(k + m);
  var[c] = static_cast<T>(v > 0.0 ? v : 0.0);
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    stats_kernel(const T* __restrict__ z, int64_t R, int64_t C, int64_t rps, Acc2* __restrict__ part,
                 T* __restrict__ mean, T* __restrict__ var) {
  __shared__ Acc2 sm[kTR][kTC];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kTC + threadIdx.x;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * rps;
  const int64_t r1 = r0 + rps < R ? r0 + rps : R;
  Acc2 acc{0.0, 0.0};
  double k = 0.0;
  if (c < C) {
    k = static_cast<double>(z[c]);
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kTR) {
      const double d = static_cast<double>(z[r * C + c]) - k;
      acc.a += d;
      acc.b += d * d;
    }
  }
  const Acc2 tot = merge_lanes(acc, sm);
  if (threadIdx.y != 0 || c >= C) return;
  if (gridDim.y == 1) {
    write_stats(mean, var, c, k, tot.a, tot.b, R);
  } else {
    part[static_cast<int64_t>(blockIdx.y) * C + c] = tot;
  }
}

template <class T>
__global__ void stats_finalize_kernel(const T* __restrict__ z, const Acc2* __restrict__ part, int64_t S, int64_t R,
                                      int64_t C, T* __restrict__ mean, T* __restrict__ var) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= C) return;
  double s = 0.0, ss = 0.0;
  for (int64_t j = 0; j < S; ++j) {
    s += part[j * C + c].a;
    ss += part[j * C + c].b;
  }
  write_stats(mean, var, c, static_cast<double>(z[c]), s, ss, R);
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    bwd_reduce_kernel(const T* __restrict__ gy, const T* __restrict__ z, const T* __restrict__ scale,
                      const T* __restrict__ shift, const T* __restrict__ center, const T* __restrict__ invstd,
                      const T* __restrict__ coef, T* __restrict__ gz, Act act, T slope, int64_t R, int64_t C,
                      int64_t rps, bool want_x, Acc2* __restrict__ part, T* __restrict__ sum_g,
                      T* __restrict__ sum_gx) {
  __shared__ Acc2 sm[kTR][kTC];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kTC + threadIdx.x;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * rps;
  const int64_t r1 = r0 + rps < R ? r0 + rps : R;
  Acc2 acc{0.0, 0.0};
  if (c < C) {
    const T sc = scale[c], sh = shift[c], ce = center[c], iv = invstd[c];
    const T co = coef ? coef[c] : T(1);
    for (int64_t r = r0 + threadIdx.y; r < r1; r += kTR) {
      const int64_t k = r * C + c;
      const T zz = z[k];
      const T gu = grad_u(gy[k], zz, sc, sh, act, slope);
      acc.a += static_cast<double>(gu);
      if (want_x) acc.b += static_cast<double>(gu) * static_cast<double>((zz - ce) * iv);
      if (gz) gz[k] = co * gu;
    }
  }
  const Acc2 tot = merge_lanes(acc, sm);
  if (threadIdx.y != 0 || c >= C) return;
  if (gridDim.y == 1) {
    sum_g[c] = static_cast<T>(tot.a);
    if (sum_gx) sum_gx[c] = static_cast<T>(tot.b);
  } else {
    part[static_cast<int64_t>(blockIdx.y) * C + c] = tot;
  }
}

template <class T>
__global__ void sums_finalize_kernel(const Acc2* __restrict__ part, int64_t S, int64_t C, T* __restrict__ sum_g,
                                     T* __restrict__ sum_gx) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= C) return;
  double s = 0.0, sx = 0.0;
  for (int64_t j = 0; j < S; ++j) {
    s += part[j * C + c].a;
    sx += part[j * C + c].b;
  }
  sum_g[c] = static_cast<T>(s);
  if (sum_gx) sum_gx[c] = static_cast<T>(sx);
}

// ---- vectorised epilogues ----

template <class T>
struct Vec16;
template <>
struct Vec16<float> {
  using type = float4;
  static constexpr int n = 4;
};
template <>
struct Vec16<double> {
  using type = double2;
  static constexpr int n = 2;
};

template <class T>
union VecU {
  typename Vec16<T>::type v;
  T s[Vec16<T>::n];
};

// `out` may be `z` (in place), so neither is __restrict__.
template <class T>
__global__ void affine_act_vec_kernel(const T* z, T* out, const T* __restrict__ scale, const T* __restrict__ shift,
                                      int64_t nvec, int64_t C, Act act, T slope) {
  constexpr int V = Vec16<T>::n;
  using VT = typename Vec16<T>::type;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t v = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; v < nvec; v += stride) {
    const int64_t k0 = v * V, c0 = k0 % C;
    VecU<T> in, o;
    in.v = reinterpret_cast<const VT*>(z)[v];
#pragma unroll
    for (int j = 0; j < V; ++j) o.s[j] = act_fwd(scale[c0 + j] * in.s[j] + shift[c0 + j], act, slope);
    reinterpret_cast<VT*>(out)[v] = o.v;
  }
}

template <class T>
__global__ void bn_apply_vec_kernel(const T* __restrict__ gy, const T* __restrict__ z, const T* __restrict__ scale,
                                    const T* __restrict__ shift, const T* __restrict__ center,
                                    const T* __restrict__ invstd, const T* __restrict__ cb, const T* __restrict__ cd,
                                    T* __restrict__ gz, int64_t nvec, int64_t C, Act act, T slope) {
  constexpr int V = Vec16<T>::n;
  using VT = typename Vec16<T>::type;
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  for (int64_t v = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; v < nvec; v += stride) {
    const int64_t k0 = v * V, c0 = k0 % C;
    VecU<T> g, zz, o;
    g.v = reinterpret_cast<const VT*>(gy)[v];
    zz.v = reinterpret_cast<const VT*>(z)[v];
#pragma unroll
    for (int j = 0; j < V; ++j) {
      const int64_t c = c0 + j;
      o.s[j] = bn_bwd_elem(g.s[j], zz.s[j], scale[c], shift[c], center[c], invstd[c], cb[c], cd[c], act, slope);
    }
    reinterpret_cast<VT*>(gz)[v] = o.v;
  }
}

template <class T>
bool vec_ok(int64_t C, std::initializer_list<const Tensor*> ts) {
  if (C % Vec16<T>::n != 0) return false;
  for (const Tensor* t : ts) {
    if (reinterpret_cast<uintptr_t>(t->raw_data()) % 16 != 0) return false;
  }
  return true;
}

// ---- max-pool ----

template <class T>
__device__ __forceinline__ void pool_take(T& best, int64_t& bi, T v, int64_t i) {
  if (i < 0) return;
  if (bi < 0 || pool_better(v, i, best, bi)) {
    best = v;
    bi = i;
  }
}

template <class T>
__global__ void __launch_bounds__(kThreads)
    maxpool_kernel(const T* __restrict__ x, int64_t N, int64_t C, int64_t chunk, T* __restrict__ values,
                   int64_t* __restrict__ indices, T* __restrict__ pv, int64_t* __restrict__ pi) {
  __shared__ T sv[kTR][kTC];
  __shared__ int64_t si[kTR][kTC];
  const int64_t c = static_cast<int64_t>(blockIdx.x) * kTC + threadIdx.x;
  const int64_t b = blockIdx.y, s = blockIdx.z, B = gridDim.y;
  const int64_t n0 = s * chunk;
  const int64_t n1 = n0 + chunk < N ? n0 + chunk : N;
  T best = T(0);
  int64_t bi = -1;
  if (c < C) {
    const T* p = x + b * N * C + c;
    for (int64_t n = n0 + threadIdx.y; n < n1; n += kTR) pool_take(best, bi, p[n * C], n);
  }
  sv[threadIdx.y][threadIdx.x] = best;
  si[threadIdx.y][threadIdx.x] = bi;
  __syncthreads();
  if (threadIdx.y != 0 || c >= C) return;
#pragma unroll
  for (int j = 1; j < kTR; ++j) pool_take(best, bi, sv[j][threadIdx.x], si[j][threadIdx.x]);
  if (gridDim.z == 1) {
    values[b * C + c] = best;
    indices[b * C + c] = bi;
  } else {
    pv[(s * B + b) * C + c] = best;
    pi[(s * B + b) * C + c] = bi;
  }
}

template <class T>
__global__ void maxpool_merge_kernel(const T* __restrict__ pv, const int64_t* __restrict__ pi, int64_t S, int64_t BC,
                                     T* __restrict__ values, int64_t* __restrict__ indices) {
  const int64_t o = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (o >= BC) return;
  T best = T(0);
  int64_t bi = -1;
  for (int64_t s = 0; s < S; ++s) pool_take(best, bi, pv[s * BC + o], pi[s * BC + o]);
  values[o] = best;
  indices[o] = bi;
}

}  // namespace

template <>
void channel_stats<CudaBackend>(const Tensor& z, const Tensor& mean, const Tensor& var, PointnetPath path) {
  if (path == PointnetPath::Generic) return generic_channel_stats<CudaBackend>(z, mean, var);
  const int64_t R = z.size(0), C = z.size(1);
  if (R == 0 || C == 0) return;
  const int64_t S = row_splits(R, C);
  const int64_t rps = (R + S - 1) / S;
  const int64_t tiles = (C + kTC - 1) / kTC;
  Tensor part = S > 1 ? empty({S, C, 2}, TensorOptions(DType::f64, z.device())) : Tensor();
  Acc2* pp = S > 1 ? static_cast<Acc2*>(part.raw_data()) : nullptr;
  dispatch_floating(z.dtype(), "channel_stats", [&]<class T>() {
    const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(S));
    pg::cuda::launch_kernel("stats_kernel", stats_kernel<T>, grid, dim3(kTC, kTR), 0, current_cuda_stream(), ptr<T>(z),
                            R, C, rps, pp, ptr<T>(mean), ptr<T>(var));
    if (S > 1) {
      pg::cuda::launch_kernel("stats_finalize_kernel", stats_finalize_kernel<T>, static_cast<unsigned>((C + 255) / 256),
                              256, 0, current_cuda_stream(), ptr<T>(z), pp, S, R, C, ptr<T>(mean), ptr<T>(var));
    }
  });
}

template <>
void affine_act<CudaBackend>(const Tensor& z, const Tensor& scale, const Tensor& shift, const Tensor& out, Act act,
                             double slope, PointnetPath path) {
  const int64_t C = z.size(1);
  const int64_t n = z.numel();
  if (n == 0) return;
  const bool fast = path != PointnetPath::Generic;
  dispatch_floating(z.dtype(), "affine_act", [&]<class T>() {
    if (fast && vec_ok<T>(C, {&z, &out})) {
      const int64_t nvec = n / Vec16<T>::n;
      pg::cuda::launch_kernel("affine_act_vec_kernel", affine_act_vec_kernel<T>, grid_for(nvec, 256), 256, 0,
                              current_cuda_stream(), ptr<T>(z), ptr<T>(out), ptr<T>(scale), ptr<T>(shift), nvec, C, act,
                              static_cast<T>(slope));
    } else {
      generic_affine_act<CudaBackend>(z, scale, shift, out, act, slope);
    }
  });
}

template <>
void act_backward_reduce<CudaBackend>(const Tensor& gy, const Tensor& z, const Tensor& scale, const Tensor& shift,
                                      const Tensor& center, const Tensor& invstd, Act act, double slope,
                                      const Tensor& sum_g, const Tensor& sum_gx, const Tensor& gz, const Tensor& coef,
                                      PointnetPath path) {
  if (path == PointnetPath::Generic) {
    return generic_act_backward_reduce<CudaBackend>(gy, z, scale, shift, center, invstd, act, slope, sum_g, sum_gx, gz,
                                                    coef);
  }
  const int64_t R = z.size(0), C = z.size(1);
  if (C == 0) return;
  const int64_t S = std::max<int64_t>(1, row_splits(R, C));
  const int64_t rps = std::max<int64_t>(1, (R + S - 1) / S);
  const int64_t tiles = (C + kTC - 1) / kTC;
  Tensor part = S > 1 ? empty({S, C, 2}, TensorOptions(DType::f64, z.device())) : Tensor();
  Acc2* pp = S > 1 ? static_cast<Acc2*>(part.raw_data()) : nullptr;
  dispatch_floating(z.dtype(), "act_backward_reduce", [&]<class T>() {
    const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(S));
    pg::cuda::launch_kernel("bwd_reduce_kernel", bwd_reduce_kernel<T>, grid, dim3(kTC, kTR), 0, current_cuda_stream(),
                            ptr<T>(gy), ptr<T>(z), ptr<T>(scale), ptr<T>(shift), ptr<T>(center), ptr<T>(invstd),
                            ptr<T>(coef), ptr<T>(gz), act, static_cast<T>(slope), R, C, rps, sum_gx.defined(), pp,
                            ptr<T>(sum_g), ptr<T>(sum_gx));
    if (S > 1) {
      pg::cuda::launch_kernel("sums_finalize_kernel", sums_finalize_kernel<T>, static_cast<unsigned>((C + 255) / 256),
                              256, 0, current_cuda_stream(), pp, S, C, ptr<T>(sum_g), ptr<T>(sum_gx));
    }
  });
}

template <>
void bn_backward_apply<CudaBackend>(const Tensor& gy, const Tensor& z, const Tensor& scale, const Tensor& shift,
                                    const Tensor& center, const Tensor& invstd, Act act, double slope, const Tensor& cb,
                                    const Tensor& cd, const Tensor& gz, PointnetPath path) {
  const int64_t C = z.size(1);
  const int64_t n = z.numel();
  if (n == 0) return;
  const bool fast = path != PointnetPath::Generic;
  dispatch_floating(z.dtype(), "bn_backward_apply", [&]<class T>() {
    if (fast && vec_ok<T>(C, {&gy, &z, &gz})) {
      const int64_t nvec = n / Vec16<T>::n;
      pg::cuda::launch_kernel("bn_apply_vec_kernel", bn_apply_vec_kernel<T>, grid_for(nvec, 256), 256, 0,
                              current_cuda_stream(), ptr<T>(gy), ptr<T>(z), ptr<T>(scale), ptr<T>(shift),
                              ptr<T>(center), ptr<T>(invstd), ptr<T>(cb), ptr<T>(cd), ptr<T>(gz), nvec, C, act,
                              static_cast<T>(slope));
    } else {
      generic_bn_backward_apply<CudaBackend>(gy, z, scale, shift, center, invstd, act, slope, cb, cd, gz);
    }
  });
}

template <>
void max_pool_points<CudaBackend>(const Tensor& x, const Tensor& values, const Tensor& indices, PointnetPath path,
                                  int split) {
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
  if (B == 0 || C == 0) return;
  if (path == PointnetPath::Generic || B > 65535) return generic_max_pool_points<CudaBackend>(x, values, indices);
  const int64_t tiles = (C + kTC - 1) / kTC;
  int64_t S = split;
  if (S <= 0) {
    const int64_t blocks = tiles * B;
    const int64_t target = 2 * static_cast<int64_t>(detail::cuda_sm_count());
    S = blocks >= target ? 1 : std::min<int64_t>((target + blocks - 1) / blocks, std::max<int64_t>(1, N / 64));
  }
  S = std::clamp<int64_t>(S, 1, std::min<int64_t>(N, 65535));
  const int64_t chunk = (N + S - 1) / S;
  S = (N + chunk - 1) / chunk;  // no empty chunks
  dispatch_floating(x.dtype(), "max_pool_points", [&]<class T>() {
    Tensor pv = S > 1 ? empty({S, B, C}, x.options()) : Tensor();
    Tensor pi = S > 1 ? empty({S, B, C}, TensorOptions(DType::i64, x.device())) : Tensor();
    const dim3 grid(static_cast<unsigned>(tiles), static_cast<unsigned>(B), static_cast<unsigned>(S));
    pg::cuda::launch_kernel("maxpool_kernel", maxpool_kernel<T>, grid, dim3(kTC, kTR), 0, current_cuda_stream(),
                            ptr<T>(x), N, C, chunk, ptr<T>(values), ptr<int64_t>(indices), ptr<T>(pv),
                            ptr<int64_t>(pi));
    if (S > 1) {
      const int64_t BC = B * C;
      pg::cuda::launch_kernel("maxpool_merge_kernel", maxpool_merge_kernel<T>, static_cast<unsigned>((BC + 255) / 256),
                              256, 0, current_cuda_stream(), ptr<T>(pv), ptr<int64_t>(pi), S, BC, ptr<T>(values),
                              ptr<int64_t>(indices));
    }
  });
}

PG_INSTANTIATE_LAUNCHERS(PG_POINTNET_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
