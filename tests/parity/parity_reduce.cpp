// CUDA vs CPU parity for every reduction (forward and backward), float32/float64/int64, with
// shapes that hit every CUDA launch path of kernels/cuda/reduce.cu:
//   thread kernel: small R (<= 32); column layout (strided R, >= 32 contiguous outputs) with and
//                  without the R split; generic (rank > 1) reduced index space
//   group kernel:  G = 32 (moderate R), G = 256 (large R), one output per block, R split over
//                  chunks + finalize (few outputs), full reduction of > 1e6 elements
// Outputs written by the kernels directly are poisoned first; repeated runs must be bit-identical.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/parallel_for.h"
#include "kernels/reduce.h"
#include "ops/ops.h"
#include "test_util.h"

namespace {

using namespace pg;

std::vector<double> host_values(int64_t n, double lo, double hi, uint64_t seed, int levels) {
  std::vector<double> v(static_cast<size_t>(n));
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 7;
  for (auto& x : v) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    const double u = static_cast<double>(s >> 11) * (1.0 / 9007199254740992.0);
    // `levels` > 0 quantises the values so that max/min/argmax see many ties.
    x = levels > 0 ? lo + std::floor(u * levels) * (hi - lo) / levels : lo + (hi - lo) * u;
  }
  return v;
}

Tensor make_cpu(const Shape& shape, DType dt, uint64_t seed, int levels = 0) {
  const double lo = dt == DType::i64 ? -1000.0 : -3.0, hi = dt == DType::i64 ? 1000.0 : 3.0;
  return from_vector(host_values(shape_numel(shape), lo, hi, seed, dt == DType::i64 && levels == 0 ? 2000 : levels),
                     shape)
      .to(dt);
}

// Bitwise equality of two host copies (NaN == NaN when the bits match).
bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const Tensor ha = a.to(Device::cpu()).contiguous(), hb = b.to(Device::cpu()).contiguous();
  return std::memcmp(ha.raw_data(), hb.raw_data(), static_cast<size_t>(ha.numel() * ha.element_size())) == 0;
}

void require_match(const Tensor& gpu, const Tensor& cpu, double rtol, const std::string& what) {
  INFO(what);
  REQUIRE(gpu.is_cuda());
  REQUIRE(gpu.shape() == cpu.shape());
  REQUIRE(gpu.dtype() == cpu.dtype());
  const auto g = gpu.to(Device::cpu()).to_vector<double>();
  const auto c = cpu.to_vector<double>();
  test::require_all(
      g.size(),
      [&](size_t i) { return std::isnan(c[i]) ? std::isnan(g[i]) : std::fabs(g[i] - c[i]) <= rtol * (1.0 + std::fabs(c[i])); },
      [&](size_t i) { return "element " + std::to_string(i) + ": cuda " + std::to_string(g[i]) + " cpu " + std::to_string(c[i]); });
}

struct Case {
  std::string name;
  Shape shape;
  std::vector<int64_t> dims;
  bool permute_last_two = false;  // feed a non-contiguous (transposed) view
};

// Sizes: the emulator (test::emu_size) runs each case about 10x smaller, keeping every launch path.
std::vector<Case> cases() {
  return {
      {"small R, many outputs (thread kernel)", test::emu_size(Shape{4096, 17}, Shape{512, 17}), {1}},
      {"tiny R over a middle dim", {64, 3, 50}, {1}},
      {"moderate R rows (group G=32)", test::emu_size(Shape{1000, 300}, Shape{100, 300}), {1}},
      {"large R rows (group G=256, one output per block)", test::emu_size(Shape{300, 8192}, Shape{30, 8192}), {1}},
      {"few outputs, huge R (split + finalize)", test::emu_size(Shape{3, 400000}, Shape{3, 40000}), {1}},
      {"column layout, R split", test::emu_size(Shape{6000, 300}, Shape{1200, 300}), {0}},
      {"column layout, many outputs (no split)", test::emu_size(Shape{40, 300000}, Shape{40, 30000}), {0}},
      {"few strided outputs (group kernel, strided loads)", test::emu_size(Shape{200000, 3}, Shape{20000, 3}), {0}},
      {"rank-2 reduced index space", {7, 50, 9, 40}, {0, 2}},
      {"transposed input", test::emu_size(Shape{500, 700}, Shape{100, 700}), {1}, true},
      {"full reduction, large (> 1e6 elements on a GPU)", test::emu_size(Shape{1100, 1000}, Shape{110, 1000}), {0, 1}},
      {"full reduction of a 3-D tensor", test::emu_size(Shape{64, 128, 130}, Shape{16, 128, 130}), {}},
  };
}

Tensor prepare(const Tensor& t, const Case& c) { return c.permute_last_two ? t.transpose(-1, -2) : t; }

}  // namespace

TEST_CASE("parity: sum/mean/logsumexp/max/min/argmax/argmin CUDA vs CPU", "[reduce][parity]") {
  for (const Case& c : cases()) {
    for (DType dt : {DType::f32, DType::f64, DType::i64}) {
      const std::string tag = c.name + " " + dtype_name(dt) + " " + shape_str(c.shape);
      Tensor xc = prepare(make_cpu(c.shape, dt, 17, dt == DType::i64 ? 0 : 64), c);
      Tensor xg = prepare(make_cpu(c.shape, dt, 17, dt == DType::i64 ? 0 : 64).to(Device::cuda(0)), c);
      const double rtol = dt == DType::f32 ? 1e-6 : 1e-12;
      for (bool keepdim : {false, true}) {
        require_match(sum(xg, c.dims, keepdim), sum(xc, c.dims, keepdim), dt == DType::i64 ? 0.0 : rtol, "sum " + tag);
        if (dt != DType::i64) {
          require_match(mean(xg, c.dims, keepdim), mean(xc, c.dims, keepdim), rtol, "mean " + tag);
          require_match(logsumexp(xg, c.dims, keepdim), logsumexp(xc, c.dims, keepdim), rtol, "logsumexp " + tag);
        }
        if (c.dims.size() == 1) {
          const int64_t d = c.dims[0];
          require_match(max(xg, d, keepdim), max(xc, d, keepdim), 0.0, "max " + tag);
          require_match(min(xg, d, keepdim), min(xc, d, keepdim), 0.0, "min " + tag);
          require_match(argmax(xg, d, keepdim), argmax(xc, d, keepdim), 0.0, "argmax " + tag);
          require_match(argmin(xg, d, keepdim), argmin(xc, d, keepdim), 0.0, "argmin " + tag);
        }
      }
      if (c.dims.size() != 1) {
        require_match(max(xg), max(xc), 0.0, "max all " + tag);
        require_match(min(xg), min(xc), 0.0, "min all " + tag);
      }
    }
  }
}

TEST_CASE("parity: reductions are bit-identical across repeated CUDA runs", "[reduce][parity]") {
  for (const Case& c : cases()) {
    Tensor xg = prepare(make_cpu(c.shape, DType::f32, 23).to(Device::cuda(0)), c);
    INFO(c.name);
    REQUIRE(bit_equal(sum(xg, c.dims), sum(xg, c.dims)));
    REQUIRE(bit_equal(logsumexp(xg, c.dims), logsumexp(xg, c.dims)));
    REQUIRE(bit_equal(mean(xg, c.dims), mean(xg, c.dims)));
  }
}

TEST_CASE("parity: kernels overwrite poisoned outputs on every launch path", "[reduce][parity]") {
  using kernels::ReduceOp;
  for (const Case& c : cases()) {
    Tensor xc = prepare(make_cpu(c.shape, DType::f32, 29, 32), c);
    Tensor xg = xc.to(Device::cuda(0));
    std::vector<int64_t> dims = c.dims;
    if (dims.empty())
      for (int64_t d = 0; d < xc.dim(); ++d) dims.push_back(d);
    int64_t n_out = 1;
    for (int64_t d = 0; d < xc.dim(); ++d)
      if (std::find(dims.begin(), dims.end(), d) == dims.end()) n_out *= xc.size(d);
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Mean, ReduceOp::LogSumExp, ReduceOp::Max, ReduceOp::Min}) {
      const bool arg = op == ReduceOp::Max || op == ReduceOp::Min;
      Tensor vg = full({n_out}, NAN, TensorOptions(DType::f32, Device::cuda(0)));
      Tensor ig = full({n_out}, -7, TensorOptions(DType::i64, Device::cuda(0)));
      Tensor vc = full({n_out}, NAN, TensorOptions(DType::f32));
      Tensor ic = full({n_out}, -7, TensorOptions(DType::i64));
      on_backend(Device::cuda(0), "parity", [&]<class B>() {
        kernels::reduce<B>(op, vg, arg ? ig : Tensor(), xg, dims);
      });
      kernels::reduce<CpuBackend>(op, vc, arg ? ic : Tensor(), xc, dims);
      INFO(c.name << " op " << kernels::reduce_name(op));
      require_match(vg, vc, 1e-6, "values");
      if (arg) require_match(ig, ic, 0.0, "indices");
    }
  }
}

TEST_CASE("parity: reduction gradients CUDA vs CPU", "[reduce][parity]") {
  for (const Case& c : cases()) {
    if (shape_numel(c.shape) > 2'000'000) continue;
    for (DType dt : {DType::f32, DType::f64}) {
      const double rtol = dt == DType::f32 ? 1e-5 : 1e-12;
      Tensor base = make_cpu(c.shape, dt, 31);  // continuous values: no ties
      Tensor xc = base.clone();
      Tensor xg = base.to(Device::cuda(0));
      xc.requires_grad_(true);
      xg.requires_grad_(true);
      auto run = [&](const Tensor& x, int which) {
        const Tensor v = prepare(x, c);
        switch (which) {
          case 0: return sum(v, c.dims, true);
          case 1: return mean(v, c.dims);
          case 2: return logsumexp(v, c.dims);
          case 3: return c.dims.size() == 1 ? max(v, c.dims[0]) : max(v);
          default: return c.dims.size() == 1 ? min(v, c.dims[0], true) : min(v);
        }
      };
      for (int which = 0; which < 5; ++which) {
        xc.zero_grad();
        xg.zero_grad();
        Tensor oc = run(xc, which), og = run(xg, which);
        const Tensor w = make_cpu(oc.shape(), dt, 37 + which);
        oc.backward(w);
        og.backward(w.to(Device::cuda(0)));
        require_match(xg.grad(), xc.grad(), rtol, c.name + " backward " + std::to_string(which) + " " + dtype_name(dt));
      }
    }
  }
}

TEST_CASE("parity: sum_to_shape CUDA vs CPU", "[reduce][parity]") {
  Tensor xc = make_cpu({8, 300, 64}, DType::f32, 41);
  Tensor xg = xc.to(Device::cuda(0));
  for (const Shape& s : {Shape{64}, Shape{300, 1}, Shape{8, 1, 64}, Shape{}, Shape{1, 300, 64}}) {
    require_match(sum_to_shape(xg, s), sum_to_shape(xc, s), 1e-6, "sum_to_shape " + shape_str(s));
  }
}
