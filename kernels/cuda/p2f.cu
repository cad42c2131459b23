// CUDA point-to-mesh distance (P2fExec<CudaBackend>). Work decomposition: one thread per query
// point, 256 points per CTA (grid.x = ceil(N/256)); the faces stream through a shared-memory
// tile of 256 faces × 9 coordinates (one coalesced load of one face per thread per tile, then
// broadcast reads), and every thread keeps its best squared distance in a register. The
// distance is the shared float64 tri_sqdist (nvcc may contract its multiply-adds, so CUDA and
// CPU agree to float64 rounding, far below float32 resolution).
#include "core/parallel_for_cuda.cuh"
#include "kernels/common/p2f_impl.h"

namespace pg::kernels {
namespace {

constexpr int kThreads = 256;

template <class T>
__global__ void __launch_bounds__(kThreads) p2f_tiled_kernel(const T* __restrict__ points, const T* __restrict__ tris,
                                                             int64_t N, int64_t F, T* __restrict__ out) {
  __shared__ T tile[kThreads * 9];
  const int64_t i = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const bool valid = i < N;
  p2f_detail::V3 p{0.0, 0.0, 0.0};
  if (valid) p = {double(points[i * 3 + 0]), double(points[i * 3 + 1]), double(points[i * 3 + 2])};
  double best = INFINITY;
  for (int64_t f0 = 0; f0 < F; f0 += kThreads) {
    const int n = static_cast<int>(min(static_cast<int64_t>(kThreads), F - f0));
    __syncthreads();
    for (int e = threadIdx.x; e < n * 9; e += kThreads) tile[e] = tris[f0 * 9 + e];
    __syncthreads();
    if (valid) {
      for (int f = 0; f < n; ++f) {
        const double d = p2f_detail::tri_sqdist_packed(p, tile + f * 9);
        best = d < best ? d : best;
      }
    }
  }
  if (valid) out[i] = static_cast<T>(sqrt(best));
}

}  // namespace

template <>
struct P2fExec<CudaBackend> {
  static void run(const Tensor& points, const Tensor& tris, const Tensor& out) {
    const int64_t N = points.size(0), F = tris.size(0);
    const unsigned blocks = static_cast<unsigned>((N + kThreads - 1) / kThreads);
    dispatch_floating(points.dtype(), "point_to_mesh_distance", [&]<class T>() {
      pg::cuda::launch_kernel("p2f_tiled_kernel", p2f_tiled_kernel<T>, blocks, kThreads, 0, current_cuda_stream(),
                              points.data<T>(), tris.data<T>(), N, F, out.data<T>());
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_P2F_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
