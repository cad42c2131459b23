// Helpers shared by the tests: deterministic random inputs, host comparisons, gradcheck
// assertions and CPU-vs-CUDA parity.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "ops/ops.h"

namespace pg::test {

// True when the CUDA backend is the host emulator (PG_CUDA=EMULATE, tests/cuda_emu), which runs
// every CUDA thread as a fiber on the CPU: parity tests cut their sizes there with emu_size.
constexpr bool kEmulatedCuda = PG_CUDA_EMULATE != 0;

// `full` on a real GPU (and CPU-only builds), `emulated` on the emulator.
template <class T>
constexpr T emu_size(T full, T emulated) {
  return kEmulatedCuda ? emulated : full;
}

// Uniform values in [lo, hi) from a fixed seed (CPU unless a device is given).
inline Tensor uniform(const Shape& shape, double lo, double hi, uint64_t seed, TensorOptions opts = {}) {
  Generator g(seed);
  Tensor u = rand(shape, TensorOptions(DType::f64, Device::cpu()), &g);
  std::vector<double> v = u.to_vector<double>();
  for (double& x : v) x = lo + (hi - lo) * x;
  Tensor host = from_vector(v, shape);
  Tensor out = empty(shape, opts);
  copy_into(out, host);
  return out;
}

// Float64 leaf requiring grad with values in [lo, hi).
inline Tensor leaf64(const Shape& shape, double lo, double hi, uint64_t seed) {
  Tensor t = uniform(shape, lo, hi, seed, TensorOptions(DType::f64));
  t.requires_grad_(true);
  return t;
}

// Max |a - b| over all elements (both converted to float64 on the host). NaN propagates.
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to_vector<double>();
  const auto y = b.to_vector<double>();
  double m = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = std::fabs(x[i] - y[i]);
    if (std::isnan(d)) return NAN;
    m = std::max(m, d);
  }
  return m;
}

// ‖a − b‖ / max(‖b‖, tiny).
inline double rel_l2(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to_vector<double>();
  const auto y = b.to_vector<double>();
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    num += (x[i] - y[i]) * (x[i] - y[i]);
    den += y[i] * y[i];
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

// Checks ok(i) for every i in [0, n) with ONE assertion (a REQUIRE per element costs more than
// the kernels under test on the CUDA emulator); a failure reports how many elements failed and
// describe(i) for the first of them.
template <class Ok, class Describe>
void require_all(size_t n, Ok ok, Describe describe) {
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!ok(i) && bad++ == 0) first = i;
  }
  INFO(bad << " of " << n << " elements fail" << (bad > 0 ? "; first: " + describe(first) : std::string()));
  REQUIRE(bad == 0);
}

inline void require_close(const Tensor& a, const Tensor& b, double atol, double rtol = 0.0) {
  REQUIRE(a.shape() == b.shape());
  const auto x = a.to_vector<double>();
  const auto y = b.to_vector<double>();
  require_all(
      x.size(), [&](size_t i) { return std::fabs(x[i] - y[i]) <= atol + rtol * std::fabs(y[i]); },
      [&](size_t i) { return "element " + std::to_string(i) + ": " + std::to_string(x[i]) + " vs " + std::to_string(y[i]); });
}

// Runs gradcheck and fails the test with its message when it does not pass.
inline void check_grad(const autograd::GradcheckFn& fn, const std::vector<Tensor>& inputs,
                       autograd::GradcheckOptions opts = {}) {
  const auto r = autograd::gradcheck(fn, inputs, opts);
  INFO(r.message);
  REQUIRE(r.checked > 0);
  REQUIRE(r.ok);
}

// Fills a freshly allocated output with NaN-like garbage before an op writes it is the op's
// business; for parity we compare full outputs of the two backends.
inline Tensor to_cuda(const Tensor& t) { return t.to(Device::cuda(0)); }

// The message of the pg::Error that f throws, or "" when it throws none (other exceptions
// propagate and fail the test).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const pg::Error& e) {
    return e.what();
  }
  return "";
}
inline Tensor to_cpu(const Tensor& t) { return t.to(Device::cpu()); }

// Same shape, dtype and values (compared as doubles on the host).
inline bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && a.to_vector<double>() == b.to_vector<double>();
}

}  // namespace pg::test
