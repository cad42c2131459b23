// parallel_for: run `body(i)` for i in [0, n) on a backend.
//
// Bodies are trivially copyable functors with `PG_HD void operator()(int64_t i) const`, so the
// very same expression runs on the CPU (an OpenMP loop) and on CUDA (a grid-stride kernel).
// Kernel launchers are templates over the backend tag (CpuBackend / CudaBackend); CPU sources
// instantiate them for CpuBackend, .cu sources for CudaBackend (see core/parallel_for_cuda.cuh).
#pragma once

#include <cstdint>

#include "core/cuda_context.h"
#include "core/device.h"
#include "core/macros.h"

namespace pg {

struct CpuBackend {
  static constexpr bool is_cuda = false;
};
struct CudaBackend {
  static constexpr bool is_cuda = true;
};

// Number of OpenMP threads used by CPU kernels (default: all cores).
int cpu_num_threads();
void set_cpu_num_threads(int n);

template <class Backend>
struct Parallel;

template <>
struct Parallel<CpuBackend> {
  // Iterations below `grain` run on the calling thread.
  template <class Body>
  static void run(int64_t n, const Body& body, int64_t grain = 32768) {
    if (n <= 0) return;
    if (n < grain || cpu_num_threads() == 1) {
      for (int64_t i = 0; i < n; ++i) body(i);
      return;
    }
#pragma omp parallel for schedule(static) num_threads(cpu_num_threads())
    for (int64_t i = 0; i < n; ++i) body(i);
  }
};

template <>
struct Parallel<CudaBackend> {
  // Defined in core/parallel_for_cuda.cuh; launches on cuda::current_stream() and checks the
  // launch.
  template <class Body>
  static void run(int64_t n, const Body& body);
};

template <class Backend, class Body>
void parallel_for(int64_t n, const Body& body) {
  Parallel<Backend>::run(n, body);
}

// Runtime device form: the CUDA branch needs the body to be instantiated in a .cu source.
template <class Body>
void parallel_for(Device device, int64_t n, const Body& body) {
  if (device.is_cuda()) {
#if PG_WITH_CUDA
    cuda::DeviceGuard guard(device.index);
    Parallel<CudaBackend>::run(n, body);
#else
    cuda::throw_no_cuda("parallel_for");
#endif
    return;
  }
  Parallel<CpuBackend>::run(n, body);
}

// Calls f.template operator()<Backend>() for the backend of `device`. In a CPU-only build a
// CUDA device raises "pointgrad was built without CUDA" naming `op`.
template <class F>
decltype(auto) on_backend(Device device, const char* op, F&& f) {
  if (device.is_cuda()) {
#if PG_WITH_CUDA
    cuda::DeviceGuard guard(device.index);  // cuda:N runs on device N
    return f.template operator()<CudaBackend>();
#else
    cuda::throw_no_cuda(op);
#endif
  }
  return f.template operator()<CpuBackend>();
}

}  // namespace pg
