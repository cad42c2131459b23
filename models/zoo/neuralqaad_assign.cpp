#include "models/zoo/neuralqaad_assign.h"

#include <limits>
#include <vector>

#include "autograd/grad_mode.h"
#include "models/zoo/neuralqaad_util.h"
#include "ops/view.h"

namespace pg::models {

namespace {

using qaad_detail::dist2;
// The random stream: splitmix64 (models/zoo/neuralqaad_util.h).
uint64_t mix(uint64_t& s) {
  return qaad_detail::next_splitmix(s);
}

}  // namespace

bool is_permutation_rows(const Tensor& perm) {
  if (!perm.defined() || perm.dim() != 2 || perm.dtype() != DType::i64) return false;
  const int64_t b = perm.size(0), n = perm.size(1);
  const std::vector<int64_t> v = perm.to(Device::cpu()).contiguous().to_vector<int64_t>();
  for (int64_t s = 0; s < b; ++s) {
    std::vector<char> seen(static_cast<size_t>(n), 0);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t t = v[s * n + j];
      if (t < 0 || t >= n || seen[t]) return false;
      seen[t] = 1;
    }
  }
  return true;
}

QaadGreedyResult qaad_greedy(const Tensor& pred, const Tensor& target, const QaadGreedyOptions& opts) {
  NoGradGuard ng;
  const EmkdResult ek = emkd(pred.detach(), target.detach(), opts.emkd);  // checks the inputs
  const int64_t B = pred.size(0), n = pred.size(1);
  const std::vector<int64_t> claim = ek.assignment.to(Device::cpu()).to_vector<int64_t>();
  const std::vector<int64_t> o1 = ek.order1.to(Device::cpu()).to_vector<int64_t>();
  const std::vector<int64_t> o2 = ek.order2.to(Device::cpu()).to_vector<int64_t>();
  const std::vector<double> p = pred.to(DType::f64, Device::cpu()).contiguous().to_vector<double>();
  const std::vector<double> t = target.to(DType::f64, Device::cpu()).contiguous().to_vector<double>();
  const std::vector<int64_t>& leaf = ek.leaf_offsets;

  std::vector<int64_t> perm(static_cast<size_t>(B * n), -1), kept(B, 0), repaired(B, 0);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t* a = claim.data() + b * n;
    const double* pb = p.data() + 3 * b * n;
    const double* tb = t.data() + 3 * b * n;
    int64_t* out = perm.data() + b * n;
    // 1. Every target goes to its closest claimant (ties: the lower index, by scan order).
    std::vector<int64_t> owner(static_cast<size_t>(n), -1);
    std::vector<double> best(static_cast<size_t>(n), std::numeric_limits<double>::infinity());
    for (int64_t j = 0; j < n; ++j) {
      const int64_t k = a[j];
      PG_CHECK(k >= 0 && k < n, "qaad_greedy: the auction returned target ", k, " for point ", j, " (n = ", n, ")");
      const double d = dist2(pb + 3 * j, tb + 3 * k);
      if (d < best[k]) {
        best[k] = d;
        owner[k] = j;
      }
    }
    for (int64_t k = 0; k < n; ++k) {
      if (owner[k] >= 0) out[owner[k]] = k;
    }
    // 2. Leftovers and free targets of each leaf pair, paired at random.
    uint64_t stream = opts.seed * 0x100000001B3ULL + static_cast<uint64_t>(b) + 1;
    for (size_t l = 0; l + 1 < leaf.size(); ++l) {
      std::vector<int64_t> left, free_t;
      for (int64_t i = leaf[l]; i < leaf[l + 1]; ++i) {
        const int64_t j = o1[b * n + i], k = o2[b * n + i];
        if (out[j] < 0) left.push_back(j);
        if (owner[k] < 0) free_t.push_back(k);
      }
      PG_CHECK(left.size() == free_t.size(), "qaad_greedy: leaf ", l, " of shape ", b, " has ", left.size(),
               " unmatched points but ", free_t.size(), " free targets (claims left their leaf pair)");
      for (size_t i = free_t.size(); i > 1; --i) {  // Fisher–Yates
        const size_t r = static_cast<size_t>(mix(stream) % i);
        std::swap(free_t[i - 1], free_t[r]);
      }
      for (size_t i = 0; i < left.size(); ++i) out[left[i]] = free_t[i];
      repaired[b] += static_cast<int64_t>(left.size());
    }
    kept[b] = n - repaired[b];
  }
  QaadGreedyResult r;
  r.perm = from_vector(perm, {B, n});
  r.kept = from_vector(kept, {B});
  r.repaired = from_vector(repaired, {B});
  return r;
}

}  // namespace pg::models
