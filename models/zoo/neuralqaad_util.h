// Small host helpers shared by QAAD_GREEDY and QAAD_REASSIGNMENT (models/zoo/neuralqaad_*.cpp).
#pragma once

#include <cstdint>

namespace pg::models::qaad_detail {

// splitmix64 step: advances the state and returns the next 64-bit value (portable, unlike the
// standard library's distributions: the same stream on every platform).
inline uint64_t next_splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Squared distance of two 3-D points.
inline double dist2(const double* a, const double* b) {
  const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return dx * dx + dy * dy + dz * dz;
}

}  // namespace pg::models::qaad_detail
