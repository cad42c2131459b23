// Random numbers from a counter-based generator (Philox 4x32-10). A generator is a (seed,
// offset) pair; element i of a draw uses counter (offset + i) and the key from the seed, so one
// seed gives bit-identical streams on the CPU and on CUDA, independent of thread counts.
// Each draw advances the offset by the number of counters it consumed.
#pragma once

#include <cstdint>
#include <mutex>

#include "core/tensor.h"

namespace pg {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0x5eedULL) : seed_(seed) {}
  void manual_seed(uint64_t seed);
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  // Returns the first counter of a fresh range of `n` counters and advances past it.
  uint64_t reserve(uint64_t n);

 private:
  uint64_t seed_;
  uint64_t offset_ = 0;
  std::mutex mu_;
};

// The process-wide default generator (used when `gen` is null).
Generator& default_generator();
void manual_seed(uint64_t seed);

// U[0, 1) (float32: 24 random bits; float64: 53 bits).
Tensor rand(const Shape& shape, TensorOptions opts = {}, Generator* gen = nullptr);
// N(0, 1) by Box–Muller.
Tensor randn(const Shape& shape, TensorOptions opts = {}, Generator* gen = nullptr);
// Uniform integers in [low, high).
Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions opts = TensorOptions(DType::i64),
               Generator* gen = nullptr);
// A uniformly random permutation of 0..n-1 (sort of random 64-bit keys, ties by index).
Tensor randperm(int64_t n, TensorOptions opts = TensorOptions(DType::i64), Generator* gen = nullptr);
// 1 with probability p (elementwise from a float tensor of probabilities), else 0; same dtype
// and device as p.
Tensor bernoulli(const Tensor& p, Generator* gen = nullptr);
Tensor bernoulli(const Shape& shape, double p, TensorOptions opts = {}, Generator* gen = nullptr);

}  // namespace pg
