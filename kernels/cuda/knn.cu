// CUDA kNN (KnnExec<CudaBackend>). Work decomposition:
// * Register path (float32, K <= 32): one thread per query, 256 queries of one cloud per CTA
//   (grid.x = B · ceil(Q/256)). The reference cloud streams through a shared-memory tile of 256
//   float4 points (one coalesced load per thread per tile, then broadcast LDS.128 reads); every
//   thread keeps its sorted top-K in registers: compile-time K bucket (1, 2, 4, 8, 16, 32; k is
//   rounded up and the first k written), one compare against the K-th distance per pair, and a
//   fully unrolled select-network insertion (constant indices only: no local memory).
// * List path (K > 32, or float64): the same tiling with 64 queries per CTA; each thread's
//   sorted list lives in dynamic shared memory (slot-major, conflict-free) when it fits the
//   device's opt-in limit (K <= 128 for float32/float64), else in a global scratch laid out
//   slot-major over all queries (coalesced).
// * Generic path: KnnGenericBody through parallel_for (thread per query, no tiling): the naive
//   baseline of the benchmarks.
// * Grid path (kernels/cuda/knn_grid.cuh): a uniform grid of each reference cloud, built on the
//   device (cell keys, CUB radix sort, cell ranges), and a ring search per query thread; exact,
//   ties included. Auto takes it for large clouds (grid_wins below); KnnImpl::Grid forces it.
// References are visited in increasing index order and only a strictly smaller distance
// displaces an entry, so ties keep the lower index on every path (as on the CPU).
#include <algorithm>

#include "core/parallel_for_cuda.cuh"
#include "kernels/common/knn_impl.h"
#include "kernels/cuda/knn_grid.cuh"

namespace pg::kernels {
namespace {

constexpr int kRegThreads = 256;
constexpr int kListThreads = 64;
constexpr int kTile = 256;

template <int K>
__device__ __forceinline__ void reg_insert(float (&d)[K], int (&ix)[K], float v, int j) {
#pragma unroll
  for (int s = K - 1; s > 0; --s) {
    const bool shift = v < d[s - 1];
    const bool here = !shift && v < d[s];
    d[s] = shift ? d[s - 1] : (here ? v : d[s]);
    ix[s] = shift ? ix[s - 1] : (here ? j : ix[s]);
  }
  if (v < d[0]) {
    d[0] = v;
    ix[0] = j;
  }
}

template <int K>
__global__ void __launch_bounds__(kRegThreads)
    knn_register_kernel(const float* __restrict__ query, const float* __restrict__ ref, int64_t Q, int64_t R,
                        int64_t blocks_per_cloud, int k_out, float* __restrict__ dist, int64_t* __restrict__ idx) {
  __shared__ float4 tile[kTile];
  const int64_t b = blockIdx.x / blocks_per_cloud;
  const int64_t q = (blockIdx.x - b * blocks_per_cloud) * kRegThreads + threadIdx.x;
  const bool valid = q < Q;
  float qx = 0.f, qy = 0.f, qz = 0.f;
  if (valid) {
    const float* p = query + (b * Q + q) * 3;
    qx = p[0];
    qy = p[1];
    qz = p[2];
  }
  float d[K];
  int ix[K];
#pragma unroll
  for (int s = 0; s < K; ++s) {
    d[s] = INFINITY;
    ix[s] = -1;
  }
  const float* rb = ref + b * R * 3;
  for (int64_t t0 = 0; t0 < R; t0 += kTile) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kTile), R - t0));
    __syncthreads();
    for (int t = threadIdx.x; t < n; t += blockDim.x) {
      const float* p = rb + (t0 + t) * 3;
      tile[t] = make_float4(p[0], p[1], p[2], 0.f);
    }
    __syncthreads();
    if (valid) {
#pragma unroll 4
      for (int j = 0; j < n; ++j) {
        const float4 p = tile[j];
        const float v = nn_detail::nn_sqdist(qx, qy, qz, p.x, p.y, p.z);
        if (v < d[K - 1]) reg_insert<K>(d, ix, v, static_cast<int>(t0) + j);
      }
    }
  }
  if (valid) {
    float* od = dist + (b * Q + q) * k_out;
    int64_t* oi = idx + (b * Q + q) * k_out;
#pragma unroll
    for (int s = 0; s < K; ++s) {
      if (s < k_out) {
        od[s] = d[s];
        oi[s] = ix[s];
      }
    }
  }
}

// Sorted lists in shared memory (gd == nullptr) or in the global scratch gd/gi (slot stride
// gstride).
template <class T>
__global__ void __launch_bounds__(kListThreads)
    knn_list_kernel(const T* __restrict__ query, const T* __restrict__ ref, int64_t Q, int64_t R,
                    int64_t blocks_per_cloud, int64_t K, T* __restrict__ dist, int64_t* __restrict__ idx, T* gd,
                    int* gi, int64_t gstride) {
  PG_DYNAMIC_SHARED(unsigned char, smem_lists);
  __shared__ T tx[kTile], ty[kTile], tz[kTile];
  const int64_t b = blockIdx.x / blocks_per_cloud;
  const int64_t q = (blockIdx.x - b * blocks_per_cloud) * kListThreads + threadIdx.x;
  const bool valid = q < Q;
  T* Ld;
  int* Li;
  int64_t st;
  if (gd == nullptr) {
    Ld = reinterpret_cast<T*>(smem_lists) + threadIdx.x;
    Li = reinterpret_cast<int*>(smem_lists + K * blockDim.x * sizeof(T)) + threadIdx.x;
    st = blockDim.x;
  } else {
    const int64_t g = valid ? b * Q + q : 0;
    Ld = gd + g;
    Li = gi + g;
    st = gstride;
  }
  T qx = 0, qy = 0, qz = 0;
  T thr = nn_detail::inf_value<T>();
  if (valid) {
    const T* p = query + (b * Q + q) * 3;
    qx = p[0];
    qy = p[1];
    qz = p[2];
    for (int64_t s = 0; s < K; ++s) {
      Ld[s * st] = nn_detail::inf_value<T>();
      Li[s * st] = -1;
    }
  }
  const T* rb = ref + b * R * 3;
  for (int64_t t0 = 0; t0 < R; t0 += kTile) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kTile), R - t0));
    __syncthreads();
    for (int t = threadIdx.x; t < n; t += blockDim.x) {
      const T* p = rb + (t0 + t) * 3;
      tx[t] = p[0];
      ty[t] = p[1];
      tz[t] = p[2];
    }
    __syncthreads();
    if (valid) {
#pragma unroll 4
      for (int j = 0; j < n; ++j) {
        const T v = nn_detail::nn_sqdist(qx, qy, qz, tx[j], ty[j], tz[j]);
        if (v < thr) {
          nn_detail::list_insert(Ld, Li, st, K, v, t0 + j);
          thr = Ld[(K - 1) * st];
        }
      }
    }
  }
  if (valid) {
    T* od = dist + (b * Q + q) * K;
    int64_t* oi = idx + (b * Q + q) * K;
    for (int64_t s = 0; s < K; ++s) {
      od[s] = Ld[s * st];
      oi[s] = Li[s * st];
    }
  }
}

template <int K>
void launch_register(const Tensor& query, const Tensor& ref, int64_t k, const Tensor& dist2, const Tensor& idx) {
  const int64_t B = query.size(0), Q = query.size(1), R = ref.size(1);
  const int64_t bpc = (Q + kRegThreads - 1) / kRegThreads;
  pg::cuda::launch_kernel("knn_register_kernel", knn_register_kernel<K>, static_cast<unsigned>(B * bpc), kRegThreads, 0,
                          current_cuda_stream(), query.data<float>(), ref.data<float>(), Q, R, bpc, static_cast<int>(k),
                          dist2.data<float>(), idx.data<int64_t>());
}

int max_optin_smem() {
  int dev = 0, v = 0;
  PG_CUDA_CHECK(cudaGetDevice(&dev));
  PG_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
  return v;
}

template <class T>
void launch_list(const Tensor& query, const Tensor& ref, int64_t k, const Tensor& dist2, const Tensor& idx) {
  const int64_t B = query.size(0), Q = query.size(1), R = ref.size(1);
  const int64_t bpc = (Q + kListThreads - 1) / kListThreads;
  const size_t list_bytes = static_cast<size_t>(k) * kListThreads * (sizeof(T) + sizeof(int));
  const size_t static_bytes = 3 * kTile * sizeof(T);
  const bool in_smem = k <= 128 && list_bytes + static_bytes <= static_cast<size_t>(max_optin_smem());
  Tensor gd, gi;
  size_t dyn = 0;
  if (in_smem) {
    dyn = list_bytes;
    pg::cuda::set_max_dynamic_smem_once(knn_list_kernel<T>);
  } else {
    gd = empty({k * B * Q}, query.options());
    gi = empty({k * B * Q}, TensorOptions(DType::i32, query.device()));
  }
  pg::cuda::launch_kernel("knn_list_kernel", knn_list_kernel<T>, static_cast<unsigned>(B * bpc), kListThreads, dyn,
                          current_cuda_stream(), query.data<T>(), ref.data<T>(), Q, R, bpc, k, dist2.data<T>(),
                          idx.data<int64_t>(), in_smem ? nullptr : gd.data<T>(), in_smem ? nullptr : gi.data<int32_t>(),
                          B * Q);
}

// Grid path: build the grids of all clouds, then one thread per query (knn_grid.cuh).
template <class T, class TopK>
void launch_grid_query(const Tensor& query, int64_t R, int64_t C, int64_t k, const Tensor& prm, const Tensor& sorted,
                       const Tensor& sidx, const Tensor& start, const Tensor& end, const Tensor& dist2,
                       const Tensor& idx, TopK top) {
  const int64_t n = query.size(0) * query.size(1);
  const auto blocks = static_cast<unsigned>((n + knn_grid::kQueryThreads - 1) / knn_grid::kQueryThreads);
  pg::cuda::launch_kernel("knn_grid_query_kernel", knn_grid::grid_query_kernel<T, TopK>, blocks,
                          knn_grid::kQueryThreads, 0, current_cuda_stream(), query.data<T>(), n, query.size(1), R, C,
                          static_cast<int>(k), static_cast<const knn_grid::GridParams<T>*>(prm.raw_data()),
                          sorted.data<T>(), sidx.data<int32_t>(), start.data<int32_t>(), end.data<int32_t>(),
                          dist2.data<T>(), idx.data<int64_t>(), top);
}

template <class T>
void launch_grid(const Tensor& query, const Tensor& ref, int64_t k, const Tensor& dist2, const Tensor& idx) {
  using knn_grid::GridParams;
  const int64_t B = query.size(0), R = ref.size(1);
  const int64_t C = knn_grid::cell_budget(R, k);
  const Device dev = query.device();
  cudaStream_t stream = current_cuda_stream();
  Tensor prm = empty({B * static_cast<int64_t>(sizeof(GridParams<T>))}, TensorOptions(DType::u8, dev));
  auto* pp = static_cast<GridParams<T>*>(prm.raw_data());
  pg::cuda::launch_kernel("knn_grid_params_kernel", knn_grid::grid_params_kernel<T>, static_cast<unsigned>(B),
                          knn_grid::kBoxThreads, 0, stream, ref.data<T>(), R, C, pp);
  const int64_t n = B * R;
  const TensorOptions i64(DType::i64, dev);
  Tensor keys = empty({n}, i64), vals = empty({n}, i64), keys_s = empty({n}, i64), vals_s = empty({n}, i64);
  auto* k_in = static_cast<uint64_t*>(keys.raw_data());
  auto* k_out = static_cast<uint64_t*>(keys_s.raw_data());
  parallel_for<CudaBackend>(n, knn_grid::CellKeyBody<T>{ref.data<T>(), pp, k_in, vals.data<int64_t>(), R, C});
  int bits = 1;
  while (bits < 63 && (int64_t(1) << bits) < B * C) ++bits;
  size_t temp_bytes = 0;
  PG_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, k_in, k_out, vals.data<int64_t>(),
                                                vals_s.data<int64_t>(), n, 0, bits, stream));
  Tensor temp = empty({static_cast<int64_t>(std::max<size_t>(temp_bytes, 1))}, TensorOptions(DType::u8, dev));
  PG_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.raw_data(), temp_bytes, k_in, k_out, vals.data<int64_t>(),
                                                vals_s.data<int64_t>(), n, 0, bits, stream));
  const TensorOptions i32(DType::i32, dev);
  Tensor start = zeros({B * C}, i32), end = zeros({B * C}, i32);
  Tensor sorted = empty({n * 3}, query.options()), sidx = empty({n}, i32);
  parallel_for<CudaBackend>(
      n, knn_grid::CellRangeBody<T>{ref.data<T>(), k_out, vals_s.data<int64_t>(), sorted.data<T>(),
                                    sidx.data<int32_t>(), start.data<int32_t>(), end.data<int32_t>(), n, R});
  auto reg = [&]<int K>() {
    launch_grid_query<T>(query, R, C, k, prm, sorted, sidx, start, end, dist2, idx, knn_grid::RegTopK<T, K>{});
  };
  if (k <= 1) return reg.template operator()<1>();
  if (k <= 2) return reg.template operator()<2>();
  if (k <= 4) return reg.template operator()<4>();
  if (k <= 8) return reg.template operator()<8>();
  if (k <= 16) return reg.template operator()<16>();
  if (k <= 32) return reg.template operator()<32>();
  knn_grid::RowTopK<T> row;
  row.K = k;
  launch_grid_query<T>(query, R, C, k, prm, sorted, sidx, start, end, dist2, idx, row);
}

// Auto's choice of the grid over the tiled brute force. A FIRST ESTIMATE from arithmetic, not
// measured (no GPU on the development machines; docs/decisions.md, "CUDA grid kNN"): the brute
// force costs Q·R pair evaluations at full arithmetic throughput (shared-memory broadcast); the
// grid costs a sort of R keys plus ~27·(points per cell) ≈ 100–300 pairs per query at poor
// coalescing (assumed ~10× the cost per pair) — on paper a win from R ≈ 4096. The threshold sits
// 8× higher (R >= 32768, Q >= 4096: the sort and the scattered reads are amortised), and K <= 32
// (the register top-K); re-measure with bench_knn's grid rows on a GPU and move these constants.
constexpr int64_t kGridMinRef = 32768;
constexpr int64_t kGridMinQuery = 4096;
constexpr int64_t kGridMaxK = 32;
bool grid_wins(int64_t Q, int64_t R, int64_t K) {
  return R >= kGridMinRef && Q >= kGridMinQuery && K <= kGridMaxK;
}

}  // namespace

template <>
struct KnnExec<CudaBackend> {
  static void forward(const Tensor& query, const Tensor& ref, int64_t k, const Tensor& dist2, const Tensor& idx,
                      KnnPath path) {
    const int64_t B = query.size(0), Q = query.size(1), R = ref.size(1);
    if (path == KnnPath::Generic) {
      dispatch_floating(query.dtype(), "knn", [&]<class T>() {
        parallel_for<CudaBackend>(B * Q, nn_detail::KnnGenericBody<T>{query.data<T>(), ref.data<T>(), dist2.data<T>(),
                                                                      idx.data<int64_t>(), Q, R, k});
      });
      return;
    }
    if (path == KnnPath::Grid || (path == KnnPath::Auto && grid_wins(Q, R, k))) {
      dispatch_floating(query.dtype(), "knn", [&]<class T>() { launch_grid<T>(query, ref, k, dist2, idx); });
      return;
    }
    const bool reg_ok = query.dtype() == DType::f32 && k <= 32;
    if (reg_ok && path != KnnPath::List) {
      if (k <= 1) return launch_register<1>(query, ref, k, dist2, idx);
      if (k <= 2) return launch_register<2>(query, ref, k, dist2, idx);
      if (k <= 4) return launch_register<4>(query, ref, k, dist2, idx);
      if (k <= 8) return launch_register<8>(query, ref, k, dist2, idx);
      if (k <= 16) return launch_register<16>(query, ref, k, dist2, idx);
      return launch_register<32>(query, ref, k, dist2, idx);
    }
    dispatch_floating(query.dtype(), "knn", [&]<class T>() { launch_list<T>(query, ref, k, dist2, idx); });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_KNN_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
