// Shared bodies of the RNG kernels: the mapping from Philox words to values, written once as
// PG_HD expressions so the CPU and CUDA backends produce the same bits.
//
// Element i of a draw uses w = philox(seed, offset + i) (4 x uint32, core/philox.h), and:
//   rand float32     (w0 >> 8) * 2^-24                                    in [0, 1), 24 bits
//   rand float64     m(w0, w1) * 2^-53, m(a, b) = (uint64(a) << 21) | (b >> 11)   in [0, 1), 53 bits
//   randn float32    Box–Muller (cos branch) evaluated in double, rounded to float:
//                      u1 = (w0 + 1) * 2^-32 in (0, 1],  u2 = w1 * 2^-32 in [0, 1)
//                      z  = sqrt(-2 log u1) * cos(2 pi u2)
//   randn float64    the same with 53-bit uniforms:
//                      u1 = (m(w0, w1) + 1) * 2^-53 in (0, 1],  u2 = m(w2, w3) * 2^-53 in [0, 1)
//   randint          low + ((uint64(w0) << 32 | w1) % (high - low))   (64-bit arithmetic; the
//                    modulo bias is below (high - low) / 2^64)
//   bernoulli        (m(w0, w1) * 2^-53 < p) ? 1 : 0      (p compared in double)
//   randperm key     uint64(w0) << 32 | w1; indices sorted by (key, index)
//
// Integers and uniforms are bit-identical across backends (pure integer ops and exact products
// by powers of two). randn calls log/cos/sqrt: glibc and CUDA's double versions differ by at most
// a couple of ulp (CUDA: log 1 ulp, cos 2 ulp, sqrt exact), so float64 randn agrees to a few
// ulp and float32 randn (rounded from double) is identical except, rarely, 1 ulp. No expression
// here has the a * b + c shape, so FMA contraction by nvcc cannot change results either.
#pragma once

#include <math.h>

#include "core/indexer.h"
#include "core/parallel_for.h"
#include "core/philox.h"
#include "core/random_kernels.h"

namespace pg::detail {

namespace rng {

constexpr float kInv2Pow24f = 0x1p-24f;
constexpr double kInv2Pow32 = 0x1p-32;
constexpr double kInv2Pow53 = 0x1p-53;
constexpr double kTwoPi = 6.283185307179586476925286766559;

PG_HD PG_INLINE uint64_t bits53(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 21) | (b >> 11); }
PG_HD PG_INLINE uint64_t bits64(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 32) | b; }

PG_HD PG_INLINE double uniform_f64(const philox::Counter& w) {
  return static_cast<double>(bits53(w.v[0], w.v[1])) * kInv2Pow53;
}

template <class T>
PG_HD PG_INLINE T uniform(const philox::Counter& w) {
  if constexpr (sizeof(T) == 4) {
    return static_cast<float>(w.v[0] >> 8) * kInv2Pow24f;
  } else {
    return uniform_f64(w);
  }
}

template <class T>
PG_HD PG_INLINE T normal(const philox::Counter& w) {
  double u1, u2;
  if constexpr (sizeof(T) == 4) {
    u1 = (static_cast<double>(w.v[0]) + 1.0) * kInv2Pow32;
    u2 = static_cast<double>(w.v[1]) * kInv2Pow32;
  } else {
    u1 = (static_cast<double>(bits53(w.v[0], w.v[1])) + 1.0) * kInv2Pow53;
    u2 = static_cast<double>(bits53(w.v[2], w.v[3])) * kInv2Pow53;
  }
  const double r = ::sqrt(-2.0 * ::log(u1));
  const double c = ::cos(kTwoPi * u2);
  return static_cast<T>(r * c);
}

template <class T>
struct UniformBody {
  T* out;
  uint64_t seed, offset;
  PG_HD void operator()(int64_t i) const {
    out[i] = uniform<T>(philox::philox(seed, offset + static_cast<uint64_t>(i)));
  }
};

template <class T>
struct NormalBody {
  T* out;
  uint64_t seed, offset;
  PG_HD void operator()(int64_t i) const {
    out[i] = normal<T>(philox::philox(seed, offset + static_cast<uint64_t>(i)));
  }
};

template <class T>
struct RandintBody {
  T* out;
  int64_t low;
  uint64_t range;
  uint64_t seed, offset;
  PG_HD void operator()(int64_t i) const {
    const philox::Counter w = philox::philox(seed, offset + static_cast<uint64_t>(i));
    const uint64_t v = static_cast<uint64_t>(low) + bits64(w.v[0], w.v[1]) % range;
    out[i] = static_cast<T>(static_cast<int64_t>(v));
  }
};

template <class T>
struct BernoulliScalarBody {
  T* out;
  double p;
  uint64_t seed, offset;
  PG_HD void operator()(int64_t i) const {
    const double u = uniform_f64(philox::philox(seed, offset + static_cast<uint64_t>(i)));
    out[i] = u < p ? T(1) : T(0);
  }
};

// `bad` (device only, may be null): set to 1 when some probability is outside [0, 1].
template <class T>
struct BernoulliTensorBody {
  T* out;
  const T* p;
  StridedIndexer<1> ix;
  int32_t* bad;
  uint64_t seed, offset;
  PG_HD void operator()(int64_t i) const {
    int64_t o[1];
    ix.offsets(i, o);
    const double pv = static_cast<double>(p[o[0]]);
    if (bad != nullptr && !(pv >= 0.0 && pv <= 1.0)) *bad = 1;
    const double u = uniform_f64(philox::philox(seed, offset + static_cast<uint64_t>(i)));
    out[i] = u < pv ? T(1) : T(0);
  }
};

struct PermKeyBody {
  uint64_t* keys;
  uint64_t seed, offset;
  PG_HD void operator()(int64_t i) const {
    const philox::Counter w = philox::philox(seed, offset + static_cast<uint64_t>(i));
    keys[i] = bits64(w.v[0], w.v[1]);
  }
};

}  // namespace rng

// Sorts 0..n-1 by (keys[i], i) into `out` (int32/int64, n = out.numel()). The CUDA version is
// defined in core/random_cuda.cu (CUB radix sort of (key, index) pairs: stable, so ties keep
// index order exactly like the CPU).
void randperm_sort_cpu(const Tensor& keys, const Tensor& out);
void randperm_sort_cuda(const Tensor& keys, const Tensor& out);

template <class Backend>
void rand_fill(const Tensor& out, uint64_t seed, uint64_t offset) {
  dispatch_floating(out.dtype(), "rand", [&]<class T>() {
    parallel_for<Backend>(out.numel(), rng::UniformBody<T>{static_cast<T*>(out.raw_data()), seed, offset});
  });
}

template <class Backend>
void randn_fill(const Tensor& out, uint64_t seed, uint64_t offset) {
  dispatch_floating(out.dtype(), "randn", [&]<class T>() {
    parallel_for<Backend>(out.numel(), rng::NormalBody<T>{static_cast<T*>(out.raw_data()), seed, offset});
  });
}

template <class Backend>
void randint_fill(const Tensor& out, int64_t low, uint64_t range, uint64_t seed, uint64_t offset) {
  dispatch_numeric(out.dtype(), "randint", [&]<class T>() {
    parallel_for<Backend>(out.numel(),
                          rng::RandintBody<T>{static_cast<T*>(out.raw_data()), low, range, seed, offset});
  });
}

template <class Backend>
void bernoulli_scalar_fill(const Tensor& out, double p, uint64_t seed, uint64_t offset) {
  dispatch_all(out.dtype(), "bernoulli", [&]<class T>() {
    parallel_for<Backend>(out.numel(),
                          rng::BernoulliScalarBody<T>{static_cast<T*>(out.raw_data()), p, seed, offset});
  });
}

template <class Backend>
bool bernoulli_tensor_fill(const Tensor& out, const Tensor& p, uint64_t seed, uint64_t offset) {
  const int64_t n = out.numel();
  if (n == 0) return true;
  return dispatch_floating(out.dtype(), "bernoulli", [&]<class T>() {
    const auto ix = make_indexer<1>(out.shape(), {p.strides()}, "bernoulli");
    T* o = static_cast<T*>(out.raw_data());
    const T* pp = static_cast<const T*>(p.raw_data());
    if constexpr (Backend::is_cuda) {
      // Checked inside the kernel; reading the flag back synchronises the stream.
      Tensor bad = zeros({1}, TensorOptions(DType::i32, out.device()));
      parallel_for<Backend>(n, rng::BernoulliTensorBody<T>{o, pp, ix, static_cast<int32_t*>(bad.raw_data()), seed,
                                                          offset});
      return bad.item_int() == 0;
    } else {
      for (int64_t i = 0; i < n; ++i) {
        int64_t off[1];
        ix.offsets(i, off);
        const double pv = static_cast<double>(pp[off[0]]);
        if (!(pv >= 0.0 && pv <= 1.0)) return false;
      }
      parallel_for<Backend>(n, rng::BernoulliTensorBody<T>{o, pp, ix, nullptr, seed, offset});
      return true;
    }
  });
}

template <class Backend>
void randperm_fill(const Tensor& out, uint64_t seed, uint64_t offset) {
  const int64_t n = out.numel();
  if (n == 0) return;
  // Keys live in an int64 tensor and are read as uint64.
  Tensor keys = empty({n}, TensorOptions(DType::i64, out.device()));
  parallel_for<Backend>(n, rng::PermKeyBody{static_cast<uint64_t*>(keys.raw_data()), seed, offset});
  if constexpr (Backend::is_cuda) {
    randperm_sort_cuda(keys, out);
  } else {
    randperm_sort_cpu(keys, out);
  }
}

}  // namespace pg::detail
