// CUDA instantiation of the RNG launchers (core/random_impl.h) and the CUDA randperm sort.
//
// randperm: the (key, index) pairs are sorted with one cub::DeviceRadixSort::SortPairs over all
// 64 key bits; LSD radix sort is stable and the values start as 0..n-1, so equal keys keep
// index order, exactly like the CPU's sort on (key, index). Only the <uint64_t, int64_t> sort
// is instantiated (it dominates compile time); int32 outputs are narrowed afterwards.
#include <cub/device/device_radix_sort.cuh>

#include "core/parallel_for_cuda.cuh"
#include "core/random_impl.h"

namespace pg::detail {

namespace {

struct IotaBody {
  int64_t* out;
  PG_HD void operator()(int64_t i) const { out[i] = i; }
};

struct NarrowBody {
  int32_t* out;
  const int64_t* in;
  PG_HD void operator()(int64_t i) const { out[i] = static_cast<int32_t>(in[i]); }
};

}  // namespace

void randperm_sort_cuda(const Tensor& keys, const Tensor& out) {
  const int64_t n = out.numel();
  const Device dev = out.device();
  cudaStream_t stream = current_cuda_stream();
  Tensor keys_sorted = empty({n}, TensorOptions(DType::i64, dev));
  Tensor idx_in = empty({n}, TensorOptions(DType::i64, dev));
  parallel_for<CudaBackend>(n, IotaBody{static_cast<int64_t*>(idx_in.raw_data())});
  Tensor idx_out = out.dtype() == DType::i64 ? out : empty({n}, TensorOptions(DType::i64, dev));

  const auto* k_in = static_cast<const uint64_t*>(keys.raw_data());
  auto* k_out = static_cast<uint64_t*>(keys_sorted.raw_data());
  const auto* v_in = static_cast<const int64_t*>(idx_in.raw_data());
  auto* v_out = static_cast<int64_t*>(idx_out.raw_data());
  size_t temp_bytes = 0;
  PG_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, k_in, k_out, v_in, v_out, n, 0, 64, stream));
  Tensor temp = empty({static_cast<int64_t>(std::max<size_t>(temp_bytes, 1))}, TensorOptions(DType::u8, dev));
  PG_CUDA_CHECK(
      cub::DeviceRadixSort::SortPairs(temp.raw_data(), temp_bytes, k_in, k_out, v_in, v_out, n, 0, 64, stream));
  PG_CUDA_LAUNCH_CHECK();

  if (out.dtype() == DType::i32) {
    parallel_for<CudaBackend>(n, NarrowBody{static_cast<int32_t*>(out.raw_data()), v_out});
  } else {
    PG_CHECK(out.dtype() == DType::i64, "randperm: unsupported output dtype ", dtype_name(out.dtype()));
  }
}

template void rand_fill<CudaBackend>(const Tensor&, uint64_t, uint64_t);
template void randn_fill<CudaBackend>(const Tensor&, uint64_t, uint64_t);
template void randint_fill<CudaBackend>(const Tensor&, int64_t, uint64_t, uint64_t, uint64_t);
template void bernoulli_scalar_fill<CudaBackend>(const Tensor&, double, uint64_t, uint64_t);
template bool bernoulli_tensor_fill<CudaBackend>(const Tensor&, const Tensor&, uint64_t, uint64_t);
template void randperm_fill<CudaBackend>(const Tensor&, uint64_t, uint64_t);

}  // namespace pg::detail
