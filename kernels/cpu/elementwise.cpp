// CPU backend of the elementwise kernels.
//
// Work decomposition: the output's n elements are split into one contiguous range per OpenMP
// thread (serial below kGrain elements). A thread walks its range as segments along the
// innermost (merged) dim of the StridedIndexer; each segment is a 1-D loop with fixed strides.
// The loops are templated on the op (unary_op<OP> / binary_op<OP> / compare_op<OP>, the same
// PG_HD expressions the CUDA kernels switch over), so the per-element switch folds away and the
// unit-stride cases (all operands contiguous, or one operand broadcast as a scalar) compile to
// plain loops that GCC vectorises. With kernels::set_cpu_fast_paths(false) the generic
// parallel_for bodies of kernels/common/elementwise_impl.h run instead (tests compare the two).
#include <algorithm>

#include "kernels/common/elementwise_impl.h"

namespace pg::kernels::ew {

namespace {

constexpr int64_t kGrain = 32768;

// Calls f(lo, hi) over a partition of [0, n): one range per thread, or [0, n) when small.
template <class F>
void cpu_ranges(int64_t n, const F& f) {
  const int threads = cpu_num_threads();
  if (n < kGrain || threads <= 1) {
    f(int64_t{0}, n);
    return;
  }
  const int64_t chunks = std::min<int64_t>(threads, (n + kGrain - 1) / kGrain);
#pragma omp parallel for schedule(static) num_threads(static_cast <int>(chunks))
  for (int64_t c = 0; c < chunks; ++c) {
    f(n / chunks * c + std::min(c, n % chunks), n / chunks * (c + 1) + std::min(c + 1, n % chunks));
  }
}

// Walks linear indices [lo, hi) of `ix` as runs along its innermost dim: seg(off, st, count)
// gets the element offsets of the run's first element and the innermost strides (operand k).
template <int N, class Seg>
void walk(const StridedIndexer<N>& ix, int64_t lo, int64_t hi, const Seg& seg) {
  int64_t off[N];
  int64_t st[N];
  if (ix.ndim == 0) {  // a single element
    for (int k = 0; k < N; ++k) off[k] = st[k] = 0;
    if (hi > lo) seg(off, st, hi - lo);
    return;
  }
  const int last = ix.ndim - 1;
  int64_t idx[PG_MAX_DIMS];
  int64_t rem = lo;
  for (int d = last; d >= 0; --d) {
    idx[d] = rem % ix.sizes[d];
    rem /= ix.sizes[d];
  }
  for (int k = 0; k < N; ++k) st[k] = ix.strides[k][last];
  int64_t pos = lo;
  while (pos < hi) {
    for (int k = 0; k < N; ++k) {
      int64_t o = 0;
      for (int d = 0; d <= last; ++d) o += idx[d] * ix.strides[k][d];
      off[k] = o;
    }
    const int64_t count = std::min(ix.sizes[last] - idx[last], hi - pos);
    seg(off, st, count);
    pos += count;
    idx[last] += count;
    for (int d = last; d > 0 && idx[d] >= ix.sizes[d]; --d) {
      idx[d] = 0;
      ++idx[d - 1];
    }
  }
}

// ---- 1-D runs; the unit-stride branches are the vectorised ones ----

template <class TO, class TA, class F>
void run1(TO* o, const TA* a, int64_t so, int64_t sa, int64_t n, const F& f) {
  if (so == 1 && sa == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
  } else if (so == 1 && sa == 0) {
    const TO v = f(a[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  } else {
    for (int64_t i = 0; i < n; ++i) o[i * so] = f(a[i * sa]);
  }
}

template <class TO, class TA, class TB, class F>
void run2(TO* o, const TA* a, const TB* b, int64_t so, int64_t sa, int64_t sb, int64_t n, const F& f) {
  if (so == 1 && sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (so == 1 && sa == 1 && sb == 0) {
    const TB bv = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
  } else if (so == 1 && sa == 0 && sb == 1) {
    const TA av = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i * so] = f(a[i * sa], b[i * sb]);
  }
}

template <class TO, class TA, class TB, class TC, class F>
void run3(TO* o, const TA* a, const TB* b, const TC* c, int64_t so, int64_t sa, int64_t sb, int64_t sc, int64_t n,
          const F& f) {
  if (so == 1 && sa == 1 && sb == 1 && sc == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i], c[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i * so] = f(a[i * sa], b[i * sb], c[i * sc]);
  }
}

// ---- out = f(inputs...) over arbitrary strides and broadcasting ----

template <class TO, class TA, class F>
void map1(const char* name, const Tensor& out, const Tensor& a, const F& f) {
  TO* o = static_cast<TO*>(out.raw_data());
  const TA* ap = static_cast<const TA*>(a.raw_data());
  const int64_t n = out.numel();
  if (same_shape_contiguous(out, {&a})) {
    cpu_ranges(n, [&](int64_t lo, int64_t hi) { run1(o + lo, ap + lo, 1, 1, hi - lo, f); });
    return;
  }
  const auto ix = make_indexer<2>(out.shape(), {out.strides(), broadcast_strides(a, out.shape(), name)}, name);
  cpu_ranges(n, [&](int64_t lo, int64_t hi) {
    walk<2>(ix, lo, hi, [&](const int64_t* off, const int64_t* st, int64_t cnt) {
      run1(o + off[0], ap + off[1], st[0], st[1], cnt, f);
    });
  });
}

template <class TO, class TA, class TB, class F>
void map2(const char* name, const Tensor& out, const Tensor& a, const Tensor& b, const F& f) {
  TO* o = static_cast<TO*>(out.raw_data());
  const TA* ap = static_cast<const TA*>(a.raw_data());
  const TB* bp = static_cast<const TB*>(b.raw_data());
  const int64_t n = out.numel();
  if (same_shape_contiguous(out, {&a, &b})) {
    cpu_ranges(n, [&](int64_t lo, int64_t hi) { run2(o + lo, ap + lo, bp + lo, 1, 1, 1, hi - lo, f); });
    return;
  }
  const auto ix = make_indexer<3>(
      out.shape(), {out.strides(), broadcast_strides(a, out.shape(), name), broadcast_strides(b, out.shape(), name)},
      name);
  cpu_ranges(n, [&](int64_t lo, int64_t hi) {
    walk<3>(ix, lo, hi, [&](const int64_t* off, const int64_t* st, int64_t cnt) {
      run2(o + off[0], ap + off[1], bp + off[2], st[0], st[1], st[2], cnt, f);
    });
  });
}

template <class TO, class TA, class TB, class TC, class F>
void map3(const char* name, const Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c, const F& f) {
  TO* o = static_cast<TO*>(out.raw_data());
  const TA* ap = static_cast<const TA*>(a.raw_data());
  const TB* bp = static_cast<const TB*>(b.raw_data());
  const TC* cp = static_cast<const TC*>(c.raw_data());
  const int64_t n = out.numel();
  if (same_shape_contiguous(out, {&a, &b, &c})) {
    cpu_ranges(n, [&](int64_t lo, int64_t hi) { run3(o + lo, ap + lo, bp + lo, cp + lo, 1, 1, 1, 1, hi - lo, f); });
    return;
  }
  const auto ix = make_indexer<4>(out.shape(),
                                  {out.strides(), broadcast_strides(a, out.shape(), name),
                                   broadcast_strides(b, out.shape(), name), broadcast_strides(c, out.shape(), name)},
                                  name);
  cpu_ranges(n, [&](int64_t lo, int64_t hi) {
    walk<4>(ix, lo, hi, [&](const int64_t* off, const int64_t* st, int64_t cnt) {
      run3(o + off[0], ap + off[1], bp + off[2], cp + off[3], st[0], st[1], st[2], st[3], cnt, f);
    });
  });
}

// ---- runtime op → compile-time op ----

#define PG_EW_CASE(ENUM, NAME)           \
  case ENUM::NAME:                       \
    f.template operator()<ENUM::NAME>(); \
    return;

template <class F>
void with_unary_op(UnaryOp op, F&& f) {
  switch (op) {
    PG_EW_CASE(UnaryOp, Neg)
    PG_EW_CASE(UnaryOp, Abs)
    PG_EW_CASE(UnaryOp, Exp)
    PG_EW_CASE(UnaryOp, Log)
    PG_EW_CASE(UnaryOp, Sqrt)
    PG_EW_CASE(UnaryOp, Relu)
    PG_EW_CASE(UnaryOp, LeakyRelu)
    PG_EW_CASE(UnaryOp, Selu)
    PG_EW_CASE(UnaryOp, Sigmoid)
    PG_EW_CASE(UnaryOp, Tanh)
    PG_EW_CASE(UnaryOp, Softplus)
    PG_EW_CASE(UnaryOp, Clamp)
    PG_EW_CASE(UnaryOp, PowScalar)
    PG_EW_CASE(UnaryOp, AddScalar)
    PG_EW_CASE(UnaryOp, MulScalar)
    PG_EW_CASE(UnaryOp, RSubScalar)
    PG_EW_CASE(UnaryOp, RDivScalar)
    PG_EW_CASE(UnaryOp, Square)
    PG_EW_CASE(UnaryOp, Sign)
  }
  PG_FAIL("elementwise: unknown unary op ", static_cast<int>(op));
}

template <class F>
void with_binary_op(BinaryOp op, F&& f) {
  switch (op) {
    PG_EW_CASE(BinaryOp, Add)
    PG_EW_CASE(BinaryOp, Sub)
    PG_EW_CASE(BinaryOp, Mul)
    PG_EW_CASE(BinaryOp, Div)
    PG_EW_CASE(BinaryOp, Pow)
    PG_EW_CASE(BinaryOp, Maximum)
    PG_EW_CASE(BinaryOp, Minimum)
    PG_EW_CASE(BinaryOp, Eq)
    PG_EW_CASE(BinaryOp, Ne)
    PG_EW_CASE(BinaryOp, Lt)
    PG_EW_CASE(BinaryOp, Le)
    PG_EW_CASE(BinaryOp, Gt)
    PG_EW_CASE(BinaryOp, Ge)
    PG_EW_CASE(BinaryOp, ReluBackward)
    PG_EW_CASE(BinaryOp, LeakyReluBackward)
    PG_EW_CASE(BinaryOp, SeluBackward)
    PG_EW_CASE(BinaryOp, SigmoidBackward)
    PG_EW_CASE(BinaryOp, TanhBackward)
    PG_EW_CASE(BinaryOp, SoftplusBackward)
    PG_EW_CASE(BinaryOp, AbsBackward)
  }
  PG_FAIL("elementwise: unknown binary op ", static_cast<int>(op));
}

#undef PG_EW_CASE

}  // namespace

template <>
struct FastPath<CpuBackend> {
  static bool unary(UnaryOp op, const Tensor& out, const Tensor& x, double alpha, double beta) {
    if (!cpu_fast_paths_enabled()) return false;
    const char* name = unary_name(op);
    dispatch_numeric(x.dtype(), name, [&]<class T>() {
      const Params<T> p = unary_params<T>(op, alpha, beta);
      with_unary_op(op, [&]<UnaryOp OP>() {
        if constexpr (unary_float_only(OP) && !std::is_floating_point_v<T>) {
          PG_FAIL(name, ": dtype ", dtype_name(x.dtype()), " is not supported (expected float32 or float64)");
        } else {
          map1<T, T>(name, out, x, [p](T v) { return unary_op<OP>(v, p); });
        }
      });
    });
    return true;
  }

  static bool binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta) {
    if (!cpu_fast_paths_enabled()) return false;
    const char* name = binary_name(op);
    if (binary_is_comparison(op)) {
      dispatch_all(a.dtype(), name, [&]<class T>() {
        with_binary_op(op, [&]<BinaryOp OP>() {
          if constexpr (binary_is_comparison(OP)) {
            map2<bool, T, T>(name, out, a, b, [](T u, T v) { return compare_op<OP>(u, v); });
          }
        });
      });
      return true;
    }
    dispatch_numeric(a.dtype(), name, [&]<class T>() {
      const Params<T> p = binary_params<T>(alpha, beta);
      with_binary_op(op, [&]<BinaryOp OP>() {
        if constexpr (binary_is_comparison(OP)) {
          PG_FAIL(name, ": internal error: comparison dispatched as arithmetic");
        } else if constexpr (binary_float_only(OP) && !std::is_floating_point_v<T>) {
          PG_FAIL(name, ": dtype ", dtype_name(a.dtype()), " is not supported (expected float32 or float64)");
        } else {
          map2<T, T, T>(name, out, a, b, [p](T u, T v) { return binary_op<OP>(u, v, p); });
        }
      });
    });
    return true;
  }

  static bool where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
    if (!cpu_fast_paths_enabled()) return false;
    dispatch_all(a.dtype(), "where", [&]<class T>() {
      map3<T, bool, T, T>("where", out, cond, a, b, [](bool c, T u, T v) { return c ? u : v; });
    });
    return true;
  }

  static bool clamp_backward(const Tensor& out, const Tensor& g, const Tensor& x, double lo, double hi) {
    if (!cpu_fast_paths_enabled()) return false;
    dispatch_floating(x.dtype(), "clamp_backward", [&]<class T>() {
      const T tlo = static_cast<T>(lo), thi = static_cast<T>(hi);
      map2<T, T, T>("clamp_backward", out, g, x,
                    [tlo, thi](T gv, T xv) { return clamp_backward_value(gv, xv, tlo, thi); });
    });
    return true;
  }
};

}  // namespace pg::kernels::ew

namespace pg::kernels {
PG_INSTANTIATE_LAUNCHERS(PG_ELEMENTWISE_LAUNCHERS, CpuBackend)
}  // namespace pg::kernels
