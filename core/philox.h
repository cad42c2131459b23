// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), the
// counter-based generator of Random123. Pure integer arithmetic, so the host and the device
// produce bit-identical words. Checked against the Random123 known-answer vectors in
// tests/unit/test_random.cpp.
//
// One round on counter (c0, c1, c2, c3) with key (k0, k1):
//   (hi0, lo0) = M0 * c0,  (hi1, lo1) = M1 * c2     (32x32 -> 64-bit products)
//   c' = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
// and the key is bumped by the Weyl constants (W0, W1) between rounds.
#pragma once

#include <cstdint>

#include "core/macros.h"

namespace pg::philox {

constexpr uint32_t kM0 = 0xD2511F53u;
constexpr uint32_t kM1 = 0xCD9E8D57u;
constexpr uint32_t kW0 = 0x9E3779B9u;
constexpr uint32_t kW1 = 0xBB67AE85u;
constexpr int kRounds = 10;

struct Counter {
  uint32_t v[4];
};
struct Key {
  uint32_t v[2];
};

PG_HD PG_INLINE void mulhilo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  hi = static_cast<uint32_t>(p >> 32);
  lo = static_cast<uint32_t>(p);
}

PG_HD PG_INLINE Counter single_round(const Counter& c, const Key& k) {
  uint32_t hi0, lo0, hi1, lo1;
  mulhilo(kM0, c.v[0], hi0, lo0);
  mulhilo(kM1, c.v[2], hi1, lo1);
  return Counter{{hi1 ^ c.v[1] ^ k.v[0], lo1, hi0 ^ c.v[3] ^ k.v[1], lo0}};
}

// Philox4x32 with 10 rounds: the full 128-bit counter and 64-bit key form.
PG_HD PG_INLINE Counter philox4x32_10(Counter c, Key k) {
#if defined(__CUDACC__)
#pragma unroll
#endif
  for (int r = 0; r < kRounds; ++r) {
    if (r > 0) {
      k.v[0] += kW0;
      k.v[1] += kW1;
    }
    c = single_round(c, k);
  }
  return c;
}

// The form pointgrad uses: counter = (lo32(counter), hi32(counter), 0, 0) and
// key = (lo32(seed), hi32(seed)).
PG_HD PG_INLINE Counter philox(uint64_t seed, uint64_t counter) {
  const Counter c{{static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32), 0u, 0u}};
  const Key k{{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)}};
  return philox4x32_10(c, k);
}

}  // namespace pg::philox
