// Names and properties of the elementwise ops (compiled in every build) and the CPU fast-path
// switch.
#include <atomic>

#include "kernels/common/elementwise_impl.h"

namespace pg::kernels {

namespace {
std::atomic<bool> g_cpu_fast_paths{true};
}

void set_cpu_fast_paths(bool enabled) {
  g_cpu_fast_paths.store(enabled, std::memory_order_relaxed);
}
bool cpu_fast_paths_enabled() {
  return g_cpu_fast_paths.load(std::memory_order_relaxed);
}

bool is_comparison(BinaryOp op) {
  return ew::binary_is_comparison(op);
}
bool unary_requires_float(UnaryOp op) {
  return ew::unary_float_only(op);
}
bool binary_requires_float(BinaryOp op) {
  return ew::binary_float_only(op);
}

const char* unary_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg:
      return "neg";
    case UnaryOp::Abs:
      return "abs";
    case UnaryOp::Exp:
      return "exp";
    case UnaryOp::Log:
      return "log";
    case UnaryOp::Sqrt:
      return "sqrt";
    case UnaryOp::Relu:
      return "relu";
    case UnaryOp::LeakyRelu:
      return "leaky_relu";
    case UnaryOp::Selu:
      return "selu";
    case UnaryOp::Sigmoid:
      return "sigmoid";
    case UnaryOp::Tanh:
      return "tanh";
    case UnaryOp::Softplus:
      return "softplus";
    case UnaryOp::Clamp:
      return "clamp";
    case UnaryOp::PowScalar:
      return "pow";
    case UnaryOp::AddScalar:
      return "add";
    case UnaryOp::MulScalar:
      return "mul";
    case UnaryOp::RSubScalar:
      return "rsub";
    case UnaryOp::RDivScalar:
      return "rdiv";
    case UnaryOp::Square:
      return "square";
    case UnaryOp::Sign:
      return "sign";
  }
  return "unary";
}

const char* binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add:
      return "add";
    case BinaryOp::Sub:
      return "sub";
    case BinaryOp::Mul:
      return "mul";
    case BinaryOp::Div:
      return "div";
    case BinaryOp::Pow:
      return "pow";
    case BinaryOp::Maximum:
      return "maximum";
    case BinaryOp::Minimum:
      return "minimum";
    case BinaryOp::Eq:
      return "eq";
    case BinaryOp::Ne:
      return "ne";
    case BinaryOp::Lt:
      return "lt";
    case BinaryOp::Le:
      return "le";
    case BinaryOp::Gt:
      return "gt";
    case BinaryOp::Ge:
      return "ge";
    case BinaryOp::ReluBackward:
      return "relu_backward";
    case BinaryOp::LeakyReluBackward:
      return "leaky_relu_backward";
    case BinaryOp::SeluBackward:
      return "selu_backward";
    case BinaryOp::SigmoidBackward:
      return "sigmoid_backward";
    case BinaryOp::TanhBackward:
      return "tanh_backward";
    case BinaryOp::SoftplusBackward:
      return "softplus_backward";
    case BinaryOp::AbsBackward:
      return "abs_backward";
  }
  return "binary";
}

}  // namespace pg::kernels
