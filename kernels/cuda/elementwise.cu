// CUDA backend of the elementwise kernels.
//
// Work decomposition: memory-bound, one thread per element (generic bodies of
// kernels/common/elementwise_impl.h through the grid-stride parallel_for: one kernel per dtype
// and body kind, the op switch inside; the op is uniform across the grid, so the branch never
// diverges). Fast path for contiguous float32 operands of the output's shape whose addresses are
// 16-byte aligned: each thread of a grid-stride loop loads and stores one float4 (4 elements),
// then the last n % 4 elements are handled one per thread by the same launch.
#include <cstdint>

#include "core/parallel_for_cuda.cuh"
#include "kernels/common/elementwise_impl.h"

namespace pg::kernels::ew {

namespace {

constexpr int kVecThreads = 256;

bool aligned16(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

__global__ void unary_f32_vec4_kernel(UnaryOp op, float* out, const float* x, int64_t n, Params<float> p) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t nvec = n / 4;
  const float4* x4 = reinterpret_cast<const float4*>(x);
  float4* o4 = reinterpret_cast<float4*>(out);
  for (int64_t i = tid; i < nvec; i += stride) {
    float4 v = x4[i];
    v.x = unary_apply(op, v.x, p);
    v.y = unary_apply(op, v.y, p);
    v.z = unary_apply(op, v.z, p);
    v.w = unary_apply(op, v.w, p);
    o4[i] = v;
  }
  for (int64_t i = nvec * 4 + tid; i < n; i += stride) out[i] = unary_apply(op, x[i], p);
}

__global__ void binary_f32_vec4_kernel(BinaryOp op, float* out, const float* a, const float* b, int64_t n,
                                       Params<float> p) {
  const int64_t stride = static_cast<int64_t>(blockDim.x) * gridDim.x;
  const int64_t tid = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t nvec = n / 4;
  const float4* a4 = reinterpret_cast<const float4*>(a);
  const float4* b4 = reinterpret_cast<const float4*>(b);
  float4* o4 = reinterpret_cast<float4*>(out);
  for (int64_t i = tid; i < nvec; i += stride) {
    const float4 u = a4[i];
    const float4 v = b4[i];
    float4 r;
    r.x = binary_apply(op, u.x, v.x, p);
    r.y = binary_apply(op, u.y, v.y, p);
    r.z = binary_apply(op, u.z, v.z, p);
    r.w = binary_apply(op, u.w, v.w, p);
    o4[i] = r;
  }
  for (int64_t i = nvec * 4 + tid; i < n; i += stride) out[i] = binary_apply(op, a[i], b[i], p);
}

unsigned vec4_grid(int64_t n) {
  return grid_for(std::max<int64_t>(n / 4, 1), kVecThreads);
}

}  // namespace

template <>
struct FastPath<CudaBackend> {
  static bool unary(UnaryOp op, const Tensor& out, const Tensor& x, double alpha, double beta) {
    if (x.dtype() != DType::f32 || !same_shape_contiguous(out, {&x})) return false;
    if (!aligned16(out.raw_data()) || !aligned16(x.raw_data())) return false;
    const int64_t n = out.numel();
    pg::cuda::launch_kernel("unary_f32_vec4_kernel", unary_f32_vec4_kernel, vec4_grid(n), kVecThreads, 0,
                            current_cuda_stream(), op, static_cast<float*>(out.raw_data()),
                            static_cast<const float*>(x.raw_data()), n, unary_params<float>(op, alpha, beta));
    return true;
  }

  static bool binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta) {
    if (binary_is_comparison(op) || a.dtype() != DType::f32 || !same_shape_contiguous(out, {&a, &b})) return false;
    if (!aligned16(out.raw_data()) || !aligned16(a.raw_data()) || !aligned16(b.raw_data())) return false;
    const int64_t n = out.numel();
    pg::cuda::launch_kernel("binary_f32_vec4_kernel", binary_f32_vec4_kernel, vec4_grid(n), kVecThreads, 0,
                            current_cuda_stream(), op, static_cast<float*>(out.raw_data()),
                            static_cast<const float*>(a.raw_data()), static_cast<const float*>(b.raw_data()), n,
                            binary_params<float>(alpha, beta));
    return true;
  }

  static bool where(const Tensor&, const Tensor&, const Tensor&, const Tensor&) { return false; }
  static bool clamp_backward(const Tensor&, const Tensor&, const Tensor&, double, double) { return false; }
};

}  // namespace pg::kernels::ew

namespace pg::kernels {
PG_INSTANTIATE_LAUNCHERS(PG_ELEMENTWISE_LAUNCHERS, CudaBackend)
}  // namespace pg::kernels
