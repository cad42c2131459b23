#include "models/zoo/neuralqaad_reassign.h"

#include <algorithm>
#include <vector>

#include "autograd/grad_mode.h"
#include "models/zoo/neuralqaad_util.h"
#include "ops/check.h"
#include "ops/knn.h"
#include "ops/view.h"

namespace pg::models {

namespace {

using qaad_detail::dist2;
// The random stream: splitmix64 (models/zoo/neuralqaad_util.h).
uint64_t mix(uint64_t& s) {
  return qaad_detail::next_splitmix(s);
}

struct Proposal {
  double gain;
  uint64_t priority;
  int64_t i, c;  // sample slots of q and q'
};

void check_inputs(const Tensor& pred, const Tensor& target, const Tensor& perm, const Tensor& sample) {
  PG_CHECK(pred.defined() && target.defined() && perm.defined() && sample.defined(),
           "qaad_reassign: undefined input tensor");
  PG_CHECK(target.dim() == 3 && target.size(2) == 3, "qaad_reassign: target must be [B, n, 3], got ",
           shape_str(target.shape()));
  const int64_t B = target.size(0), n = target.size(1);
  PG_CHECK(perm.dim() == 2 && perm.size(0) == B && perm.size(1) == n, "qaad_reassign: perm must be [B, n] = [", B,
           ", ", n, "] like target, got ", shape_str(perm.shape()));
  PG_CHECK(perm.dtype() == DType::i64, "qaad_reassign: perm must be int64, got ", dtype_name(perm.dtype()));
  PG_CHECK(sample.dim() == 2 && sample.size(0) == B, "qaad_reassign: sample must be [B, s] with B = ", B, ", got ",
           shape_str(sample.shape()));
  PG_CHECK(sample.dtype() == DType::i64, "qaad_reassign: sample must be int64, got ", dtype_name(sample.dtype()));
  const int64_t s = sample.size(1);
  PG_CHECK(s >= 1 && s <= n, "qaad_reassign: sample size s = ", s, " must be in [1, n = ", n, "]");
  PG_CHECK(pred.dim() == 3 && pred.size(0) == B && pred.size(1) == s && pred.size(2) == 3,
           "qaad_reassign: pred must be [B, s, 3] = [", B, ", ", s, ", 3], got ", shape_str(pred.shape()));
  PG_CHECK(is_floating(pred.dtype()) && pred.dtype() == target.dtype(),
           "qaad_reassign: pred and target must share a float dtype, got ", dtype_name(pred.dtype()), " and ",
           dtype_name(target.dtype()));
  check::finite("qaad_reassign", "pred", pred);
  check::finite("qaad_reassign", "target", target);
}

}  // namespace

QaadReassignResult qaad_reassign(const Tensor& pred, const Tensor& target, const Tensor& perm, const Tensor& sample,
                                 const QaadReassignOptions& opts) {
  NoGradGuard ng;
  check_inputs(pred, target, perm, sample);
  const int64_t B = target.size(0), n = target.size(1), s = sample.size(1);
  std::vector<int64_t> a = perm.to(Device::cpu()).contiguous().to_vector<int64_t>();
  const std::vector<int64_t> smp = sample.to(Device::cpu()).contiguous().to_vector<int64_t>();
  const std::vector<double> p = pred.detach().to(DType::f64, Device::cpu()).contiguous().to_vector<double>();
  const std::vector<double> t = target.detach().to(DType::f64, Device::cpu()).contiguous().to_vector<double>();

  // Validate the assignment and the sample; gather 𝒫 = the sampled points' current targets.
  std::vector<double> sub(static_cast<size_t>(B * s * 3));
  for (int64_t b = 0; b < B; ++b) {
    std::vector<char> seen(static_cast<size_t>(n), 0);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t k = a[b * n + j];
      PG_CHECK(k >= 0 && k < n && !seen[k], "qaad_reassign: perm row ", b, " is not a permutation of 0..", n - 1,
               " (entry ", j, " = ", k, (k >= 0 && k < n ? ", repeated)" : ", out of range)"));
      seen[k] = 1;
    }
    std::fill(seen.begin(), seen.end(), 0);
    for (int64_t i = 0; i < s; ++i) {
      const int64_t q = smp[b * s + i];
      PG_CHECK(q >= 0 && q < n, "qaad_reassign: sample[", b, "][", i, "] = ", q, " is out of range [0, ", n, ")");
      PG_CHECK(!seen[q], "qaad_reassign: sample[", b, "][", i, "] = ", q, " is repeated in shape ", b);
      seen[q] = 1;
      const double* tk = t.data() + 3 * (b * n + a[b * n + q]);
      std::copy(tk, tk + 3, sub.data() + 3 * (b * s + i));
    }
  }
  // 1. Nearest element of 𝒫 for every prediction (batched; ties: the lower slot).
  KnnOptions ko;
  ko.check_finite = false;  // checked above
  const std::vector<int64_t> nn =
      knn(from_vector(p, {B, s, 3}), from_vector(sub, {B, s, 3}), 1, ko).idx.to_vector<int64_t>();

  std::vector<int64_t> proposed(static_cast<size_t>(B), 0), swaps(static_cast<size_t>(B), 0);
  std::vector<double> gain(static_cast<size_t>(B), 0.0);
  for (int64_t b = 0; b < B; ++b) {
    int64_t* ab = a.data() + b * n;
    const int64_t* sb = smp.data() + b * s;
    const double* pb = p.data() + 3 * b * s;
    const double* tb = t.data() + 3 * b * n;
    uint64_t stream = opts.seed * 0x100000001B3ULL + static_cast<uint64_t>(b) + 1;
    std::vector<Proposal> props;
    for (int64_t i = 0; i < s; ++i) {
      const uint64_t priority = mix(stream);  // drawn for every slot: stable across proposal sets
      const int64_t c = nn[b * s + i];
      if (c == i) continue;
      const double* ti = tb + 3 * ab[sb[i]];
      const double* tc = tb + 3 * ab[sb[c]];
      const double before = dist2(pb + 3 * i, ti) + dist2(pb + 3 * c, tc);
      const double after = dist2(pb + 3 * i, tc) + dist2(pb + 3 * c, ti);
      if (after < before) props.push_back({before - after, priority, i, c});
    }
    proposed[b] = static_cast<int64_t>(props.size());
    // 2. Conflict rule: decreasing gain (ties: priority, then slot), each slot in one swap at most.
    std::sort(props.begin(), props.end(), [](const Proposal& x, const Proposal& y) {
      if (x.gain != y.gain) return x.gain > y.gain;
      if (x.priority != y.priority) return x.priority < y.priority;
      return x.i < y.i;
    });
    std::vector<char> used(static_cast<size_t>(s), 0);
    for (const Proposal& pr : props) {
      if (used[pr.i] || used[pr.c]) continue;
      used[pr.i] = used[pr.c] = 1;
      std::swap(ab[sb[pr.i]], ab[sb[pr.c]]);
      ++swaps[b];
      gain[b] += pr.gain;
    }
  }
  QaadReassignResult r;
  r.perm = from_vector(a, {B, n});
  r.proposed = from_vector(proposed, {B});
  r.swaps = from_vector(swaps, {B});
  r.gain = from_vector(gain, {B});
  return r;
}

}  // namespace pg::models
