// The CPU driver of the op registry (tests/registry/registry.h), run by every family's
// "op registry: <family>" test case in pg_tests. For each entry and sample:
//   1. float64 gradcheck of every differentiable output w.r.t. the differentiable inputs (and,
//      on the first sample, with only the first of several differentiable inputs requiring grad);
//   2. float32 vs float64: floating outputs within the entry's f32 tolerance, integer outputs
//      equal (up to the entry's documented near-tie allowance);
//   3. bench smoke: the float64 call is timed once and its floating outputs must be finite.
// PG_REGISTRY_TIMES=1 prints one line per entry with the timed call and the total check time.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "autograd/gradcheck.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Converts floating inputs to `dt`, keeping a non-contiguous layout non-contiguous.
std::vector<Tensor> convert_inputs(const std::vector<Tensor>& in, DType dt) {
  std::vector<Tensor> out;
  for (const Tensor& x : in) {
    if (!x.defined() || !is_floating(x.dtype())) {
      out.push_back(x);
      continue;
    }
    Tensor y = x.to(dt);
    if (!x.is_contiguous() && x.dim() >= 2) y = strided(y);
    out.push_back(y);
  }
  return out;
}

// Fails (CHECK) when a floating output holds NaN/Inf where the entry does not allow it.
void check_finite(const OpInfo& op, const std::vector<Tensor>& outs, const std::string& where) {
  for (size_t o = 0; o < outs.size(); ++o) {
    if (!outs[o].defined() || !is_floating(outs[o].dtype()) || op.nonfinite_ok.count(static_cast<int>(o))) continue;
    const auto v = outs[o].to_vector<double>();
    size_t bad = 0;
    for (double x : v) bad += std::isfinite(x) ? 0 : 1;
    INFO(where << ": output " << o << " has " << bad << " non-finite of " << v.size());
    CHECK(bad == 0);
  }
}

void compare_f32(const OpInfo& op, const std::vector<Tensor>& o32, const std::vector<Tensor>& o64) {
  REQUIRE(o32.size() == o64.size());
  for (size_t o = 0; o < o64.size(); ++o) {
    INFO("output " << o);
    REQUIRE(o32[o].defined() == o64[o].defined());
    if (!o64[o].defined()) continue;
    REQUIRE(o32[o].shape() == o64[o].shape());
    const auto a = o32[o].to_vector<double>();
    const auto b = o64[o].to_vector<double>();
    if (is_floating(o64[o].dtype())) {
      // a float32 run must compute in float32 (unless the op's contract says otherwise)
      REQUIRE(o32[o].dtype() == (op.f64_outputs.count(static_cast<int>(o)) ? DType::f64 : DType::f32));
      size_t worst = 0;
      double worst_margin = -INFINITY;
      for (size_t i = 0; i < b.size(); ++i) {
        if (std::isinf(b[i]) && a[i] == b[i]) continue;
        const double margin = std::fabs(a[i] - b[i]) - (op.f32_atol + op.f32_rtol * std::fabs(b[i]));
        if (!(margin <= worst_margin)) {
          worst_margin = std::isnan(margin) ? INFINITY : margin;
          worst = i;
        }
      }
      if (!b.empty()) {
        INFO("worst element " << worst << ": f32 " << a[worst] << " vs f64 " << b[worst]);
        CHECK(worst_margin <= 0.0);
      }
    } else {
      size_t diff = 0;
      for (size_t i = 0; i < b.size(); ++i) diff += a[i] != b[i] ? 1 : 0;
      INFO(diff << " of " << b.size() << " integer elements differ");
      CHECK(static_cast<double>(diff) <= op.int_mismatch_frac * static_cast<double>(b.size()));
    }
  }
}

void run_gradcheck(const OpInfo& op, const Sample& s, const std::vector<Tensor>& o64, bool frozen_check) {
  if (op.differentiable.empty()) return;
  std::vector<int> outs = op.grad_outputs;
  if (outs.empty()) {
    for (size_t o = 0; o < o64.size(); ++o) {
      if (o64[o].defined() && is_floating(o64[o].dtype())) outs.push_back(static_cast<int>(o));
    }
  }
  REQUIRE(!outs.empty());
  std::vector<Tensor> in;
  for (const Tensor& x : s.inputs) in.push_back(x.defined() ? x.detach() : x);
  for (int i : op.differentiable) in.at(static_cast<size_t>(i)).requires_grad_(true);
  autograd::GradcheckOptions go;
  go.eps = op.grad_eps;
  go.atol = op.grad_atol;
  go.rtol = op.grad_rtol;
  for (int o : outs) {
    const auto r = autograd::gradcheck(
        [&](const std::vector<Tensor>& x) { return op.fn(x).at(static_cast<size_t>(o)); }, in, go);
    INFO("gradcheck of output " << o << ": " << r.message);
    CHECK(r.checked > 0);
    CHECK(r.ok);
  }
  // Frozen inputs: with only the first differentiable input requiring grad, the backward takes
  // its needs_input_grad branches (other gradients skipped) and must still be right.
  if (op.differentiable.size() >= 2 && frozen_check) {
    std::vector<Tensor> in1;
    for (const Tensor& x : s.inputs) in1.push_back(x.defined() ? x.detach() : x);
    in1.at(static_cast<size_t>(op.differentiable[0])).requires_grad_(true);
    const auto r = autograd::gradcheck(
        [&](const std::vector<Tensor>& x) { return op.fn(x).at(static_cast<size_t>(outs[0])); }, in1, go);
    INFO("gradcheck with only input " << op.differentiable[0] << " requiring grad: " << r.message);
    CHECK(r.checked > 0);
    CHECK(r.ok);
  }
}

}  // namespace

void run_family(const std::string& family) {
  const bool print_times = std::getenv("PG_REGISTRY_TIMES") != nullptr;
  int ran = 0;
  for (const OpInfo& op : entries()) {
    if (op.family != family) continue;
    ++ran;
    const auto t_entry = Clock::now();
    double timed_call = 0.0;
    const std::vector<Sample> samples = op.samples();
    REQUIRE(!samples.empty());
    for (const Sample& s : samples) {
      INFO("op " << op.name << ", sample '" << s.label << "'");
      const auto t0 = Clock::now();
      const std::vector<Tensor> o64 = op.fn(s.inputs);
      timed_call = std::max(timed_call, seconds_since(t0));
      REQUIRE(!o64.empty());
      check_finite(op, o64, "float64 run");
      run_gradcheck(op, s, o64, &s == &samples.front());
      if (op.f32) {
        const std::vector<Tensor> o32 = op.fn(convert_inputs(s.inputs, DType::f32));
        check_finite(op, o32, "float32 run");
        compare_f32(op, o32, o64);
      }
    }
    if (print_times) {
      std::printf("registry %-12s %-40s slowest call %8.3f ms, all checks %8.3f s\n", family.c_str(),
                  op.name.c_str(), 1e3 * timed_call, seconds_since(t_entry));
    }
  }
  INFO("family " << family);
  REQUIRE(ran > 0);
}

}  // namespace pg::test::registry
