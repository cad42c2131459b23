// Differentiable views: each shares storage with its input and records a node whose backward
// maps the gradient back through the inverse index map.
#include "ops/view.h"

#include <algorithm>
#include <optional>

#include "autograd/node.h"
#include "ops/reduce.h"

namespace pg {

namespace {

using autograd::BackwardContext;

// Strides that let `newshape` view memory laid out as (oldshape, oldstride), if any
// (the classic "chunked" reshape rule: dims may only merge/split inside contiguous chunks).
std::optional<Shape> view_strides(const Shape& oldshape, const Shape& oldstride, const Shape& newshape) {
  Shape newstride(newshape.size(), 1);
  if (oldshape.empty()) return contiguous_strides(newshape);
  if (shape_numel(oldshape) == 0) return contiguous_strides(newshape);
  int64_t view_d = static_cast<int64_t>(newshape.size()) - 1;
  int64_t chunk_base_stride = oldstride.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t tensor_d = static_cast<int64_t>(oldshape.size()) - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= oldshape[tensor_d];
    if (tensor_d == 0 ||
        (oldshape[tensor_d - 1] != 1 && oldstride[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || newshape[view_d] == 1)) {
        newstride[view_d] = view_numel * chunk_base_stride;
        view_numel *= newshape[view_d];
        view_d--;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (tensor_d > 0) {
        chunk_base_stride = oldstride[tensor_d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return newstride;
}

Shape infer_shape(const Shape& shape, int64_t numel, const char* op) {
  Shape out = shape;
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      PG_CHECK(infer < 0, op, ": only one dimension can be -1 in ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      PG_CHECK(out[i] >= 0, op, ": invalid size ", out[i], " in ", shape_str(shape));
      known *= out[i];
    }
  }
  if (infer >= 0) {
    PG_CHECK(known != 0 && numel % known == 0, op, ": shape ", shape_str(shape), " is invalid for ", numel,
             " elements");
    out[infer] = numel / known;
  }
  PG_CHECK(shape_numel(out) == numel, op, ": shape ", shape_str(shape), " is invalid for ", numel, " elements");
  return out;
}

// A view of x recorded with a backward that reshapes the gradient back to x's shape.
Tensor reshape_view(const Tensor& x, const Shape& shape, const Shape& strides, const char* name) {
  Tensor out = detail::make_view(x, shape, strides, x.offset());
  const Shape in_shape = x.shape();
  autograd::record(name, {x}, {out}, {}, [in_shape](const BackwardContext&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{reshape(g[0], in_shape)};
  });
  return out;
}

// Gradient of a strided sub-view: zeros of the base shape with g written into the same view.
Tensor scatter_into_view(const Tensor& g, const Shape& base_shape, const Shape& vshape, const Shape& vstrides,
                         int64_t voffset) {
  Tensor base = zeros(base_shape, g.options());
  detail::copy_raw(detail::make_view(base, vshape, vstrides, voffset), g);
  return base;
}

}  // namespace

Tensor view(const Tensor& x, const Shape& shape) {
  const Shape s = infer_shape(shape, x.numel(), "view");
  auto st = view_strides(x.shape(), x.strides(), s);
  PG_CHECK(st.has_value(), "view: cannot view a tensor of shape ", shape_str(x.shape()), " and strides ",
           shape_str(x.strides()), " as ", shape_str(s), " (use reshape, which copies)");
  return reshape_view(x, s, *st, "view");
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  const Shape s = infer_shape(shape, x.numel(), "reshape");
  if (auto st = view_strides(x.shape(), x.strides(), s)) return reshape_view(x, s, *st, "reshape");
  return reshape_view(contiguous(x), s, contiguous_strides(s), "reshape");
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t nd = x.dim();
  PG_CHECK(static_cast<int64_t>(dims.size()) == nd, "permute: ", dims.size(), " dims given for a tensor of rank ", nd);
  std::vector<int64_t> perm(nd), inverse(nd, -1);
  Shape shape(nd), strides(nd);
  for (int64_t i = 0; i < nd; ++i) {
    const int64_t d = wrap_dim(dims[i], nd, "permute");
    PG_CHECK(inverse[d] < 0, "permute: dim ", dims[i], " repeated in the permutation");
    inverse[d] = i;
    perm[i] = d;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  Tensor out = detail::make_view(x, shape, strides, x.offset());
  autograd::record("permute", {x}, {out}, {}, [inverse](const BackwardContext&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{permute(g[0], inverse)};
  });
  return out;
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  const int64_t nd = x.dim();
  d0 = wrap_dim(d0, nd, "transpose");
  d1 = wrap_dim(d1, nd, "transpose");
  std::vector<int64_t> perm(nd);
  for (int64_t i = 0; i < nd; ++i) perm[i] = i;
  if (nd > 0) std::swap(perm[d0], perm[d1]);
  return permute(x, perm);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  dim = wrap_dim(dim, x.dim(), "slice");
  PG_CHECK(x.dim() > 0, "slice: cannot slice a 0-dim tensor");
  PG_CHECK(step > 0, "slice: step must be positive, got ", step);
  const int64_t n = x.shape()[dim];
  auto clampi = [n](int64_t v) {
    if (v < 0) v += n;
    return std::clamp<int64_t>(v, 0, n);
  };
  start = clampi(start);
  end = clampi(end);
  const int64_t len = end > start ? (end - start + step - 1) / step : 0;
  Shape shape = x.shape(), strides = x.strides();
  shape[dim] = len;
  strides[dim] *= step;
  const int64_t off = x.offset() + start * x.strides()[dim];
  Tensor out = detail::make_view(x, shape, strides, off);
  // Backward writes g into the same window of a zero tensor of x's (contiguous) shape.
  const Shape in_shape = x.shape();
  const Shape cstr = contiguous_strides(in_shape);
  Shape gstrides = cstr;
  gstrides[dim] *= step;
  const int64_t goff = start * cstr[dim];
  autograd::record("slice", {x}, {out}, {}, [=](const BackwardContext&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{scatter_into_view(g[0], in_shape, shape, gstrides, goff)};
  });
  return out;
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  PG_CHECK(x.dim() > 0, "select: cannot select from a 0-dim tensor");
  dim = wrap_dim(dim, x.dim(), "select");
  const int64_t n = x.shape()[dim];
  PG_CHECK(index >= -n && index < n, "select: index ", index, " out of range for dim ", dim, " of size ", n);
  if (index < 0) index += n;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  Tensor out = detail::make_view(x, shape, strides, x.offset() + index * x.strides()[dim]);
  const Shape in_shape = x.shape();
  Shape gstrides = contiguous_strides(in_shape);
  const int64_t goff = index * gstrides[dim];
  gstrides.erase(gstrides.begin() + dim);
  autograd::record("select", {x}, {out}, {}, [=](const BackwardContext&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{scatter_into_view(g[0], in_shape, shape, gstrides, goff)};
  });
  return out;
}

Tensor expand(const Tensor& x, const Shape& shape) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  PG_CHECK(nd >= x.dim(), "expand: cannot expand shape ", shape_str(x.shape()), " to ", shape_str(shape),
           " (fewer dims)");
  Shape out_shape(nd), out_strides(nd);
  for (int64_t i = nd - 1; i >= 0; --i) {
    const int64_t xi = i - (nd - x.dim());
    const int64_t want = shape[i];
    if (xi < 0) {
      PG_CHECK(want >= 0, "expand: size -1 not allowed for a new leading dim in ", shape_str(shape));
      out_shape[i] = want;
      out_strides[i] = 0;
      continue;
    }
    const int64_t have = x.shape()[xi];
    if (want == -1 || want == have) {
      out_shape[i] = have;
      out_strides[i] = x.strides()[xi];
    } else {
      PG_CHECK(have == 1, "expand: cannot expand shape ", shape_str(x.shape()), " to ", shape_str(shape),
               " (dim ", xi, " has size ", have, ", not 1)");
      out_shape[i] = want;
      out_strides[i] = 0;
    }
  }
  Tensor out = detail::make_view(x, out_shape, out_strides, x.offset());
  const Shape in_shape = x.shape();
  autograd::record("expand", {x}, {out}, {}, [in_shape](const BackwardContext&, const std::vector<Tensor>& g) {
    return std::vector<Tensor>{sum_to_shape(g[0], in_shape)};
  });
  return out;
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  if (x.dim() == 0) return reshape_view(x, {}, {}, "squeeze");
  dim = wrap_dim(dim, x.dim(), "squeeze");
  if (x.shape()[dim] != 1) return reshape_view(x, x.shape(), x.strides(), "squeeze");
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + dim);
  strides.erase(strides.begin() + dim);
  return reshape_view(x, shape, strides, "squeeze");
}

Tensor squeeze(const Tensor& x) {
  Shape shape, strides;
  for (int64_t i = 0; i < x.dim(); ++i) {
    if (x.shape()[i] == 1) continue;
    shape.push_back(x.shape()[i]);
    strides.push_back(x.strides()[i]);
  }
  return reshape_view(x, shape, strides, "squeeze");
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  dim = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  const int64_t st = dim < x.dim() ? x.shape()[dim] * x.strides()[dim] : 1;
  shape.insert(shape.begin() + dim, 1);
  strides.insert(strides.begin() + dim, st);
  return reshape_view(x, shape, strides, "unsqueeze");
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  start_dim = wrap_dim(start_dim, x.dim(), "flatten");
  end_dim = wrap_dim(end_dim, x.dim(), "flatten");
  PG_CHECK(start_dim <= end_dim, "flatten: start_dim ", start_dim, " > end_dim ", end_dim);
  Shape shape;
  for (int64_t i = 0; i < start_dim; ++i) shape.push_back(x.shape()[i]);
  int64_t m = 1;
  for (int64_t i = start_dim; i <= end_dim; ++i) m *= x.shape()[i];
  shape.push_back(m);
  for (int64_t i = end_dim + 1; i < x.dim(); ++i) shape.push_back(x.shape()[i]);
  return reshape(x, shape);
}

}  // namespace pg
