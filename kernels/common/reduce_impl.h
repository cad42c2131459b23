// Shared pieces of the reduction kernels: reducer functors (PG_HD, so the CPU and CUDA paths
// evaluate the very same expressions), the reduction geometry, the dtype/op dispatch and the
// elementwise backward bodies. The execution strategy for the forward (how outputs and reduced
// elements are split over threads) is backend-specific: ReduceExec<CpuBackend> lives in
// kernels/cpu/reduce.cpp and ReduceExec<CudaBackend> in kernels/cuda/reduce.cu.
//
// A reducer has
//   acc_t init()                          identity of combine
//   acc_t reduce(acc_t, in_t v, int64 r)  fold in element r (row-major index over reduced dims)
//   acc_t combine(acc_t a, acc_t b)       merge two partial results (a covers lower r for ties)
//   void  write(int64 o, acc_t)           store output o
// combine is associative and init is its identity, so any fixed split of the reduced range gives
// a deterministic result; Max/Min break ties on r, so their result does not depend on the split.
#pragma once

#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/indexer.h"
#include "core/parallel_for.h"
#include "kernels/common/hd_util.h"
#include "kernels/reduce.h"

namespace pg::kernels::reduce_detail {

template <class T>
PG_HD PG_INLINE bool is_nan(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    return v != v;
  } else {
    return false;
  }
}

PG_HD PG_INLINE double exp_d(double v) { return ::exp(v); }
using ::pg::kernels::exp_t;  // kernels/common/hd_util.h

// ---- sum / mean ----
template <class T>
struct SumReducer {
  static constexpr bool kFloat = std::is_floating_point_v<T>;
  using in_t = T;
  using acc_t = std::conditional_t<kFloat, double, int64_t>;
  using out_t = std::conditional_t<kFloat, T, int64_t>;
  out_t* out;
  double div;  // 1 for Sum, R for Mean (floats only)

  PG_HD PG_INLINE acc_t init() const { return acc_t(0); }
  PG_HD PG_INLINE acc_t combine(acc_t a, acc_t b) const {
    if constexpr (kFloat) {
      return a + b;
    } else {  // two's-complement wrap instead of signed-overflow UB
      return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
    }
  }
  PG_HD PG_INLINE acc_t reduce(acc_t a, T v, int64_t) const { return combine(a, static_cast<acc_t>(v)); }
  PG_HD PG_INLINE void write(int64_t o, acc_t a) const {
    if constexpr (kFloat) {
      out[o] = static_cast<T>(a / div);
    } else {
      out[o] = a;
    }
  }
};

// ---- logsumexp: running (max, sum of exp(x - max)) in float64 ----
struct LseAcc {
  double m;  // running max (-inf when empty, NaN once a NaN was seen)
  double s;  // sum of exp(x - m)
};

template <class T>
struct LseReducer {
  using in_t = T;
  using acc_t = LseAcc;
  using out_t = T;
  T* out;

  PG_HD PG_INLINE acc_t init() const { return {-std::numeric_limits<double>::infinity(), 0.0}; }
  PG_HD PG_INLINE acc_t reduce(acc_t a, T v, int64_t) const {
    const double x = static_cast<double>(v);
    constexpr double ninf = -std::numeric_limits<double>::infinity();
    if (x <= a.m) {
      if (x != ninf) a.s += exp_d(x - a.m);
    } else if (x > a.m) {
      a.s = (a.m == ninf ? 0.0 : a.s * exp_d(a.m - x)) + 1.0;
      a.m = x;
    } else {  // x or a.m is NaN
      a.m = x + a.m;
    }
    return a;
  }
  PG_HD PG_INLINE acc_t combine(acc_t a, acc_t b) const {
    constexpr double ninf = -std::numeric_limits<double>::infinity();
    if (a.m != a.m || b.m != b.m) return {a.m + b.m, 0.0};
    if (a.m == ninf) return b;
    if (b.m == ninf) return a;
    const double m = a.m > b.m ? a.m : b.m;
    return {m, a.s * exp_d(a.m - m) + b.s * exp_d(b.m - m)};
  }
  PG_HD PG_INLINE void write(int64_t o, acc_t a) const {
    // NaN stays NaN; +inf (any +inf input) and -inf (all -inf, or empty) are the result itself.
    const bool finite = a.m == a.m && a.m != std::numeric_limits<double>::infinity() &&
                        a.m != -std::numeric_limits<double>::infinity();
    out[o] = static_cast<T>(finite ? a.m + ::log(a.s) : a.m);
  }
};

// ---- max / min with the index of the first extremum (NaN counts as the extremum) ----
template <class T>
struct ArgAcc {
  T v;
  int64_t i;  // -1: empty
};

template <class T, bool IsMax>
struct ArgReducer {
  using in_t = T;
  using acc_t = ArgAcc<T>;
  using out_t = T;
  T* values;         // may be null
  int64_t* indices;  // may be null

  // a strictly better than b
  PG_HD PG_INLINE static bool better(T a, T b) {
    if constexpr (IsMax) {
      return a > b || (is_nan(a) && !is_nan(b));
    } else {
      return a < b || (is_nan(a) && !is_nan(b));
    }
  }
  PG_HD PG_INLINE acc_t init() const { return {T(0), -1}; }
  PG_HD PG_INLINE acc_t reduce(acc_t a, T v, int64_t r) const {
    if (a.i < 0 || better(v, a.v)) return {v, r};
    return a;
  }
  PG_HD PG_INLINE acc_t combine(acc_t a, acc_t b) const {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    if (better(b.v, a.v)) return b;
    if (better(a.v, b.v)) return a;
    return a.i <= b.i ? a : b;
  }
  PG_HD PG_INLINE void write(int64_t o, acc_t a) const {
    if (values) values[o] = a.v;
    if (indices) indices[o] = a.i;
  }
};

// ---- geometry ----

// Offset of linear index i for a one-operand indexer, with the common ranks inlined.
PG_HD PG_INLINE int64_t offset_of(const StridedIndexer<1>& ix, int64_t i) {
  if (ix.ndim == 0) return 0;
  if (ix.ndim == 1) return i * ix.strides[0][0];
  int64_t o[1];
  ix.offsets(i, o);
  return o[0];
}

// Each of n_out outputs reduces R elements of x: element r of output o sits at
// offset_of(outer, o) + offset_of(red, r) (relative to x's first element).
struct ReduceGeom {
  int64_t n_out = 0;
  int64_t R = 0;
  StridedIndexer<1> outer;  // over x's non-reduced dims (row-major = output order)
  StridedIndexer<1> red;    // over x's reduced dims
  int device = 0;           // CUDA device index of x (for workspaces)

  // Innermost stride of an indexer (0 when it has no dims).
  static int64_t inner_stride(const StridedIndexer<1>& ix) { return ix.ndim ? ix.strides[0][ix.ndim - 1] : 0; }
  static int64_t inner_size(const StridedIndexer<1>& ix) { return ix.ndim ? ix.sizes[ix.ndim - 1] : 1; }
};

inline ReduceGeom make_reduce_geom(const Shape& shape, const Shape& strides, const std::vector<int64_t>& dims,
                                   const char* op) {
  const size_t nd = shape.size();
  std::vector<bool> reduced(nd, false);
  for (int64_t d : dims) {
    PG_CHECK(d >= 0 && d < static_cast<int64_t>(nd), op, ": internal error: reduced dim ", d, " for rank ", nd);
    reduced[d] = true;
  }
  Shape osz, ost, rsz, rst;
  for (size_t d = 0; d < nd; ++d) {
    (reduced[d] ? rsz : osz).push_back(shape[d]);
    (reduced[d] ? rst : ost).push_back(strides[d]);
  }
  ReduceGeom g;
  g.n_out = shape_numel(osz);
  g.R = shape_numel(rsz);
  g.outer = make_indexer<1>(osz, {ost}, op);
  g.red = make_indexer<1>(rsz, {rst}, op);
  return g;
}

// Executes one reducer over the geometry; specialised per backend.
template <class Backend>
struct ReduceExec;

template <class Backend, class Red>
void run_reducer(const ReduceGeom& g, const Tensor& x, const Red& red) {
  ReduceExec<Backend>::template run<Red>(g, static_cast<const typename Red::in_t*>(x.raw_data()), red);
}

// ---- backward bodies ----
template <class T>
struct MeanLseBackwardBody {
  T* gi;  // contiguous, x's shape
  const T* g;
  const T* x;
  const T* out;
  StridedIndexer<3> ix;  // operands: g (broadcast), x, out (broadcast)
  T inv_count;
  bool lse;
  PG_HD void operator()(int64_t i) const {
    int64_t o[3];
    ix.offsets(i, o);
    gi[i] = lse ? g[o[0]] * exp_t(x[o[1]] - out[o[2]]) : g[o[0]] * inv_count;
  }
};

template <class T>
struct ScatterGradBody {
  T* gi;  // contiguous, x's shape
  const T* g;
  const int64_t* idx;
  StridedIndexer<1> g_ix;
  StridedIndexer<1> outer;  // gi's strides over the non-reduced dims
  StridedIndexer<1> red;    // gi's strides over the reduced dims
  PG_HD void operator()(int64_t o) const {
    gi[offset_of(outer, o) + offset_of(red, idx[o])] = g[offset_of(g_ix, o)];
  }
};

}  // namespace pg::kernels::reduce_detail

namespace pg::kernels {

template <class Backend>
void reduce(ReduceOp op, const Tensor& out, const Tensor& indices, const Tensor& x, const std::vector<int64_t>& dims) {
  using namespace reduce_detail;
  const char* name = reduce_name(op);
  ReduceGeom g = make_reduce_geom(x.shape(), x.strides(), dims, name);
  g.device = x.device().index;
  if (out.defined()) {
    PG_CHECK(out.is_contiguous() && out.numel() == g.n_out, name, ": internal error: bad output");
  }
  if (indices.defined()) {
    PG_CHECK(indices.is_contiguous() && indices.numel() == g.n_out && indices.dtype() == DType::i64, name,
             ": internal error: bad index output");
  }
  if (g.n_out == 0) return;

  switch (op) {
    case ReduceOp::Sum:
    case ReduceOp::Mean: {
      PG_CHECK(out.defined(), name, ": internal error: no output");
      const double div = op == ReduceOp::Mean ? static_cast<double>(g.R) : 1.0;
      dispatch_all(x.dtype(), name, [&]<class T>() {
        using Red = SumReducer<T>;
        PG_CHECK(Red::kFloat || op == ReduceOp::Sum, name, ": dtype ", dtype_name(x.dtype()),
                 " is not supported (expected float32 or float64)");
        PG_CHECK(out.dtype() == dtype_v<typename Red::out_t>, name, ": internal error: output dtype");
        run_reducer<Backend>(g, x, Red{out.data<typename Red::out_t>(), div});
      });
      return;
    }
    case ReduceOp::LogSumExp: {
      PG_CHECK(out.defined(), name, ": internal error: no output");
      dispatch_floating(x.dtype(), name, [&]<class T>() {
        run_reducer<Backend>(g, x, LseReducer<T>{out.data<T>()});
      });
      return;
    }
    case ReduceOp::Max:
    case ReduceOp::Min: {
      PG_CHECK(out.defined() || indices.defined(), name, ": internal error: no output");
      PG_CHECK(g.R > 0, name, ": cannot reduce over an empty dimension");
      dispatch_numeric(x.dtype(), name, [&]<class T>() {
        T* v = out.defined() ? out.data<T>() : nullptr;
        int64_t* ip = indices.defined() ? indices.data<int64_t>() : nullptr;
        if (op == ReduceOp::Max) {
          run_reducer<Backend>(g, x, ArgReducer<T, true>{v, ip});
        } else {
          run_reducer<Backend>(g, x, ArgReducer<T, false>{v, ip});
        }
      });
      return;
    }
  }
}

template <class Backend>
void reduce_backward(ReduceOp op, const Tensor& grad_in, const Tensor& grad_out, const Tensor& x, const Tensor& out,
                     const std::vector<int64_t>& dims) {
  using namespace reduce_detail;
  const char* name = reduce_name(op);
  PG_CHECK(op == ReduceOp::Mean || op == ReduceOp::LogSumExp, name, ": internal error: no elementwise backward");
  PG_CHECK(grad_in.is_contiguous() && grad_in.shape() == x.shape(), name, ": internal error: bad grad_in");
  const int64_t n = x.numel();
  if (n == 0) return;
  const bool lse = op == ReduceOp::LogSumExp;
  const Tensor& o = lse ? out : grad_out;  // out is unused (may be undefined) for Mean
  int64_t R = 1;
  for (int64_t d : dims) R *= x.shape()[d];
  dispatch_floating(x.dtype(), name, [&]<class T>() {
    const auto ix = make_indexer<3>(
        x.shape(), {reduce_broadcast_strides(grad_out, x.shape(), dims), x.strides(), reduce_broadcast_strides(o, x.shape(), dims)},
        name);
    parallel_for<Backend>(n, MeanLseBackwardBody<T>{grad_in.data<T>(), grad_out.data<T>(), x.data<T>(), o.data<T>(), ix,
                                                    static_cast<T>(1.0 / static_cast<double>(R)), lse});
  });
}

template <class Backend>
void scatter_reduced_grad(const Tensor& grad_in, const Tensor& grad_out, const Tensor& indices,
                          const std::vector<int64_t>& dims) {
  using namespace reduce_detail;
  PG_CHECK(grad_in.is_contiguous() && indices.is_contiguous() && indices.dtype() == DType::i64,
           "max/min backward: internal error: bad operands");
  const ReduceGeom g = make_reduce_geom(grad_in.shape(), grad_in.strides(), dims, "max/min backward");
  PG_CHECK(grad_out.numel() == g.n_out && indices.numel() == g.n_out, "max/min backward: internal error: sizes");
  if (g.n_out == 0) return;
  dispatch_floating(grad_in.dtype(), "max/min backward", [&]<class T>() {
    const auto g_ix = make_indexer<1>(grad_out.shape(), {grad_out.strides()}, "max/min backward");
    parallel_for<Backend>(g.n_out, ScatterGradBody<T>{grad_in.data<T>(), grad_out.data<T>(), indices.data<int64_t>(),
                                                      g_ix, g.outer, g.red});
  });
}

}  // namespace pg::kernels
