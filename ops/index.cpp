// cat / stack / gather / index_select / scatter_add / one_hot: validation, allocation, dispatch
// and autograd. cat and stack are strided copies into views of the output (one raw copy per
// input); the indexing ops run kernels/index.h.
//
// Index ranges are validated on the host before any launch. A CUDA index tensor is copied to
// the host for this, which synchronises the current stream (documented cost of the checked
// API; backward passes reuse indices validated by their forward and skip the check).
#include "ops/index.h"

#include <string>

#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/index.h"
#include "ops/view.h"
#include "ops/check.h"

namespace pg {

namespace {

// "the size of dim 1 of x"
std::string dim_name(int64_t d, const char* tensor) {
  return "the size of dim " + std::to_string(d) + " of " + tensor;
}

Tensor clone_raw(const Tensor& t) {
  Tensor out = empty(t.shape(), t.options());
  detail::copy_raw(out, t);
  return out;
}

void scatter_add_raw(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  on_backend(out.device(), "scatter_add", [&]<class B>() { kernels::scatter_add_<B>(out, dim, index, src); });
}

Tensor gather_raw(const Tensor& x, int64_t dim, const Tensor& index) {
  Tensor out = empty(index.shape(), x.options());
  on_backend(x.device(), "gather", [&]<class B>() { kernels::gather<B>(out, x, dim, index); });
  return out;
}

}  // namespace

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
  PG_CHECK(!tensors.empty(), "cat: expected a non-empty list of tensors");
  for (const auto& t : tensors) check::defined("cat", "an input", t);
  const Tensor& t0 = tensors[0];
  PG_CHECK(t0.dim() >= 1, "cat: zero-dim tensors cannot be concatenated (use stack)");
  const int64_t d = wrap_dim(dim, t0.dim(), "cat");
  Shape out_shape = t0.shape();
  std::vector<int64_t> sizes;
  sizes.reserve(tensors.size());
  int64_t total = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    PG_CHECK(t.dtype() == t0.dtype(), "cat: tensor ", i, " has dtype ", dtype_name(t.dtype()), " but tensor 0 has ",
             dtype_name(t0.dtype()));
    PG_CHECK(t.device() == t0.device(), "cat: tensor ", i, " is on ", t.device(), " but tensor 0 is on ", t0.device());
    bool match = t.dim() == t0.dim();
    for (int64_t k = 0; match && k < t0.dim(); ++k) match = k == d || t.size(k) == t0.size(k);
    PG_CHECK(match, "cat: tensor ", i, " has shape ", shape_str(t.shape()), " but tensor 0 has shape ",
             shape_str(t0.shape()), " (shapes must match except in dim ", d, ")");
    sizes.push_back(t.size(d));
    total += t.size(d);
  }
  out_shape[d] = total;
  Tensor out = empty(out_shape, t0.options());
  int64_t off = 0;
  for (const auto& t : tensors) {
    if (t.numel() > 0) detail::copy_raw(detail::make_view(out, t.shape(), out.strides(), off * out.stride(d)), t);
    off += t.size(d);
  }
  autograd::record("cat", tensors, {out}, {},
                   [d, sizes](const autograd::BackwardContext& ctx, const std::vector<Tensor>& grads) {
                     std::vector<Tensor> gs(sizes.size());
                     int64_t start = 0;
                     for (size_t i = 0; i < sizes.size(); ++i) {
                       if (ctx.needs_input_grad[i]) gs[i] = slice(grads[0], d, start, start + sizes[i]);
                       start += sizes[i];
                     }
                     return gs;
                   });
  return out;
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  PG_CHECK(!tensors.empty(), "stack: expected a non-empty list of tensors");
  for (const auto& t : tensors) check::defined("stack", "an input", t);
  const Tensor& t0 = tensors[0];
  const int64_t d = wrap_dim(dim, t0.dim() + 1, "stack");
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    PG_CHECK(t.dtype() == t0.dtype(), "stack: tensor ", i, " has dtype ", dtype_name(t.dtype()), " but tensor 0 has ",
             dtype_name(t0.dtype()));
    PG_CHECK(t.device() == t0.device(), "stack: tensor ", i, " is on ", t.device(), " but tensor 0 is on ",
             t0.device());
    PG_CHECK(t.shape() == t0.shape(), "stack: tensor ", i, " has shape ", shape_str(t.shape()),
             " but tensor 0 has shape ", shape_str(t0.shape()), " (all shapes must be equal)");
  }
  Shape out_shape = t0.shape();
  out_shape.insert(out_shape.begin() + d, static_cast<int64_t>(tensors.size()));
  Tensor out = empty(out_shape, t0.options());
  Shape part_strides = out.strides();
  part_strides.erase(part_strides.begin() + d);
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].numel() > 0) {
      detail::copy_raw(detail::make_view(out, t0.shape(), part_strides, static_cast<int64_t>(i) * out.stride(d)),
                       tensors[i]);
    }
  }
  autograd::record("stack", tensors, {out}, {},
                   [d, n = tensors.size()](const autograd::BackwardContext& ctx, const std::vector<Tensor>& grads) {
                     std::vector<Tensor> gs(n);
                     for (size_t i = 0; i < n; ++i) {
                       if (ctx.needs_input_grad[i]) gs[i] = select(grads[0], d, static_cast<int64_t>(i));
                     }
                     return gs;
                   });
  return out;
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  check::defined("gather", "x", x);
  check::index_dtype("gather", "index", index);
  check::same_device("gather", "x", x, "index", index);
  PG_CHECK(x.dim() >= 1, "gather: x must have at least one dim, got shape ", shape_str(x.shape()));
  PG_CHECK(index.dim() == x.dim(), "gather: index shape ", shape_str(index.shape()), " must have the rank of x shape ",
           shape_str(x.shape()));
  const int64_t d = wrap_dim(dim, x.dim(), "gather");
  for (int64_t k = 0; k < x.dim(); ++k) {
    PG_CHECK(k == d || index.size(k) <= x.size(k), "gather: index shape ", shape_str(index.shape()),
             " exceeds x shape ", shape_str(x.shape()), " in dim ", k);
  }
  check::index_range("gather", "index", index, x.size(d), dim_name(d, "x"));
  Tensor out = gather_raw(x, d, index);
  autograd::record("gather", {x}, {out}, {index},
                   [d, x_shape = x.shape()](const autograd::BackwardContext& ctx, const std::vector<Tensor>& grads) {
                     const Tensor& g = grads[0];
                     Tensor gx = zeros(x_shape, g.options());
                     scatter_add_raw(gx, d, ctx.saved[0], g);
                     return std::vector<Tensor>{gx};
                   });
  return out;
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check::defined("index_select", "x", x);
  check::index_dtype("index_select", "index", index);
  check::same_device("index_select", "x", x, "index", index);
  PG_CHECK(x.dim() >= 1, "index_select: x must have at least one dim, got shape ", shape_str(x.shape()));
  PG_CHECK(index.dim() == 1, "index_select: index must be 1-D, got shape ", shape_str(index.shape()));
  const int64_t d = wrap_dim(dim, x.dim(), "index_select");
  check::index_range("index_select", "index", index, x.size(d), dim_name(d, "x"));
  Shape out_shape = x.shape();
  out_shape[d] = index.numel();
  Tensor out = empty(out_shape, x.options());
  on_backend(x.device(), "index_select", [&]<class B>() { kernels::index_select<B>(out, x, d, index); });
  autograd::record("index_select", {x}, {out}, {index},
                   [d, x_shape = x.shape()](const autograd::BackwardContext& ctx, const std::vector<Tensor>& grads) {
                     const Tensor& g = grads[0];
                     Tensor gx = zeros(x_shape, g.options());
                     on_backend(gx.device(), "index_select backward",
                                [&]<class B>() { kernels::index_add_<B>(gx, d, ctx.saved[0], g); });
                     return std::vector<Tensor>{gx};
                   });
  return out;
}

Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  check::defined("scatter_add", "self", self);
  check::defined("scatter_add", "src", src);
  check::index_dtype("scatter_add", "index", index);
  check::same_device("scatter_add", "self", self, "index", index);
  check::same_device("scatter_add", "self", self, "src", src);
  PG_CHECK(self.dtype() == src.dtype(), "scatter_add: self has dtype ", dtype_name(self.dtype()), " but src has dtype ",
           dtype_name(src.dtype()));
  const DType t = self.dtype();
  PG_CHECK(t == DType::f32 || t == DType::f64 || t == DType::i32 || t == DType::i64, "scatter_add: dtype ",
           dtype_name(t), " is not supported (expected float32, float64, int32 or int64)");
  PG_CHECK(self.dim() >= 1, "scatter_add: self must have at least one dim, got shape ", shape_str(self.shape()));
  PG_CHECK(index.dim() == self.dim() && src.dim() == self.dim(), "scatter_add: self shape ", shape_str(self.shape()),
           ", index shape ", shape_str(index.shape()), " and src shape ", shape_str(src.shape()),
           " must have the same rank");
  const int64_t d = wrap_dim(dim, self.dim(), "scatter_add");
  for (int64_t k = 0; k < self.dim(); ++k) {
    PG_CHECK(index.size(k) <= src.size(k), "scatter_add: index shape ", shape_str(index.shape()), " exceeds src shape ",
             shape_str(src.shape()), " in dim ", k);
    PG_CHECK(k == d || index.size(k) <= self.size(k), "scatter_add: index shape ", shape_str(index.shape()),
             " exceeds self shape ", shape_str(self.shape()), " in dim ", k);
  }
  check::index_range("scatter_add", "index", index, self.size(d), dim_name(d, "self"));
  Tensor out = clone_raw(self);
  scatter_add_raw(out, d, index, src);
  autograd::record(
      "scatter_add", {self, src}, {out}, {index},
      [d, src_shape = src.shape()](const autograd::BackwardContext& ctx, const std::vector<Tensor>& grads) {
        const Tensor& g = grads[0];
        const Tensor& index = ctx.saved[0];
        Tensor gself, gsrc;
        if (ctx.needs_input_grad[0]) gself = g;
        if (ctx.needs_input_grad[1]) {
          Tensor gathered = gather_raw(g, d, index);
          if (index.shape() == src_shape) {
            gsrc = gathered;
          } else {  // src elements outside the index's extent were not used: zero gradient
            gsrc = zeros(src_shape, g.options());
            detail::copy_raw(detail::make_view(gsrc, index.shape(), gsrc.strides(), 0), gathered);
          }
        }
        return std::vector<Tensor>{gself, gsrc};
      });
  return out;
}

Tensor one_hot(const Tensor& index, int64_t num_classes, DType dtype) {
  check::index_dtype("one_hot", "index", index);
  PG_CHECK(num_classes > 0, "one_hot: num_classes must be positive, got ", num_classes);
  check::index_range("one_hot", "index", index, num_classes, "num_classes");
  Shape out_shape = index.shape();
  out_shape.push_back(num_classes);
  Tensor out = zeros(out_shape, TensorOptions(dtype, index.device()));
  on_backend(index.device(), "one_hot", [&]<class B>() { kernels::one_hot<B>(out, index, num_classes); });
  return out;
}

}  // namespace pg
