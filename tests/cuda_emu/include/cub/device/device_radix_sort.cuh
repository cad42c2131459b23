// Emulated cub::DeviceRadixSort::SortPairs (tests/cuda_emu): a stable sort of (key, value)
// pairs on bits [begin_bit, end_bit) of the keys, done on the host. Like CUB it asks for a
// temporary buffer first (d_temp_storage == nullptr returns the size) and checks that the
// buffers are device memory of the current device.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace pg_emu {
cudaError_t radix_sort_pairs_u64_i64(void* temp, size_t& temp_bytes, const uint64_t* keys_in, uint64_t* keys_out,
                                     const int64_t* values_in, int64_t* values_out, int64_t n, int begin_bit,
                                     int end_bit, cudaStream_t stream);
}

namespace cub {
struct DeviceRadixSort {
  template <class NumItems>
  static cudaError_t SortPairs(void* d_temp_storage, size_t& temp_storage_bytes, const uint64_t* d_keys_in,
                               uint64_t* d_keys_out, const int64_t* d_values_in, int64_t* d_values_out,
                               NumItems num_items, int begin_bit = 0, int end_bit = 64, cudaStream_t stream = nullptr) {
    return ::pg_emu::radix_sort_pairs_u64_i64(d_temp_storage, temp_storage_bytes, d_keys_in, d_keys_out, d_values_in,
                                              d_values_out, static_cast<int64_t>(num_items), begin_bit, end_bit,
                                              stream);
  }
};
}  // namespace cub
