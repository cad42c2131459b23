// Op-info registry: one entry per public op (or per mode of an op) describes how to call it,
// sample inputs, which inputs are differentiable and the tolerances. Drivers run the same checks
// for every entry:
//   pg_tests (tests/registry/test_registry_checks.cpp): float64 gradcheck, float32-vs-float64
//     agreement, a bench smoke run (one timed call, outputs finite);
//   pg_cuda_tests (tests/parity/parity_registry.cpp): CUDA vs CPU with the allocator in poison
//     mode, so an output element a kernel forgets to write reads NaN / -1.
// tests/registry/test_registry_coverage.cpp parses ops/*.h and fails when a public op has no
// entry. Entries live in tests/registry/entries/<family>.cpp; see docs/howto_add_op.md.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg::test::registry {

// One set of inputs. Floating inputs are float64 on the CPU (the drivers convert them for the
// float32 and CUDA runs); integer inputs (indices, labels) are passed through unchanged.
struct Sample {
  std::string label;           // shown in failure messages ("odd sizes", "strided", ...)
  std::vector<Tensor> inputs;
};

// Calls the op; returns every output worth comparing (floating and integer).
using OpFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

struct OpInfo {
  std::string name;                 // entry name, e.g. "knn (generic path)"
  std::vector<std::string> covers;  // public functions of ops/*.h this entry exercises
  std::string family;               // Catch2 tag of the family test case: [op_registry][<family>]
  std::function<std::vector<Sample>()> samples;
  OpFn fn;
  std::vector<int> differentiable;  // inputs checked by gradcheck (empty: no gradient)
  std::vector<int> grad_outputs;    // outputs gradchecked; empty = every floating output
  // float64 gradcheck (autograd/gradcheck.h)
  double grad_eps = 1e-6, grad_atol = 1e-6, grad_rtol = 1e-4;
  // float32 run vs float64 run: |f32 − f64| ≤ atol + rtol·|f64| per element
  double f32_atol = 1e-4, f32_rtol = 1e-4;
  bool f32 = true;  // false for ops that accept float64 only
  // CUDA vs CPU in float64: |cuda − cpu| ≤ atol + rtol·|cpu| (float32 runs use 2·f32_atol,
  // 2·f32_rtol); integer outputs exact
  double cuda_atol = 1e-5, cuda_rtol = 1e-5;
  bool cuda = true;  // false for CPU-only ops (the parity driver lists them as skipped)
  // Integer outputs must agree exactly across dtypes/devices unless the op documents that
  // near-ties may resolve differently (then at most `int_mismatch_frac` of elements may differ).
  double int_mismatch_frac = 0.0;
  std::set<int> nonfinite_ok;  // outputs that may hold ±inf by contract (fps radius[:, 0])
  std::set<int> f64_outputs;   // floating outputs that are float64 whatever the input dtype (lsap_cost)
};

std::vector<OpInfo>& entries();

struct Registrar {
  explicit Registrar(OpInfo info);
};

// Runs every check of the current executable's driver on the entries of one family. Defined
// once per executable (CPU checks in pg_tests, CUDA parity in pg_cuda_tests).
void run_family(const std::string& family);

// ---- sample helpers (deterministic) ----
// Uniform values in [lo, hi), float64.
Tensor uniform64(const Shape& shape, double lo, double hi, uint64_t seed);
// Distinct values spread over [lo, hi): a shuffled even grid plus a small jitter, so every pair
// differs by at least (hi − lo) / (2 numel) — no ties for max/argmin, and no element within
// finite-difference reach of a kink.
Tensor spread64(const Shape& shape, double lo, double hi, uint64_t seed);
// The same values as `t` in a non-contiguous layout: a transposed copy of the last two dims,
// transposed back (needs dim ≥ 2).
Tensor strided(const Tensor& t);
// Random int64 values in [0, hi).
Tensor randint64(const Shape& shape, int64_t hi, uint64_t seed);

}  // namespace pg::test::registry

#define PG_REG_CAT2(a, b) a##b
#define PG_REG_CAT(a, b) PG_REG_CAT2(a, b)
// PG_REGISTER_OP({...OpInfo fields...}); at namespace scope in an entries file.
#define PG_REGISTER_OP(...) \
  static ::pg::test::registry::Registrar PG_REG_CAT(pg_registrar_, __LINE__)(__VA_ARGS__)
// One Catch2 test case per family, in the entries file: both executables run it with their driver.
#define PG_REGISTRY_FAMILY(family)                                                   \
  TEST_CASE("op registry: " family, "[op_registry][" family "]") { ::pg::test::registry::run_family(family); }
