// Earth Mover's Distance by the auction algorithm (Bertsekas), batched, CPU and CUDA.
//
// emd(x1, x2, opts) matches every point of x1 [B, n, 3] to a point of x2 [B, n, 3] (same n,
// any n ≥ 1, same dtype float32/float64, same device) and returns
//   assignment [B, n] int64: assignment[b][j] = index in x2[b] matched to x1[b][j];
//   dist       [B, n] (dtype of the inputs): dist[b][j] = ‖x1[b][j] − x2[b][assignment[b][j]]‖²
//              (SQUARED, like MSN's `dist`; an EMD in the sense of METHODS.md Eq. 12 is
//              sum(sqrt(dist)); MSN's training loss is mean(sqrt(dist)));
//   unassigned [B] int64: how many points of each cloud the auction had NOT assigned when it
//              stopped (0 when it converged; otherwise finished as the mode says below).
//
// Cost and objective. The auction minimises Σ_j ‖x1_j − x2_a(j)‖ (plain Euclidean distance, as
// MSN): bidder j values object k at  offset − ‖x1_j − x2_k‖ − price_k  with `offset` derived
// from the data (the diagonal D of the joint bounding box of x1[b] and x2[b], an upper bound of
// every distance; MSN hard-codes 3.0 for [0,1]³ data) or given. A complete ε-assignment costs at
// most n·ε more than the optimum.
//
// One bidding round (Jacobi; every mode, both backends, bit-identical):
//  1. U = the unassigned bidders. Every j ∈ U computes, from the prices at the start of the
//     round, its best object k* (ties between equal values: the smallest (k − j) mod n, so
//     identical bidders spread over identical objects) and second-best value; it bids on k* with
//     increment  inc = best − second + ε  (inc = ε when n = 1).
//  2. Each object with bids goes to the largest increment; equal increments: the lowest bidder
//     index (on CUDA a packed 64-bit atomicMax of (float bits of inc, ~j) — no tolerance compare).
//  3. The winner takes the object, its previous owner becomes unassigned, price += inc.
// The auction runs in float32 on both backends, on coordinates centred on the bounding box
// (float(x − centre), computed in double); the distances returned in `dist` and the gradients
// are computed in the input dtype from the original coordinates. CPU and CUDA give the same
// assignment for the same inputs (identical float arithmetic: no FMA contraction in the pair
// cost, IEEE sqrt, order-independent rules).
//
// Modes:
//  * Default: ε-scaling with price warm start. ε starts at eps_start_rel·D and is divided by
//    eps_factor per phase down to the final ε (opts.eps if > 0, else eps_rel·D/√n); each phase
//    keeps the prices, clears the assignment and bids until every bidder is assigned. The
//    rounds of all phases count against max_iters; round max_iters−1 (if reached) is a forced
//    round as in MSN mode (leftover bidders take their best object WITHOUT evicting the owner:
//    total map, possibly not injective, and `unassigned` > 0).
//  * Bijective: as Default, but never forced: when max_iters rounds are used up, the leftover
//    bidders and the free objects of each cloud are matched exactly (dense Euclidean LSAP on the
//    leftover sub-problem, float64, on the host).
//    The result is always a permutation; `unassigned` counts the points finished that way.
//    (On CUDA the clouds are copied to the host for this step, only when leftovers exist.)
//  * Msn: MSN's semantics for reproduction — a single phase at the absolute ε opts.eps (in
//    coordinate units), prices start at 0, exactly max_iters rounds (early exit once every
//    bidder is assigned, which changes nothing), and the last round forced (as above). The
//    offset is the data diagonal unless opts.value_offset is set (3.0 reproduces MSN's
//    float rounding). Differences from MSN's code: the winner among equal increments is the
//    lowest bidder index (MSN: the last writer within ±1e-6), and object ties use the rule above.
//
// Gradient (dist is differentiable w.r.t. BOTH clouds, unlike MSN which gives zero to xyz2):
// under the fixed assignment a,  ∂L/∂x1_j = 2(x1_j − x2_a(j))·g_j  and
// ∂L/∂x2_k = −Σ_{j: a(j)=k} 2(x1_j − x2_k)·g_j. The assignment and `unassigned` are not
// differentiable. On CUDA the x2 gradient of a non-injective assignment sums by atomics (the
// last bits may vary when several points share a target; permutations are exact).
//
// ε is clamped below at D·2⁻²⁰ (smaller increments would vanish in float32 prices).
// Defaults (Default/Bijective): final ε = 3e-3·D/√n, start 0.02·D, factor 6 — on uniform cubes
// and spheres with n ≤ 2048 the cost came within 1e-4 (typically 1e-6) of the exact optimum.
// The auction is a Jacobi auction: late rounds have few bidders each (eviction chains), and a
// run takes thousands of rounds at small ε (e.g. ~3k–7k rounds, ~25–40 full-scan equivalents
// for n = 1024) — cheap rounds on the GPU's persistent kernels, but not free.
//
// CUDA decomposition (kernels/cuda/emd.cu): one persistent kernel per batch — one CTA per cloud
// with the cloud's state in shared memory when it fits (n up to ~5k on H100), else a cooperative
// multi-CTA kernel with the state in global memory (any n). No launches per round. emd()
// synchronises the stream once per call (after queuing the kernels) to read the finite check,
// and once more in Bijective mode to read the leftover counts.
//
// Errors (pg::Error naming the op and the values): undefined or non-floating tensors, rank or
// last dim ≠ 3, mismatched batch or point counts, empty clouds (n = 0 or B = 0), different
// devices or dtypes, NaN/Inf coordinates, eps/max_iters out of range.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/op_enums.h"

namespace pg {

using kernels::EmdMode;  // { Default, Bijective, Msn } (kernels/op_enums.h)

// Which CUDA kernel runs the auction (ignored on the CPU). Auto: the per-cloud CTA kernel when
// the cloud's state (44 B per point) fits in shared memory, else the cooperative multi-CTA
// kernel. Cta falls back to MultiCta when the state does not fit. Both give the same result.
using kernels::EmdCudaPath;  // { Auto, Cta, MultiCta } (kernels/op_enums.h)

// How the CPU computes a bid (ignored on CUDA). Dense: every bid scans all n objects. Sparse: a
// bid searches a k-d tree of the objects (boxes and minimum prices per node) nearest-first and
// skips every node that provably cannot hold the best or second-best value
// (kernels/cpu/emd_sparse.h) — the assignment is bit-identical to Dense (and to CUDA). Auto:
// Sparse from 512 points per cloud, Dense below (measured, docs/decisions.md "Sparse auction bids").
using kernels::EmdCpuPath;  // { Auto, Dense, Sparse } (kernels/op_enums.h)

struct EmdOptions {
  EmdMode mode = EmdMode::Default;
  // Final ε in coordinate units (Msn: the one ε). ≤ 0: automatic (Default/Bijective:
  // eps_rel · D / √n; Msn: 0.005, MSN's training value).
  double eps = 0.0;
  double eps_rel = 3e-3;
  // ε-scaling (Default/Bijective): first ε = eps_start_rel · D, divided by eps_factor (> 1) per
  // phase until the final ε.
  double eps_start_rel = 0.02;  // 0.05 until 2026-12-03: more bids (docs/decisions.md)
  double eps_factor = 6.0;
  // Cap on bidding rounds over all phases (≥ 1). ≤ 0: automatic (Default/Bijective:
  // max(20000, 16·n) — measured need on uniform cubes: ~3k rounds at n = 1024, 10–20k at 4096,
  // < 40k at 8192, up to ~2.5x more on spheres; Msn: 50, MSN's training value).
  int64_t max_iters = 0;
  // Value offset of the bids; ≤ 0: the joint bounding-box diagonal D of each cloud pair.
  double value_offset = 0.0;
  EmdCudaPath cuda_path = EmdCudaPath::Auto;
  EmdCpuPath cpu_path = EmdCpuPath::Auto;

  static EmdOptions msn(double eps, int64_t iters) {
    EmdOptions o;
    o.mode = EmdMode::Msn;
    o.eps = eps;
    o.max_iters = iters;
    return o;
  }
  static EmdOptions bijective() {
    EmdOptions o;
    o.mode = EmdMode::Bijective;
    return o;
  }
};

struct EmdResult {
  Tensor dist;        // [B, n] squared distances, input dtype, differentiable w.r.t. x1 and x2
  Tensor assignment;  // [B, n] int64
  Tensor unassigned;  // [B] int64
};

EmdResult emd(const Tensor& x1, const Tensor& x2, const EmdOptions& opts = {});

// Squared distances under a given assignment [B, n] (int64 or int32, values in [0, n); need not
// be injective): dist[b][j] = ‖x1[b][j] − x2[b][a[b][j]]‖², differentiable w.r.t. x1 and x2 as
// above. This is the differentiable half of emd() (which calls it); also for reusing a stored
// assignment (e.g. NeuralQAAD's per-shape permutations).
Tensor emd_dist_from_assignment(const Tensor& x1, const Tensor& x2, const Tensor& assignment);

// Exact EMD assignment (dense Euclidean cost, Jonker–Volgenant LSAP in float64 on the CPU; see
// ops/lsap.h) for x1, x2 [B, n, 3] on the CPU: int64 [B, n]. The `--exact` oracle; O(n³) time and
// n²·8 bytes of memory per cloud, meant for n ≤ 2048 (n ≤ 8192 accepted).
Tensor emd_exact_assignment(const Tensor& x1, const Tensor& x2);

namespace detail {
// Internal (used by ops/emkd.cpp): the auction of `opts` on independent row ranges of contiguous
// x1, x2 [N, 3] (problem p = rows [offsets[p], offsets[p+1]), offsets on the host). Checks the
// options and finiteness (errors name `op` and the problem as "cloud p"), runs the backend
// kernel, finishes Bijective leftovers exactly, and returns the assignment LOCAL to each problem [N] int64 and the
// unassigned counts [P] int64, on the inputs' device.
void emd_auction_rows(const Tensor& x1, const Tensor& x2, const std::vector<int64_t>& offsets, const EmdOptions& opts,
                      Tensor& assignment, Tensor& unassigned, const char* op);
}  // namespace detail

}  // namespace pg
