// Forced include (-include) of every .cu file in the emulation build: the CUDA C++ keywords and
// device intrinsics as host C++. Each CUDA thread runs as a fiber; the intrinsics that exchange
// data between threads (barriers, shuffles, ballots) suspend the fiber until the emulator's
// scheduler has collected every participant.
#pragma once

#include <cuda_runtime.h>

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cuda_emu/emu_launch.h"

#define __CUDACC__ 1
#define __CUDA_ARCH__ 900
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __align__(n) alignas(n)
// Shared memory: one instance per host thread. A block's fibers all run on one host thread and
// blocks run one after another (cooperative grids: one host thread per block), so a
// thread_local variable is exactly "one per running block" (docs/decisions.md).
#define __shared__ thread_local
#define __constant__ const

namespace pg_emu {

// The running CUDA thread and block (set by the scheduler before it resumes a fiber).
struct ThreadState;
struct BlockState {
  uint3 block_idx;
  dim3 block_dim;
  dim3 grid_dim;
};
struct ThreadView {
  uint3 thread_idx;
  unsigned linear;  // threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)
};
const ThreadView& current_thread();
const BlockState& current_block();

enum class WarpOp { Sync, ShflIdx, ShflUp, ShflDown, ShflXor, Ballot, Any, All };
// Suspends until every lane of `mask` has reached a warp operation; returns the exchanged value.
uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int lane_arg, int width);
enum class BarrierOp { Sync, And, Or, Count, Grid };
// Suspends until every thread of the block (kind Grid: of the grid) arrives; returns the
// reduction of the predicates for And/Or/Count.
int block_barrier(BarrierOp op, int predicate);

template <class T>
uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8, "warp shuffles move at most 8 bytes");
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(T));
  return b;
}
template <class T>
T from_bits(uint64_t b) {
  T v;
  std::memcpy(&v, &b, sizeof(T));
  return v;
}

}  // namespace pg_emu

#define threadIdx (::pg_emu::current_thread().thread_idx)
#define blockIdx (::pg_emu::current_block().block_idx)
#define blockDim (::pg_emu::current_block().block_dim)
#define gridDim (::pg_emu::current_block().grid_dim)
constexpr int warpSize = 32;

// ---- barriers ----
inline void __syncthreads() {
  ::pg_emu::block_barrier(::pg_emu::BarrierOp::Sync, 0);
}
inline int __syncthreads_and(int p) {
  return ::pg_emu::block_barrier(::pg_emu::BarrierOp::And, p);
}
inline int __syncthreads_or(int p) {
  return ::pg_emu::block_barrier(::pg_emu::BarrierOp::Or, p);
}
inline int __syncthreads_count(int p) {
  return ::pg_emu::block_barrier(::pg_emu::BarrierOp::Count, p);
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  ::pg_emu::warp_exchange(::pg_emu::WarpOp::Sync, mask, 0, 0, 32);
}
// Fibers switch only at the synchronisation points above, so memory is always coherent.
inline void __threadfence() {}
inline void __threadfence_block() {}

// ---- warp shuffles, votes ----
template <class T>
T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  return ::pg_emu::from_bits<T>(
      ::pg_emu::warp_exchange(::pg_emu::WarpOp::ShflIdx, mask, ::pg_emu::to_bits(v), src, width));
}
template <class T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return ::pg_emu::from_bits<T>(
      ::pg_emu::warp_exchange(::pg_emu::WarpOp::ShflUp, mask, ::pg_emu::to_bits(v), static_cast<int>(delta), width));
}
template <class T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return ::pg_emu::from_bits<T>(
      ::pg_emu::warp_exchange(::pg_emu::WarpOp::ShflDown, mask, ::pg_emu::to_bits(v), static_cast<int>(delta), width));
}
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  return ::pg_emu::from_bits<T>(
      ::pg_emu::warp_exchange(::pg_emu::WarpOp::ShflXor, mask, ::pg_emu::to_bits(v), lane_mask, width));
}
inline unsigned __ballot_sync(unsigned mask, int p) {
  return static_cast<unsigned>(::pg_emu::warp_exchange(::pg_emu::WarpOp::Ballot, mask, p != 0, 0, 32));
}
inline int __any_sync(unsigned mask, int p) {
  return static_cast<int>(::pg_emu::warp_exchange(::pg_emu::WarpOp::Any, mask, p != 0, 0, 32));
}
inline int __all_sync(unsigned mask, int p) {
  return static_cast<int>(::pg_emu::warp_exchange(::pg_emu::WarpOp::All, mask, p != 0, 0, 32));
}

// ---- atomics (real atomics: cooperative grids run blocks on several host threads) ----
template <class T>
T atomicAdd(T* p, T v) {
  if constexpr (std::is_floating_point_v<T>) {
    T old, desired;
    __atomic_load(p, &old, __ATOMIC_RELAXED);
    do {
      desired = old + v;
    } while (!__atomic_compare_exchange(p, &old, &desired, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
    return old;
  } else {
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
  }
}
template <class T>
T atomicSub(T* p, T v) {
  return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST);
}
template <class T>
T atomicOr(T* p, T v) {
  return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
}
template <class T>
T atomicAnd(T* p, T v) {
  return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
}
template <class T>
T atomicExch(T* p, T v) {
  return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
template <class T>
T atomicMax(T* p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
  }
  return old;
}
template <class T>
T atomicMin(T* p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (v < old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
  }
  return old;
}
template <class T>
T atomicCAS(T* p, T expected, T desired) {
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;
}

// ---- loads ----
template <class T>
T __ldcg(const T* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <class T>
T __ldg(const T* p) {
  return *p;
}

// ---- bit and conversion intrinsics ----
inline int __popc(unsigned v) {
  return __builtin_popcount(v);
}
inline int __popcll(unsigned long long v) {
  return __builtin_popcountll(v);
}
inline int __clz(int v) {
  return v == 0 ? 32 : __builtin_clz(static_cast<unsigned>(v));
}
inline int __ffs(int v) {
  return __builtin_ffs(v);
}
inline float __int_as_float(int v) {
  return ::pg_emu::from_bits<float>(static_cast<uint32_t>(v));
}
inline int __float_as_int(float v) {
  return static_cast<int>(static_cast<uint32_t>(::pg_emu::to_bits(v)));
}
inline float __uint_as_float(unsigned v) {
  return ::pg_emu::from_bits<float>(v);
}
inline unsigned __float_as_uint(float v) {
  return static_cast<uint32_t>(::pg_emu::to_bits(v));
}
inline double __longlong_as_double(long long v) {
  return ::pg_emu::from_bits<double>(static_cast<uint64_t>(v));
}
inline long long __double_as_longlong(double v) {
  return static_cast<long long>(::pg_emu::to_bits(v));
}

// Correctly rounded single operations (never contracted: each is a separate function call
// whose result is stored).
#define PG_EMU_RN(name, T, expr) \
  inline T name(T a, T b) {      \
    volatile T r = (expr);       \
    return r;                    \
  }
PG_EMU_RN(__fadd_rn, float, a + b)
PG_EMU_RN(__fsub_rn, float, a - b)
PG_EMU_RN(__fmul_rn, float, a* b)
PG_EMU_RN(__fdiv_rn, float, a / b)
PG_EMU_RN(__dadd_rn, double, a + b)
PG_EMU_RN(__dsub_rn, double, a - b)
PG_EMU_RN(__dmul_rn, double, a* b)
PG_EMU_RN(__ddiv_rn, double, a / b)
#undef PG_EMU_RN
inline float __fsqrt_rn(float a) {
  return std::sqrt(a);
}
inline double __dsqrt_rn(double a) {
  return std::sqrt(a);
}
inline float __expf(float a) {
  return std::exp(a);
}
inline float __logf(float a) {
  return std::log(a);
}
inline float __fdividef(float a, float b) {
  return a / b;
}
inline float rsqrtf(float a) {
  return 1.0f / std::sqrt(a);
}
inline double rsqrt(double a) {
  return 1.0 / std::sqrt(a);
}

// CUDA's global math overloads (device code calls min/max/sqrt/... unqualified).
using std::ceil;
using std::exp;
using std::fabs;
using std::floor;
using std::fmax;
using std::fmin;
using std::isfinite;
using std::isinf;
using std::isnan;
using std::log;
using std::sqrt;
using std::tanh;
// Floating min/max are fminf/fmaxf (a NaN operand loses), as on the device.
template <class A, class B>
inline auto min(A a, B b) -> std::common_type_t<A, B> {
  using C = std::common_type_t<A, B>;
  if constexpr (std::is_floating_point_v<C>) {
    return std::fmin(static_cast<C>(a), static_cast<C>(b));
  } else {
    return static_cast<C>(b) < static_cast<C>(a) ? static_cast<C>(b) : static_cast<C>(a);
  }
}
template <class A, class B>
inline auto max(A a, B b) -> std::common_type_t<A, B> {
  using C = std::common_type_t<A, B>;
  if constexpr (std::is_floating_point_v<C>) {
    return std::fmax(static_cast<C>(a), static_cast<C>(b));
  } else {
    return static_cast<C>(a) < static_cast<C>(b) ? static_cast<C>(b) : static_cast<C>(a);
  }
}
