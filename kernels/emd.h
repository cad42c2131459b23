// EMD / assignment kernel launchers. The auction is implemented per backend
// (kernels/cpu/emd.cpp, kernels/cuda/emd.cu) on the shared PG_HD pieces of
// kernels/common/emd_impl.h; the distance/gradient bodies are shared launchers (instantiated in
// the same two files). The exact LSAP and the k-d ordering are host-only (kernels/cpu/lsap.cpp,
// kernels/cpu/kdsplit.cpp).
//
// Preconditions (checked by ops/emd.cpp and ops/emkd.cpp, trusted here): every tensor on the
// backend's device and contiguous; x1, x2 [N, 3] of one floating dtype; sizes ≥ 1.
#pragma once

#include <cstdint>
#include <vector>

#include "core/parallel_for.h"
#include "core/tensor.h"
#include "kernels/op_enums.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// EmdMode and EmdCudaPath (kernels/op_enums.h) as the plain ints the CUDA kernels take as
// launch arguments: the integer value of the one enum, not a second list.
inline constexpr int auction_int(EmdMode m) { return static_cast<int>(m); }
inline constexpr int auction_int(EmdCudaPath p) { return static_cast<int>(p); }
inline constexpr int kAuctionDefault = auction_int(EmdMode::Default);
inline constexpr int kAuctionBijective = auction_int(EmdMode::Bijective);
inline constexpr int kAuctionMsn = auction_int(EmdMode::Msn);
inline constexpr int kPathAuto = auction_int(EmdCudaPath::Auto);
inline constexpr int kPathCta = auction_int(EmdCudaPath::Cta);
inline constexpr int kPathMulti = auction_int(EmdCudaPath::MultiCta);
inline constexpr int auction_int(EmdCpuPath p) { return static_cast<int>(p); }
inline constexpr int kCpuAuto = auction_int(EmdCpuPath::Auto);
inline constexpr int kCpuDense = auction_int(EmdCpuPath::Dense);
inline constexpr int kCpuSparse = auction_int(EmdCpuPath::Sparse);

struct AuctionParams {
  int mode = kAuctionDefault;
  double eps = 0.0;  // > 0: absolute final ε (Msn: the only ε); else eps_rel·D/√n
  double eps_rel = 3e-3;
  double eps_start_rel = 0.05;
  double eps_factor = 6.0;
  int64_t max_iters = 20000;  // ≥ 1 (ops/emd.cpp sets the automatic default)
  double value_offset = 0.0;  // ≤ 0: D
  int path = kPathAuto;       // CUDA only
  // CPU only: EmdCpuPath as int (Auto / Dense / Sparse). Both paths give the same assignment
  // (kernels/cpu/emd.cpp).
  int cpu_path = 0;
};

// A batch of independent problems: problem p matches rows [offsets[p], offsets[p+1]) of x1 to
// the same rows of x2 (offsets on the host, strictly increasing, offsets[0] = 0, last = N).
// Writes assignment [N] int64 (the object's index LOCAL to the problem; −1 for bidders left
// unassigned in Bijective mode) and unassigned [P] int64. Returns −1, or the first problem whose
// coordinates are not all finite (then nothing else was computed).
template <class Backend>
int64_t emd_auction(const Tensor& x1, const Tensor& x2, const std::vector<int64_t>& offsets, const AuctionParams& prm,
                    const Tensor& assignment, const Tensor& unassigned);

template <>
int64_t emd_auction<CpuBackend>(const Tensor&, const Tensor&, const std::vector<int64_t>&, const AuctionParams&,
                                const Tensor&, const Tensor&);
template <>
int64_t emd_auction<CudaBackend>(const Tensor&, const Tensor&, const std::vector<int64_t>&, const AuctionParams&,
                                 const Tensor&, const Tensor&);

// CPU diagnostics for benches and tests: bids, and (bidder, object) values evaluated by them (n
// per dense bid, the visited leaves' objects per sparse bid), summed over all CPU auctions since
// the process started (relaxed atomics, updated once per problem).
struct AuctionBidCounts {
  int64_t bids = 0, pairs = 0;
};
AuctionBidCounts emd_cpu_bid_counts();

// dist [B, n] = ‖x1[b][j] − x2[b][a[b][j]]‖² for x1, x2 [B, n, 3], a [B, n] int64 (in range).
template <class Backend>
void emd_dist(const Tensor& dist, const Tensor& x1, const Tensor& x2, const Tensor& a);

// Backward of emd_dist: g1 = 2(x1 − x2[a])·g (written), g2 −= scattered 2(x1 − x2[a])·g
// (g2 must be zero-filled by the caller; CPU: deterministic per-cloud loop, CUDA: atomics).
// Either g1 or g2 may be undefined (not computed).
template <class Backend>
void emd_dist_backward(const Tensor& g1, const Tensor& g2, const Tensor& x1, const Tensor& x2, const Tensor& a,
                       const Tensor& grad_dist);

// out [B] = Σ_j sqrt(dist[b][j]) (accumulated in float64, sequential per cloud: deterministic).
template <class Backend>
void emd_sum_sqrt(const Tensor& out, const Tensor& dist);

// out [R, 3] = x [rows[r] of x viewed as [N, 3]] (rows int64 [R]); EM-kD's leaf gather.
template <class Backend>
void gather_rows3(const Tensor& out, const Tensor& x, const Tensor& rows);

// EM-kD: global [N] int64 from leaf-local assignments: for every row r (a bidder in leaf
// problem p with row range [base_r, …)), global[order1[r]] = order2[base_r + local[r]] − cloud_base,
// where order1/order2 [N] hold global row indices (cloud b's rows are [b·n, (b+1)·n)) and
// row_base [N] the first row of r's leaf; n is the cloud size.
template <class Backend>
void emkd_scatter_assignment(const Tensor& global, const Tensor& local, const Tensor& order1, const Tensor& order2,
                             const Tensor& row_base, int64_t n);

// ---- host-only ----

// Dense square LSAP (Jonker–Volgenant: column reduction, reduction transfer, two passes of
// augmenting row reduction, then shortest augmenting paths). cost: row-major n×n float64,
// finite. Writes row_to_col[n] (a permutation) and returns the minimal total cost.
double lsap_dense(const double* cost, int64_t n, int64_t* row_to_col);

// Balanced k-d ordering of two clouds of n points each (xyz, float64 row-major), split together:
// corresponding nodes of m points are split along the axis of widest extent of their JOINT
// bounding box (ties x < y < z), each cloud at its own median: the ⌊m/2⌋ points smallest by
// (coordinate, index) go left. Depth d = the smallest with ⌈n/2^d⌉ ≤ leaf_size; within a leaf,
// points are in ascending index order. Writes order1/order2 [n] (leaves left to right) and
// returns the leaf boundaries (2^d + 1 offsets, shared by both clouds; they depend on n and
// leaf_size only). Pass the same cloud twice to order a single cloud.
std::vector<int64_t> kd_balanced_order(const double* xyz1, const double* xyz2, int64_t n, int64_t leaf_size,
                                       int64_t* order1, int64_t* order2);
// The leaf boundaries alone (as returned above).
std::vector<int64_t> kd_leaf_offsets(int64_t n, int64_t leaf_size);

#if PG_WITH_CUDA
// Bench baseline only: MSN's original decomposition (7 kernel launches per iteration, float CAS
// atomicMax, ±1e-6 winner compare, forced last iteration) on float32 x1, x2 [B, n, 3] with
// n % 1024 == 0 and B ≤ 512; writes assignment int32 [B, n]. Not used by any op.
void emd_msn_baseline_cuda(const Tensor& x1, const Tensor& x2, float eps, int iters, const Tensor& assignment);
#endif

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_EMD_LAUNCHERS(X, B)                                                                                              \
  X(B, void, emd_dist, (const Tensor&, const Tensor&, const Tensor&, const Tensor&))                                        \
  X(B, void, emd_dist_backward, (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&)) \
  X(B, void, emd_sum_sqrt, (const Tensor&, const Tensor&))                                                                  \
  X(B, void, gather_rows3, (const Tensor&, const Tensor&, const Tensor&))                                                   \
  X(B, void, emkd_scatter_assignment, (const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, int64_t))

}  // namespace pg::kernels
