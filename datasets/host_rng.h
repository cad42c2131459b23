// HostRng: a small counter-based (Philox 4x32-10) random stream for host-side data work
// (shuffling, augmentation, procedural shapes). A stream is named by a 64-bit key built from
// the user's seed and any number of integers (epoch, sample position, tag), so a sample's random
// numbers depend only on its name, never on thread scheduling or on what was drawn before.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>

#include "core/philox.h"

namespace pg::datasets {

// SplitMix64 finaliser: a bijective 64-bit mix.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// A stream key from a seed and a list of integers (order matters).
inline uint64_t stream_key(uint64_t seed, std::initializer_list<uint64_t> parts) {
  uint64_t k = mix64(seed);
  for (uint64_t p : parts) k = mix64(k ^ mix64(p + 0x632BE59BD9B4E019ULL));
  return k;
}

class HostRng {
 public:
  explicit HostRng(uint64_t key) : key_(key) {}
  HostRng(uint64_t seed, std::initializer_list<uint64_t> parts) : key_(stream_key(seed, parts)) {}

  uint32_t next_u32() {
    if (avail_ == 0) {
      const philox::Counter c = philox::philox(key_, counter_++);
      for (int i = 0; i < 4; ++i) buf_[i] = c.v[i];
      avail_ = 4;
    }
    return buf_[4 - avail_--];
  }
  uint64_t next_u64() {
    const uint64_t hi = next_u32();
    return (hi << 32) | next_u32();
  }
  // U[0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n) (n > 0), rejection-free multiply-shift (bias < 2^-32 for n < 2^32).
  uint64_t below(uint64_t n) {
    if (n <= 0xFFFFFFFFULL) return (static_cast<uint64_t>(next_u32()) * n) >> 32;
    return next_u64() % n;
  }
  // N(0, 1) by Box–Muller (both values used).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2.0 * M_PI * u2);
    has_spare_ = true;
    return r * std::cos(2.0 * M_PI * u2);
  }

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
  uint32_t buf_[4] = {0, 0, 0, 0};
  int avail_ = 0;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace pg::datasets
