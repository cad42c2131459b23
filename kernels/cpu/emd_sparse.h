// Sparse bids of the CPU auction (kernels/cpu/emd.cpp): each bidder looks only at its K nearest
// objects (candidates from the kNN kernel, kernels/knn.h), and proves, per bid, that the result
// equals the dense bid over all n objects; when it cannot, the caller runs the dense bid.
//
// Why the test is exact. Write v_k = fl(fl(offset − d_k) − p_k) for the auction's float value of
// object k (d_k = pair_dist in float, p_k its price). For bidder j:
//  * every non-candidate k has d_k ≥ lb_j, a lower bound of the distance to the (K+1)-th nearest
//    object (made safe against the kNN kernel computing d² in another order, see build below);
//  * every price is ≥ pmin, any lower bound of the current prices (prices only rise, so the
//    minimum of an earlier round is still one);
//  * float rounding to nearest is monotone, so v_k ≤ U_j := fl(fl(offset − lb_j) − pmin).
// If the second-best candidate value s exceeds U_j strictly, no non-candidate can reach or tie
// the best or the second-best value: the best object, its tie key and the second-best value over
// all n objects are the candidates' — the bid (object, best − second + ε) is bit-identical to the
// dense bid. The auction (rounds, winners, prices) is therefore the same run with either path:
// same assignment, same ε-guarantee (cost ≤ optimum + n·ε), same result as the CUDA kernels.
// When s ≤ U_j the bidder's far objects might matter (its neighbours got expensive relative to
// the cheapest object anywhere): the caller refreshes pmin once per round and otherwise scans all
// objects (the fallback). Candidates cost n·K·8 bytes; the kNN runs once per problem.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/parallel_for.h"
#include "core/tensor.h"
#include "kernels/common/emd_impl.h"
#include "kernels/knn.h"

namespace pg::kernels::emd_detail {

struct SparseCandidates {
  int32_t k = 0;               // candidates per bidder; 0: none (dense bids only)
  std::vector<int32_t> idx;    // [n, k] object indices, nearest first
  std::vector<float> dist;     // [n, k] pair_dist of each candidate (the auction's arithmetic)
  std::vector<float> lb;       // [n] lower bound of pair_dist to every non-candidate
  bool empty() const { return k == 0; }
};

// Candidates of every bidder among the objects (auction frame, structure of arrays), K < n.
// D bounds every distance (the joint bounding-box diagonal).
inline SparseCandidates build_candidates(const float* bx, const float* by, const float* bz, const float* ox,
                                         const float* oy, const float* oz, int32_t n, int32_t K, double D) {
  SparseCandidates c;
  c.k = K;
  const int64_t kq = K + 1;  // the (K+1)-th neighbour bounds the non-candidates
  Tensor q = empty({1, n, 3}, TensorOptions(DType::f32)), r = empty({1, n, 3}, TensorOptions(DType::f32));
  float* pq = q.data<float>();
  float* pr = r.data<float>();
  for (int32_t i = 0; i < n; ++i) {
    pq[3 * i] = bx[i], pq[3 * i + 1] = by[i], pq[3 * i + 2] = bz[i];
    pr[3 * i] = ox[i], pr[3 * i + 1] = oy[i], pr[3 * i + 2] = oz[i];
  }
  Tensor d2 = empty({1, n, kq}, TensorOptions(DType::f32)), id = empty({1, n, kq}, TensorOptions(DType::i64));
  knn_forward<CpuBackend>(q, r, kq, d2, id, KnnImpl::Auto);
  const float* pd = d2.data<float>();
  const int64_t* pi = id.data<int64_t>();
  c.idx.resize(static_cast<size_t>(n) * K);
  c.dist.resize(static_cast<size_t>(n) * K);
  c.lb.resize(n);
  // Margin for the kNN kernel's own float d² (any summation order, even the |a|²+|b|²−2a·b form
  // errs by far less): 2⁻¹² relative plus 2⁻¹⁸·D² absolute, then the float sqrt nudged down.
  const double abs_margin = D * D * std::ldexp(1.0, -18);
  parallel_for<CpuBackend>(n, [&](int64_t j) {
    for (int32_t i = 0; i < K; ++i) {
      const int32_t k = static_cast<int32_t>(pi[j * kq + i]);
      c.idx[j * K + i] = k;
      c.dist[j * K + i] = pair_dist(bx[j], by[j], bz[j], ox[k], oy[k], oz[k]);
    }
    const double dk = static_cast<double>(pd[j * kq + K]);
    const double lb2 = dk - (dk * std::ldexp(1.0, -12) + abs_margin);
    c.lb[j] = lb2 > 0.0 ? static_cast<float>(std::sqrt(lb2) * (1.0 - std::ldexp(1.0, -20))) : 0.0f;
  });
  return c;
}

// The sparse bid of bidder j (see the top comment): true and (target, inc) when it provably equals
// the dense bid at these prices, false (outputs untouched) when the caller must scan all objects.
PG_INLINE bool sparse_bid(const SparseCandidates& c, const float* price, float offset, int32_t n, int32_t j, float eps,
                          float pmin, int32_t& target, float& inc) {
  const int32_t K = c.k;
  const int32_t* idx = c.idx.data() + static_cast<size_t>(j) * K;
  const float* dist = c.dist.data() + static_cast<size_t>(j) * K;
  BestTwo bt = best_init();
  for (int32_t i = 0; i < K; ++i) {
    const int32_t k = idx[i];
    best_update(bt, sub_rn(sub_rn(offset, dist[i]), price[k]), tie_key(k, j, n));
  }
  const float bound = sub_rn(sub_rn(offset, c.lb[j]), pmin);
  if (!(bt.sv > bound)) return false;
  target = key_object(bt.key, j, n);
  inc = bid_increment(bt, n, eps);
  return true;
}

}  // namespace pg::kernels::emd_detail
