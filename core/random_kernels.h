// Per-backend RNG launchers (internal to core). Defined in core/random_impl.h and instantiated
// in core/random_cpu.cpp and core/random_cuda.cu; called by core/random.cpp after validation.
// Every launcher writes a freshly allocated contiguous `out` on the backend's device; element i
// (row-major) uses Philox counter `offset + i` under key `seed` (see core/random_impl.h for the
// exact mapping of words to values).
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace pg::detail {

// U[0, 1): out is float32 or float64.
template <class Backend>
void rand_fill(const Tensor& out, uint64_t seed, uint64_t offset);

// N(0, 1) by Box–Muller: out is float32 or float64.
template <class Backend>
void randn_fill(const Tensor& out, uint64_t seed, uint64_t offset);

// low + (64-bit word % range), converted to out's (numeric) dtype. range = high - low > 0.
template <class Backend>
void randint_fill(const Tensor& out, int64_t low, uint64_t range, uint64_t seed, uint64_t offset);

// 1 where the 53-bit uniform of the element is < p, else 0 (any dtype).
template <class Backend>
void bernoulli_scalar_fill(const Tensor& out, double p, uint64_t seed, uint64_t offset);

// Same with a per-element probability read from `p` (float32/float64, same shape, dtype and
// device as out, any strides). Returns false when some probability lies outside [0, 1] (or is
// NaN); out is then unspecified.
template <class Backend>
bool bernoulli_tensor_fill(const Tensor& out, const Tensor& p, uint64_t seed, uint64_t offset);

// A permutation of 0..n-1 (n = out.numel(); out is int32 or int64): element i gets the 64-bit
// key of counter offset + i and the indices are sorted by (key, index).
template <class Backend>
void randperm_fill(const Tensor& out, uint64_t seed, uint64_t offset);

}  // namespace pg::detail
