// Small PG_HD helpers shared by kernel bodies that run on both backends.
#pragma once

#include <cmath>

#include "core/macros.h"

namespace pg::kernels {

// exp and tanh in the argument's precision (expf / exp, tanhf / tanh) on host and device.
PG_HD PG_INLINE float exp_t(float v) { return ::expf(v); }
PG_HD PG_INLINE double exp_t(double v) { return ::exp(v); }
PG_HD PG_INLINE float tanh_t(float v) { return ::tanhf(v); }
PG_HD PG_INLINE double tanh_t(double v) { return ::tanh(v); }

// σ(v) without overflow: exp of a non-positive argument only (the LSTM gates, the coupling's
// bounded scale; elementwise sigmoid has its own branch-free form).
template <class T>
PG_HD PG_INLINE T sigmoid_t(T v) {
  if (v >= T(0)) return T(1) / (T(1) + exp_t(-v));
  const T e = exp_t(v);
  return e / (T(1) + e);
}

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

// g[0..2] += (vx, vy, vz): atomicAdd on CUDA (several threads scatter into one point); a plain
// add on the CPU, whose callers give each point to one thread.
template <class T>
PG_HD PG_INLINE void scatter_add3(T* g, T vx, T vy, T vz) {
#ifdef __CUDA_ARCH__
  atomicAdd(g + 0, vx);
  atomicAdd(g + 1, vy);
  atomicAdd(g + 2, vz);
#else
  g[0] += vx;
  g[1] += vy;
  g[2] += vz;
#endif
}

// Arithmetic rounded once per operation, never fused into an FMA: the _rn intrinsics on CUDA
// (nvcc does not contract them); plain operators on the CPU, whose sources using these are
// compiled without contraction. Kernels whose CPU and CUDA results must agree bit for bit (FPS,
// auction EMD) build on these.
template <class T>
PG_HD PG_INLINE T add_rn(T a, T b) {
#ifdef __CUDA_ARCH__
  if constexpr (sizeof(T) == 4) return __fadd_rn(a, b); else return __dadd_rn(a, b);
#else
  return a + b;
#endif
}
template <class T>
PG_HD PG_INLINE T sub_rn(T a, T b) {
#ifdef __CUDA_ARCH__
  if constexpr (sizeof(T) == 4) return __fsub_rn(a, b); else return __dsub_rn(a, b);
#else
  return a - b;
#endif
}
template <class T>
PG_HD PG_INLINE T mul_rn(T a, T b) {
#ifdef __CUDA_ARCH__
  if constexpr (sizeof(T) == 4) return __fmul_rn(a, b); else return __dmul_rn(a, b);
#else
  return a * b;
#endif
}
template <class T>
PG_HD PG_INLINE T div_rn(T a, T b) {
#ifdef __CUDA_ARCH__
  if constexpr (sizeof(T) == 4) return __fdiv_rn(a, b); else return __ddiv_rn(a, b);
#else
  return a / b;
#endif
}
template <class T>
PG_HD PG_INLINE T sqrt_rn(T a) {
#ifdef __CUDA_ARCH__
  if constexpr (sizeof(T) == 4) return __fsqrt_rn(a); else return __dsqrt_rn(a);
#else
  return std::sqrt(a);
#endif
}

}  // namespace pg::kernels
