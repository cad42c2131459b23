// Shared bodies and launchers of the indexing kernels (see kernels/index.h for the contracts).
//
// Every launcher builds a StridedIndexer over an iteration shape whose operand strides encode
// the op: the indexed operand gets stride 0 along `dim` and the index value times its `dim`
// stride is added in the body; a 1-D index (index_select, index_add) gets stride 0 everywhere
// except along `dim`. Index values are converted to int64_t before any offset arithmetic.
#pragma once

#include <type_traits>

#include "core/indexer.h"
#include "core/parallel_for.h"
#include "kernels/index.h"

namespace pg::kernels::detail {

// *p += v; atomic on the device (int64 through the unsigned long long overload: two's
// complement addition is the same operation).
template <class T>
PG_HD PG_INLINE void atomic_add(T* p, T v) {
#if defined(__CUDA_ARCH__)
  if constexpr (std::is_same_v<T, int64_t>) {
    atomicAdd(reinterpret_cast<unsigned long long*>(p), static_cast<unsigned long long>(v));
  } else {
    atomicAdd(p, v);
  }
#else
  *p += v;
#endif
}

// Operands: 0 = out, 1 = index, 2 = x (stride 0 along dim).
template <class T, class I>
struct GatherBody {
  T* out;
  const T* x;
  const I* idx;
  StridedIndexer<3> ix;
  int64_t x_dim_stride;
  PG_HD void operator()(int64_t i) const {
    int64_t o[3];
    ix.offsets(i, o);
    out[o[0]] = x[o[2] + static_cast<int64_t>(idx[o[1]]) * x_dim_stride];
  }
};

// One thread per element, atomic accumulation (CUDA). Operands: 0 = index, 1 = src,
// 2 = out (stride 0 along dim).
template <class T, class I>
struct ScatterAddAtomicBody {
  T* out;
  const T* src;
  const I* idx;
  StridedIndexer<3> ix;
  int64_t out_dim_stride;
  PG_HD void operator()(int64_t i) const {
    int64_t o[3];
    ix.offsets(i, o);
    atomic_add(out + o[2] + static_cast<int64_t>(idx[o[0]]) * out_dim_stride, src[o[1]]);
  }
};

// One work item per line along dim, accumulated serially in index order (CPU): lines differ
// in a coordinate other than dim, so they never write the same element. Operands as above
// over the iteration shape with dim collapsed to 1.
template <class T, class I>
struct ScatterAddLineBody {
  T* out;
  const T* src;
  const I* idx;
  StridedIndexer<3> ix;
  int64_t out_dim_stride;
  int64_t len, idx_step, src_step;
  PG_HD void operator()(int64_t i) const {
    int64_t o[3];
    ix.offsets(i, o);
    for (int64_t j = 0; j < len; ++j) {
      out[o[2] + static_cast<int64_t>(idx[o[0] + j * idx_step]) * out_dim_stride] += src[o[1] + j * src_step];
    }
  }
};

template <class T, class I>
struct OneHotBody {
  T* out;
  const I* idx;
  StridedIndexer<1> ix;
  int64_t num_classes;
  PG_HD void operator()(int64_t i) const {
    int64_t o[1];
    ix.offsets(i, o);
    out[i * num_classes + static_cast<int64_t>(idx[o[0]])] = T(1);
  }
};

inline Shape with_dim(Shape s, int64_t dim, int64_t value) {
  s[dim] = value;
  return s;
}

// Strides of a 1-D index broadcast along `dim` of a rank-`ndim` iteration shape.
inline Shape line_index_strides(const Tensor& index, int64_t ndim, int64_t dim) {
  Shape s(ndim, 0);
  s[dim] = index.stride(0);
  return s;
}

template <class Backend>
void gather_like(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index, const Shape& index_strides,
                 const char* op) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const auto ix = make_indexer<3>(out.shape(), {out.strides(), index_strides, with_dim(x.strides(), dim, 0)}, op);
  const int64_t xs = x.stride(dim);
  dispatch_all(x.dtype(), op, [&]<class T>() {
    dispatch_index(index.dtype(), op, [&]<class I>() {
      parallel_for<Backend>(n, GatherBody<T, I>{static_cast<T*>(out.raw_data()), static_cast<const T*>(x.raw_data()),
                                                static_cast<const I*>(index.raw_data()), ix, xs});
    });
  });
}

// out[... idx ...] += src over `shape` (index.shape() or src.shape()).
template <class Backend>
void scatter_like(const Tensor& out, int64_t dim, const Shape& shape, const Tensor& index, const Shape& index_strides,
                  const Tensor& src, const char* op) {
  if (shape_numel(shape) == 0) return;
  const int64_t os = out.stride(dim);
  const Shape out_strides = with_dim(out.strides(), dim, 0);
  dispatch_numeric(out.dtype(), op, [&]<class T>() {
    if constexpr (std::is_same_v<T, uint8_t>) {
      PG_FAIL(op, ": dtype uint8 is not supported (expected float32, float64, int32 or int64)");
    } else {
      dispatch_index(index.dtype(), op, [&]<class I>() {
        T* o = static_cast<T*>(out.raw_data());
        const T* s = static_cast<const T*>(src.raw_data());
        const I* id = static_cast<const I*>(index.raw_data());
        if constexpr (Backend::is_cuda) {
          const auto ix = make_indexer<3>(shape, {index_strides, src.strides(), out_strides}, op);
          parallel_for<Backend>(shape_numel(shape), ScatterAddAtomicBody<T, I>{o, s, id, ix, os});
        } else {
          const int64_t len = shape[dim];
          const Shape outer = with_dim(shape, dim, 1);
          const auto ix = make_indexer<3>(outer, {index_strides, src.strides(), out_strides}, op);
          parallel_for<Backend>(shape_numel(outer),
                                ScatterAddLineBody<T, I>{o, s, id, ix, os, len, index_strides[dim], src.stride(dim)});
        }
      });
    }
  });
}

}  // namespace pg::kernels::detail

namespace pg::kernels {

template <class Backend>
void gather(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  detail::gather_like<Backend>(out, x, dim, index, index.strides(), "gather");
}

template <class Backend>
void index_select(const Tensor& out, const Tensor& x, int64_t dim, const Tensor& index) {
  detail::gather_like<Backend>(out, x, dim, index, detail::line_index_strides(index, out.dim(), dim), "index_select");
}

template <class Backend>
void scatter_add_(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  detail::scatter_like<Backend>(out, dim, index.shape(), index, index.strides(), src, "scatter_add");
}

template <class Backend>
void index_add_(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  detail::scatter_like<Backend>(out, dim, src.shape(), index, detail::line_index_strides(index, src.dim(), dim), src,
                                "index_add");
}

template <class Backend>
void one_hot(const Tensor& out, const Tensor& index, int64_t num_classes) {
  const int64_t n = index.numel();
  if (n == 0 || num_classes == 0) return;
  const auto ix = make_indexer<1>(index.shape(), {index.strides()}, "one_hot");
  dispatch_all(out.dtype(), "one_hot", [&]<class T>() {
    dispatch_index(index.dtype(), "one_hot", [&]<class I>() {
      parallel_for<Backend>(n, detail::OneHotBody<T, I>{static_cast<T*>(out.raw_data()),
                                                        static_cast<const I*>(index.raw_data()), ix, num_classes});
    });
  });
}

}  // namespace pg::kernels
