// emkd (ops/emkd.h): host k-d ordering, device gathers, one batched auction over all leaf pairs,
// composition of the leaf assignments into a global one.
#include "ops/emkd.h"

#include <cmath>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/emd.h"
#include "ops/check.h"

namespace pg {

EmkdResult emkd(const Tensor& x1, const Tensor& x2, const EmkdOptions& opts) {
  const char* op = "emkd";
  check::cloud_pair(op, "x1", x1, "x2", x2);
  PG_CHECK(x1.size(1) == x2.size(1), op, ": the clouds must have the same number of points: x1 ", shape_str(x1.shape()),
           " vs x2 ", shape_str(x2.shape()));
  PG_CHECK(opts.leaf_size >= 2, op, ": leaf_size must be >= 2, got ", opts.leaf_size);
  const int64_t B = x1.size(0), n = x1.size(1), N = B * n;
  const Device dev = x1.device();

  Tensor xc1 = empty(x1.shape(), x1.options()), xc2 = empty(x2.shape(), x2.options());
  detail::copy_raw(xc1, x1);
  detail::copy_raw(xc2, x2);

  // k-d orders on the host.
  const std::vector<double> p1 = xc1.to_vector<double>(), p2 = xc2.to_vector<double>();
  for (size_t i = 0; i < p1.size(); ++i) {
    PG_CHECK(std::isfinite(p1[i]) && std::isfinite(p2[i]), op,
             ": x1 or x2 has a non-finite coordinate (NaN or Inf) in batch element ",
             static_cast<int64_t>(i) / (3 * n));
  }
  std::vector<int64_t> o1(N), o2(N);
  const std::vector<int64_t> leaf = kernels::kd_leaf_offsets(n, opts.leaf_size);
#pragma omp parallel for schedule(dynamic, 1) num_threads(cpu_num_threads())
  for (int64_t b = 0; b < B; ++b) {
    kernels::kd_balanced_order(p1.data() + 3 * b * n, p2.data() + 3 * b * n, n, opts.leaf_size, o1.data() + b * n,
                               o2.data() + b * n);
  }
  const int64_t L = static_cast<int64_t>(leaf.size()) - 1;
  std::vector<int64_t> g1(N), g2(N), row_base(N), offsets;
  offsets.reserve(B * L + 1);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t l = 0; l < L; ++l) {
      offsets.push_back(b * n + leaf[l]);
      for (int64_t i = leaf[l]; i < leaf[l + 1]; ++i) row_base[b * n + i] = b * n + leaf[l];
    }
    for (int64_t i = 0; i < n; ++i) {
      g1[b * n + i] = b * n + o1[b * n + i];
      g2[b * n + i] = b * n + o2[b * n + i];
    }
  }
  offsets.push_back(N);

  // Device: gather leaf rows, one batched auction, compose.
  const Tensor ord1 = from_vector(g1, {N}, dev), ord2 = from_vector(g2, {N}, dev);
  const Tensor rb = from_vector(row_base, {N}, dev);
  Tensor r1 = empty({N, 3}, x1.options()), r2 = empty({N, 3}, x1.options());
  on_backend(dev, op, [&]<class Backend>() {
    kernels::gather_rows3<Backend>(r1, xc1, ord1);
    kernels::gather_rows3<Backend>(r2, xc2, ord2);
  });
  Tensor local, u_leaf;
  detail::emd_auction_rows(r1, r2, offsets, opts.emd, local, u_leaf, op);
  Tensor global = empty({B, n}, TensorOptions(DType::i64, dev));
  on_backend(dev, op,
             [&]<class Backend>() { kernels::emkd_scatter_assignment<Backend>(global, local, ord1, ord2, rb, n); });

  EmkdResult r;
  r.assignment = global;
  r.dist = emd_dist_from_assignment(x1, x2, global);
  r.value = empty({B}, x1.options());
  on_backend(dev, op, [&]<class Backend>() { kernels::emd_sum_sqrt<Backend>(r.value, r.dist.detach()); });
  const std::vector<int64_t> ul = u_leaf.to_vector<int64_t>();
  std::vector<int64_t> ub(B, 0);
  for (int64_t p = 0; p < B * L; ++p) ub[p / L] += ul[p];
  r.unassigned = from_vector(ub, {B}, dev);
  r.order1 = from_vector(o1, {B, n}, dev);
  r.order2 = from_vector(o2, {B, n}, dev);
  r.leaf_offsets = leaf;
  return r;
}

}  // namespace pg
