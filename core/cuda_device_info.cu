// Cached per-device properties used by launch helpers.
#include <mutex>
#include <vector>

#include "core/parallel_for_cuda.cuh"

namespace pg::detail {

int cuda_sm_count() {
  static std::mutex mu;
  static std::vector<int> counts;
  int dev = 0;
  PG_CUDA_CHECK(cudaGetDevice(&dev));
  std::lock_guard<std::mutex> lock(mu);
  if (static_cast<int>(counts.size()) <= dev) counts.resize(dev + 1, 0);
  if (counts[dev] == 0) PG_CUDA_CHECK(cudaDeviceGetAttribute(&counts[dev], cudaDevAttrMultiProcessorCount, dev));
  return counts[dev];
}

}  // namespace pg::detail
