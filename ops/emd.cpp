// emd / emd_dist_from_assignment / emd_exact_assignment (ops/emd.h) and the LSAP ops
// (ops/lsap.h): validation, dispatch, the exact finish of Bijective leftovers, autograd.
#include "ops/emd.h"
#include "ops/view.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/emd.h"
#include "ops/check.h"
#include "ops/lsap.h"

namespace pg {

namespace {

Tensor contiguous_raw(const Tensor& t) {
  if (t.is_contiguous()) return t.detach();
  Tensor out = empty(t.shape(), t.options());
  detail::copy_raw(out, t);
  return out;
}

// Two clouds of the same size (a bijection needs equal point counts).
void check_pair(const Tensor& x1, const Tensor& x2, const char* op) {
  check::cloud_pair(op, "x1", x1, "x2", x2);
  PG_CHECK(x1.size(1) == x2.size(1), op, ": the clouds must have the same number of points: x1 ", shape_str(x1.shape()),
           " vs x2 ", shape_str(x2.shape()));
}

kernels::AuctionParams to_params(const EmdOptions& o, const char* op, int64_t max_n) {
  auto finite = [](double v) { return std::isfinite(v); };
  PG_CHECK(finite(o.eps) && o.eps >= 0.0, op, ": eps must be finite and >= 0 (0 = automatic), got ", o.eps);
  PG_CHECK(finite(o.eps_rel) && o.eps_rel > 0.0, op, ": eps_rel must be > 0, got ", o.eps_rel);
  PG_CHECK(finite(o.eps_start_rel) && o.eps_start_rel > 0.0, op, ": eps_start_rel must be > 0, got ", o.eps_start_rel);
  PG_CHECK(finite(o.eps_factor) && o.eps_factor > 1.0, op, ": eps_factor must be > 1, got ", o.eps_factor);
  PG_CHECK(finite(o.value_offset) && o.value_offset >= 0.0, op,
           ": value_offset must be finite and >= 0 (0 = automatic), got ", o.value_offset);
  PG_CHECK(o.max_iters >= 0 && o.max_iters <= (int64_t(1) << 40), op, ": max_iters must be in [0, 2^40], got ",
           o.max_iters);
  kernels::AuctionParams p;
  p.mode = kernels::auction_int(o.mode);
  p.eps = o.eps > 0.0 ? o.eps : (o.mode == EmdMode::Msn ? 0.005 : 0.0);
  p.eps_rel = o.eps_rel;
  p.eps_start_rel = o.eps_start_rel;
  p.eps_factor = o.eps_factor;
  p.max_iters = o.max_iters > 0 ? o.max_iters : (o.mode == EmdMode::Msn ? 50 : std::max<int64_t>(20000, 16 * max_n));
  p.value_offset = o.value_offset;
  p.path = kernels::auction_int(o.cuda_path);
  p.cpu_path = kernels::auction_int(o.cpu_path);
  return p;
}

// Bijective mode: matches each problem's leftover bidders to its free objects exactly.
void finish_leftovers(const Tensor& x1, const Tensor& x2, const std::vector<int64_t>& offsets, Tensor& assignment,
                      const Tensor& unassigned) {
  const std::vector<int64_t> u = unassigned.to_vector<int64_t>();
  bool any = false;
  for (int64_t v : u) any = any || v > 0;
  if (!any) return;
  const std::vector<double> p1 = x1.to_vector<double>(), p2 = x2.to_vector<double>();
  std::vector<int64_t> a = assignment.to_vector<int64_t>();
  for (size_t p = 0; p + 1 < offsets.size(); ++p) {
    if (u[p] == 0) continue;
    const int64_t r0 = offsets[p], n = offsets[p + 1] - r0;
    std::vector<int64_t> rows, cols;
    std::vector<char> used(n, 0);
    for (int64_t j = 0; j < n; ++j) {
      if (a[r0 + j] < 0) {
        rows.push_back(j);
      } else {
        used[a[r0 + j]] = 1;
      }
    }
    for (int64_t k = 0; k < n; ++k)
      if (!used[k]) cols.push_back(k);
    PG_CHECK(rows.size() == cols.size(), "emd: internal error: ", rows.size(), " leftover bidders but ", cols.size(),
             " free objects");
    const int64_t m = static_cast<int64_t>(rows.size());
    std::vector<double> cost(m * m);
    for (int64_t i = 0; i < m; ++i) {
      const double* b = &p1[3 * (r0 + rows[i])];
      for (int64_t c = 0; c < m; ++c) {
        const double* o = &p2[3 * (r0 + cols[c])];
        const double dx = b[0] - o[0], dy = b[1] - o[1], dz = b[2] - o[2];
        cost[i * m + c] = std::sqrt(dx * dx + dy * dy + dz * dz);
      }
    }
    std::vector<int64_t> sol(m);
    kernels::lsap_dense(cost.data(), m, sol.data());
    for (int64_t i = 0; i < m; ++i) a[r0 + rows[i]] = cols[sol[i]];
  }
  Tensor host = from_vector(a, assignment.shape());
  assignment.copy_(host);
}

// dist under a fixed (validated) assignment; records the node on the original inputs.
Tensor dist_impl(const Tensor& x1, const Tensor& x2, const Tensor& xc1, const Tensor& xc2, const Tensor& a) {
  Tensor dist = empty({x1.size(0), x1.size(1)}, x1.options());
  on_backend(x1.device(), "emd_dist", [&]<class Backend>() { kernels::emd_dist<Backend>(dist, xc1, xc2, a); });
  autograd::record("emd_dist", {x1, x2}, {dist}, {xc1, xc2, a},
                   [](const autograd::BackwardContext& ctx, const std::vector<Tensor>& grads) {
                     const Tensor& s1 = ctx.saved[0];
                     const Tensor& s2 = ctx.saved[1];
                     const Tensor& sa = ctx.saved[2];
                     const Tensor g = contiguous_raw(grads[0]);
                     Tensor g1 = ctx.needs_input_grad[0] ? empty(s1.shape(), s1.options()) : Tensor();
                     Tensor g2 = ctx.needs_input_grad[1] ? zeros(s2.shape(), s2.options()) : Tensor();
                     on_backend(s1.device(), "emd_dist backward",
                                [&]<class Backend>() { kernels::emd_dist_backward<Backend>(g1, g2, s1, s2, sa, g); });
                     return std::vector<Tensor>{g1, g2};
                   });
  return dist;
}

}  // namespace

namespace detail {

void emd_auction_rows(const Tensor& x1, const Tensor& x2, const std::vector<int64_t>& offsets, const EmdOptions& opts,
                      Tensor& assignment, Tensor& unassigned, const char* op) {
  const int64_t P = static_cast<int64_t>(offsets.size()) - 1;
  int64_t max_n = 0;
  for (int64_t p = 0; p < P; ++p) max_n = std::max(max_n, offsets[p + 1] - offsets[p]);
  const kernels::AuctionParams prm = to_params(opts, op, max_n);
  const Device dev = x1.device();
  assignment = empty({offsets.back()}, TensorOptions(DType::i64, dev));
  unassigned = empty({P}, TensorOptions(DType::i64, dev));
  const int64_t bad = on_backend(dev, op, [&]<class Backend>() {
    return kernels::emd_auction<Backend>(x1, x2, offsets, prm, assignment, unassigned);
  });
  PG_CHECK(bad < 0, op, ": x1 or x2 has a non-finite coordinate (NaN or Inf) in cloud ", bad);
  if (prm.mode == kernels::kAuctionBijective) finish_leftovers(x1, x2, offsets, assignment, unassigned);
}

}  // namespace detail

EmdResult emd(const Tensor& x1, const Tensor& x2, const EmdOptions& opts) {
  check_pair(x1, x2, "emd");
  const int64_t B = x1.size(0), n = x1.size(1);
  PG_CHECK(n < (int64_t(1) << 30), "emd: clouds of ", n, " points are too large (limit 2^30)");
  const Tensor xc1 = contiguous_raw(x1), xc2 = contiguous_raw(x2);
  std::vector<int64_t> offsets(B + 1);
  for (int64_t b = 0; b <= B; ++b) offsets[b] = b * n;
  Tensor a, u;
  detail::emd_auction_rows(xc1, xc2, offsets, opts, a, u, "emd");
  a = a.view({B, n});
  EmdResult r;
  r.assignment = a;
  r.unassigned = u;
  r.dist = dist_impl(x1, x2, xc1, xc2, a);
  return r;
}

Tensor emd_dist_from_assignment(const Tensor& x1, const Tensor& x2, const Tensor& assignment) {
  const char* op = "emd_dist_from_assignment";
  check_pair(x1, x2, op);
  PG_CHECK(assignment.defined(), op, ": assignment is an undefined tensor");
  PG_CHECK(assignment.dtype() == DType::i64 || assignment.dtype() == DType::i32, op, ": assignment has dtype ",
           dtype_name(assignment.dtype()), " (expected int64 or int32)");
  PG_CHECK(assignment.device() == x1.device(), op, ": assignment is on ", assignment.device(), " but x1 is on ",
           x1.device());
  PG_CHECK(assignment.shape() == Shape({x1.size(0), x1.size(1)}), op, ": assignment must have shape ",
           shape_str({x1.size(0), x1.size(1)}), ", got ", shape_str(assignment.shape()));
  const int64_t n = x1.size(1);
  const std::vector<int64_t> av = assignment.to_vector<int64_t>();
  for (size_t i = 0; i < av.size(); ++i) {
    PG_CHECK(av[i] >= 0 && av[i] < n, op, ": assignment value ", av[i], " at flat index ", i, " is out of range [0, ",
             n, ")");
  }
  Tensor a = assignment.dtype() == DType::i64 ? contiguous_raw(assignment)
                                              : empty(assignment.shape(), TensorOptions(DType::i64, x1.device()));
  if (assignment.dtype() != DType::i64) detail::copy_raw(a, assignment);
  return dist_impl(x1, x2, contiguous_raw(x1), contiguous_raw(x2), a);
}

Tensor emd_exact_assignment(const Tensor& x1, const Tensor& x2) {
  const char* op = "emd_exact_assignment";
  check_pair(x1, x2, op);
  PG_CHECK(x1.is_cpu(), op, ": runs on the CPU only (got tensors on ", x1.device(), ")");
  const int64_t B = x1.size(0), n = x1.size(1);
  PG_CHECK(n <= 8192, op, ": n = ", n, " is too large for the dense O(n^3) solver (at most 8192)");
  const std::vector<double> p1 = x1.to_vector<double>(), p2 = x2.to_vector<double>();
  for (size_t i = 0; i < p1.size(); ++i) {
    PG_CHECK(std::isfinite(p1[i]) && std::isfinite(p2[i]), op, ": non-finite coordinate (NaN or Inf) in batch element ",
             i / (3 * n));
  }
  std::vector<int64_t> out(B * n);
  const int threads = n > 4096 ? 1 : std::max(1, std::min<int>(cpu_num_threads(), static_cast<int>(B)));
#pragma omp parallel num_threads(threads)
  {
    std::vector<double> cost;
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < B; ++b) {
      cost.resize(n * n);
      const double* a1 = &p1[3 * b * n];
      const double* a2 = &p2[3 * b * n];
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t k = 0; k < n; ++k) {
          const double dx = a1[3 * i] - a2[3 * k], dy = a1[3 * i + 1] - a2[3 * k + 1],
                       dz = a1[3 * i + 2] - a2[3 * k + 2];
          cost[i * n + k] = std::sqrt(dx * dx + dy * dy + dz * dz);
        }
      }
      kernels::lsap_dense(cost.data(), n, &out[b * n]);
    }
  }
  return from_vector(out, {B, n});
}

// ---- ops/lsap.h ----

namespace {
void check_cost(const Tensor& cost, const char* op) {
  check::floating(op, "cost", cost);
  check::on_cpu(op, "cost", cost);
  PG_CHECK(cost.dim() == 2 || cost.dim() == 3, op, ": cost must be [n, n] or [B, n, n], got ", shape_str(cost.shape()));
  const int64_t n = cost.size(-1);
  PG_CHECK(cost.size(-2) == n, op, ": cost must be square, got ", shape_str(cost.shape()));
  PG_CHECK(n >= 1 && cost.numel() > 0, op, ": empty cost matrix ", shape_str(cost.shape()));
}
}  // namespace

Tensor linear_sum_assignment(const Tensor& cost) {
  const char* op = "linear_sum_assignment";
  check_cost(cost, op);
  const int64_t n = cost.size(-1), B = cost.dim() == 3 ? cost.size(0) : 1;
  const std::vector<double> c = cost.to_vector<double>();
  for (size_t i = 0; i < c.size(); ++i) {
    PG_CHECK(std::isfinite(c[i]), op, ": cost has a non-finite entry (", c[i], ") at flat index ", i);
  }
  std::vector<int64_t> out(B * n);
  const int threads = std::max(1, std::min<int>(cpu_num_threads(), static_cast<int>(B)));
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (int64_t b = 0; b < B; ++b) kernels::lsap_dense(&c[b * n * n], n, &out[b * n]);
  return cost.dim() == 3 ? from_vector(out, {B, n}) : from_vector(out, {n});
}

Tensor lsap_cost(const Tensor& cost, const Tensor& assignment) {
  const char* op = "lsap_cost";
  check_cost(cost, op);
  const int64_t n = cost.size(-1), B = cost.dim() == 3 ? cost.size(0) : 1;
  PG_CHECK(assignment.defined() && (assignment.dtype() == DType::i64 || assignment.dtype() == DType::i32), op,
           ": assignment must be an int64 or int32 tensor");
  const Shape want = cost.dim() == 3 ? Shape{B, n} : Shape{n};
  PG_CHECK(assignment.shape() == want, op, ": assignment must have shape ", shape_str(want), ", got ",
           shape_str(assignment.shape()));
  const std::vector<double> c = cost.to_vector<double>();
  const std::vector<int64_t> a = assignment.to_vector<int64_t>();
  std::vector<double> out(B, 0.0);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t j = a[b * n + i];
      PG_CHECK(j >= 0 && j < n, op, ": assignment value ", j, " at row ", i, " is out of range [0, ", n, ")");
      out[b] += c[(b * n + i) * n + j];
    }
  }
  return cost.dim() == 3 ? from_vector(out, {B}) : from_vector(out, Shape{});
}

}  // namespace pg
