// CPU instantiation of the RNG launchers (core/random_impl.h) and the CPU randperm sort.
#include <algorithm>
#include <numeric>
#include <vector>

#include "core/random_impl.h"

namespace pg::detail {

void randperm_sort_cpu(const Tensor& keys, const Tensor& out) {
  const int64_t n = out.numel();
  const uint64_t* k = static_cast<const uint64_t*>(keys.raw_data());
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), int64_t{0});
  // Keys are distinct with overwhelming probability; ties resolve by index (as the stable CUDA
  // radix sort does).
  std::sort(idx.begin(), idx.end(), [k](int64_t a, int64_t b) { return k[a] < k[b] || (k[a] == k[b] && a < b); });
  dispatch_index(out.dtype(), "randperm", [&]<class T>() {
    T* o = static_cast<T*>(out.raw_data());
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(idx[static_cast<size_t>(i)]);
  });
}

template void rand_fill<CpuBackend>(const Tensor&, uint64_t, uint64_t);
template void randn_fill<CpuBackend>(const Tensor&, uint64_t, uint64_t);
template void randint_fill<CpuBackend>(const Tensor&, int64_t, uint64_t, uint64_t, uint64_t);
template void bernoulli_scalar_fill<CpuBackend>(const Tensor&, double, uint64_t, uint64_t);
template bool bernoulli_tensor_fill<CpuBackend>(const Tensor&, const Tensor&, uint64_t, uint64_t);
template void randperm_fill<CpuBackend>(const Tensor&, uint64_t, uint64_t);

}  // namespace pg::detail
