// Emulated cub::DeviceRadixSort::SortPairs<uint64_t, int64_t>: a stable LSD sort on the host
// over the requested key bits.
#include <algorithm>
#include <cub/device/device_radix_sort.cuh>
#include <numeric>
#include <vector>

#include "cuda_emu/emu_launch.h"
#include "emu_internal.h"

namespace pg_emu {

cudaError_t radix_sort_pairs_u64_i64(void* temp, size_t& temp_bytes, const uint64_t* keys_in, uint64_t* keys_out,
                                     const int64_t* values_in, int64_t* values_out, int64_t n, int begin_bit,
                                     int end_bit, cudaStream_t stream) {
  const size_t need = static_cast<size_t>(n) * 16 + 256;  // what a double buffer would take
  if (temp == nullptr) {
    temp_bytes = need;
    return cudaSuccess;
  }
  if (temp_bytes < need) return set_error(cudaErrorInvalidValue, "SortPairs: temporary storage too small");
  int sdev;
  try {
    sdev = stream_device(stream);
  } catch (const EmuError& e) {
    return set_error(e.code, std::string("SortPairs: ") + e.what());
  }
  const int dev = current_device_index();
  for (const void* p :
       {static_cast<const void*>(keys_in), static_cast<const void*>(keys_out), static_cast<const void*>(values_in),
        static_cast<const void*>(values_out), static_cast<const void*>(temp)}) {
    if (device_of_pointer(p) != dev || sdev != dev) {
      return set_error(cudaErrorIllegalAddress, "SortPairs: a buffer or the stream is not on the current device");
    }
  }
  if (begin_bit < 0 || end_bit > 64 || begin_bit >= end_bit) return set_error(cudaErrorInvalidValue);
  const uint64_t mask = (end_bit - begin_bit == 64 ? ~0ull : ((1ull << (end_bit - begin_bit)) - 1)) << begin_bit;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return (keys_in[a] & mask) < (keys_in[b] & mask); });
  std::vector<uint64_t> k(static_cast<size_t>(n));
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    k[i] = keys_in[order[i]];
    v[i] = values_in[order[i]];
  }
  std::copy(k.begin(), k.end(), keys_out);
  std::copy(v.begin(), v.end(), values_out);
  return cudaSuccess;
}

}  // namespace pg_emu
