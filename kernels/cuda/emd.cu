// CUDA auction EMD (semantics: ops/emd.h; shared arithmetic: kernels/common/emd_impl.h).
//
// Work decomposition:
//  1. prep_kernel — one CTA per problem (cloud pair): joint bounding box (block reduction in
//     float64, non-finite check), the AuctionSetup (centre, D, ε schedule, offset), and both clouds
//     converted to the float32 auction frame as 16-byte points (objects carry their price in .w).
//  2a. auction_cta_kernel (n ≤ ~5.2k on H100; 44 B of shared memory per point) — one persistent
//     CTA of 1024 threads per problem runs every ε phase and bidding round on chip: the list of
//     unassigned bidders is rebuilt each round from the round's losers and evicted owners
//     (shared-memory atomic appends; O(bidders), not O(n)); bidders
//     spread over groups of g = 1…32 lanes (g grows as fewer bidders remain; lanes of a group
//     split the objects and combine best/second-best by xor shuffles); bids are packed 64-bit
//     shared-memory atomicMax (float bits of the increment, ~bidder) → deterministic winner;
//     the assignment step runs one thread per listed bidder. Early exit when all are assigned;
//     two __syncthreads per round, no launches.
//  2b. auction_multi_kernel (any n) — one cooperative launch for the whole batch: each problem is
//     cut into tiles of 1024 bidders (tile = CTA work item, grid-stride over tiles), state in
//     global memory (read with ld.global.cg, L2-coherent), objects streamed through shared memory
//     in chunks of 2048 with the tile's bidders' best/second-best in registers. Per round: step 1
//     (reset on a new ε phase, compaction of the tile's unassigned bidders by warp ballots + a
//     prefix sum of the warp counts, bids by global packed atomicMax), grid.sync, step 2
//     (assignment, and the problem's next state written by its first tile into the other half of
//     a double-buffered state), grid.sync. A global live-problem counter (double-buffered too)
//     stops every CTA in the same round.
// Both paths compute exactly the CPU backend's rounds (kernels/cpu/emd.cpp).
//
// Also here: emd_msn_baseline_cuda, the naive 7-launch MSN-style decomposition used only by
// bench/bench_emd.cpp as the baseline of the ratio.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <vector>

#include "core/cuda_check.h"
#include "core/parallel_for_cuda.cuh"
#include "kernels/common/emd_impl.h"

namespace pg::kernels {

namespace {

using namespace emd_detail;
namespace cg = cooperative_groups;

constexpr int kThreads = 1024;
constexpr int kPrepThreads = 256;
constexpr int kChunk = 2048;  // objects per shared-memory chunk in the multi-CTA kernel (32 KB)
constexpr unsigned kFull = 0xffffffffu;
constexpr int kCtaBytesPerPoint = 16 + 8 + 5 * 4;  // obj, bid, owner, assign, list, next, target

// ---- helpers ----

__device__ __forceinline__ Pt4 ld_pt(const Pt4* p) {
  const float4 v = __ldcg(reinterpret_cast<const float4*>(p));
  return {v.x, v.y, v.z, v.w};
}

// Group size for `cnt` bidders over kThreads threads: 1 when every thread has a bidder, up to 32.
__device__ __forceinline__ int group_size(int cnt) {
  if (cnt >= kThreads) return 1;
  int g = 1;
  while (g < 32 && (g * 2) * cnt <= kThreads) g *= 2;
  return g;
}

__device__ __forceinline__ BestTwo shfl_xor_best(const BestTwo& b, int mask) {
  BestTwo o;
  o.bv = __shfl_xor_sync(kFull, b.bv, mask);
  o.key = __shfl_xor_sync(kFull, b.key, mask);
  o.sv = __shfl_xor_sync(kFull, b.sv, mask);
  return o;
}

__device__ __forceinline__ BestTwo group_reduce(BestTwo bt, int g) {
  for (int o = g / 2; o > 0; o >>= 1) bt = best_combine(bt, shfl_xor_best(bt, o));
  return bt;
}

// Compacts the bidders j ∈ [0, m) with flag(j) into list (ascending order); every thread
// returns the count. `s_warp` holds 32 ints, `s_total` one.
template <class Flag>
__device__ int block_compact(int m, const Flag& flag, int* list, int* s_warp, int* s_total) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  int base = 0;
  for (int c0 = 0; c0 < m; c0 += kThreads) {
    const int j = c0 + threadIdx.x;
    const bool f = j < m && flag(j);
    const unsigned ballot = __ballot_sync(kFull, f);
    if (lane == 0) s_warp[warp] = __popc(ballot);
    __syncthreads();
    if (warp == 0) {
      const int v = s_warp[lane];
      int incl = v;
      for (int o = 1; o < 32; o <<= 1) {
        const int t = __shfl_up_sync(kFull, incl, o);
        if (lane >= o) incl += t;
      }
      s_warp[lane] = incl - v;
      if (lane == 31) *s_total = incl;
    }
    __syncthreads();
    if (f) list[base + s_warp[warp] + __popc(ballot & ((1u << lane) - 1u))] = j;
    base += *s_total;
    __syncthreads();
  }
  return base;
}

// ---- 1. prep ----

template <class T>
__global__ void __launch_bounds__(kPrepThreads)
    prep_kernel(const T* x1, const T* x2, const int64_t* off, AuctionParams prm, AuctionSetup* setups, Pt4* bidp,
                Pt4* objp, int* bad_first) {
  __shared__ BBox sb[kPrepThreads];
  __shared__ AuctionSetup s_st;
  const int p = blockIdx.x;
  const int64_t r0 = off[p], r1 = off[p + 1];
  BBox bb;
  bbox_init(bb);
  for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x) {
    bbox_add(bb, static_cast<double>(x1[3 * r]), static_cast<double>(x1[3 * r + 1]),
             static_cast<double>(x1[3 * r + 2]));
    bbox_add(bb, static_cast<double>(x2[3 * r]), static_cast<double>(x2[3 * r + 1]),
             static_cast<double>(x2[3 * r + 2]));
  }
  sb[threadIdx.x] = bb;
  __syncthreads();
  for (int s = kPrepThreads / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) bbox_merge(sb[threadIdx.x], sb[threadIdx.x + s]);
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    s_st = make_setup(sb[0], r1 - r0, prm);
    setups[p] = s_st;
    if (s_st.bad) atomicMin(bad_first, p);
  }
  __syncthreads();
  if (s_st.bad) return;
  const double c0 = s_st.c[0], c1 = s_st.c[1], c2 = s_st.c[2];
  for (int64_t r = r0 + threadIdx.x; r < r1; r += blockDim.x) {
    bidp[r] = {to_frame(static_cast<double>(x1[3 * r]), c0), to_frame(static_cast<double>(x1[3 * r + 1]), c1),
               to_frame(static_cast<double>(x1[3 * r + 2]), c2), 0.0f};
    objp[r] = {to_frame(static_cast<double>(x2[3 * r]), c0), to_frame(static_cast<double>(x2[3 * r + 1]), c1),
               to_frame(static_cast<double>(x2[3 * r + 2]), c2), 0.0f};
  }
}

// ---- 2a. one CTA per problem, state in shared memory ----

__global__ void __launch_bounds__(kThreads, 1)
    auction_cta_kernel(const Pt4* __restrict__ bidp, const Pt4* __restrict__ objp, const int64_t* __restrict__ off,
                       const AuctionSetup* __restrict__ setups, int mode, int64_t cap, int64_t* __restrict__ out_a,
                       int64_t* __restrict__ out_u) {
  PG_DYNAMIC_SHARED(unsigned char, smem);
  __shared__ int s_cnt[2];
  const int p = blockIdx.x;
  const int64_t r0 = off[p];
  const int n = static_cast<int>(off[p + 1] - r0);
  Pt4* obj = reinterpret_cast<Pt4*>(smem);
  uint64_t* bid = reinterpret_cast<uint64_t*>(obj + n);
  int* owner = reinterpret_cast<int*>(bid + n);
  int* assign = owner + n;
  int* list = assign + n;
  int* next = list + n;
  int* target = next + n;
  const AuctionSetup st = setups[p];
  if (st.bad) {  // non-finite input: the launcher reports it, nothing to compute
    if (threadIdx.x == 0) out_u[p] = 0;
    return;
  }
  const Pt4* bidders = bidp + r0;
  for (int k = threadIdx.x; k < n; k += kThreads) {
    obj[k] = objp[r0 + k];
    bid[k] = 0;
  }
  const bool bij = mode == kAuctionBijective, msn = mode == kAuctionMsn;
  int64_t round = 0, leftover = 0;
  double e = msn ? st.eps_final : st.eps_start;
  for (;;) {  // ε phases
    const float ef = static_cast<float>(e);
    // U starts as every bidder; afterwards it is the round's losers plus the evicted owners,
    // appended by atomics (the list order never matters: a Jacobi round is order-independent).
    for (int k = threadIdx.x; k < n; k += kThreads) {
      assign[k] = -1;
      owner[k] = -1;
      list[k] = k;
    }
    int cnt = n;
    __syncthreads();
    bool stop = false;
    while (cnt > 0) {  // bidding rounds (cnt, round, e: block-uniform)
      if (bij && round >= cap) {
        leftover = cnt;
        stop = true;
        break;
      }
      const bool forced = !bij && round == cap - 1;
      const int c = static_cast<int>(round & 1);
      if (threadIdx.x == 0) s_cnt[c] = 0;  // last read two barriers ago
      // Bids.
      const int g = group_size(cnt);
      const int groups = kThreads / g, group = threadIdx.x / g, sub = threadIdx.x % g;
      for (int base = 0; base < cnt; base += groups) {
        const int pos = base + group;
        const bool active = pos < cnt;
        BestTwo bt = best_init();
        int j = 0;
        if (active) {
          j = list[pos];
          const Pt4 b = bidders[j];
          for (int k = sub; k < n; k += g) {
            const Pt4 o = obj[k];
            best_update(bt, pair_value(b.x, b.y, b.z, o.x, o.y, o.z, o.w, st.offset), tie_key(k, j, n));
          }
        }
        bt = group_reduce(bt, g);
        if (active && sub == 0) {
          const int k = key_object(bt.key, j, n);
          target[pos] = k;
          if (!forced) {
            atomicMax(reinterpret_cast<unsigned long long*>(bid + k),
                      static_cast<unsigned long long>(pack_bid(bid_increment(bt, n, ef), j)));
          }
        }
      }
      __syncthreads();
      ++round;
      if (forced) {  // MSN's last iteration: no eviction
        for (int i = threadIdx.x; i < cnt; i += kThreads) assign[list[i]] = target[i];
        leftover = cnt;
        stop = true;
        __syncthreads();
        break;
      }
      // Assignment: the winner of each object takes it; losers and evicted owners bid next.
      for (int i = threadIdx.x; i < cnt; i += kThreads) {
        const int j = list[i], k = target[i];
        const uint64_t pk = bid[k];
        if (pk != 0 && bid_bidder(pk) == j) {
          const int prev = owner[k];
          if (prev >= 0) {
            assign[prev] = -1;
            next[atomicAdd(s_cnt + c, 1)] = prev;
          }
          owner[k] = j;
          assign[j] = k;
          obj[k].w = add_rn(obj[k].w, bid_inc(pk));
          bid[k] = 0;
        } else {
          next[atomicAdd(s_cnt + c, 1)] = j;
        }
      }
      __syncthreads();
      cnt = s_cnt[c];
      int* t = list;
      list = next;
      next = t;
    }
    if (stop || msn || e <= st.eps_final) break;
    e = next_eps(e, st);
    __syncthreads();  // every thread has read the lists before the reset
  }
  for (int j = threadIdx.x; j < n; j += kThreads) out_a[r0 + j] = assign[j];
  if (threadIdx.x == 0) out_u[p] = leftover;
}

// ---- 2b. cooperative multi-CTA kernel, state in global memory ----

struct DevState {
  double e;
  int64_t round;
  int status;  // 0 running, 1 done
  int reset;   // a new ε phase starts: clear the assignment first
};

struct MultiArgs {
  const Pt4* bidp;
  Pt4* objp;
  const int64_t* off;
  const AuctionSetup* setups;
  const int* tile_problem;
  const int* tile_begin;  // first bidder (local) of the tile
  int num_tiles;
  unsigned long long* bid;
  int* owner;
  int* assign;
  int* target;
  DevState* st;  // [2P]: st[2p + parity]
  int* cnt;      // [2P]
  int* alive;    // [2]
  int mode;
  int64_t cap;
  int64_t total_rows;
  int64_t* out_a;
  int64_t* out_u;
};

__device__ __forceinline__ DevState ld_state(const DevState* s) {
  DevState r;
  r.e = __ldcg(&s->e);
  r.round = __ldcg(reinterpret_cast<const long long*>(&s->round));
  r.status = __ldcg(&s->status);
  r.reset = __ldcg(&s->reset);
  return r;
}

// alive must be zero-filled by the caller.
__global__ void init_multi_kernel(DevState* st, int* cnt, int* alive, const AuctionSetup* setups, int P, int mode,
                                  int64_t* out_u) {
  const int p = blockIdx.x * blockDim.x + threadIdx.x;
  if (p < P) {
    const AuctionSetup& s = setups[p];
    st[2 * p] = {mode == kAuctionMsn ? s.eps_final : s.eps_start, 0, s.bad ? 1 : 0, 1};
    st[2 * p + 1] = st[2 * p];
    cnt[2 * p] = 0;
    cnt[2 * p + 1] = 0;
    if (s.bad) {
      out_u[p] = 0;
    } else {
      atomicAdd(alive, 1);
    }
  }
}

__global__ void __launch_bounds__(kThreads, 1) auction_multi_kernel(MultiArgs a) {
  cg::grid_group grid = cg::this_grid();
  __shared__ Pt4 chunk[kChunk];
  __shared__ int s_list[kThreads];
  __shared__ int s_warp[32];
  __shared__ int s_total;
  const bool bij = a.mode == kAuctionBijective, msn = a.mode == kAuctionMsn;
  for (int r = 0;; ++r) {
    const int par = r & 1;
    if (__ldcg(a.alive + par) == 0) break;
    // ---- step 1: reset / compaction / bids ----
    for (int t = blockIdx.x; t < a.num_tiles; t += gridDim.x) {
      const int p = a.tile_problem[t];
      const DevState s = ld_state(a.st + 2 * p + par);
      if (s.status) continue;
      const int64_t r0 = a.off[p];
      const int n = static_cast<int>(a.off[p + 1] - r0);
      const int tb = a.tile_begin[t];
      const int tn = min(kThreads, n - tb);
      const int jt = tb + static_cast<int>(threadIdx.x);
      if (s.reset && static_cast<int>(threadIdx.x) < tn) {
        a.assign[r0 + jt] = -1;
        a.owner[r0 + jt] = -1;
      }
      const int cnt = block_compact(
          tn, [&](int i) { return s.reset || __ldcg(a.assign + r0 + tb + i) < 0; }, s_list, s_warp, &s_total);
      const bool can = !bij || s.round < a.cap;
      const bool forced = !bij && s.round == a.cap - 1;
      if (static_cast<int>(threadIdx.x) < tn) a.target[r0 + jt] = -1;  // overwritten below for bidders
      __syncthreads();
      if (cnt > 0) {
        if (threadIdx.x == 0) atomicAdd(a.cnt + 2 * p + par, cnt);
        if (can) {
          const AuctionSetup& su = a.setups[p];
          const float ef = static_cast<float>(s.e);
          const int g = group_size(cnt);
          const int group = threadIdx.x / g, sub = threadIdx.x % g;
          const bool active = group < cnt;  // kThreads / g ≥ cnt: one pass
          int j = 0;
          Pt4 b{0.f, 0.f, 0.f, 0.f};
          if (active) {
            j = tb + s_list[group];
            b = a.bidp[r0 + j];
          }
          BestTwo bt = best_init();
          for (int c0 = 0; c0 < n; c0 += kChunk) {
            const int cn = min(kChunk, n - c0);
            __syncthreads();
            for (int i = threadIdx.x; i < cn; i += kThreads) chunk[i] = ld_pt(a.objp + r0 + c0 + i);
            __syncthreads();
            if (active) {
              for (int k = sub; k < cn; k += g) {
                const Pt4 o = chunk[k];
                best_update(bt, pair_value(b.x, b.y, b.z, o.x, o.y, o.z, o.w, su.offset), tie_key(c0 + k, j, n));
              }
            }
          }
          bt = group_reduce(bt, g);
          if (active && sub == 0) {
            const int k = key_object(bt.key, j, n);
            a.target[r0 + j] = k;
            if (!forced)
              atomicMax(a.bid + r0 + k, static_cast<unsigned long long>(pack_bid(bid_increment(bt, n, ef), j)));
          }
        }
      }
      __syncthreads();  // shared memory reused by the next tile
    }
    grid.sync();
    // ---- step 2: assignment and next state ----
    for (int t = blockIdx.x; t < a.num_tiles; t += gridDim.x) {
      const int p = a.tile_problem[t];
      const DevState s = ld_state(a.st + 2 * p + par);
      const int tb = a.tile_begin[t];
      if (s.status) {  // keep a finished problem finished in the other half too
        if (tb == 0 && threadIdx.x == 0) a.st[2 * p + (par ^ 1)] = s;
        continue;
      }
      const int64_t r0 = a.off[p];
      const int n = static_cast<int>(a.off[p + 1] - r0);
      const int tn = min(kThreads, n - tb);
      const int total = __ldcg(a.cnt + 2 * p + par);
      const bool can = !bij || s.round < a.cap;
      const bool forced = !bij && s.round == a.cap - 1;
      if (total > 0 && can && static_cast<int>(threadIdx.x) < tn) {
        const int j = tb + static_cast<int>(threadIdx.x);
        const int k = __ldcg(a.target + r0 + j);
        if (k >= 0) {
          if (forced) {
            a.assign[r0 + j] = k;
          } else {
            const unsigned long long pk = __ldcg(a.bid + r0 + k);
            if (pk != 0 && bid_bidder(pk) == j) {
              const int prev = __ldcg(a.owner + r0 + k);
              if (prev >= 0) a.assign[r0 + prev] = -1;
              a.owner[r0 + k] = j;
              a.assign[r0 + j] = k;
              float* w = &a.objp[r0 + k].w;
              *w = add_rn(__ldcg(w), bid_inc(pk));
              a.bid[r0 + k] = 0;
            }
          }
        }
      }
      if (tb == 0 && threadIdx.x == 0) {
        DevState ns = s;
        ns.reset = 0;
        bool done = false;
        int64_t left = 0;
        if (total == 0) {
          if (msn || s.e <= a.setups[p].eps_final) {
            done = true;
          } else {
            ns.e = next_eps(s.e, a.setups[p]);
            ns.reset = 1;
          }
        } else if (!can) {
          done = true;
          left = total;
        } else {
          ns.round = s.round + 1;
          if (forced) {
            done = true;
            left = total;
          }
        }
        ns.status = done ? 1 : 0;
        a.st[2 * p + (par ^ 1)] = ns;
        a.cnt[2 * p + (par ^ 1)] = 0;
        if (done) {
          a.out_u[p] = left;
        } else {
          atomicAdd(a.alive + (par ^ 1), 1);
        }
      }
    }
    if (blockIdx.x == 0 && threadIdx.x == 0) a.alive[par] = 0;
    grid.sync();
  }
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < a.total_rows; i += stride) {
    a.out_a[i] = __ldcg(a.assign + i);
  }
}

// ---- launcher ----

int device_attr(cudaDeviceAttr attr) {
  int dev = 0, v = 0;
  PG_CUDA_CHECK(cudaGetDevice(&dev));
  PG_CUDA_CHECK(cudaDeviceGetAttribute(&v, attr, dev));
  return v;
}

Tensor dev_i32(int64_t n, Device d) {
  return empty({n}, TensorOptions(DType::i32, d));
}

template <class T>
int64_t emd_auction_cuda(const Tensor& x1, const Tensor& x2, const std::vector<int64_t>& offsets,
                         const AuctionParams& prm, const Tensor& assignment, const Tensor& unassigned) {
  const Device dev = x1.device();
  const int P = static_cast<int>(offsets.size()) - 1;
  const int64_t N = offsets.back();
  int64_t max_n = 0;
  for (int p = 0; p < P; ++p) max_n = std::max(max_n, offsets[p + 1] - offsets[p]);
  PG_CHECK(max_n < INT_MAX / 2, "emd: clouds of ", max_n, " points are too large for the CUDA auction");
  cudaStream_t stream = current_cuda_stream();

  Tensor off_d = from_vector(offsets, {P + 1}, dev);
  Tensor setups = empty({static_cast<int64_t>(P * sizeof(AuctionSetup))}, TensorOptions(DType::u8, dev));
  Tensor bidp = empty({N * 4}, TensorOptions(DType::f32, dev));
  Tensor objp = empty({N * 4}, TensorOptions(DType::f32, dev));
  Tensor bad = full({1}, static_cast<double>(INT_MAX), TensorOptions(DType::i32, dev));
  auto* setups_p = static_cast<AuctionSetup*>(setups.raw_data());
  auto* bidp_p = static_cast<Pt4*>(bidp.raw_data());
  auto* objp_p = static_cast<Pt4*>(objp.raw_data());
  const int64_t* off_p = off_d.data<int64_t>();

  pg::cuda::launch_kernel("prep_kernel", prep_kernel<T>, P, kPrepThreads, 0, stream, x1.data<T>(), x2.data<T>(), off_p,
                          prm, setups_p, bidp_p, objp_p, bad.data<int32_t>());
  // Problems with non-finite input are skipped by the auction kernels; the flag is read after
  // they are queued, so the device runs prep and auction back to back.
  auto first_bad = [&]() {
    const int64_t b = bad.item_int();
    return b == INT_MAX ? int64_t(-1) : b;
  };

  const int64_t cta_bytes = max_n * kCtaBytesPerPoint;
  const int64_t smem_optin = device_attr(cudaDevAttrMaxSharedMemoryPerBlockOptin);
  const bool cta_fits = cta_bytes + 1024 <= smem_optin;  // + static shared memory
  const bool use_cta = cta_fits && prm.path != kPathMulti;

  if (use_cta) {
    pg::cuda::set_max_dynamic_smem_once(auction_cta_kernel);
    pg::cuda::launch_kernel("auction_cta_kernel", auction_cta_kernel, P, kThreads, static_cast<size_t>(cta_bytes),
                            stream, bidp_p, objp_p, off_p, setups_p, prm.mode, prm.max_iters,
                            assignment.data<int64_t>(), unassigned.data<int64_t>());
    return first_bad();
  }

  // Multi-CTA: tiles of kThreads bidders per problem.
  std::vector<int32_t> tile_problem, tile_begin;
  for (int p = 0; p < P; ++p) {
    for (int64_t b = 0; b < offsets[p + 1] - offsets[p]; b += kThreads) {
      tile_problem.push_back(p);
      tile_begin.push_back(static_cast<int32_t>(b));
    }
  }
  const int num_tiles = static_cast<int>(tile_problem.size());
  Tensor tp = from_vector(tile_problem, {num_tiles}, dev);
  Tensor tbg = from_vector(tile_begin, {num_tiles}, dev);
  Tensor bid = zeros({N}, TensorOptions(DType::i64, dev));
  Tensor owner = dev_i32(N, dev), assign = dev_i32(N, dev), target = dev_i32(N, dev);
  Tensor st = empty({static_cast<int64_t>(2 * P * sizeof(DevState))}, TensorOptions(DType::u8, dev));
  Tensor cnt = dev_i32(2 * P, dev), alive = zeros({2}, TensorOptions(DType::i32, dev));
  auto* st_p = static_cast<DevState*>(st.raw_data());
  pg::cuda::launch_kernel("init_multi_kernel", init_multi_kernel, (P + 255) / 256, 256, 0, stream, st_p,
                          cnt.data<int32_t>(), alive.data<int32_t>(), setups_p, P, prm.mode,
                          unassigned.data<int64_t>());

  int per_sm = 0;
  PG_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, auction_multi_kernel, kThreads, 0));
  PG_CHECK(per_sm > 0, "emd: the multi-CTA auction kernel cannot be resident on this device");
  PG_CHECK(device_attr(cudaDevAttrCooperativeLaunch) != 0, "emd: the device does not support cooperative launches");
  const int grid = std::min(num_tiles, per_sm * device_attr(cudaDevAttrMultiProcessorCount));

  MultiArgs args{bidp_p,
                 objp_p,
                 off_p,
                 setups_p,
                 tp.data<int32_t>(),
                 tbg.data<int32_t>(),
                 num_tiles,
                 reinterpret_cast<unsigned long long*>(bid.data<int64_t>()),
                 owner.data<int32_t>(),
                 assign.data<int32_t>(),
                 target.data<int32_t>(),
                 st_p,
                 cnt.data<int32_t>(),
                 alive.data<int32_t>(),
                 prm.mode,
                 prm.max_iters,
                 N,
                 assignment.data<int64_t>(),
                 unassigned.data<int64_t>()};
  pg::cuda::launch_cooperative_kernel("auction_multi_kernel", auction_multi_kernel, dim3(grid), dim3(kThreads), 0,
                                      stream, args);
  // The scratch tensors are freed when this function returns; the caching allocator reuses
  // memory in stream order, so the kernel's use of them stays valid.
  return first_bad();
}

// ---- naive MSN-style baseline (bench only): 7 launches per iteration ----

namespace msnb {

constexpr int kB = 1024;

__device__ float atomic_max_float(float* addr, float val) {
  int old = __float_as_int(*addr);
  while (val > __int_as_float(old)) {
    const int assumed = old;
    old = atomicCAS(reinterpret_cast<int*>(addr), assumed, __float_as_int(val));
    if (old == assumed) break;
  }
  return __int_as_float(old);
}

__global__ void clear_counts(int b, int* cnt_tmp, int* unass_cnt) {
  for (int i = threadIdx.x; i < b; i += blockDim.x) cnt_tmp[i] = unass_cnt[i] = 0;
}

__global__ void count_unassigned(int n, const int* assignment, int* unass_cnt) {
  __shared__ int s;
  if (threadIdx.x == 0) s = 0;
  __syncthreads();
  const int i = blockIdx.x, j = blockIdx.y * kB + threadIdx.x;
  if (assignment[i * n + j] < 0) atomicAdd(&s, 1);
  __syncthreads();
  if (threadIdx.x == 0) atomicAdd(unass_cnt + i, s);
}

__global__ void count_prefix(int b, const int* unass_cnt, int* unass_cnt_sum) {
  if (threadIdx.x == 0) {
    int acc = 0;
    for (int i = 0; i < b; ++i) unass_cnt_sum[i] = (acc += unass_cnt[i]);
  }
}

__global__ void list_unassigned(int n, const int* assignment, int* unass_idx, const int* unass_cnt,
                                const int* unass_cnt_sum, int* cnt_tmp) {
  const int i = blockIdx.x, j = blockIdx.y * kB + threadIdx.x;
  if (assignment[i * n + j] < 0) {
    const int slot = atomicAdd(cnt_tmp + i, 1);
    unass_idx[unass_cnt_sum[i] - unass_cnt[i] + slot] = j;
  }
}

__global__ void bid_kernel(int n, const float* xyz1, const float* xyz2, float eps, const float* price, int* bid,
                           float* bid_inc, float* max_inc, const int* unass_cnt, const int* unass_cnt_sum,
                           const int* unass_idx) {
  constexpr int kBatch = 2048;
  __shared__ float buf[kBatch * 3];
  __shared__ float pbuf[kBatch];
  __shared__ float best_buf[kB], second_buf[kB];
  __shared__ int best_i_buf[kB];
  const int i = blockIdx.x, blocks = n / kB;
  const int cnt = unass_cnt[i];
  if (cnt == 0) return;
  const int per_block = (cnt + blocks - 1) / blocks;
  const int tpu = kB / per_block;  // threads per unassigned bidder
  const int here = max(min(cnt - static_cast<int>(blockIdx.y) * per_block, per_block), 0);
  int uid = -1, lane = 0;
  float x = 0, y = 0, z = 0, best = -1e9f, second = -1e9f;
  int best_i = -1;
  if (tpu > 0 && static_cast<int>(threadIdx.x) < tpu * here) {
    uid = unass_idx[per_block * blockIdx.y + threadIdx.x / tpu + unass_cnt_sum[i] - cnt];
    lane = threadIdx.x % tpu;
    x = xyz1[(i * n + uid) * 3];
    y = xyz1[(i * n + uid) * 3 + 1];
    z = xyz1[(i * n + uid) * 3 + 2];
  }
  for (int k0 = 0; k0 < n; k0 += kBatch) {
    const int m = min(n, k0 + kBatch) - k0;
    for (int t = threadIdx.x; t < m * 3; t += blockDim.x) buf[t] = xyz2[(i * n + k0) * 3 + t];
    for (int t = threadIdx.x; t < m; t += blockDim.x) pbuf[t] = price[i * n + k0 + t];
    __syncthreads();
    if (uid >= 0) {
      const int step = (m + tpu - 1) / tpu;
      for (int k = lane * step; k < min((lane + 1) * step, m); ++k) {
        const float dx = buf[3 * k] - x, dy = buf[3 * k + 1] - y, dz = buf[3 * k + 2] - z;
        const float v = 3.0f - sqrtf(dx * dx + dy * dy + dz * dz) - pbuf[k];
        if (v > best) {
          second = best;
          best = v;
          best_i = k0 + k;
        } else if (v > second) {
          second = v;
        }
      }
    }
    __syncthreads();
  }
  best_buf[threadIdx.x] = best;
  second_buf[threadIdx.x] = second;
  best_i_buf[threadIdx.x] = best_i;
  __syncthreads();
  if (uid >= 0 && lane == 0) {
    for (int t = threadIdx.x + 1; t < static_cast<int>(threadIdx.x) + tpu; ++t) {
      if (best_buf[t] > best) {
        second = max(best, second_buf[t]);
        best = best_buf[t];
        best_i = best_i_buf[t];
      } else {
        second = max(second, best_buf[t]);
      }
    }
    bid[i * n + uid] = best_i;
    bid_inc[i * n + uid] = best - second + eps;
    atomic_max_float(max_inc + i * n + best_i, best - second + eps);
  }
}

__global__ void get_max(int n, const int* assignment, const int* bid, const float* bid_inc, const float* max_inc,
                        int* max_idx) {
  const int i = blockIdx.x, j = blockIdx.y * kB + threadIdx.x;
  if (assignment[i * n + j] < 0) {
    const int k = bid[i * n + j];
    const float inc = bid_inc[i * n + j], mx = max_inc[i * n + k];
    if (inc - 1e-6f <= mx && mx <= inc + 1e-6f) max_idx[i * n + k] = j;
  }
}

__global__ void assign_kernel(int n, int* assignment, int* assignment_inv, float* price, const int* bid,
                              const float* bid_inc, float* max_inc, const int* max_idx, bool last) {
  const int i = blockIdx.x, j = blockIdx.y * kB + threadIdx.x;
  if (assignment[i * n + j] < 0) {
    const int k = bid[i * n + j];
    if (last || max_idx[i * n + k] == j) {
      const int prev = assignment_inv[i * n + k];
      if (!last && prev >= 0) assignment[i * n + prev] = -1;
      assignment_inv[i * n + k] = j;
      assignment[i * n + j] = k;
      price[i * n + k] += bid_inc[i * n + j];
      max_inc[i * n + k] = -1e9f;
    }
  }
}

}  // namespace msnb

}  // namespace

template <>
int64_t emd_auction<CudaBackend>(const Tensor& x1, const Tensor& x2, const std::vector<int64_t>& offsets,
                                 const AuctionParams& prm, const Tensor& assignment, const Tensor& unassigned) {
  return dispatch_floating(
      x1.dtype(), "emd", [&]<class T>() { return emd_auction_cuda<T>(x1, x2, offsets, prm, assignment, unassigned); });
}

void emd_msn_baseline_cuda(const Tensor& x1, const Tensor& x2, float eps, int iters, const Tensor& assignment) {
  const int b = static_cast<int>(x1.size(0)), n = static_cast<int>(x1.size(1));
  PG_CHECK(n % msnb::kB == 0 && b <= 512, "emd_msn_baseline_cuda: needs n % 1024 == 0 and B <= 512");
  const Device dev = x1.device();
  cudaStream_t stream = current_cuda_stream();
  auto i32 = [&](int64_t m) { return empty({m}, TensorOptions(DType::i32, dev)); };
  auto f32 = [&](int64_t m) { return empty({m}, TensorOptions(DType::f32, dev)); };
  Tensor inv = full({int64_t(b) * n}, -1.0, TensorOptions(DType::i32, dev));
  Tensor price = zeros({int64_t(b) * n}, TensorOptions(DType::f32, dev));
  Tensor max_inc = full({int64_t(b) * n}, -1e9, TensorOptions(DType::f32, dev));
  Tensor bid = i32(int64_t(b) * n), bid_inc = f32(int64_t(b) * n), max_idx = i32(int64_t(b) * n);
  Tensor unass_idx = i32(int64_t(b) * n), unass_cnt = i32(b), unass_sum = i32(b), cnt_tmp = i32(b);
  detail::fill_raw(assignment, -1.0);
  int* a = assignment.data<int32_t>();
  const dim3 grid(b, n / msnb::kB);
  for (int it = 0; it < iters; ++it) {
    pg::cuda::launch_kernel("msnb::clear_counts", msnb::clear_counts, 1, 512, 0, stream, b, cnt_tmp.data<int32_t>(),
                            unass_cnt.data<int32_t>());
    pg::cuda::launch_kernel("msnb::count_unassigned", msnb::count_unassigned, grid, msnb::kB, 0, stream, n, a,
                            unass_cnt.data<int32_t>());
    pg::cuda::launch_kernel("msnb::count_prefix", msnb::count_prefix, 1, 32, 0, stream, b, unass_cnt.data<int32_t>(),
                            unass_sum.data<int32_t>());
    pg::cuda::launch_kernel("msnb::list_unassigned", msnb::list_unassigned, grid, msnb::kB, 0, stream, n, a,
                            unass_idx.data<int32_t>(), unass_cnt.data<int32_t>(), unass_sum.data<int32_t>(),
                            cnt_tmp.data<int32_t>());
    pg::cuda::launch_kernel("msnb::bid_kernel", msnb::bid_kernel, grid, msnb::kB, 0, stream, n, x1.data<float>(),
                            x2.data<float>(), eps, price.data<float>(), bid.data<int32_t>(), bid_inc.data<float>(),
                            max_inc.data<float>(), unass_cnt.data<int32_t>(), unass_sum.data<int32_t>(),
                            unass_idx.data<int32_t>());
    pg::cuda::launch_kernel("msnb::get_max", msnb::get_max, grid, msnb::kB, 0, stream, n, a, bid.data<int32_t>(),
                            bid_inc.data<float>(), max_inc.data<float>(), max_idx.data<int32_t>());
    pg::cuda::launch_kernel("msnb::assign_kernel", msnb::assign_kernel, grid, msnb::kB, 0, stream, n, a,
                            inv.data<int32_t>(), price.data<float>(), bid.data<int32_t>(), bid_inc.data<float>(),
                            max_inc.data<float>(), max_idx.data<int32_t>(), it == iters - 1);
  }
}

PG_INSTANTIATE_LAUNCHERS(PG_EMD_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
