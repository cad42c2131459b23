// Sparse bids of the CPU auction (kernels/cpu/emd.cpp): instead of scanning all n objects, a bid
// searches a k-d tree of the objects whose nodes carry their bounding box and the minimum price
// inside, best-first, and skips every node that provably holds neither the best nor the
// second-best value — so each bidder looks at its nearest objects first and goes farther only
// while farther objects could still beat them (cheap objects far away). The bid is bit-identical
// to the dense scan's, so the auction (rounds, winners, prices, assignment) is the same run with
// either path, keeps the same ε guarantee (cost ≤ optimum + n·ε) and matches the CUDA kernels.
//
// Why pruning is exact. The auction's float value of object k for bidder j is
//   v_k = fl(fl(offset − d_k) − p_k),  d_k = pair_dist(b_j, o_k) = fl(√fl(fl(fl(dx²) + fl(dy²)) + fl(dz²))),
// dx = fl(o_k.x − b_j.x) etc. For a node with box [lo, hi] the gap g_x is fl(lo.x − b.x) when
// b.x < lo.x, fl(b.x − hi.x) when b.x > hi.x, else 0; round-to-nearest is monotone and negation
// exact, so |dx| ≥ g_x for every object in the box, and the same operation sequence on the gaps
// gives a float distance g ≤ d_k. With m = the node's minimum price, again by monotonicity,
//   v_k ≤ U = fl(fl(offset − g) − m)   for every object k of the node.
// A node with U < s (s = the second-best value found so far, which only grows) cannot contain
// the best, a tie of the best (whose tie key might be smaller) or a value above s: skipping it
// changes neither (best, key) nor the second-best. Hence the search returns exactly the dense
// scan's (best, key, second) and the same increment best − second + ε.
//
// Prices only rise; after every price change the node minima on the path to the root are
// refreshed (O(leaf + depth)). The tree is built once per problem (positions sorted into leaves
// by median splits on the widest axis; a complete binary tree of 2^depth leaves of ≤ kLeafSize
// objects, heap-indexed).
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "kernels/common/emd_impl.h"
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace pg::kernels::emd_detail {

constexpr int32_t kLeafSize = 16;

struct ObjectTree {
  int32_t depth = 0;             // leaves are the nodes [2^depth, 2^(depth+1))
  std::vector<int32_t> orig;     // position → object index
  std::vector<int32_t> pos;      // object index → position
  std::vector<float> x, y, z;    // objects in position order (+ 8 padding floats)
  std::vector<float> price;      // prices in position order (mirror of the auction's; + padding)
  std::vector<int32_t> b, e;     // node → positions [b, e)
  std::vector<float> lo[3], hi[3], pmin;  // node boxes and minimum prices
  bool empty() const { return orig.empty(); }
};

inline ObjectTree build_object_tree(const float* ox, const float* oy, const float* oz, int32_t n) {
  ObjectTree t;
  while ((int64_t(n) >> t.depth) > kLeafSize) ++t.depth;
  const int32_t nodes = 2 << t.depth;
  t.orig.resize(n);
  std::iota(t.orig.begin(), t.orig.end(), 0);
  t.b.assign(nodes, 0);
  t.e.assign(nodes, 0);
  for (int c = 0; c < 3; ++c) {
    t.lo[c].assign(nodes, 0.0f);
    t.hi[c].assign(nodes, 0.0f);
  }
  t.pmin.assign(nodes, 0.0f);
  const float* p[3] = {ox, oy, oz};
  t.b[1] = 0;
  t.e[1] = n;
  for (int32_t v = 1; v < nodes; ++v) {  // top-down: a node's range is set before it is split
    const int32_t b = t.b[v], e = t.e[v];
    float mn[3] = {INFINITY, INFINITY, INFINITY}, mx[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (int32_t q = b; q < e; ++q)
      for (int c = 0; c < 3; ++c) {
        mn[c] = std::min(mn[c], p[c][t.orig[q]]);
        mx[c] = std::max(mx[c], p[c][t.orig[q]]);
      }
    for (int c = 0; c < 3; ++c) {
      t.lo[c][v] = mn[c];
      t.hi[c][v] = mx[c];
    }
    if (v >= (1 << t.depth)) continue;  // leaf
    int ax = 0;
    for (int c = 1; c < 3; ++c)
      if (mx[c] - mn[c] > mx[ax] - mn[ax]) ax = c;
    const int32_t mid = b + (e - b) / 2;
    std::nth_element(t.orig.begin() + b, t.orig.begin() + mid, t.orig.begin() + e, [&](int32_t i, int32_t j) {
      return p[ax][i] < p[ax][j] || (p[ax][i] == p[ax][j] && i < j);
    });
    t.b[2 * v] = b, t.e[2 * v] = mid;
    t.b[2 * v + 1] = mid, t.e[2 * v + 1] = e;
  }
  t.pos.resize(n);
  // 8 floats of padding: the AVX2 leaf pass reads whole vectors.
  t.x.assign(n + 8, 0.0f), t.y.assign(n + 8, 0.0f), t.z.assign(n + 8, 0.0f);
  t.price.assign(n + 8, 0.0f);
  for (int32_t q = 0; q < n; ++q) {
    const int32_t k = t.orig[q];
    t.pos[k] = q;
    t.x[q] = ox[k], t.y[q] = oy[k], t.z[q] = oz[k];
  }
  return t;
}

// Copies the auction's prices in and refreshes every node minimum.
inline void tree_set_prices(ObjectTree& t, const float* price) {
  const int32_t n = static_cast<int32_t>(t.orig.size()), nodes = 2 << t.depth;
  for (int32_t q = 0; q < n; ++q) t.price[q] = price[t.orig[q]];
  for (int32_t v = nodes - 1; v >= 1; --v) {
    if (v >= (1 << t.depth)) {
      float m = INFINITY;
      for (int32_t q = t.b[v]; q < t.e[v]; ++q) m = std::min(m, t.price[q]);
      t.pmin[v] = m;
    } else {
      t.pmin[v] = std::min(t.pmin[2 * v], t.pmin[2 * v + 1]);
    }
  }
}

// Object k's price became `p` (prices only rise): refresh the minima on its path.
inline void tree_price_changed(ObjectTree& t, int32_t k, float p) {
  const int32_t q = t.pos[k];
  t.price[q] = p;
  int32_t v = (1 << t.depth);
  // the leaf holding position q: descend by ranges (heap layout, ranges split at mid)
  for (v = 1; v < (1 << t.depth);) v = q < t.e[2 * v] ? 2 * v : 2 * v + 1;
  float m = INFINITY;
  for (int32_t r = t.b[v]; r < t.e[v]; ++r) m = std::min(m, t.price[r]);
  for (;;) {
    if (t.pmin[v] == m) break;  // unchanged: the ancestors are too
    t.pmin[v] = m;
    if (v == 1) break;
    const int32_t s = v ^ 1;
    m = std::min(m, t.pmin[s]);
    v >>= 1;
  }
}

// Raw views of the tree for the search (no vector indirections in the hot loop).
struct TreeView {
  const float *lo[3], *hi[3], *pmin, *x, *y, *z, *price;
  const int32_t *b, *e, *orig;
  int32_t first_leaf;
  explicit TreeView(const ObjectTree& t)
      : lo{t.lo[0].data(), t.lo[1].data(), t.lo[2].data()},
        hi{t.hi[0].data(), t.hi[1].data(), t.hi[2].data()},
        pmin(t.pmin.data()),
        x(t.x.data()),
        y(t.y.data()),
        z(t.z.data()),
        price(t.price.data()),
        b(t.b.data()),
        e(t.e.data()),
        orig(t.orig.data()),
        first_leaf(1 << t.depth) {}
};

// Upper bound U of every value in node v for bidder (bx, by, bz) (see the top comment).
PG_INLINE float node_bound(const TreeView& t, int32_t v, float bx, float by, float bz, float offset) {
  const float b3[3] = {bx, by, bz};
  float g[3];
  for (int c = 0; c < 3; ++c) {
    const float lo = t.lo[c][v], hi = t.hi[c][v];
    g[c] = b3[c] < lo ? sub_rn(lo, b3[c]) : (b3[c] > hi ? sub_rn(b3[c], hi) : 0.0f);
  }
  const float d = sqrt_rn(add_rn(add_rn(mul_rn(g[0], g[0]), mul_rn(g[1], g[1])), mul_rn(g[2], g[2])));
  return sub_rn(sub_rn(offset, d), t.pmin[v]);
}

// Values of `cnt` (≤ kLeafSize) consecutive objects for one bidder into out, pair_value's IEEE
// operations in the same order (AVX-512 or AVX2 version chosen at run time; the AVX2 lanes past
// cnt read the arrays' padding and are ignored, the AVX-512 tail is masked). Every lane op is an
// IEEE single operation, so the width cannot change a value; the AVX-512 version compiles here
// but has never run on the development machines (Zen 3: no AVX-512).
#if defined(__x86_64__) || defined(__i386__)
// Full-mask zero-masked sqrt: the same instruction as _mm512_sqrt_ps without GCC 12's
// -Wmaybe-uninitialized on its "undefined" source operand.
constexpr __mmask16 kAll16 = 0xffff;
__attribute__((target("avx512f"))) inline void leaf_values_avx512(const float* x, const float* y, const float* z,
                                                                  const float* pr, int32_t cnt, float bx, float by,
                                                                  float bz, float off, float* out) {
  const __m512 vx = _mm512_set1_ps(bx), vy = _mm512_set1_ps(by), vz = _mm512_set1_ps(bz), vo = _mm512_set1_ps(off);
  for (int32_t q = 0; q < cnt; q += 16) {
    const __mmask16 m = cnt - q >= 16 ? __mmask16(0xffff) : __mmask16((1u << (cnt - q)) - 1u);
    const __m512 dx = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + q), vx);
    const __m512 dy = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, y + q), vy);
    const __m512 dz = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, z + q), vz);
    const __m512 d2 = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(dx, dx), _mm512_mul_ps(dy, dy)), _mm512_mul_ps(dz, dz));
    const __m512 s = _mm512_sub_ps(vo, _mm512_maskz_sqrt_ps(kAll16, d2));
    const __m512 v = _mm512_sub_ps(s, _mm512_maskz_loadu_ps(m, pr + q));
    _mm512_mask_storeu_ps(out + q, m, v);
  }
}
__attribute__((target("avx2"))) inline void leaf_values_avx2(const float* x, const float* y, const float* z,
                                                             const float* pr, int32_t cnt, float bx, float by,
                                                             float bz, float off, float* out) {
  const __m256 vx = _mm256_set1_ps(bx), vy = _mm256_set1_ps(by), vz = _mm256_set1_ps(bz), vo = _mm256_set1_ps(off);
  for (int32_t q = 0; q < cnt; q += 8) {
    const __m256 dx = _mm256_sub_ps(_mm256_loadu_ps(x + q), vx);
    const __m256 dy = _mm256_sub_ps(_mm256_loadu_ps(y + q), vy);
    const __m256 dz = _mm256_sub_ps(_mm256_loadu_ps(z + q), vz);
    const __m256 d2 = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy)), _mm256_mul_ps(dz, dz));
    _mm256_storeu_ps(out + q, _mm256_sub_ps(_mm256_sub_ps(vo, _mm256_sqrt_ps(d2)), _mm256_loadu_ps(pr + q)));
  }
}
// Chosen once; __builtin_cpu_init first because this initialiser runs as a library constructor.
inline const bool g_leaf_avx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}();
inline const bool g_leaf_avx512 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") != 0;
}();
#endif

inline void leaf_values(const float* x, const float* y, const float* z, const float* pr, int32_t cnt, float bx,
                        float by, float bz, float off, float* out) {
#if defined(__x86_64__) || defined(__i386__)
  if (g_leaf_avx512) {
    leaf_values_avx512(x, y, z, pr, cnt, bx, by, bz, off, out);
    return;
  }
  if (g_leaf_avx2) {
    leaf_values_avx2(x, y, z, pr, cnt, bx, by, bz, off, out);
    return;
  }
#endif
  for (int32_t q = 0; q < cnt; ++q) out[q] = sub_rn(sub_rn(off, pair_dist(bx, by, bz, x[q], y[q], z[q])), pr[q]);
}

struct TreeSearch {
  TreeView t;
  float bx, by, bz, offset;
  int32_t j, n;
  BestTwo bt = best_init();
  int64_t pairs = 0;  // objects evaluated

  void leaf(int32_t v) {
    const int32_t b = t.b[v], cnt = t.e[v] - b;
    float val[kLeafSize + 8];
    leaf_values(t.x + b, t.y + b, t.z + b, t.price + b, cnt, bx, by, bz, offset, val);
    for (int32_t i = 0; i < cnt; ++i) {
      if (val[i] < bt.sv) continue;  // best_update would change nothing
      best_update(bt, val[i], tie_key(t.orig[b + i], j, n));
    }
    pairs += cnt;
  }
  // ub: node_bound of v, computed by the caller.
  void visit(int32_t v, float ub) {
    if (ub < bt.sv) return;
    if (v >= t.first_leaf) {
      leaf(v);
      return;
    }
    const float u0 = node_bound(t, 2 * v, bx, by, bz, offset), u1 = node_bound(t, 2 * v + 1, bx, by, bz, offset);
    if (u0 >= u1) {
      visit(2 * v, u0);
      visit(2 * v + 1, u1);
    } else {
      visit(2 * v + 1, u1);
      visit(2 * v, u0);
    }
  }
};

// The bid of bidder j (bit-identical to the dense scan); adds the objects evaluated to `pairs`.
inline void tree_bid(const ObjectTree& t, float bx, float by, float bz, float offset, int32_t n, int32_t j, float eps,
                     int32_t& target, float& inc, int64_t& pairs) {
  TreeSearch s{TreeView(t), bx, by, bz, offset, j, n};
  s.visit(1, node_bound(s.t, 1, bx, by, bz, offset));
  target = key_object(s.bt.key, j, n);
  inc = bid_increment(s.bt, n, eps);
  pairs += s.pairs;
}

}  // namespace pg::kernels::emd_detail
