// Reductions: validation, output allocation, backend dispatch and autograd (see ops/reduce.h).
// Backward formulas:
//   sum:        grad broadcast back over the reduced dims (a stride-0 view, no copy)
//   mean:       grad / R
//   logsumexp:  grad * exp(x - out)
//   max/min:    grad scattered to the selected (first) extremum, zeros elsewhere
//   sum_to_shape: grad broadcast back to x's shape
// The backward kernels are this family's own (kernels/reduce.h), so the family does not depend on
// the elementwise or view ops.
#include "ops/reduce.h"

#include <algorithm>
#include <sstream>

#include "autograd/node.h"
#include "core/indexer.h"
#include "core/parallel_for.h"
#include "kernels/reduce.h"
#include "ops/check.h"

namespace pg {

namespace {

using kernels::ReduceOp;

std::string dims_str(const std::vector<int64_t>& dims) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  os << "]";
  return os.str();
}

// Wraps, checks and sorts `dims`; an empty list means every dim. A 0-dim tensor has no dims to
// reduce (dim 0 / -1 is accepted and reduces nothing).
std::vector<int64_t> normalize_dims(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  const int64_t nd = x.dim();
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < nd; ++d) out.push_back(d);
    return out;
  }
  std::vector<bool> seen(std::max<int64_t>(nd, 1), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, nd, op);
    PG_CHECK(!seen[w], op, ": dim ", d, " appears more than once in dims ", dims_str(dims), " (tensor of rank ", nd,
             ", shape ", shape_str(x.shape()), ")");
    seen[w] = true;
    out.push_back(w);
  }
  if (nd == 0) return {};
  std::sort(out.begin(), out.end());
  return out;
}

Shape reduced_shape(const Shape& shape, const std::vector<int64_t>& dims, bool keepdim) {
  std::vector<bool> red(shape.size(), false);
  for (int64_t d : dims) red[d] = true;
  Shape out;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!red[d]) {
      out.push_back(shape[d]);
    } else if (keepdim) {
      out.push_back(1);
    }
  }
  return out;
}

void check_nonempty(const Tensor& x, const std::vector<int64_t>& dims, const char* op) {
  if (x.dim() == 0) return;
  for (int64_t d : dims) {
    PG_CHECK(x.shape()[d] != 0, op, ": cannot reduce over dim ", d, " of size 0 (input shape ", shape_str(x.shape()),
             "); the reduction has no identity");
  }
}

// x's gradient from a gradient `g` of the reduced shape: broadcast back (stride 0 on reduced dims).
Tensor broadcast_back(const Tensor& g, const Shape& xshape, const std::vector<int64_t>& dims) {
  return detail::make_view(g, xshape, kernels::reduce_broadcast_strides(g, xshape, dims), g.offset());
}

// Sum/Mean/LogSumExp forward with autograd.
Tensor reduce_float_like(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims_in, bool keepdim) {
  const char* name = kernels::reduce_name(op);
  check::defined(name, "x", x);
  if (op != ReduceOp::Sum) check::floating(name, "x", x);
  const std::vector<int64_t> dims = normalize_dims(x, dims_in, name);
  const DType out_dtype = is_floating(x.dtype()) ? x.dtype() : DType::i64;
  Tensor out = empty(reduced_shape(x.shape(), dims, keepdim), TensorOptions(out_dtype, x.device()));
  on_backend(x.device(), name, [&]<class B>() { kernels::reduce<B>(op, out, Tensor(), x, dims); });

  if (!is_floating(x.dtype())) return out;
  const Shape xshape = x.shape();
  switch (op) {
    case ReduceOp::Sum:
      autograd::record("sum", {x}, {out}, {}, [xshape, dims](const autograd::BackwardContext&, const std::vector<Tensor>& g) {
        return std::vector<Tensor>{broadcast_back(g[0], xshape, dims)};
      });
      break;
    case ReduceOp::Mean:
      autograd::record("mean", {x}, {out}, {}, [xshape, dims](const autograd::BackwardContext&, const std::vector<Tensor>& g) {
        Tensor gi = empty(xshape, g[0].options());
        // Mean reads neither x nor out: gi stands in for x's strides.
        on_backend(g[0].device(), "mean backward",
                   [&]<class B>() { kernels::reduce_backward<B>(ReduceOp::Mean, gi, g[0], gi, Tensor(), dims); });
        return std::vector<Tensor>{gi};
      });
      break;
    case ReduceOp::LogSumExp:
      autograd::record("logsumexp", {x}, {out}, {x, out},
                       [dims](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                         const Tensor& xs = ctx.saved[0];
                         const Tensor& os = ctx.saved[1];
                         Tensor gi = empty(xs.shape(), g[0].options());
                         on_backend(g[0].device(), "logsumexp backward", [&]<class B>() {
                           kernels::reduce_backward<B>(ReduceOp::LogSumExp, gi, g[0], xs, os, dims);
                         });
                         return std::vector<Tensor>{gi};
                       });
      break;
    default:
      break;
  }
  return out;
}

// Max/Min values (with the selected indices kept for the backward).
Tensor extremum_values(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const char* name = kernels::reduce_name(op);
  check::numeric(name, "x", x);
  check_nonempty(x, dims, name);
  const Shape oshape = reduced_shape(x.shape(), dims, keepdim);
  Tensor values = empty(oshape, x.options());
  Tensor indices = empty(oshape, TensorOptions(DType::i64, x.device()));
  on_backend(x.device(), name, [&]<class B>() { kernels::reduce<B>(op, values, indices, x, dims); });
  if (is_floating(x.dtype())) {
    const Shape xshape = x.shape();
    autograd::record(name, {x}, {values}, {indices},
                     [xshape, dims](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
                       Tensor gi = zeros(xshape, g[0].options());
                       on_backend(g[0].device(), "max/min backward",
                                  [&]<class B>() { kernels::scatter_reduced_grad<B>(gi, g[0], ctx.saved[0], dims); });
                       return std::vector<Tensor>{gi};
                     });
  }
  return values;
}

Tensor extremum_dim(ReduceOp op, const Tensor& x, int64_t dim, bool keepdim) {
  const char* name = kernels::reduce_name(op);
  check::defined(name, "x", x);
  return extremum_values(op, x, normalize_dims(x, {dim}, name), keepdim);
}

Tensor extremum_all(ReduceOp op, const Tensor& x) {
  const char* name = kernels::reduce_name(op);
  check::defined(name, "x", x);
  PG_CHECK(x.numel() > 0, name, ": cannot reduce an empty tensor (shape ", shape_str(x.shape()),
           "); the reduction has no identity");
  return extremum_values(op, x, normalize_dims(x, {}, name), false);
}

Tensor arg_extremum(ReduceOp op, const char* name, const Tensor& x, int64_t dim, bool keepdim) {
  check::defined(name, "x", x);
  check::numeric(name, "x", x);
  const std::vector<int64_t> dims = normalize_dims(x, {dim}, name);
  check_nonempty(x, dims, name);
  Tensor indices = empty(reduced_shape(x.shape(), dims, keepdim), TensorOptions(DType::i64, x.device()));
  on_backend(x.device(), name, [&]<class B>() { kernels::reduce<B>(op, Tensor(), indices, x, dims); });
  return indices;
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce_float_like(ReduceOp::Sum, x, dims, keepdim);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce_float_like(ReduceOp::Mean, x, dims, keepdim);
}

Tensor logsumexp(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  return reduce_float_like(ReduceOp::LogSumExp, x, dims, keepdim);
}

Tensor max(const Tensor& x, int64_t dim, bool keepdim) { return extremum_dim(ReduceOp::Max, x, dim, keepdim); }
Tensor min(const Tensor& x, int64_t dim, bool keepdim) { return extremum_dim(ReduceOp::Min, x, dim, keepdim); }
Tensor max(const Tensor& x) { return extremum_all(ReduceOp::Max, x); }
Tensor min(const Tensor& x) { return extremum_all(ReduceOp::Min, x); }

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) { return arg_extremum(ReduceOp::Max, "argmax", x, dim, keepdim); }
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) { return arg_extremum(ReduceOp::Min, "argmin", x, dim, keepdim); }

Tensor sum_to_shape(const Tensor& x, const Shape& shape) {
  check::defined("sum_to_shape", "x", x);
  const int64_t nd = x.dim(), ns = static_cast<int64_t>(shape.size());
  const Shape& xs = x.shape();
  PG_CHECK(ns <= nd, "sum_to_shape: cannot sum shape ", shape_str(xs), " to ", shape_str(shape),
           " (the target has more dims)");
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < nd - ns; ++d) dims.push_back(d);
  for (int64_t i = 0; i < ns; ++i) {
    const int64_t d = nd - ns + i;
    PG_CHECK(shape[i] == xs[d] || shape[i] == 1, "sum_to_shape: cannot sum shape ", shape_str(xs), " to ",
             shape_str(shape), " (dim ", i, " of the target is ", shape[i], ", expected ", xs[d], " or 1)");
    if (shape[i] == 1 && xs[d] != 1) dims.push_back(d);
  }
  if (shape == xs) return x;
  const DType out_dtype = is_floating(x.dtype()) ? x.dtype() : DType::i64;
  Tensor out = empty(shape, TensorOptions(out_dtype, x.device()));
  on_backend(x.device(), "sum_to_shape", [&]<class B>() { kernels::reduce<B>(ReduceOp::Sum, out, Tensor(), x, dims); });
  if (is_floating(x.dtype())) {
    autograd::record("sum_to_shape", {x}, {out}, {}, [xs](const autograd::BackwardContext&, const std::vector<Tensor>& g) {
      return std::vector<Tensor>{detail::make_view(g[0], xs, broadcast_strides(g[0], xs, "sum_to_shape backward"),
                                                   g[0].offset())};
    });
  }
  return out;
}

}  // namespace pg
