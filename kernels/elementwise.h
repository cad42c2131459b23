// Elementwise kernel launchers (one per backend). `out` is preallocated by the ops layer with
// the broadcast shape of the inputs; inputs may have any strides and broadcast to out.shape().
// Defined in kernels/common/elementwise_impl.h; instantiated in kernels/cpu/elementwise.cpp and
// kernels/cuda/elementwise.cu.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

// y = f(x; alpha, beta). Float-only ops are marked (F); the rest accept any numeric dtype.
enum class UnaryOp : uint8_t {
  Neg,         // -x
  Abs,         // |x|
  Exp,         // (F) e^x
  Log,         // (F) ln x
  Sqrt,        // (F) sqrt x
  Relu,        // max(x, 0)
  LeakyRelu,   // (F) x > 0 ? x : alpha * x
  Selu,        // (F) scale * (x > 0 ? x : alpha_selu * (e^x - 1)) with the SELU constants
  Sigmoid,     // (F) 1 / (1 + e^-x), computed without overflow
  Tanh,        // (F)
  Softplus,    // (F) (1/alpha) log(1 + e^(alpha x)); x when alpha*x > beta (threshold)
  Clamp,       // min(max(x, alpha), beta)
  PowScalar,   // (F) x^alpha
  AddScalar,   // x + alpha
  MulScalar,   // x * alpha
  RSubScalar,  // alpha - x
  RDivScalar,  // (F) alpha / x
  Square,      // x * x
  Sign,        // -1, 0, 1
};

// out = f(a, b; alpha). Comparisons write bool outputs; the *Backward ops are the fused
// gradient helpers (a = incoming gradient, b = the saved forward input x or output y).
enum class BinaryOp : uint8_t {
  Add,                // a + alpha * b  (alpha = 1 for plain add)
  Sub,                // a - alpha * b
  Mul,                // a * b
  Div,                // a / b (integer division truncates; division by zero is the caller's concern)
  Pow,                // (F) a^b
  Maximum,            // max(a, b)
  Minimum,            // min(a, b)
  Eq, Ne, Lt, Le, Gt, Ge,  // bool results
  ReluBackward,       // a * (b > 0)
  LeakyReluBackward,  // (F) a * (b > 0 ? 1 : alpha)
  SeluBackward,       // (F) a * selu'(b)   (b = x)
  SigmoidBackward,    // (F) a * b * (1 - b) (b = y)
  TanhBackward,       // (F) a * (1 - b^2)   (b = y)
  SoftplusBackward,   // (F) a * sigmoid(alpha * b), or a where alpha * b > beta
                      //     (alpha = softplus beta, beta = threshold, b = x)
  AbsBackward,        // a * sign(b)
};

bool is_comparison(BinaryOp op);
bool unary_requires_float(UnaryOp op);
bool binary_requires_float(BinaryOp op);
const char* unary_name(UnaryOp op);
const char* binary_name(BinaryOp op);

// Testing hook: with the fast paths off, the CPU backend runs the generic parallel_for bodies of
// kernels/common/elementwise_impl.h (the ones the CUDA backend runs for non-float32 or
// misaligned inputs) instead of its templated, vectorised loops. On by default; process-wide.
void set_cpu_fast_paths(bool enabled);
bool cpu_fast_paths_enabled();

template <class Backend>
void unary(UnaryOp op, const Tensor& out, const Tensor& x, double alpha = 0.0, double beta = 0.0);

template <class Backend>
void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b, double alpha = 1.0, double beta = 0.0);

// out = cond ? a : b (cond is bool; all broadcast to out).
template <class Backend>
void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);

// out = (x >= lo && x <= hi) ? g : 0  — the clamp backward (float only).
template <class Backend>
void clamp_backward(const Tensor& out, const Tensor& g, const Tensor& x, double lo, double hi);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_ELEMENTWISE_LAUNCHERS(X, B)                                                        \
  X(B, void, unary, (UnaryOp, const Tensor&, const Tensor&, double, double))                  \
  X(B, void, binary, (BinaryOp, const Tensor&, const Tensor&, const Tensor&, double, double)) \
  X(B, void, where, (const Tensor&, const Tensor&, const Tensor&, const Tensor&))             \
  X(B, void, clamp_backward, (const Tensor&, const Tensor&, const Tensor&, double, double))

}  // namespace pg::kernels
