// Elementwise ops: validation, output allocation, backend dispatch and the backward formulas.
// Backward functions run with grad mode off and are written with the public ops, so they work on
// every backend; the gradients of broadcast inputs are summed back with sum_to_shape.
#include "ops/elementwise.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/elementwise.h"
#include "ops/check.h"
#include "ops/reduce.h"

namespace pg {

namespace {

using autograd::BackwardContext;
using kernels::BinaryOp;
using kernels::UnaryOp;
using Grads = std::vector<Tensor>;

constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor run_unary(const char* name, UnaryOp op, const Tensor& x, double alpha = 0.0, double beta = 0.0) {
  Tensor out = empty(x.shape(), x.options());
  on_backend(x.device(), name, [&]<class B>() { kernels::unary<B>(op, out, x, alpha, beta); });
  return out;
}

Tensor run_binary(const char* name, BinaryOp op, const Tensor& a, const Tensor& b, double alpha = 1.0,
                  double beta = 0.0) {
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  const DType dt = kernels::is_comparison(op) ? DType::b8 : a.dtype();
  Tensor out = empty(shape, TensorOptions(dt, a.device()));
  on_backend(a.device(), name, [&]<class B>() { kernels::binary<B>(op, out, a, b, alpha, beta); });
  return out;
}

// The fused *Backward kernels: grad_in = f(g, saved).
Tensor run_backward(BinaryOp op, const Tensor& g, const Tensor& saved, double alpha = 1.0, double beta = 0.0) {
  return run_binary(kernels::binary_name(op), op, g, saved, alpha, beta);
}

Tensor reduce_grad(const Tensor& g, const Shape& shape) {
  return g.shape() == shape ? g : sum_to_shape(g, shape);
}

// Cheap pre-check so nothing (captured shapes, std::function) is built when no node is needed.
template <class... Ts>
bool needs_grad(const Ts&... ts) {
  return autograd::grad_enabled() && (ts.requires_grad() || ...);
}

Tensor zero_scalar(const Tensor& like) {
  return zeros({}, like.options());
}

// A 0-dim tensor holding `s` in x's dtype (integers: saturated into range, NaN → 0).
Tensor scalar_like(const Tensor& x, double s) {
  if (!is_floating(x.dtype())) {
    if (std::isnan(s)) s = 0.0;
    dispatch_all(x.dtype(), "scalar", [&]<class T>() {
      s = std::fmax(s, static_cast<double>(std::numeric_limits<T>::lowest()));
      if (s >= static_cast<double>(std::numeric_limits<T>::max()))
        s = static_cast<double>(std::numeric_limits<T>::max());
    });
  }
  return full({}, s, x.options());
}

// ---- shared implementations ----

Tensor add_scalar_impl(const char* name, const Tensor& a, double s) {
  check::defined(name, "a", a);
  check::numeric(name, "a", a);
  Tensor out = run_unary(name, UnaryOp::AddScalar, a, s);
  if (needs_grad(a))
    autograd::record(name, {a}, {out}, {}, [](const BackwardContext&, const Grads& g) -> Grads { return {g[0]}; });
  return out;
}

Tensor clamp_impl(const char* name, const Tensor& x, double lo, double hi) {
  check::defined(name, "x", x);
  check::numeric(name, "x", x);
  PG_CHECK(!std::isnan(lo) && !std::isnan(hi), name, ": bounds must not be NaN (got ", lo, ", ", hi, ")");
  Tensor out = run_unary(name, UnaryOp::Clamp, x, lo, hi);
  if (needs_grad(x))
    autograd::record(name, {x}, {out}, {x}, [lo, hi](const BackwardContext& ctx, const Grads& g) -> Grads {
      const Tensor& xs = ctx.saved[0];
      Tensor gi = empty(xs.shape(), xs.options());
      on_backend(xs.device(), "clamp_backward", [&]<class B>() { kernels::clamp_backward<B>(gi, g[0], xs, lo, hi); });
      return {gi};
    });
  return out;
}

// Unary float op whose gradient is a fused backward kernel of (g, saved) where saved is the
// input (save_output = false) or the output.
Tensor activation(const char* name, UnaryOp op, BinaryOp bop, const Tensor& x, bool save_output, double alpha = 0.0,
                  double beta = 0.0, bool float_only = true) {
  check::defined(name, "x", x);
  if (float_only) check::floating(name, "x", x);
  check::numeric(name, "x", x);
  Tensor out = run_unary(name, op, x, alpha, beta);
  if (needs_grad(x))
    autograd::record(name, {x}, {out}, {save_output ? out : x},
                     [bop, alpha, beta](const BackwardContext& ctx, const Grads& g) -> Grads {
                       return {run_backward(bop, g[0], ctx.saved[0], alpha, beta)};
                     });
  return out;
}

Tensor compare(const char* name, BinaryOp op, const Tensor& a, const Tensor& b) {
  check::same_as(name, "a", a, "b", b);
  return run_binary(name, op, a, b);
}

// a > s / a < s with a scalar. Integer and bool tensors compare exactly against the real s:
// a > s ⇔ a > floor(s) and a < s ⇔ a < ceil(s), with out-of-range thresholds answered directly.
Tensor compare_scalar(const char* name, BinaryOp op, const Tensor& a, double s) {
  check::defined(name, "a", a);
  if (is_floating(a.dtype())) return run_binary(name, op, a, full({}, s, a.options()));
  const TensorOptions bool_opts(DType::b8, a.device());
  if (std::isnan(s)) return zeros(a.shape(), bool_opts);
  double lo = 0.0, hi = 1.0;
  dispatch_all(a.dtype(), name, [&]<class T>() {
    lo = static_cast<double>(std::numeric_limits<T>::lowest());
    hi = static_cast<double>(std::numeric_limits<T>::max());
  });
  if (op == BinaryOp::Gt) {
    const double t = std::floor(s);
    if (t >= hi) return zeros(a.shape(), bool_opts);
    if (t < lo) return ones(a.shape(), bool_opts);
    return run_binary(name, op, a, full({}, t, a.options()));
  }
  const double t = std::ceil(s);
  if (t <= lo) return zeros(a.shape(), bool_opts);
  if (t > hi) return ones(a.shape(), bool_opts);
  return run_binary(name, op, a, full({}, t, a.options()));
}

// maximum/minimum: `mask` selects a (ties included).
Tensor extremum(const char* name, BinaryOp op, BinaryOp tie_to_a, const Tensor& a, const Tensor& b) {
  check::same_as(name, "a", a, "b", b);
  check::numeric(name, "a", a);
  Tensor out = run_binary(name, op, a, b);
  if (needs_grad(a, b))
    autograd::record(name, {a, b}, {out}, {a, b},
                     [tie_to_a, sa = a.shape(), sb = b.shape()](const BackwardContext& ctx, const Grads& g) -> Grads {
                       const Tensor mask = run_binary("extremum_backward", tie_to_a, ctx.saved[0], ctx.saved[1]);
                       const Tensor zero = zero_scalar(g[0]);
                       Grads r(2);
                       if (ctx.needs_input_grad[0]) r[0] = reduce_grad(where(mask, g[0], zero), sa);
                       if (ctx.needs_input_grad[1]) r[1] = reduce_grad(where(mask, zero, g[0]), sb);
                       return r;
                     });
  return out;
}

}  // namespace

// ---- broadcasting ----

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t nd = std::max(a.size(), b.size());
  Shape out(nd);
  for (size_t i = 0; i < nd; ++i) {
    const int64_t da = i < nd - a.size() ? 1 : a[i - (nd - a.size())];
    const int64_t db = i < nd - b.size() ? 1 : b[i - (nd - b.size())];
    PG_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", shape_str(a), " and ", shape_str(b),
             " are not broadcastable (dim ", i, " of the broadcast shape: ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// ---- binary (tensor, tensor) ----

Tensor add(const Tensor& a, const Tensor& b, double alpha) {
  check::same_as("add", "a", a, "b", b);
  check::numeric("add", "a", a);
  Tensor out = run_binary("add", BinaryOp::Add, a, b, alpha);
  if (needs_grad(a, b))
    autograd::record("add", {a, b}, {out}, {},
                     [alpha, sa = a.shape(), sb = b.shape()](const BackwardContext& ctx, const Grads& g) -> Grads {
                       Grads r(2);
                       if (ctx.needs_input_grad[0]) r[0] = reduce_grad(g[0], sa);
                       if (ctx.needs_input_grad[1]) r[1] = reduce_grad(alpha == 1.0 ? g[0] : mul(g[0], alpha), sb);
                       return r;
                     });
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b, double alpha) {
  check::same_as("sub", "a", a, "b", b);
  check::numeric("sub", "a", a);
  Tensor out = run_binary("sub", BinaryOp::Sub, a, b, alpha);
  if (needs_grad(a, b))
    autograd::record("sub", {a, b}, {out}, {},
                     [alpha, sa = a.shape(), sb = b.shape()](const BackwardContext& ctx, const Grads& g) -> Grads {
                       Grads r(2);
                       if (ctx.needs_input_grad[0]) r[0] = reduce_grad(g[0], sa);
                       if (ctx.needs_input_grad[1])
                         r[1] = reduce_grad(alpha == 1.0 ? neg(g[0]) : mul(g[0], -alpha), sb);
                       return r;
                     });
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  check::same_as("mul", "a", a, "b", b);
  check::numeric("mul", "a", a);
  Tensor out = run_binary("mul", BinaryOp::Mul, a, b);
  if (needs_grad(a, b))
    autograd::record("mul", {a, b}, {out}, {a, b},
                     [sa = a.shape(), sb = b.shape()](const BackwardContext& ctx, const Grads& g) -> Grads {
                       Grads r(2);
                       if (ctx.needs_input_grad[0]) r[0] = reduce_grad(mul(g[0], ctx.saved[1]), sa);
                       if (ctx.needs_input_grad[1]) r[1] = reduce_grad(mul(g[0], ctx.saved[0]), sb);
                       return r;
                     });
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  check::same_as("div", "a", a, "b", b);
  check::numeric("div", "a", a);
  Tensor out = run_binary("div", BinaryOp::Div, a, b);
  if (needs_grad(a, b))
    autograd::record("div", {a, b}, {out}, {a, b},
                     [sa = a.shape(), sb = b.shape()](const BackwardContext& ctx, const Grads& g) -> Grads {
                       const Tensor& as = ctx.saved[0];
                       const Tensor& bs = ctx.saved[1];
                       Grads r(2);
                       if (ctx.needs_input_grad[0]) r[0] = reduce_grad(div(g[0], bs), sa);
                       // d/db (a / b) = -a / b^2
                       if (ctx.needs_input_grad[1]) r[1] = reduce_grad(div(mul(neg(g[0]), as), square(bs)), sb);
                       return r;
                     });
  return out;
}

Tensor pow(const Tensor& a, const Tensor& b) {
  check::same_as("pow", "a", a, "b", b);
  check::floating("pow", "a", a);
  Tensor out = run_binary("pow", BinaryOp::Pow, a, b);
  if (!needs_grad(a, b)) return out;
  autograd::record("pow", {a, b}, {out}, {a, b, out},
                   [sa = a.shape(), sb = b.shape()](const BackwardContext& ctx, const Grads& g) -> Grads {
                     const Tensor& as = ctx.saved[0];
                     const Tensor& bs = ctx.saved[1];
                     const Tensor& os = ctx.saved[2];
                     const Tensor zero = zero_scalar(g[0]);
                     Grads r(2);
                     if (ctx.needs_input_grad[0]) {
                       // b a^(b-1), defined as 0 where b == 0 (as PyTorch; avoids 0 * inf at a == 0).
                       const Tensor t = mul(mul(g[0], bs), pow(as, sub(bs, 1.0)));
                       r[0] = reduce_grad(where(eq(bs, zero), zero, t), sa);
                     }
                     if (ctx.needs_input_grad[1]) {
                       // a^b ln a, defined as 0 where a == 0 and b >= 0.
                       const Tensor t = mul(mul(g[0], os), log(as));
                       const Tensor mask =
                           where(eq(as, zero), ge(bs, zero), zeros({}, TensorOptions(DType::b8, as.device())));
                       r[1] = reduce_grad(where(mask, zero, t), sb);
                     }
                     return r;
                   });
  return out;
}

Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum("maximum", BinaryOp::Maximum, BinaryOp::Ge, a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum("minimum", BinaryOp::Minimum, BinaryOp::Le, a, b);
}

// ---- with a scalar ----

Tensor add(const Tensor& a, double s) {
  return add_scalar_impl("add", a, s);
}
Tensor sub(const Tensor& a, double s) {
  return add_scalar_impl("sub", a, -s);
}

Tensor rsub(double s, const Tensor& a) {
  check::defined("rsub", "a", a);
  check::numeric("rsub", "a", a);
  Tensor out = run_unary("rsub", UnaryOp::RSubScalar, a, s);
  if (needs_grad(a))
    autograd::record("rsub", {a}, {out}, {},
                     [](const BackwardContext&, const Grads& g) -> Grads { return {neg(g[0])}; });
  return out;
}

Tensor mul(const Tensor& a, double s) {
  check::defined("mul", "a", a);
  check::numeric("mul", "a", a);
  Tensor out = run_unary("mul", UnaryOp::MulScalar, a, s);
  if (needs_grad(a))
    autograd::record("mul", {a}, {out}, {},
                     [s](const BackwardContext&, const Grads& g) -> Grads { return {mul(g[0], s)}; });
  return out;
}

Tensor div(const Tensor& a, double s) {
  check::defined("div", "a", a);
  check::numeric("div", "a", a);
  if (!is_floating(a.dtype())) {
    // Integer division truncates (the scalar is converted to a's dtype; x / 0 gives 0).
    return run_binary("div", BinaryOp::Div, a, scalar_like(a, s));
  }
  // a * (1/s), as PyTorch does for a scalar divisor.
  const double inv = 1.0 / s;
  Tensor out = run_unary("div", UnaryOp::MulScalar, a, inv);
  if (needs_grad(a))
    autograd::record("div", {a}, {out}, {},
                     [inv](const BackwardContext&, const Grads& g) -> Grads { return {mul(g[0], inv)}; });
  return out;
}

Tensor rdiv(double s, const Tensor& a) {
  check::floating("rdiv", "a", a);
  Tensor out = run_unary("rdiv", UnaryOp::RDivScalar, a, s);
  // d/da (s / a) = -s / a^2
  if (needs_grad(a))
    autograd::record("rdiv", {a}, {out}, {a}, [s](const BackwardContext& ctx, const Grads& g) -> Grads {
      return {mul(div(g[0], square(ctx.saved[0])), -s)};
    });
  return out;
}

Tensor pow(const Tensor& a, double exponent) {
  check::floating("pow", "a", a);
  Tensor out =
      exponent == 2.0 ? run_unary("pow", UnaryOp::Square, a) : run_unary("pow", UnaryOp::PowScalar, a, exponent);
  if (needs_grad(a))
    autograd::record("pow", {a}, {out}, {a}, [exponent](const BackwardContext& ctx, const Grads& g) -> Grads {
      const Tensor& as = ctx.saved[0];
      if (exponent == 0.0) return {zeros(as.shape(), as.options())};
      if (exponent == 1.0) return {g[0]};
      return {mul(mul(g[0], pow(as, exponent - 1.0)), exponent)};
    });
  return out;
}

// ---- unary ----

Tensor neg(const Tensor& x) {
  check::defined("neg", "x", x);
  check::numeric("neg", "x", x);
  Tensor out = run_unary("neg", UnaryOp::Neg, x);
  if (needs_grad(x))
    autograd::record("neg", {x}, {out}, {},
                     [](const BackwardContext&, const Grads& g) -> Grads { return {neg(g[0])}; });
  return out;
}

Tensor exp(const Tensor& x) {
  check::floating("exp", "x", x);
  Tensor out = run_unary("exp", UnaryOp::Exp, x);
  if (needs_grad(x))
    autograd::record("exp", {x}, {out}, {out},
                     [](const BackwardContext& ctx, const Grads& g) -> Grads { return {mul(g[0], ctx.saved[0])}; });
  return out;
}

Tensor log(const Tensor& x) {
  check::floating("log", "x", x);
  Tensor out = run_unary("log", UnaryOp::Log, x);
  if (needs_grad(x))
    autograd::record("log", {x}, {out}, {x},
                     [](const BackwardContext& ctx, const Grads& g) -> Grads { return {div(g[0], ctx.saved[0])}; });
  return out;
}

Tensor sqrt(const Tensor& x) {
  check::floating("sqrt", "x", x);
  Tensor out = run_unary("sqrt", UnaryOp::Sqrt, x);
  if (needs_grad(x))
    autograd::record("sqrt", {x}, {out}, {out}, [](const BackwardContext& ctx, const Grads& g) -> Grads {
      return {div(g[0], mul(ctx.saved[0], 2.0))};
    });
  return out;
}

Tensor abs(const Tensor& x) {
  return activation("abs", UnaryOp::Abs, BinaryOp::AbsBackward, x, /*save_output=*/false, 0.0, 0.0,
                    /*float_only=*/false);
}

Tensor square(const Tensor& x) {
  check::defined("square", "x", x);
  check::numeric("square", "x", x);
  Tensor out = run_unary("square", UnaryOp::Square, x);
  if (needs_grad(x))
    autograd::record("square", {x}, {out}, {x}, [](const BackwardContext& ctx, const Grads& g) -> Grads {
      return {mul(mul(g[0], ctx.saved[0]), 2.0)};
    });
  return out;
}

Tensor sign(const Tensor& x) {
  check::defined("sign", "x", x);
  check::numeric("sign", "x", x);
  return run_unary("sign", UnaryOp::Sign, x);
}

Tensor clamp(const Tensor& x, double lo, double hi) {
  return clamp_impl("clamp", x, lo, hi);
}
Tensor clamp_min(const Tensor& x, double lo) {
  return clamp_impl("clamp_min", x, lo, kInf);
}
Tensor clamp_max(const Tensor& x, double hi) {
  return clamp_impl("clamp_max", x, -kInf, hi);
}

Tensor relu(const Tensor& x) {
  // relu'(x) = (y > 0) with y = relu(x), so the output is saved.
  return activation("relu", UnaryOp::Relu, BinaryOp::ReluBackward, x, /*save_output=*/true, 0.0, 0.0,
                    /*float_only=*/false);
}

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return activation("leaky_relu", UnaryOp::LeakyRelu, BinaryOp::LeakyReluBackward, x, false, negative_slope);
}

Tensor selu(const Tensor& x) {
  return activation("selu", UnaryOp::Selu, BinaryOp::SeluBackward, x, false);
}

Tensor sigmoid(const Tensor& x) {
  return activation("sigmoid", UnaryOp::Sigmoid, BinaryOp::SigmoidBackward, x, /*save_output=*/true);
}

Tensor tanh(const Tensor& x) {
  return activation("tanh", UnaryOp::Tanh, BinaryOp::TanhBackward, x, true);
}

Tensor softplus(const Tensor& x, double beta, double threshold) {
  PG_CHECK(beta != 0.0 && !std::isnan(beta), "softplus: beta must be non-zero, got ", beta);
  return activation("softplus", UnaryOp::Softplus, BinaryOp::SoftplusBackward, x, false, beta, threshold);
}

// ---- selection and comparison ----

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check::dtype("where", "cond", cond, DType::b8);
  check::same_as("where", "a", a, "b", b);
  check::same_device("where", "cond", cond, "a", a);
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty(shape, a.options());
  on_backend(a.device(), "where", [&]<class B>() { kernels::where<B>(out, cond, a, b); });
  if (needs_grad(cond, a, b))
    autograd::record("where", {cond, a, b}, {out}, {cond},
                     [sa = a.shape(), sb = b.shape()](const BackwardContext& ctx, const Grads& g) -> Grads {
                       const Tensor& c = ctx.saved[0];
                       const Tensor zero = zero_scalar(g[0]);
                       Grads r(3);
                       if (ctx.needs_input_grad[1]) r[1] = reduce_grad(where(c, g[0], zero), sa);
                       if (ctx.needs_input_grad[2]) r[2] = reduce_grad(where(c, zero, g[0]), sb);
                       return r;
                     });
  return out;
}

Tensor eq(const Tensor& a, const Tensor& b) {
  return compare("eq", BinaryOp::Eq, a, b);
}
Tensor ne(const Tensor& a, const Tensor& b) {
  return compare("ne", BinaryOp::Ne, a, b);
}
Tensor lt(const Tensor& a, const Tensor& b) {
  return compare("lt", BinaryOp::Lt, a, b);
}
Tensor le(const Tensor& a, const Tensor& b) {
  return compare("le", BinaryOp::Le, a, b);
}
Tensor gt(const Tensor& a, const Tensor& b) {
  return compare("gt", BinaryOp::Gt, a, b);
}
Tensor ge(const Tensor& a, const Tensor& b) {
  return compare("ge", BinaryOp::Ge, a, b);
}
Tensor gt(const Tensor& a, double s) {
  return compare_scalar("gt", BinaryOp::Gt, a, s);
}
Tensor lt(const Tensor& a, double s) {
  return compare_scalar("lt", BinaryOp::Lt, a, s);
}

}  // namespace pg
