// CUDA vs CPU parity for every elementwise op, forward and backward, float32 and float64, plus
// the integer/bool ops. Layouts hit every CUDA launch path of kernels/cuda/elementwise.cu:
//   float4 path: contiguous float32 with 16-byte aligned operands (n % 4 != 0 for the tail,
//                and a large multi-block size);
//   generic contiguous body: a misaligned view (offset 1), float64, integers;
//   generic strided body: transposed, sliced-with-step, expanded (stride 0), broadcast operands.
// The kernel-level cases poison the outputs first (NaN) so an element the CUDA kernel skipped
// shows up as a mismatch.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/elementwise.h"
#include "test_util.h"

namespace {

using namespace pg;
using Catch::Matchers::Contains;

const Device kCuda = Device::cuda(0);

double tol_for(DType dt) {
  return dt == DType::f32 ? 2e-5 : 1e-11;
}

void require_match(const Tensor& gpu, const Tensor& cpu, double tol, const std::string& what) {
  INFO(what);
  REQUIRE(gpu.is_cuda());
  REQUIRE(gpu.shape() == cpu.shape());
  REQUIRE(gpu.dtype() == cpu.dtype());
  const auto g = gpu.to(Device::cpu()).to_vector<double>();
  const auto c = cpu.to_vector<double>();
  size_t bad = g.size();
  for (size_t i = 0; i < g.size() && bad == g.size(); ++i) {
    const bool ok = std::isnan(c[i])   ? std::isnan(g[i])
                    : std::isinf(c[i]) ? g[i] == c[i]
                                       : std::fabs(g[i] - c[i]) <= tol * (1.0 + std::fabs(c[i]));
    if (!ok) bad = i;
  }
  INFO("first mismatch at element " << bad << " of " << g.size() << ": cuda " << (bad < g.size() ? g[bad] : 0.0)
                                    << " cpu " << (bad < g.size() ? c[bad] : 0.0));
  REQUIRE(bad == g.size());
}

// A layout: base shapes of the operands and a view applied to each base (the same on both
// devices), so the op sees non-contiguous / broadcast operands.
using ViewFn = std::function<Tensor(const Tensor&)>;
const ViewFn kIdentity = [](const Tensor& t) { return t; };

struct UnaryLayout {
  std::string name;
  Shape base;
  ViewFn view;
};

std::vector<UnaryLayout> unary_layouts() {
  return {
      {"contiguous n=1003 (float4 + tail)", {1003}, kIdentity},
      {"contiguous large", test::emu_size(Shape{257, 1024}, Shape{33, 1024}), kIdentity},
      {"misaligned offset", {1004}, [](const Tensor& t) { return t.slice(0, 1, 1004); }},
      {"transposed", {33, 65}, [](const Tensor& t) { return t.t(); }},
      {"sliced with step", {40, 30}, [](const Tensor& t) { return t.slice(1, 0, 30, 3); }},
      {"expanded (stride 0)",
       {50, 1},
       [](const Tensor& t) {
         return t.expand({50, 40});
       }},
      {"0-dim", {}, kIdentity},
  };
}

struct BinaryLayout {
  std::string name;
  Shape base_a, base_b;
  ViewFn view_a, view_b;
};

std::vector<BinaryLayout> binary_layouts() {
  return {
      {"contiguous n=1003", {1003}, {1003}, kIdentity, kIdentity},
      {"contiguous large", test::emu_size(Shape{257, 1024}, Shape{33, 1024}), test::emu_size(Shape{257, 1024}, Shape{33, 1024}),
       kIdentity, kIdentity},
      {"misaligned", {1004}, {1003}, [](const Tensor& t) { return t.slice(0, 1, 1004); }, kIdentity},
      {"broadcast [64,1,5] x [7,5]", {64, 1, 5}, {7, 5}, kIdentity, kIdentity},
      {"transposed x row", {65, 33}, {65}, [](const Tensor& t) { return t.t(); }, kIdentity},
      {"scalar tensor", {31, 17}, {}, kIdentity, kIdentity},
      {"expanded x sliced",
       {40, 1},
       {40, 60},
       [](const Tensor& t) {
         return t.expand({40, 20});
       },
       [](const Tensor& t) { return t.slice(1, 2, 60, 3); }},
  };
}

struct UnaryOpCase {
  std::string name;
  double lo, hi;
  bool differentiable;
  std::function<Tensor(const Tensor&)> fn;
};

std::vector<UnaryOpCase> float_unary_ops() {
  return {
      {"neg", -3, 3, true, [](const Tensor& x) { return neg(x); }},
      {"abs", -3, 3, true, [](const Tensor& x) { return abs(x); }},
      {"exp", -3, 3, true, [](const Tensor& x) { return exp(x); }},
      {"log", 0.1, 5, true, [](const Tensor& x) { return log(x); }},
      {"sqrt", 0.1, 5, true, [](const Tensor& x) { return sqrt(x); }},
      {"square", -3, 3, true, [](const Tensor& x) { return square(x); }},
      {"sign", -3, 3, false, [](const Tensor& x) { return sign(x); }},
      {"clamp", -3, 3, true, [](const Tensor& x) { return clamp(x, -1.0, 1.5); }},
      {"clamp_min", -3, 3, true, [](const Tensor& x) { return clamp_min(x, -0.5); }},
      {"clamp_max", -3, 3, true, [](const Tensor& x) { return clamp_max(x, 0.5); }},
      {"relu", -3, 3, true, [](const Tensor& x) { return relu(x); }},
      {"leaky_relu", -3, 3, true, [](const Tensor& x) { return leaky_relu(x, 0.1); }},
      {"selu", -3, 3, true, [](const Tensor& x) { return selu(x); }},
      {"sigmoid", -8, 8, true, [](const Tensor& x) { return sigmoid(x); }},
      {"sigmoid (large |x|)", -200, 200, true, [](const Tensor& x) { return sigmoid(x); }},
      {"tanh", -4, 4, true, [](const Tensor& x) { return tanh(x); }},
      {"softplus", -5, 5, true, [](const Tensor& x) { return softplus(x); }},
      {"softplus beta=2 threshold=4", -4, 4, true, [](const Tensor& x) { return softplus(x, 2.0, 4.0); }},
      {"add scalar", -3, 3, true, [](const Tensor& x) { return add(x, 1.25); }},
      {"sub scalar", -3, 3, true, [](const Tensor& x) { return sub(x, 0.75); }},
      {"rsub", -3, 3, true, [](const Tensor& x) { return rsub(2.0, x); }},
      {"mul scalar", -3, 3, true, [](const Tensor& x) { return mul(x, -1.5); }},
      {"div scalar", -3, 3, true, [](const Tensor& x) { return div(x, 3.0); }},
      {"rdiv", 0.2, 3, true, [](const Tensor& x) { return rdiv(2.0, x); }},
      {"pow 2", -3, 3, true, [](const Tensor& x) { return pow(x, 2.0); }},
      {"pow 1.7", 0.1, 3, true, [](const Tensor& x) { return pow(x, 1.7); }},
      {"pow -0.5", 0.1, 3, true, [](const Tensor& x) { return pow(x, -0.5); }},
      {"gt scalar", -3, 3, false, [](const Tensor& x) { return gt(x, 0.25); }},
      {"lt scalar", -3, 3, false, [](const Tensor& x) { return lt(x, 0.25); }},
  };
}

struct BinaryOpCase {
  std::string name;
  double lo_a, hi_a, lo_b, hi_b;
  bool differentiable;
  std::function<Tensor(const Tensor&, const Tensor&)> fn;
};

std::vector<BinaryOpCase> float_binary_ops() {
  return {
      {"add", -3, 3, -3, 3, true, [](const Tensor& a, const Tensor& b) { return add(a, b); }},
      {"add alpha", -3, 3, -3, 3, true, [](const Tensor& a, const Tensor& b) { return add(a, b, -0.5); }},
      {"sub", -3, 3, -3, 3, true, [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
      {"sub alpha", -3, 3, -3, 3, true, [](const Tensor& a, const Tensor& b) { return sub(a, b, 2.0); }},
      {"mul", -3, 3, -3, 3, true, [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
      {"div", -3, 3, 0.5, 3, true, [](const Tensor& a, const Tensor& b) { return div(a, b); }},
      {"pow", 0.2, 3, -2, 2, true, [](const Tensor& a, const Tensor& b) { return pow(a, b); }},
      {"maximum", -3, 3, -3, 3, true, [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
      {"minimum", -3, 3, -3, 3, true, [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
      {"eq", -3, 3, -3, 3, false, [](const Tensor& a, const Tensor& b) { return eq(a, maximum(a, b)); }},
      {"ne", -3, 3, -3, 3, false, [](const Tensor& a, const Tensor& b) { return ne(a, minimum(a, b)); }},
      {"lt", -3, 3, -3, 3, false, [](const Tensor& a, const Tensor& b) { return lt(a, b); }},
      {"le", -3, 3, -3, 3, false, [](const Tensor& a, const Tensor& b) { return le(a, b); }},
      {"gt", -3, 3, -3, 3, false, [](const Tensor& a, const Tensor& b) { return gt(a, b); }},
      {"ge", -3, 3, -3, 3, false, [](const Tensor& a, const Tensor& b) { return ge(a, b); }},
      {"where", -3, 3, -3, 3, true, [](const Tensor& a, const Tensor& b) { return where(gt(b, 0.0), a, b); }},
  };
}

// The same base values on both devices (leaves when `grad`); callers apply the layout's view
// inside the recorded graph, so the backward runs through it too.
struct Pair {
  Tensor cpu, gpu;
};

Pair make_input(const Shape& base, double lo, double hi, uint64_t seed, DType dt, bool grad) {
  Tensor b = pg::test::uniform(base, lo, hi, seed, TensorOptions(dt));
  Tensor bg = b.to(kCuda);
  if (grad) {
    b.requires_grad_(true);
    bg.requires_grad_(true);
  }
  return {b, bg};
}

}  // namespace

TEST_CASE("parity: unary elementwise ops, forward and backward", "[elementwise][parity]") {
  for (DType dt : {DType::f32, DType::f64}) {
    for (const auto& op : float_unary_ops()) {
      for (const auto& lay : unary_layouts()) {
        const std::string what = std::string(dtype_name(dt)) + " " + op.name + " / " + lay.name;
        INFO(what);
        Pair x = make_input(lay.base, op.lo, op.hi, 101, dt, op.differentiable);
        Tensor yc = op.fn(lay.view(x.cpu));
        Tensor yg = op.fn(lay.view(x.gpu));
        require_match(yg, yc, tol_for(dt), what + " forward");
        if (!op.differentiable) continue;
        REQUIRE(yg.requires_grad());
        const Tensor gout = pg::test::uniform(yc.shape(), -1, 1, 102, TensorOptions(dt));
        yc.backward(gout);
        yg.backward(gout.to(kCuda));
        require_match(x.gpu.grad(), x.cpu.grad(), tol_for(dt), what + " backward");
      }
    }
  }
}

TEST_CASE("parity: binary elementwise ops, forward and backward", "[elementwise][parity]") {
  for (DType dt : {DType::f32, DType::f64}) {
    for (const auto& op : float_binary_ops()) {
      for (const auto& lay : binary_layouts()) {
        const std::string what = std::string(dtype_name(dt)) + " " + op.name + " / " + lay.name;
        INFO(what);
        Pair a = make_input(lay.base_a, op.lo_a, op.hi_a, 201, dt, op.differentiable);
        Pair b = make_input(lay.base_b, op.lo_b, op.hi_b, 202, dt, op.differentiable);
        Tensor yc = op.fn(lay.view_a(a.cpu), lay.view_b(b.cpu));
        Tensor yg = op.fn(lay.view_a(a.gpu), lay.view_b(b.gpu));
        require_match(yg, yc, tol_for(dt), what + " forward");
        if (!op.differentiable) continue;
        const Tensor gout = pg::test::uniform(yc.shape(), -1, 1, 203, TensorOptions(dt));
        yc.backward(gout);
        yg.backward(gout.to(kCuda));
        // broadcast gradients are sums over many elements: allow for the summation order
        const double tol = tol_for(dt) * (dt == DType::f32 ? 10.0 : 100.0);
        require_match(a.gpu.grad(), a.cpu.grad(), tol, what + " backward a");
        require_match(b.gpu.grad(), b.cpu.grad(), tol, what + " backward b");
      }
    }
  }
}

TEST_CASE("parity: integer and bool elementwise ops", "[elementwise][parity]") {
  for (DType dt : {DType::i32, DType::i64, DType::u8}) {
    const double lo = dt == DType::u8 ? 0.0 : -100.0, hi = dt == DType::u8 ? 200.0 : 100.0;
    for (const auto& lay : binary_layouts()) {
      const std::string what = std::string(dtype_name(dt)) + " / " + lay.name;
      INFO(what);
      const Tensor ac = lay.view_a(pg::test::uniform(lay.base_a, lo, hi, 301).to(dt));
      const Tensor bc = lay.view_b(pg::test::uniform(lay.base_b, lo, hi, 302).to(dt));
      const Tensor ag = lay.view_a(pg::test::uniform(lay.base_a, lo, hi, 301).to(dt).to(kCuda));
      const Tensor bg = lay.view_b(pg::test::uniform(lay.base_b, lo, hi, 302).to(dt).to(kCuda));
      const std::vector<std::pair<std::string, std::function<Tensor(const Tensor&, const Tensor&)>>> ops = {
          {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }},
          {"add alpha", [](const Tensor& a, const Tensor& b) { return add(a, b, 3.0); }},
          {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
          {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
          {"div (incl. by zero)", [](const Tensor& a, const Tensor& b) { return div(a, b); }},
          {"maximum", [](const Tensor& a, const Tensor& b) { return maximum(a, b); }},
          {"minimum", [](const Tensor& a, const Tensor& b) { return minimum(a, b); }},
          {"eq", [](const Tensor& a, const Tensor& b) { return eq(a, maximum(a, b)); }},
          {"lt", [](const Tensor& a, const Tensor& b) { return lt(a, b); }},
          {"ge", [](const Tensor& a, const Tensor& b) { return ge(a, b); }},
          {"where", [](const Tensor& a, const Tensor& b) { return where(gt(a, b), a, b); }},
          {"bool eq", [](const Tensor& a, const Tensor& b) { return eq(gt(a, 50.0), lt(b, 50.0)); }},
          {"abs", [](const Tensor& a, const Tensor&) { return abs(a); }},
          {"neg", [](const Tensor& a, const Tensor&) { return neg(a); }},
          {"relu", [](const Tensor& a, const Tensor&) { return relu(a); }},
          {"sign", [](const Tensor& a, const Tensor&) { return sign(a); }},
          {"square", [](const Tensor& a, const Tensor&) { return square(a); }},
          {"clamp", [](const Tensor& a, const Tensor&) { return clamp(a, 10.0, 60.0); }},
          {"add scalar", [](const Tensor& a, const Tensor&) { return add(a, -7.0); }},
          {"mul scalar", [](const Tensor& a, const Tensor&) { return mul(a, 3.0); }},
          {"rsub", [](const Tensor& a, const Tensor&) { return rsub(5.0, a); }},
          {"div scalar", [](const Tensor& a, const Tensor&) { return div(a, 7.0); }},
          {"gt scalar", [](const Tensor& a, const Tensor&) { return gt(a, 20.5); }},
      };
      for (const auto& [name, fn] : ops) require_match(fn(ag, bg), fn(ac, bc), 0.0, what + " " + name);
    }
  }
}

TEST_CASE("parity: device and dtype mismatches are errors naming the op", "[elementwise][parity]") {
  const Tensor c = ones({2, 3});
  const Tensor g = ones({2, 3}, kCuda);
  REQUIRE_THROWS_WITH(add(c, g), Contains("add") && Contains("cpu") && Contains("cuda"));
  REQUIRE_THROWS_WITH(mul(g, c), Contains("mul") && Contains("cpu") && Contains("cuda"));
  REQUIRE_THROWS_WITH(maximum(g, c), Contains("maximum"));
  REQUIRE_THROWS_WITH(lt(c, g), Contains("lt"));
  REQUIRE_THROWS_WITH(where(gt(c, 0.0), g, g), Contains("where") && Contains("cuda"));
  REQUIRE_THROWS_WITH(add(g, ones({2, 3}, TensorOptions(DType::f64, kCuda))),
                      Contains("add") && Contains("float64") && Contains("float32"));
  REQUIRE_THROWS_WITH(exp(ones({2}, TensorOptions(DType::i32, kCuda))), Contains("exp") && Contains("int32"));
}

#if PG_WITH_CUDA
TEST_CASE("parity: elementwise kernels write every element of a poisoned output", "[elementwise][parity]") {
  using kernels::BinaryOp;
  using kernels::UnaryOp;
  const std::vector<UnaryOp> unary_ops = {
      UnaryOp::Neg,        UnaryOp::Abs,        UnaryOp::Exp,       UnaryOp::Log,       UnaryOp::Sqrt,
      UnaryOp::Relu,       UnaryOp::LeakyRelu,  UnaryOp::Selu,      UnaryOp::Sigmoid,   UnaryOp::Tanh,
      UnaryOp::Softplus,   UnaryOp::Clamp,      UnaryOp::PowScalar, UnaryOp::AddScalar, UnaryOp::MulScalar,
      UnaryOp::RSubScalar, UnaryOp::RDivScalar, UnaryOp::Square,    UnaryOp::Sign};
  const std::vector<BinaryOp> binary_ops = {BinaryOp::Add,
                                            BinaryOp::Sub,
                                            BinaryOp::Mul,
                                            BinaryOp::Div,
                                            BinaryOp::Pow,
                                            BinaryOp::Maximum,
                                            BinaryOp::Minimum,
                                            BinaryOp::Eq,
                                            BinaryOp::Ne,
                                            BinaryOp::Lt,
                                            BinaryOp::Le,
                                            BinaryOp::Gt,
                                            BinaryOp::Ge,
                                            BinaryOp::ReluBackward,
                                            BinaryOp::LeakyReluBackward,
                                            BinaryOp::SeluBackward,
                                            BinaryOp::SigmoidBackward,
                                            BinaryOp::TanhBackward,
                                            BinaryOp::SoftplusBackward,
                                            BinaryOp::AbsBackward};
  struct Shapes {
    std::string name;
    Shape base;
    ViewFn view;
  };
  const std::vector<Shapes> layouts = {
      {"n=4 (one float4)", {4}, kIdentity},
      {"n=1027 (float4 + tail)", {1027}, kIdentity},
      {"n=1 << 20 (1 << 15 emulated)", {test::emu_size(1 << 20, 1 << 15)}, kIdentity},
      {"misaligned", {1028}, [](const Tensor& t) { return t.slice(0, 3, 1028); }},
      {"transposed", {37, 29}, [](const Tensor& t) { return t.t(); }},
  };
  for (DType dt : {DType::f32, DType::f64}) {
    for (const auto& lay : layouts) {
      const Tensor xc = lay.view(pg::test::uniform(lay.base, 0.1, 2.0, 401, TensorOptions(dt)));
      const Tensor yc = lay.view(pg::test::uniform(lay.base, -2.0, 2.0, 402, TensorOptions(dt)));
      const Tensor xg = lay.view(pg::test::uniform(lay.base, 0.1, 2.0, 401, TensorOptions(dt)).to(kCuda));
      const Tensor yg = lay.view(pg::test::uniform(lay.base, -2.0, 2.0, 402, TensorOptions(dt)).to(kCuda));
      for (UnaryOp op : unary_ops) {
        const std::string what = std::string(dtype_name(dt)) + " " + kernels::unary_name(op) + " / " + lay.name;
        Tensor oc = full(xc.shape(), NAN, TensorOptions(dt));
        Tensor og = full(xc.shape(), NAN, TensorOptions(dt, kCuda));
        kernels::unary<CpuBackend>(op, oc, yc, 0.5, 1.5);
        kernels::unary<CudaBackend>(op, og, yg, 0.5, 1.5);
        require_match(og, oc, tol_for(dt), what);
      }
      for (BinaryOp op : binary_ops) {
        const std::string what = std::string(dtype_name(dt)) + " " + kernels::binary_name(op) + " / " + lay.name;
        const bool cmp = kernels::is_comparison(op);
        const DType odt = cmp ? DType::b8 : dt;
        // bool outputs are poisoned with true; comparisons of these inputs are mostly false
        Tensor oc = full(xc.shape(), cmp ? 1.0 : NAN, TensorOptions(odt));
        Tensor og = full(xc.shape(), cmp ? 1.0 : NAN, TensorOptions(odt, kCuda));
        kernels::binary<CpuBackend>(op, oc, yc, xc, 0.25, 0.5);
        kernels::binary<CudaBackend>(op, og, yg, xg, 0.25, 0.5);
        require_match(og, oc, tol_for(dt), what);
      }
      {
        Tensor oc = full(xc.shape(), NAN, TensorOptions(dt));
        Tensor og = full(xc.shape(), NAN, TensorOptions(dt, kCuda));
        kernels::where<CpuBackend>(oc, gt(yc, 0.0), xc, yc);
        kernels::where<CudaBackend>(og, gt(yg, 0.0), xg, yg);
        require_match(og, oc, 0.0, std::string(dtype_name(dt)) + " where / " + lay.name);
      }
      {
        Tensor oc = full(xc.shape(), NAN, TensorOptions(dt));
        Tensor og = full(xc.shape(), NAN, TensorOptions(dt, kCuda));
        kernels::clamp_backward<CpuBackend>(oc, xc, yc, -1.0, 1.0);
        kernels::clamp_backward<CudaBackend>(og, xg, yg, -1.0, 1.0);
        require_match(og, oc, 0.0, std::string(dtype_name(dt)) + " clamp_backward / " + lay.name);
      }
    }
  }
}
#endif
