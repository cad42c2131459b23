// Shared elementwise math (PG_HD, one expression per op used by both backends) and the generic
// launchers of kernels/elementwise.h.
//
// * unary_op<OP>, binary_op<OP>, compare_op<OP> are the per-element expressions with the op
//   fixed at compile time (the CPU instantiates its loops on them so the op choice folds away);
//   unary_apply / binary_apply / compare_apply switch over a runtime op and call the same
//   functions (one CUDA kernel per dtype with the switch inside).
// * The launchers validate, then give the backend's FastPath<Backend> a chance (CPU: templated,
//   vectorisable, OpenMP loops; CUDA: float4 loads for contiguous float32), and otherwise run the
//   generic bodies below through parallel_for<Backend>: a contiguous body when every operand is
//   contiguous with the output's shape, a StridedIndexer body otherwise (broadcast = stride 0).
#pragma once

#include <math.h>

#include <cstdint>
#include <limits>
#include <type_traits>

#include "core/indexer.h"
#include "core/parallel_for.h"
#include "kernels/elementwise.h"

namespace pg::kernels::ew {

// SELU constants (Klambauer et al. 2017).
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;

// ---- op metadata (constexpr; the out-of-line names in kernels/elementwise.h forward here) ----

constexpr bool unary_float_only(UnaryOp op) {
  switch (op) {
    case UnaryOp::Exp:
    case UnaryOp::Log:
    case UnaryOp::Sqrt:
    case UnaryOp::LeakyRelu:
    case UnaryOp::Selu:
    case UnaryOp::Sigmoid:
    case UnaryOp::Tanh:
    case UnaryOp::Softplus:
    case UnaryOp::PowScalar:
    case UnaryOp::RDivScalar:
      return true;
    default:
      return false;
  }
}

constexpr bool binary_is_comparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::Eq:
    case BinaryOp::Ne:
    case BinaryOp::Lt:
    case BinaryOp::Le:
    case BinaryOp::Gt:
    case BinaryOp::Ge:
      return true;
    default:
      return false;
  }
}

constexpr bool binary_float_only(BinaryOp op) {
  switch (op) {
    case BinaryOp::Pow:
    case BinaryOp::LeakyReluBackward:
    case BinaryOp::SeluBackward:
    case BinaryOp::SigmoidBackward:
    case BinaryOp::TanhBackward:
    case BinaryOp::SoftplusBackward:
      return true;
    default:
      return false;
  }
}

// ---- scalar parameters ----

template <class T>
struct Params {
  T alpha;
  T beta;
};

// double → T. Floats: a plain conversion. Integers: modular (so x + (-1) on uint8 is x - 1)
// unless `saturate` (clamp bounds), NaN → 0; never the UB of an out-of-range cast.
template <class T>
T scalar_to(double v, bool saturate) {
  if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(v);
  } else {
    if (v != v) return T(0);
    if (saturate) {
      const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
      const double hi = static_cast<double>(std::numeric_limits<T>::max());
      if (v <= lo) return std::numeric_limits<T>::lowest();
      if (v >= hi) return std::numeric_limits<T>::max();
      return static_cast<T>(v);
    }
    if (v <= -9.2233720368547758e18) return static_cast<T>(std::numeric_limits<int64_t>::lowest());
    if (v >= 9.2233720368547758e18) return static_cast<T>(std::numeric_limits<int64_t>::max());
    return static_cast<T>(static_cast<int64_t>(v));  // modular narrowing (well defined in C++20)
  }
}

template <class T>
Params<T> unary_params(UnaryOp op, double alpha, double beta) {
  const bool sat = op == UnaryOp::Clamp;
  return {scalar_to<T>(alpha, sat), scalar_to<T>(beta, sat)};
}

template <class T>
Params<T> binary_params(double alpha, double beta) {
  return {scalar_to<T>(alpha, false), scalar_to<T>(beta, false)};
}

// ---- math wrappers (float / double overloads callable on host and device) ----

template <class T>
PG_HD PG_INLINE T m_exp(T x) {
  if constexpr (std::is_same_v<T, float>)
    return ::expf(x);
  else
    return ::exp(x);
}
template <class T>
PG_HD PG_INLINE T m_expm1(T x) {
  if constexpr (std::is_same_v<T, float>)
    return ::expm1f(x);
  else
    return ::expm1(x);
}
template <class T>
PG_HD PG_INLINE T m_log(T x) {
  if constexpr (std::is_same_v<T, float>)
    return ::logf(x);
  else
    return ::log(x);
}
template <class T>
PG_HD PG_INLINE T m_log1p(T x) {
  if constexpr (std::is_same_v<T, float>)
    return ::log1pf(x);
  else
    return ::log1p(x);
}
template <class T>
PG_HD PG_INLINE T m_sqrt(T x) {
  if constexpr (std::is_same_v<T, float>)
    return ::sqrtf(x);
  else
    return ::sqrt(x);
}
template <class T>
PG_HD PG_INLINE T m_tanh(T x) {
  if constexpr (std::is_same_v<T, float>)
    return ::tanhf(x);
  else
    return ::tanh(x);
}
template <class T>
PG_HD PG_INLINE T m_pow(T x, T y) {
  if constexpr (std::is_same_v<T, float>)
    return ::powf(x, y);
  else
    return ::pow(x, y);
}
template <class T>
PG_HD PG_INLINE T m_fabs(T x) {
  if constexpr (std::is_same_v<T, float>)
    return ::fabsf(x);
  else
    return ::fabs(x);
}

// 1 / (1 + e^-x) without overflow: e^-|x| never exceeds 1; for x < 0 it is e^x / (1 + e^x).
template <class T>
PG_HD PG_INLINE T stable_sigmoid(T x) {
  const T e = m_exp(-m_fabs(x));  // one exp, branch-free (vectorisable), NaN propagates
  const T s = T(1) / (T(1) + e);
  return x >= T(0) ? s : e * s;
}

template <class T>
PG_HD PG_INLINE T sign_of(T x) {
  if constexpr (std::is_unsigned_v<T>) {
    return static_cast<T>(x > T(0) ? 1 : 0);
  } else {
    return static_cast<T>((T(0) < x) - (x < T(0)));
  }
}

// ---- per-element expressions, op fixed at compile time ----

template <UnaryOp OP, class T>
PG_HD PG_INLINE T unary_op(T x, const Params<T>& p) {
  if constexpr (unary_float_only(OP) && !std::is_floating_point_v<T>) {
    return T(0);  // unreachable: the launchers reject integer dtypes for float-only ops
  } else if constexpr (OP == UnaryOp::Neg) {
    return static_cast<T>(-x);
  } else if constexpr (OP == UnaryOp::Abs) {
    if constexpr (std::is_floating_point_v<T>)
      return m_fabs(x);
    else if constexpr (std::is_unsigned_v<T>)
      return x;
    else
      return x < T(0) ? static_cast<T>(-x) : x;
  } else if constexpr (OP == UnaryOp::Exp) {
    return m_exp(x);
  } else if constexpr (OP == UnaryOp::Log) {
    return m_log(x);
  } else if constexpr (OP == UnaryOp::Sqrt) {
    return m_sqrt(x);
  } else if constexpr (OP == UnaryOp::Relu) {
    if constexpr (std::is_unsigned_v<T>)
      return x;
    else
      return x < T(0) ? T(0) : x;  // NaN propagates
  } else if constexpr (OP == UnaryOp::LeakyRelu) {
    return x > T(0) ? x : p.alpha * x;
  } else if constexpr (OP == UnaryOp::Selu) {
    return x > T(0) ? T(kSeluScale) * x : T(kSeluScale * kSeluAlpha) * m_expm1(x);
  } else if constexpr (OP == UnaryOp::Sigmoid) {
    return stable_sigmoid(x);
  } else if constexpr (OP == UnaryOp::Tanh) {
    return m_tanh(x);
  } else if constexpr (OP == UnaryOp::Softplus) {
    const T bx = p.alpha * x;  // alpha = beta, beta = threshold (PyTorch)
    return bx > p.beta ? x : m_log1p(m_exp(bx)) / p.alpha;
  } else if constexpr (OP == UnaryOp::Clamp) {
    const T y = x < p.alpha ? p.alpha : x;  // min(max(x, lo), hi); NaN propagates
    return y > p.beta ? p.beta : y;
  } else if constexpr (OP == UnaryOp::PowScalar) {
    return m_pow(x, p.alpha);
  } else if constexpr (OP == UnaryOp::AddScalar) {
    return static_cast<T>(x + p.alpha);
  } else if constexpr (OP == UnaryOp::MulScalar) {
    return static_cast<T>(x * p.alpha);
  } else if constexpr (OP == UnaryOp::RSubScalar) {
    return static_cast<T>(p.alpha - x);
  } else if constexpr (OP == UnaryOp::RDivScalar) {
    return p.alpha / x;
  } else if constexpr (OP == UnaryOp::Square) {
    return static_cast<T>(x * x);
  } else {
    static_assert(OP == UnaryOp::Sign, "unhandled UnaryOp");
    return sign_of(x);
  }
}

template <BinaryOp OP, class T>
PG_HD PG_INLINE T binary_op(T a, T b, const Params<T>& p) {
  if constexpr (binary_is_comparison(OP) || (binary_float_only(OP) && !std::is_floating_point_v<T>)) {
    return T(0);  // unreachable: comparisons use compare_op; the launchers reject the rest
  } else if constexpr (OP == BinaryOp::Add) {
    return static_cast<T>(a + p.alpha * b);
  } else if constexpr (OP == BinaryOp::Sub) {
    return static_cast<T>(a - p.alpha * b);
  } else if constexpr (OP == BinaryOp::Mul) {
    return static_cast<T>(a * b);
  } else if constexpr (OP == BinaryOp::Div) {
    if constexpr (std::is_floating_point_v<T>) {
      return a / b;
    } else {
      // Integer division truncates; x / 0 is defined as 0 here (no SIGFPE), and MIN / -1 wraps.
      if (b == T(0)) return T(0);
      if constexpr (std::is_signed_v<T>) {
        if (b == T(-1)) return static_cast<T>(T(0) - static_cast<std::make_unsigned_t<T>>(a));
      }
      return static_cast<T>(a / b);
    }
  } else if constexpr (OP == BinaryOp::Pow) {
    return m_pow(a, b);
  } else if constexpr (OP == BinaryOp::Maximum) {
    if constexpr (std::is_floating_point_v<T>)
      return (a > b || a != a) ? a : b;  // NaN propagates
    else
      return a > b ? a : b;
  } else if constexpr (OP == BinaryOp::Minimum) {
    if constexpr (std::is_floating_point_v<T>)
      return (a < b || a != a) ? a : b;
    else
      return a < b ? a : b;
  } else if constexpr (OP == BinaryOp::ReluBackward) {
    return b > T(0) ? a : T(0);
  } else if constexpr (OP == BinaryOp::LeakyReluBackward) {
    return b > T(0) ? a : a * p.alpha;
  } else if constexpr (OP == BinaryOp::SeluBackward) {
    return b > T(0) ? a * T(kSeluScale) : a * (T(kSeluScale * kSeluAlpha) * m_exp(b));
  } else if constexpr (OP == BinaryOp::SigmoidBackward) {
    return a * (b * (T(1) - b));
  } else if constexpr (OP == BinaryOp::TanhBackward) {
    return a * (T(1) - b * b);
  } else if constexpr (OP == BinaryOp::SoftplusBackward) {
    const T z = p.alpha * b;
    return z > p.beta ? a : a * stable_sigmoid(z);
  } else {
    static_assert(OP == BinaryOp::AbsBackward, "unhandled BinaryOp");
    return static_cast<T>(a * sign_of(b));
  }
}

template <BinaryOp OP, class T>
PG_HD PG_INLINE bool compare_op(T a, T b) {
  if constexpr (OP == BinaryOp::Eq)
    return a == b;
  else if constexpr (OP == BinaryOp::Ne)
    return a != b;
  else if constexpr (OP == BinaryOp::Lt)
    return a < b;
  else if constexpr (OP == BinaryOp::Le)
    return a <= b;
  else if constexpr (OP == BinaryOp::Gt)
    return a > b;
  else if constexpr (OP == BinaryOp::Ge)
    return a >= b;
  else
    return false;  // unreachable: not a comparison
}

// ---- the same expressions with a runtime op ----

#define PG_EW_UNARY_CASE(NAME) \
  case UnaryOp::NAME:          \
    return unary_op<UnaryOp::NAME>(x, p);

template <class T>
PG_HD PG_INLINE T unary_apply(UnaryOp op, T x, const Params<T>& p) {
  switch (op) {
    PG_EW_UNARY_CASE(Neg)
    PG_EW_UNARY_CASE(Abs)
    PG_EW_UNARY_CASE(Exp)
    PG_EW_UNARY_CASE(Log)
    PG_EW_UNARY_CASE(Sqrt)
    PG_EW_UNARY_CASE(Relu)
    PG_EW_UNARY_CASE(LeakyRelu)
    PG_EW_UNARY_CASE(Selu)
    PG_EW_UNARY_CASE(Sigmoid)
    PG_EW_UNARY_CASE(Tanh)
    PG_EW_UNARY_CASE(Softplus)
    PG_EW_UNARY_CASE(Clamp)
    PG_EW_UNARY_CASE(PowScalar)
    PG_EW_UNARY_CASE(AddScalar)
    PG_EW_UNARY_CASE(MulScalar)
    PG_EW_UNARY_CASE(RSubScalar)
    PG_EW_UNARY_CASE(RDivScalar)
    PG_EW_UNARY_CASE(Square)
    PG_EW_UNARY_CASE(Sign)
  }
  return x;
}
#undef PG_EW_UNARY_CASE

#define PG_EW_BINARY_CASE(NAME) \
  case BinaryOp::NAME:          \
    return binary_op<BinaryOp::NAME>(a, b, p);

template <class T>
PG_HD PG_INLINE T binary_apply(BinaryOp op, T a, T b, const Params<T>& p) {
  switch (op) {
    PG_EW_BINARY_CASE(Add)
    PG_EW_BINARY_CASE(Sub)
    PG_EW_BINARY_CASE(Mul)
    PG_EW_BINARY_CASE(Div)
    PG_EW_BINARY_CASE(Pow)
    PG_EW_BINARY_CASE(Maximum)
    PG_EW_BINARY_CASE(Minimum)
    PG_EW_BINARY_CASE(ReluBackward)
    PG_EW_BINARY_CASE(LeakyReluBackward)
    PG_EW_BINARY_CASE(SeluBackward)
    PG_EW_BINARY_CASE(SigmoidBackward)
    PG_EW_BINARY_CASE(TanhBackward)
    PG_EW_BINARY_CASE(SoftplusBackward)
    PG_EW_BINARY_CASE(AbsBackward)
    default:
      return T(0);  // comparisons: compare_apply
  }
}
#undef PG_EW_BINARY_CASE

template <class T>
PG_HD PG_INLINE bool compare_apply(BinaryOp op, T a, T b) {
  switch (op) {
    case BinaryOp::Eq:
      return compare_op<BinaryOp::Eq>(a, b);
    case BinaryOp::Ne:
      return compare_op<BinaryOp::Ne>(a, b);
    case BinaryOp::Lt:
      return compare_op<BinaryOp::Lt>(a, b);
    case BinaryOp::Le:
      return compare_op<BinaryOp::Le>(a, b);
    case BinaryOp::Gt:
      return compare_op<BinaryOp::Gt>(a, b);
    case BinaryOp::Ge:
      return compare_op<BinaryOp::Ge>(a, b);
    default:
      return false;
  }
}

template <class T>
PG_HD PG_INLINE T clamp_backward_value(T g, T x, T lo, T hi) {
  return (x >= lo && x <= hi) ? g : T(0);
}

// ---- generic bodies for parallel_for ----

template <class T>
struct UnaryContigBody {
  UnaryOp op;
  T* out;
  const T* x;
  Params<T> p;
  PG_HD void operator()(int64_t i) const { out[i] = unary_apply(op, x[i], p); }
};

template <class T>
struct UnaryStridedBody {
  UnaryOp op;
  T* out;
  const T* x;
  Params<T> p;
  StridedIndexer<2> ix;
  PG_HD void operator()(int64_t i) const {
    int64_t o[2];
    ix.offsets(i, o);
    out[o[0]] = unary_apply(op, x[o[1]], p);
  }
};

template <class T>
struct BinaryContigBody {
  BinaryOp op;
  T* out;
  const T* a;
  const T* b;
  Params<T> p;
  PG_HD void operator()(int64_t i) const { out[i] = binary_apply(op, a[i], b[i], p); }
};

template <class T>
struct BinaryStridedBody {
  BinaryOp op;
  T* out;
  const T* a;
  const T* b;
  Params<T> p;
  StridedIndexer<3> ix;
  PG_HD void operator()(int64_t i) const {
    int64_t o[3];
    ix.offsets(i, o);
    out[o[0]] = binary_apply(op, a[o[1]], b[o[2]], p);
  }
};

template <class T>
struct CompareContigBody {
  BinaryOp op;
  bool* out;
  const T* a;
  const T* b;
  PG_HD void operator()(int64_t i) const { out[i] = compare_apply(op, a[i], b[i]); }
};

template <class T>
struct CompareStridedBody {
  BinaryOp op;
  bool* out;
  const T* a;
  const T* b;
  StridedIndexer<3> ix;
  PG_HD void operator()(int64_t i) const {
    int64_t o[3];
    ix.offsets(i, o);
    out[o[0]] = compare_apply(op, a[o[1]], b[o[2]]);
  }
};

template <class T>
struct WhereContigBody {
  T* out;
  const bool* c;
  const T* a;
  const T* b;
  PG_HD void operator()(int64_t i) const { out[i] = c[i] ? a[i] : b[i]; }
};

template <class T>
struct WhereStridedBody {
  T* out;
  const bool* c;
  const T* a;
  const T* b;
  StridedIndexer<4> ix;
  PG_HD void operator()(int64_t i) const {
    int64_t o[4];
    ix.offsets(i, o);
    out[o[0]] = c[o[1]] ? a[o[2]] : b[o[3]];
  }
};

template <class T>
struct ClampBackwardContigBody {
  T* out;
  const T* g;
  const T* x;
  T lo, hi;
  PG_HD void operator()(int64_t i) const { out[i] = clamp_backward_value(g[i], x[i], lo, hi); }
};

template <class T>
struct ClampBackwardStridedBody {
  T* out;
  const T* g;
  const T* x;
  T lo, hi;
  StridedIndexer<3> ix;
  PG_HD void operator()(int64_t i) const {
    int64_t o[3];
    ix.offsets(i, o);
    out[o[0]] = clamp_backward_value(g[o[1]], x[o[2]], lo, hi);
  }
};

// ---- validation shared by the launchers (host) ----

inline void check_operand(const char* op, const Tensor& out, const Tensor& t, const char* what) {
  PG_CHECK(t.defined(), op, ": undefined ", what, " tensor");
  PG_CHECK(t.device() == out.device(), op, ": ", what, " is on ", t.device(), " but the output is on ", out.device());
  broadcast_strides(t, out.shape(), op);  // throws when not broadcastable
}

inline bool same_shape_contiguous(const Tensor& out, std::initializer_list<const Tensor*> ins) {
  if (!out.is_contiguous()) return false;
  for (const Tensor* t : ins) {
    if (!t->is_contiguous() || t->shape() != out.shape()) return false;
  }
  return true;
}

// Backend-specific fast paths, specialised in kernels/cpu/elementwise.cpp and
// kernels/cuda/elementwise.cu before the launchers are instantiated. Each returns true when it
// handled the call (inputs already validated, numel > 0).
template <class Backend>
struct FastPath;

}  // namespace pg::kernels::ew

namespace pg::kernels {

template <class Backend>
void unary(UnaryOp op, const Tensor& out, const Tensor& x, double alpha, double beta) {
  const char* name = unary_name(op);
  PG_CHECK(out.defined(), name, ": undefined output tensor");
  ew::check_operand(name, out, x, "input");
  PG_CHECK(out.dtype() == x.dtype(), name, ": output dtype ", dtype_name(out.dtype()), " != input dtype ",
           dtype_name(x.dtype()));
  PG_CHECK(x.dtype() != DType::b8, name, ": dtype bool is not supported (expected a numeric dtype)");
  PG_CHECK(!ew::unary_float_only(op) || is_floating(x.dtype()), name, ": dtype ", dtype_name(x.dtype()),
           " is not supported (expected float32 or float64)");
  const int64_t n = out.numel();
  if (n == 0) return;
  if (ew::FastPath<Backend>::unary(op, out, x, alpha, beta)) return;
  dispatch_numeric(x.dtype(), name, [&]<class T>() {
    const ew::Params<T> p = ew::unary_params<T>(op, alpha, beta);
    T* o = static_cast<T*>(out.raw_data());
    const T* xp = static_cast<const T*>(x.raw_data());
    if (ew::same_shape_contiguous(out, {&x})) {
      parallel_for<Backend>(n, ew::UnaryContigBody<T>{op, o, xp, p});
    } else {
      const auto ix = make_indexer<2>(out.shape(), {out.strides(), broadcast_strides(x, out.shape(), name)}, name);
      parallel_for<Backend>(n, ew::UnaryStridedBody<T>{op, o, xp, p, ix});
    }
  });
}

template <class Backend>
void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, double alpha, double beta) {
  const char* name = binary_name(op);
  PG_CHECK(out.defined(), name, ": undefined output tensor");
  ew::check_operand(name, out, a, "first input");
  ew::check_operand(name, out, b, "second input");
  PG_CHECK(a.dtype() == b.dtype(), name, ": dtype mismatch: ", dtype_name(a.dtype()), " vs ", dtype_name(b.dtype()));
  const bool cmp = ew::binary_is_comparison(op);
  const DType want = cmp ? DType::b8 : a.dtype();
  PG_CHECK(out.dtype() == want, name, ": output dtype ", dtype_name(out.dtype()), " (expected ", dtype_name(want), ")");
  PG_CHECK(cmp || a.dtype() != DType::b8, name, ": dtype bool is not supported (expected a numeric dtype)");
  PG_CHECK(!ew::binary_float_only(op) || is_floating(a.dtype()), name, ": dtype ", dtype_name(a.dtype()),
           " is not supported (expected float32 or float64)");
  const int64_t n = out.numel();
  if (n == 0) return;
  if (ew::FastPath<Backend>::binary(op, out, a, b, alpha, beta)) return;
  const bool contig = ew::same_shape_contiguous(out, {&a, &b});
  auto indexer = [&] {
    return make_indexer<3>(
        out.shape(), {out.strides(), broadcast_strides(a, out.shape(), name), broadcast_strides(b, out.shape(), name)},
        name);
  };
  if (cmp) {
    dispatch_all(a.dtype(), name, [&]<class T>() {
      bool* o = static_cast<bool*>(out.raw_data());
      const T* ap = static_cast<const T*>(a.raw_data());
      const T* bp = static_cast<const T*>(b.raw_data());
      if (contig) {
        parallel_for<Backend>(n, ew::CompareContigBody<T>{op, o, ap, bp});
      } else {
        parallel_for<Backend>(n, ew::CompareStridedBody<T>{op, o, ap, bp, indexer()});
      }
    });
    return;
  }
  dispatch_numeric(a.dtype(), name, [&]<class T>() {
    const ew::Params<T> p = ew::binary_params<T>(alpha, beta);
    T* o = static_cast<T*>(out.raw_data());
    const T* ap = static_cast<const T*>(a.raw_data());
    const T* bp = static_cast<const T*>(b.raw_data());
    if (contig) {
      parallel_for<Backend>(n, ew::BinaryContigBody<T>{op, o, ap, bp, p});
    } else {
      parallel_for<Backend>(n, ew::BinaryStridedBody<T>{op, o, ap, bp, p, indexer()});
    }
  });
}

template <class Backend>
void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  const char* name = "where";
  PG_CHECK(out.defined(), name, ": undefined output tensor");
  ew::check_operand(name, out, cond, "condition");
  ew::check_operand(name, out, a, "first input");
  ew::check_operand(name, out, b, "second input");
  PG_CHECK(cond.dtype() == DType::b8, name, ": the condition must be bool, got ", dtype_name(cond.dtype()));
  PG_CHECK(a.dtype() == b.dtype() && out.dtype() == a.dtype(), name, ": dtype mismatch: ", dtype_name(a.dtype()), ", ",
           dtype_name(b.dtype()), " -> ", dtype_name(out.dtype()));
  const int64_t n = out.numel();
  if (n == 0) return;
  if (ew::FastPath<Backend>::where(out, cond, a, b)) return;
  dispatch_all(a.dtype(), name, [&]<class T>() {
    T* o = static_cast<T*>(out.raw_data());
    const bool* cp = static_cast<const bool*>(cond.raw_data());
    const T* ap = static_cast<const T*>(a.raw_data());
    const T* bp = static_cast<const T*>(b.raw_data());
    if (ew::same_shape_contiguous(out, {&cond, &a, &b})) {
      parallel_for<Backend>(n, ew::WhereContigBody<T>{o, cp, ap, bp});
    } else {
      const auto ix =
          make_indexer<4>(out.shape(),
                          {out.strides(), broadcast_strides(cond, out.shape(), name),
                           broadcast_strides(a, out.shape(), name), broadcast_strides(b, out.shape(), name)},
                          name);
      parallel_for<Backend>(n, ew::WhereStridedBody<T>{o, cp, ap, bp, ix});
    }
  });
}

template <class Backend>
void clamp_backward(const Tensor& out, const Tensor& g, const Tensor& x, double lo, double hi) {
  const char* name = "clamp_backward";
  PG_CHECK(out.defined(), name, ": undefined output tensor");
  ew::check_operand(name, out, g, "gradient");
  ew::check_operand(name, out, x, "input");
  PG_CHECK(g.dtype() == x.dtype() && out.dtype() == x.dtype(), name, ": dtype mismatch: ", dtype_name(g.dtype()), ", ",
           dtype_name(x.dtype()), " -> ", dtype_name(out.dtype()));
  const int64_t n = out.numel();
  if (n == 0) return;
  if (ew::FastPath<Backend>::clamp_backward(out, g, x, lo, hi)) return;
  dispatch_floating(x.dtype(), name, [&]<class T>() {
    T* o = static_cast<T*>(out.raw_data());
    const T* gp = static_cast<const T*>(g.raw_data());
    const T* xp = static_cast<const T*>(x.raw_data());
    const T tlo = static_cast<T>(lo), thi = static_cast<T>(hi);
    if (ew::same_shape_contiguous(out, {&g, &x})) {
      parallel_for<Backend>(n, ew::ClampBackwardContigBody<T>{o, gp, xp, tlo, thi});
    } else {
      const auto ix = make_indexer<3>(
          out.shape(),
          {out.strides(), broadcast_strides(g, out.shape(), name), broadcast_strides(x, out.shape(), name)}, name);
      parallel_for<Backend>(n, ew::ClampBackwardStridedBody<T>{o, gp, xp, tlo, thi, ix});
    }
  });
}

}  // namespace pg::kernels
