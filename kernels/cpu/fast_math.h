// Inline float32 exp / sigmoid / tanh for the vectorised CPU row loops (LSTM cell, affine
// coupling): no libm call inside the loop, so GCC vectorises the whole element update.
// exp_f: x = n·ln2 + r with |r| ≤ ln2/2 (ln2 split in two parts so n·ln2 is exact), exp(r) by its
// Taylor polynomial to degree 7 (truncation < 6e-9 relative, below float32 rounding), 2^n built in
// the exponent bits; the argument is clamped to [−87.3, 88.3] so 2^n stays a finite normal number.
// σ(v) = 1/(1 + exp(−v)), tanh(v) = 1 − 2/(exp(2v) + 1): within a few float32 ulps of the libm
// values (absolute error ≤ 2e-7 for tanh near 0, where the form cancels); NaN propagates.
// Files using these loops compile with -fno-trapping-math (CMakeLists.txt) so the clamps and the
// NaN select are if-converted.
#pragma once

#include <cstdint>
#include <cstring>

namespace pg::kernels::fast {

inline float exp_f(float x) {
  float v = x < 88.3f ? x : 88.3f;
  v = v > -87.3f ? v : -87.3f;
  v = __builtin_isnan(v) ? 0.0f : v;  // no float → int conversion of NaN (undefined); NaN returns below
  const float fx = v * 1.44269504088896341f;
  int32_t n = static_cast<int32_t>(fx + (fx >= 0.0f ? 0.5f : -0.5f));  // round to nearest
  const float fn = static_cast<float>(n);
  const float r = (v - fn * 0.693359375f) + fn * 2.12194440e-4f;  // ln2 = 0.693359375 − 2.12194440e-4
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (n + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const float e = p * scale;
  return __builtin_isnan(x) ? x : e;  // (`x == x ? e : x` keeps GCC 12 from vectorising with AVX2)
}

inline float sigmoid_f(float v) { return 1.0f / (1.0f + exp_f(-v)); }
inline float tanh_f(float v) { return 1.0f - 2.0f / (exp_f(2.0f * v) + 1.0f); }

}  // namespace pg::kernels::fast
