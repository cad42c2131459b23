// Shared PG_HD pieces of the auction EMD (kernels/cpu/emd.cpp, kernels/cuda/emd.cu) and the
// shared launchers of the distance / gradient / gather bodies.
//
// Bit-identical CPU and CUDA auctions: every float/double operation that decides a bid goes
// through the f_* / d_* helpers below — CUDA's __f*_rn / __d*_rn intrinsics, which nvcc never
// contracts into FMAs, and plain IEEE operations on the host (the CPU translation unit turns
// FMA contraction off where the target has FMA). sqrt is correctly rounded on both. All
// decisions (max value, tie keys, max packed bid) are order-independent, so the parallel
// decomposition does not change any result.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

#include "core/macros.h"
#include "core/parallel_for.h"
#include "kernels/common/hd_util.h"
#include "kernels/emd.h"

namespace pg::kernels::emd_detail {

// ---- rounding-exact arithmetic: add_rn/sub_rn/mul_rn/div_rn/sqrt_rn (kernels/common/hd_util.h) ----
PG_HD PG_INLINE uint32_t float_bits(float f) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(f);
#else
  return std::bit_cast<uint32_t>(f);
#endif
}
PG_HD PG_INLINE float bits_float(uint32_t u) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(u);
#else
  return std::bit_cast<float>(u);
#endif
}

#define PG_EMD_NEG_INF (-INFINITY)

// A point in the auction's float32 frame; w carries the object's price (CUDA layouts).
struct alignas(16) Pt4 {
  float x, y, z, w;
};

// ---- per-problem setup (from the joint bounding box) ----
struct BBox {
  double lo[3];
  double hi[3];
  int bad;  // a non-finite coordinate was seen
};

PG_HD PG_INLINE void bbox_init(BBox& b) {
  for (int c = 0; c < 3; ++c) {
    b.lo[c] = static_cast<double>(INFINITY);
    b.hi[c] = -static_cast<double>(INFINITY);
  }
  b.bad = 0;
}
PG_HD PG_INLINE void bbox_add(BBox& b, double x, double y, double z) {
  const double v[3] = {x, y, z};
  for (int c = 0; c < 3; ++c) {
    if (!is_finite_hd(v[c])) {
      b.bad = 1;
      continue;
    }
    b.lo[c] = v[c] < b.lo[c] ? v[c] : b.lo[c];
    b.hi[c] = v[c] > b.hi[c] ? v[c] : b.hi[c];
  }
}
PG_HD PG_INLINE void bbox_merge(BBox& a, const BBox& b) {
  for (int c = 0; c < 3; ++c) {
    a.lo[c] = b.lo[c] < a.lo[c] ? b.lo[c] : a.lo[c];
    a.hi[c] = b.hi[c] > a.hi[c] ? b.hi[c] : a.hi[c];
  }
  a.bad |= b.bad;
}

struct AuctionSetup {
  double c[3];       // centre of the joint bounding box (the auction frame's origin)
  double diag;       // D, or 1 when every point coincides
  double eps_final;  // final ε (Msn: the ε)
  double eps_start;  // first ε (≥ eps_final)
  double eps_factor;
  float offset;  // value offset of the bids
  int bad;       // non-finite input: nothing computed
};

// Smallest ε allowed, relative to D: keeps every increment ≥ 4 float ulps of the bid values
// (|value| ≤ ~2D), so prices always move.
constexpr double kMinEpsRel = 1.0 / (1 << 20);

PG_HD PG_INLINE AuctionSetup make_setup(const BBox& bb, int64_t n, const AuctionParams& prm) {
  AuctionSetup s{};
  s.bad = bb.bad;
  if (s.bad) return s;
  const double dx = sub_rn(bb.hi[0], bb.lo[0]), dy = sub_rn(bb.hi[1], bb.lo[1]), dz = sub_rn(bb.hi[2], bb.lo[2]);
  const double d = sqrt_rn(add_rn(add_rn(mul_rn(dx, dx), mul_rn(dy, dy)), mul_rn(dz, dz)));
  for (int c = 0; c < 3; ++c) s.c[c] = mul_rn(add_rn(bb.lo[c], bb.hi[c]), 0.5);
  s.diag = d > 0.0 ? d : 1.0;
  const double eps_min = mul_rn(s.diag, kMinEpsRel);
  double ef;
  if (prm.mode == kAuctionMsn) {
    ef = prm.eps;
  } else {
    ef = prm.eps > 0.0 ? prm.eps : div_rn(mul_rn(prm.eps_rel, s.diag), sqrt_rn(static_cast<double>(n)));
  }
  ef = ef > eps_min ? ef : eps_min;
  double es = prm.mode == kAuctionMsn ? ef : mul_rn(prm.eps_start_rel, s.diag);
  es = es > ef ? es : ef;
  s.eps_final = ef;
  s.eps_start = es;
  s.eps_factor = prm.eps_factor;
  s.offset = static_cast<float>(prm.value_offset > 0.0 ? prm.value_offset : s.diag);
  return s;
}

// The next phase's ε (ε-scaling).
PG_HD PG_INLINE double next_eps(double e, const AuctionSetup& s) {
  const double q = div_rn(e, s.eps_factor);
  return q > s.eps_final ? q : s.eps_final;
}

// A coordinate in the auction frame.
PG_HD PG_INLINE float to_frame(double v, double centre) {
  return static_cast<float>(sub_rn(v, centre));
}

// ---- bidding ----

// Distance ‖o − b‖ in the auction's float arithmetic (the CPU's sparse bids store it per candidate).
PG_HD PG_INLINE float pair_dist(float bx, float by, float bz, float ox, float oy, float oz) {
  const float dx = sub_rn(ox, bx), dy = sub_rn(oy, by), dz = sub_rn(oz, bz);
  const float d2 = add_rn(add_rn(mul_rn(dx, dx), mul_rn(dy, dy)), mul_rn(dz, dz));
  return sqrt_rn(d2);
}

// Value of object (ox, oy, oz) at price `price` for bidder (bx, by, bz): offset − ‖o − b‖ − price.
PG_HD PG_INLINE float pair_value(float bx, float by, float bz, float ox, float oy, float oz, float price,
                                 float offset) {
  return sub_rn(sub_rn(offset, pair_dist(bx, by, bz, ox, oy, oz)), price);
}

// Tie key of object k for bidder j: equal values go to the smallest (k − j) mod n.
PG_HD PG_INLINE int32_t tie_key(int32_t k, int32_t j, int32_t n) {
  return k >= j ? k - j : k - j + n;
}

// Best (value, key) and second-best value seen so far.
struct BestTwo {
  float bv;
  int32_t key;
  float sv;
};

PG_HD PG_INLINE BestTwo best_init() {
  return {PG_EMD_NEG_INF, 0x7fffffff, PG_EMD_NEG_INF};
}
PG_HD PG_INLINE bool better(float v1, int32_t k1, float v2, int32_t k2) {
  return v1 > v2 || (v1 == v2 && k1 < k2);
}
PG_HD PG_INLINE void best_update(BestTwo& s, float v, int32_t key) {
  if (better(v, key, s.bv, s.key)) {
    s.sv = s.bv;
    s.bv = v;
    s.key = key;
  } else {
    s.sv = v > s.sv ? v : s.sv;
  }
}
PG_HD PG_INLINE BestTwo best_combine(const BestTwo& a, const BestTwo& b) {
  if (better(b.bv, b.key, a.bv, a.key)) return {b.bv, b.key, a.bv > b.sv ? a.bv : b.sv};
  return {a.bv, a.key, a.sv > b.bv ? a.sv : b.bv};
}
// Object index from the winning key, and the increment best − second + ε (ε alone when n = 1).
PG_HD PG_INLINE int32_t key_object(int32_t key, int32_t j, int32_t n) {
  const int32_t k = key + j;
  return k >= n ? k - n : k;
}
PG_HD PG_INLINE float bid_increment(const BestTwo& s, int32_t n, float eps) {
  const float second = n == 1 ? s.bv : s.sv;
  return add_rn(sub_rn(s.bv, second), eps);
}

// Packed bid: larger increment wins, then the lower bidder index. 0 = no bid.
PG_HD PG_INLINE uint64_t pack_bid(float inc, int32_t j) {
  return (static_cast<uint64_t>(float_bits(inc)) << 32) | static_cast<uint64_t>(~static_cast<uint32_t>(j));
}
PG_HD PG_INLINE int32_t bid_bidder(uint64_t p) {
  return static_cast<int32_t>(~static_cast<uint32_t>(p));
}
PG_HD PG_INLINE float bid_inc(uint64_t p) {
  return bits_float(static_cast<uint32_t>(p >> 32));
}

// ---- distances and gradients under a fixed assignment ----

template <class T>
struct DistBody {
  T* dist;
  const T* x1;
  const T* x2;
  const int64_t* a;
  int64_t n;
  PG_HD void operator()(int64_t i) const {
    const T* p = x1 + 3 * i;
    const T* q = x2 + 3 * (i / n * n + a[i]);
    const T dx = p[0] - q[0], dy = p[1] - q[1], dz = p[2] - q[2];
    dist[i] = dx * dx + dy * dy + dz * dz;
  }
};

template <class T>
struct Grad1Body {
  T* g1;
  const T* x1;
  const T* x2;
  const int64_t* a;
  const T* g;
  int64_t n;
  PG_HD void operator()(int64_t i) const {
    const T* p = x1 + 3 * i;
    const T* q = x2 + 3 * (i / n * n + a[i]);
    const T s = T(2) * g[i];
    for (int c = 0; c < 3; ++c) g1[3 * i + c] = s * (p[c] - q[c]);
  }
};

// CPU: one work item per cloud, points in order (deterministic sums).
template <class T>
struct Grad2CloudBody {
  T* g2;
  const T* x1;
  const T* x2;
  const int64_t* a;
  const T* g;
  int64_t n;
  PG_HD void operator()(int64_t b) const {
    for (int64_t i = b * n; i < (b + 1) * n; ++i) {
      const int64_t k = b * n + a[i];
      const T s = T(2) * g[i];
      for (int c = 0; c < 3; ++c) g2[3 * k + c] -= s * (x1[3 * i + c] - x2[3 * k + c]);
    }
  }
};

// CUDA: one thread per point, atomics on the target (exact when the target has one source).
template <class T>
struct Grad2AtomicBody {
  T* g2;
  const T* x1;
  const T* x2;
  const int64_t* a;
  const T* g;
  int64_t n;
  PG_HD void operator()(int64_t i) const {
#ifdef __CUDA_ARCH__
    const int64_t k = i / n * n + a[i];
    const T s = T(2) * g[i];
    for (int c = 0; c < 3; ++c) atomicAdd(g2 + 3 * k + c, -(s * (x1[3 * i + c] - x2[3 * k + c])));
#endif
  }
};

template <class T>
struct SumSqrtBody {
  T* out;
  const T* dist;
  int64_t n;
  PG_HD void operator()(int64_t b) const {
    double s = 0.0;
    for (int64_t j = 0; j < n; ++j) s += sqrt(static_cast<double>(dist[b * n + j]));
    out[b] = static_cast<T>(s);
  }
};

template <class T>
struct GatherRows3Body {
  T* out;
  const T* x;
  const int64_t* rows;
  PG_HD void operator()(int64_t r) const {
    const int64_t s = rows[r];
    for (int c = 0; c < 3; ++c) out[3 * r + c] = x[3 * s + c];
  }
};

struct EmkdScatterBody {
  int64_t* global;
  const int64_t* local;
  const int64_t* order1;
  const int64_t* order2;
  const int64_t* row_base;
  int64_t n;
  PG_HD void operator()(int64_t r) const {
    const int64_t dst = order1[r];
    global[dst] = order2[row_base[r] + local[r]] - dst / n * n;
  }
};

}  // namespace pg::kernels::emd_detail

namespace pg::kernels {

template <class Backend>
void emd_dist(const Tensor& dist, const Tensor& x1, const Tensor& x2, const Tensor& a) {
  const int64_t n = x1.size(1);
  dispatch_floating(x1.dtype(), "emd_dist", [&]<class T>() {
    parallel_for<Backend>(dist.numel(),
                          emd_detail::DistBody<T>{dist.data<T>(), x1.data<T>(), x2.data<T>(), a.data<int64_t>(), n});
  });
}

template <class Backend>
void emd_dist_backward(const Tensor& g1, const Tensor& g2, const Tensor& x1, const Tensor& x2, const Tensor& a,
                       const Tensor& grad_dist) {
  const int64_t n = x1.size(1), total = x1.size(0) * n;
  dispatch_floating(x1.dtype(), "emd_dist_backward", [&]<class T>() {
    const T* p1 = x1.data<T>();
    const T* p2 = x2.data<T>();
    const int64_t* pa = a.data<int64_t>();
    const T* pg = grad_dist.data<T>();
    if (g1.defined()) parallel_for<Backend>(total, emd_detail::Grad1Body<T>{g1.data<T>(), p1, p2, pa, pg, n});
    if (g2.defined()) {
      if constexpr (Backend::is_cuda) {
        parallel_for<Backend>(total, emd_detail::Grad2AtomicBody<T>{g2.data<T>(), p1, p2, pa, pg, n});
      } else {
        parallel_for<Backend>(x1.size(0), emd_detail::Grad2CloudBody<T>{g2.data<T>(), p1, p2, pa, pg, n});
      }
    }
  });
}

template <class Backend>
void emd_sum_sqrt(const Tensor& out, const Tensor& dist) {
  dispatch_floating(dist.dtype(), "emd_sum_sqrt", [&]<class T>() {
    parallel_for<Backend>(dist.size(0), emd_detail::SumSqrtBody<T>{out.data<T>(), dist.data<T>(), dist.size(1)});
  });
}

template <class Backend>
void gather_rows3(const Tensor& out, const Tensor& x, const Tensor& rows) {
  dispatch_floating(x.dtype(), "gather_rows3", [&]<class T>() {
    parallel_for<Backend>(rows.numel(),
                          emd_detail::GatherRows3Body<T>{out.data<T>(), x.data<T>(), rows.data<int64_t>()});
  });
}

template <class Backend>
void emkd_scatter_assignment(const Tensor& global, const Tensor& local, const Tensor& order1, const Tensor& order2,
                             const Tensor& row_base, int64_t n) {
  parallel_for<Backend>(
      local.numel(), emd_detail::EmkdScatterBody{global.data<int64_t>(), local.data<int64_t>(), order1.data<int64_t>(),
                                                 order2.data<int64_t>(), row_base.data<int64_t>(), n});
}

}  // namespace pg::kernels
