// CPU auction EMD: the Jacobi auction of ops/emd.h, round by round, with the exact semantics of
// the CUDA kernels (same float arithmetic through the emd_impl.h helpers, same tie rules), so
// both backends return the same assignment.
//
// Decomposition: when there are at least as many problems (clouds) as threads, one thread runs
// whole problems; otherwise problems run one after another and the bids of a round are spread
// over the threads (a Jacobi round's bids are independent).
//
// Dense bids: three vectorised passes over the n objects (structure-of-arrays, values into a
// per-thread buffer): values and their max; the smallest tie key among the maxima; the
// second-best value. The library is built without -march, so the passes are chosen at run time
// (AVX-512, else AVX2, else SSE2; the same for the sparse path's leaf pass), like FPS and kNN.
// Every lane op is an IEEE single operation in pair_value's order, so the width cannot change a
// result. The AVX-512 versions compile here but have never RUN: the development machines (Zen 3)
// have no AVX-512 (docs/decisions.md, "AVX-512 in the auction"); the AVX2 and SSE2 ones are tested.
//
// Sparse bids (kernels/cpu/emd_sparse.h): a best-first search of a k-d tree of the objects with
// per-node minimum prices; each bidder evaluates its nearest objects and goes farther only while
// a farther object could still win, with a bound that makes the bid bit-identical to the dense
// scan — the sparse path returns the SAME assignment (not merely one within the ε guarantee).
#if defined(__GNUC__) && !defined(__clang__)
// The pair cost must not be contracted into FMAs (CUDA parity); the run-time clones may enable
// ISA extensions, so contraction is off for the whole file.
#pragma GCC optimize("fp-contract=off")
#endif

#include <algorithm>
#include <atomic>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PG_EMD_X86 1
#else
#define PG_EMD_X86 0
#endif

#include "kernels/common/emd_impl.h"
#include "kernels/cpu/emd_sparse.h"

namespace pg::kernels {

namespace {

using namespace emd_detail;

struct CpuAuction {
  int32_t n = 0;
  float offset = 0.0f;
  std::vector<float> ox, oy, oz, price;  // objects (x2) in the auction frame, prices
  std::vector<float> bx, by, bz;         // bidders (x1)
  std::vector<int32_t> assign, owner, list, target;
  std::vector<float> inc;
  std::vector<uint64_t> bid;
  ObjectTree tree;  // empty: dense bids only
  int64_t bids = 0, pairs = 0;
};

// Values of every object for bidder j into buf; returns their max. The SIMD loops evaluate
// exactly pair_value's IEEE operations in the same order (explicit intrinsics: the compiler will
// not vectorise sqrtf while it must keep errno semantics).
#if PG_EMD_X86
__attribute__((target("avx2"))) float value_pass_avx2(const float* ox, const float* oy, const float* oz,
                                                      const float* pr, int32_t n, float bxj, float byj, float bzj,
                                                      float off, float* buf, int32_t& k_done) {
  const __m256 bx = _mm256_set1_ps(bxj), by = _mm256_set1_ps(byj), bz = _mm256_set1_ps(bzj);
  const __m256 o8 = _mm256_set1_ps(off);
  __m256 m = _mm256_set1_ps(PG_EMD_NEG_INF);
  int32_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256 dx = _mm256_sub_ps(_mm256_loadu_ps(ox + k), bx);
    const __m256 dy = _mm256_sub_ps(_mm256_loadu_ps(oy + k), by);
    const __m256 dz = _mm256_sub_ps(_mm256_loadu_ps(oz + k), bz);
    const __m256 d2 = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(dx, dx), _mm256_mul_ps(dy, dy)), _mm256_mul_ps(dz, dz));
    const __m256 v = _mm256_sub_ps(_mm256_sub_ps(o8, _mm256_sqrt_ps(d2)), _mm256_loadu_ps(pr + k));
    _mm256_storeu_ps(buf + k, v);
    m = _mm256_max_ps(m, v);
  }
  alignas(32) float t[8];
  _mm256_store_ps(t, m);
  float best = PG_EMD_NEG_INF;
  for (float x : t) best = std::max(best, x);
  k_done = k;
  return best;
}

// kAll16 (emd_sparse.h): full-mask zero-masked sqrt / max are the same instructions as the plain
// ones, without GCC 12's -Wmaybe-uninitialized on their "undefined" source operand.
__attribute__((target("avx512f"))) float value_pass_avx512(const float* ox, const float* oy, const float* oz,
                                                           const float* pr, int32_t n, float bxj, float byj, float bzj,
                                                           float off, float* buf, int32_t& k_done) {
  const __m512 bx = _mm512_set1_ps(bxj), by = _mm512_set1_ps(byj), bz = _mm512_set1_ps(bzj);
  const __m512 o16 = _mm512_set1_ps(off);
  __m512 m = _mm512_set1_ps(PG_EMD_NEG_INF);
  int32_t k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m512 dx = _mm512_sub_ps(_mm512_loadu_ps(ox + k), bx);
    const __m512 dy = _mm512_sub_ps(_mm512_loadu_ps(oy + k), by);
    const __m512 dz = _mm512_sub_ps(_mm512_loadu_ps(oz + k), bz);
    const __m512 d2 = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(dx, dx), _mm512_mul_ps(dy, dy)), _mm512_mul_ps(dz, dz));
    const __m512 v = _mm512_sub_ps(_mm512_sub_ps(o16, _mm512_maskz_sqrt_ps(kAll16, d2)), _mm512_loadu_ps(pr + k));
    _mm512_storeu_ps(buf + k, v);
    m = _mm512_maskz_max_ps(kAll16, m, v);
  }
  alignas(64) float t[16];
  _mm512_store_ps(t, m);
  float best = PG_EMD_NEG_INF;
  for (float x : t) best = std::max(best, x);
  k_done = k;
  return best;
}

float value_pass_sse2(const float* ox, const float* oy, const float* oz, const float* pr, int32_t n, float bxj,
                      float byj, float bzj, float off, float* buf, int32_t& k_done) {
  const __m128 bx = _mm_set1_ps(bxj), by = _mm_set1_ps(byj), bz = _mm_set1_ps(bzj), o4 = _mm_set1_ps(off);
  __m128 m = _mm_set1_ps(PG_EMD_NEG_INF);
  int32_t k = 0;
  for (; k + 4 <= n; k += 4) {
    const __m128 dx = _mm_sub_ps(_mm_loadu_ps(ox + k), bx);
    const __m128 dy = _mm_sub_ps(_mm_loadu_ps(oy + k), by);
    const __m128 dz = _mm_sub_ps(_mm_loadu_ps(oz + k), bz);
    const __m128 d2 = _mm_add_ps(_mm_add_ps(_mm_mul_ps(dx, dx), _mm_mul_ps(dy, dy)), _mm_mul_ps(dz, dz));
    const __m128 v = _mm_sub_ps(_mm_sub_ps(o4, _mm_sqrt_ps(d2)), _mm_loadu_ps(pr + k));
    _mm_storeu_ps(buf + k, v);
    m = _mm_max_ps(m, v);
  }
  alignas(16) float t[4];
  _mm_store_ps(t, m);
  float best = PG_EMD_NEG_INF;
  for (float x : t) best = std::max(best, x);
  k_done = k;
  return best;
}

// Chosen once (the CPU does not change under a running process); __builtin_cpu_init first because
// this initialiser runs as a library constructor.
const bool g_has_avx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}();
const bool g_has_avx512 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") != 0;
}();
#endif

float value_pass(const CpuAuction& s, int32_t j, float* buf) {
  const int32_t n = s.n;
  const float bxj = s.bx[j], byj = s.by[j], bzj = s.bz[j], off = s.offset;
  const float* ox = s.ox.data();
  const float* oy = s.oy.data();
  const float* oz = s.oz.data();
  const float* pr = s.price.data();
  float best = PG_EMD_NEG_INF;
  int32_t k = 0;
#if PG_EMD_X86
  best = g_has_avx512 ? value_pass_avx512(ox, oy, oz, pr, n, bxj, byj, bzj, off, buf, k)
         : g_has_avx2 ? value_pass_avx2(ox, oy, oz, pr, n, bxj, byj, bzj, off, buf, k)
                      : value_pass_sse2(ox, oy, oz, pr, n, bxj, byj, bzj, off, buf, k);
#endif
  for (; k < n; ++k) {
    const float v = pair_value(bxj, byj, bzj, ox[k], oy[k], oz[k], pr[k], off);
    buf[k] = v;
    best = std::max(best, v);
  }
  return best;
}

// The smallest tie key among the objects whose value equals `best`.
#if PG_EMD_X86
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
int32_t
min_tie_key(const float* buf, int32_t n, int32_t j, float best) {
  int32_t key = 0x7fffffff;
#pragma omp simd reduction(min : key)
  for (int32_t k = 0; k < n; ++k) {
    const int32_t kk = tie_key(k, j, n);
    key = std::min(key, buf[k] == best ? kk : 0x7fffffff);
  }
  return key;
}

#if PG_EMD_X86
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
float max_value(const float* buf, int32_t n) {
  float m = PG_EMD_NEG_INF;
#pragma omp simd reduction(max : m)
  for (int32_t k = 0; k < n; ++k) m = std::max(m, buf[k]);
  return m;
}

// Dense bid of bidder j at the current prices: (object, increment). `buf` holds n floats.
void compute_bid(const CpuAuction& s, int32_t j, float eps, float* buf, int32_t& target, float& inc) {
  const int32_t n = s.n;
  const float best = value_pass(s, j, buf);
  const int32_t key = min_tie_key(buf, n, j, best);
  const int32_t kbest = key_object(key, j, n);
  buf[kbest] = PG_EMD_NEG_INF;  // the second best is the max over the other objects
  const float second = max_value(buf, n);
  BestTwo bt{best, key, second};
  target = kbest;
  inc = bid_increment(bt, n, eps);
}

std::atomic<int64_t> g_bids{0}, g_pairs{0};

// Whether a problem of n points uses sparse (tree) bids. Auto: from kSparseMinN points
// (docs/decisions.md, "Sparse auction bids").
constexpr int32_t kSparseMinN = 512;
bool use_sparse(const AuctionParams& prm, int32_t n) {
  if (prm.cpu_path == kCpuDense || n < 2) return false;
  return prm.cpu_path == kCpuSparse || n >= kSparseMinN;
}

// Runs one problem; returns the number of unassigned (forced / leftover) bidders.
int64_t run_auction(CpuAuction& s, const AuctionSetup& st, const AuctionParams& prm, bool inner_parallel) {
  const int32_t n = s.n;
  const bool bij = prm.mode == kAuctionBijective;
  const bool msn = prm.mode == kAuctionMsn;
  const int64_t cap = prm.max_iters;
  int64_t round = 0, leftover = 0;
  double e = msn ? st.eps_final : st.eps_start;
  std::vector<float> buf(n);
  std::vector<int32_t> next(n);
  // Bids of a round are spread over threads only when the round is large enough to pay for it
  // (a sparse bid evaluates a few leaves: ~64 pairs).
  const int64_t kParallelPairs = int64_t(1) << 18;
  const bool sparse = !s.tree.empty();
  const int64_t pairs_per_bid = sparse ? 64 : n;
  auto bid = [&](int32_t j, float ef, float* tb, int32_t& target, float& inc, int64_t& pairs) {
    if (sparse) {
      tree_bid(s.tree, s.bx[j], s.by[j], s.bz[j], s.offset, n, j, ef, target, inc, pairs);
    } else {
      compute_bid(s, j, ef, tb, target, inc);
      pairs += n;
    }
  };
  if (sparse) tree_set_prices(s.tree, s.price.data());
  for (;;) {  // ε phases
    const float ef = static_cast<float>(e);
    std::fill(s.assign.begin(), s.assign.end(), -1);
    std::fill(s.owner.begin(), s.owner.end(), -1);
    // U starts as every bidder; afterwards it is the round's losers plus the evicted owners (the
    // list order never matters: a Jacobi round's outcome is order-independent).
    int32_t cnt = n;
    for (int32_t j = 0; j < n; ++j) s.list[j] = j;
    bool stop = false;
    while (cnt > 0) {  // bidding rounds
      if (bij && round >= cap) {
        leftover = cnt;
        stop = true;
        break;
      }
      const bool forced = !bij && round == cap - 1;
      int64_t pairs = 0;
      if (inner_parallel && static_cast<int64_t>(cnt) * pairs_per_bid >= kParallelPairs) {
#pragma omp parallel num_threads(cpu_num_threads()) reduction(+ : pairs)
        {
          std::vector<float> tbuf(sparse ? 0 : n);
#pragma omp for schedule(dynamic, 8)
          for (int32_t i = 0; i < cnt; ++i) bid(s.list[i], ef, tbuf.data(), s.target[i], s.inc[i], pairs);
        }
      } else {
        for (int32_t i = 0; i < cnt; ++i) bid(s.list[i], ef, buf.data(), s.target[i], s.inc[i], pairs);
      }
      s.bids += cnt;
      s.pairs += pairs;
      ++round;
      if (forced) {  // MSN's last iteration: take the bid object without evicting its owner
        for (int32_t i = 0; i < cnt; ++i) s.assign[s.list[i]] = s.target[i];
        leftover = cnt;
        stop = true;
        break;
      }
      for (int32_t i = 0; i < cnt; ++i) {
        const uint64_t p = pack_bid(s.inc[i], s.list[i]);
        uint64_t& slot = s.bid[s.target[i]];
        slot = p > slot ? p : slot;
      }
      int32_t next_cnt = 0;
      for (int32_t i = 0; i < cnt; ++i) {
        const int32_t j = s.list[i], k = s.target[i];
        const uint64_t p = s.bid[k];
        if (p != 0 && bid_bidder(p) == j) {
          const int32_t prev = s.owner[k];
          if (prev >= 0) {
            s.assign[prev] = -1;
            next[next_cnt++] = prev;
          }
          s.owner[k] = j;
          s.assign[j] = k;
          s.price[k] = add_rn(s.price[k], bid_inc(p));
          if (sparse) tree_price_changed(s.tree, k, s.price[k]);
          s.bid[k] = 0;
        } else {
          next[next_cnt++] = j;
        }
      }
      std::swap(s.list, next);
      cnt = next_cnt;
    }
    if (stop || msn || e <= st.eps_final) break;
    e = next_eps(e, st);
  }
  return leftover;
}

template <class T>
int64_t emd_auction_cpu(const Tensor& x1, const Tensor& x2, const std::vector<int64_t>& offsets,
                        const AuctionParams& prm, const Tensor& assignment, const Tensor& unassigned) {
  const T* p1 = x1.data<T>();
  const T* p2 = x2.data<T>();
  int64_t* pa = assignment.data<int64_t>();
  int64_t* pu = unassigned.data<int64_t>();
  const int64_t P = static_cast<int64_t>(offsets.size()) - 1;

  // Setups first (finite check before any work).
  std::vector<AuctionSetup> setups(P);
  for (int64_t p = 0; p < P; ++p) {
    BBox bb;
    bbox_init(bb);
    for (int64_t r = offsets[p]; r < offsets[p + 1]; ++r) {
      bbox_add(bb, static_cast<double>(p1[3 * r]), static_cast<double>(p1[3 * r + 1]),
               static_cast<double>(p1[3 * r + 2]));
      bbox_add(bb, static_cast<double>(p2[3 * r]), static_cast<double>(p2[3 * r + 1]),
               static_cast<double>(p2[3 * r + 2]));
    }
    setups[p] = make_setup(bb, offsets[p + 1] - offsets[p], prm);
    if (setups[p].bad) return p;
  }

  const int threads = cpu_num_threads();
  const bool outer = P >= threads && threads > 1;
  auto solve = [&](int64_t p, bool inner_parallel) {
    const int64_t r0 = offsets[p];
    const int32_t n = static_cast<int32_t>(offsets[p + 1] - r0);
    const AuctionSetup& st = setups[p];
    CpuAuction s;
    s.n = n;
    s.offset = st.offset;
    for (auto* v : {&s.ox, &s.oy, &s.oz, &s.price, &s.bx, &s.by, &s.bz, &s.inc}) v->assign(n, 0.0f);
    for (auto* v : {&s.assign, &s.owner, &s.list, &s.target}) v->assign(n, -1);
    s.bid.assign(n, 0);
    for (int32_t j = 0; j < n; ++j) {
      const int64_t r = r0 + j;
      s.bx[j] = to_frame(static_cast<double>(p1[3 * r]), st.c[0]);
      s.by[j] = to_frame(static_cast<double>(p1[3 * r + 1]), st.c[1]);
      s.bz[j] = to_frame(static_cast<double>(p1[3 * r + 2]), st.c[2]);
      s.ox[j] = to_frame(static_cast<double>(p2[3 * r]), st.c[0]);
      s.oy[j] = to_frame(static_cast<double>(p2[3 * r + 1]), st.c[1]);
      s.oz[j] = to_frame(static_cast<double>(p2[3 * r + 2]), st.c[2]);
    }
    if (use_sparse(prm, n)) s.tree = build_object_tree(s.ox.data(), s.oy.data(), s.oz.data(), n);
    pu[p] = run_auction(s, st, prm, inner_parallel);
    g_bids.fetch_add(s.bids, std::memory_order_relaxed);
    g_pairs.fetch_add(s.pairs, std::memory_order_relaxed);
    for (int32_t j = 0; j < n; ++j) pa[r0 + j] = s.assign[j];
  };
  if (outer) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int64_t p = 0; p < P; ++p) solve(p, false);
  } else {
    for (int64_t p = 0; p < P; ++p) solve(p, threads > 1 && offsets[p + 1] - offsets[p] >= 256);
  }
  return -1;
}

}  // namespace

template <>
int64_t emd_auction<CpuBackend>(const Tensor& x1, const Tensor& x2, const std::vector<int64_t>& offsets,
                                const AuctionParams& prm, const Tensor& assignment, const Tensor& unassigned) {
  return dispatch_floating(x1.dtype(), "emd",
                           [&]<class T>() { return emd_auction_cpu<T>(x1, x2, offsets, prm, assignment, unassigned); });
}

AuctionBidCounts emd_cpu_bid_counts() {
  AuctionBidCounts c;
  c.bids = g_bids.load(std::memory_order_relaxed);
  c.pairs = g_pairs.load(std::memory_order_relaxed);
  return c;
}

PG_INSTANTIATE_LAUNCHERS(PG_EMD_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
