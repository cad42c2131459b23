// Small PG_HD helpers shared by kernel bodies that run on both backends.
#pragma once

#include <cmath>

#include "core/macros.h"

namespace pg::kernels {

// True for finite values (false for NaN and ±inf) on host and device.
template <class T>
PG_HD PG_INLINE bool is_finite_hd(T v) {
#ifdef __CUDA_ARCH__
  return isfinite(v);
#else
  return std::isfinite(v);
#endif
}

// Sets `bits` in an error flag shared by all threads (atomic on both backends).
PG_HD PG_INLINE void atomic_or_flag(int* flag, int bits) {
#ifdef __CUDA_ARCH__
  atomicOr(flag, bits);
#else
  __atomic_fetch_or(flag, bits, __ATOMIC_RELAXED);
#endif
}

}  // namespace pg::kernels
