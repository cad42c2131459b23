// Generators and the public RNG functions: validate, reserve counters, dispatch to a backend.
// The per-element formulas are documented in core/random_impl.h.
#include "core/random.h"

#include <cmath>
#include <limits>

#include "core/parallel_for.h"
#include "core/random_kernels.h"

namespace pg {

void Generator::manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  seed_ = seed;
  offset_ = 0;
}

uint64_t Generator::reserve(uint64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t first = offset_;
  offset_ += n;
  return first;
}

Generator& default_generator() {
  static Generator g;
  return g;
}

void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

namespace {

Generator& gen_or_default(Generator* gen) { return gen != nullptr ? *gen : default_generator(); }

// Reserves the counters of `out` and returns (seed, first counter). reserve() is atomic, so
// concurrent draws from one generator get disjoint counter ranges; re-seeding a generator while
// another thread draws from it is a race of the caller.
struct Draw {
  uint64_t seed;
  uint64_t offset;
};

Draw reserve_for(Generator* gen, const Tensor& out) {
  Generator& g = gen_or_default(gen);
  const uint64_t offset = g.reserve(static_cast<uint64_t>(out.numel()));
  return {g.seed(), offset};
}

void check_floating(DType t, const char* op) {
  PG_CHECK(is_floating(t), op, ": dtype ", dtype_name(t), " is not supported (expected float32 or float64)");
}

// Checks that every value of [low, high) is representable in dtype `t` (floats: any range; large
// values round).
void check_randint_range(DType t, int64_t low, int64_t high) {
  int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  switch (t) {
    case DType::i32:
      lo = std::numeric_limits<int32_t>::min();
      hi = std::numeric_limits<int32_t>::max();
      break;
    case DType::u8:
      lo = 0;
      hi = 255;
      break;
    case DType::b8: PG_FAIL("randint: dtype bool is not supported (expected a numeric dtype)");
    default: break;
  }
  PG_CHECK(low >= lo && high - 1 <= hi, "randint: range [", low, ", ", high, ") does not fit dtype ", dtype_name(t),
           " (values ", lo, "..", hi, ")");
}

}  // namespace

Tensor rand(const Shape& shape, TensorOptions opts, Generator* gen) {
  check_floating(opts.dtype, "rand");
  Tensor out = empty(shape, opts);
  const Draw d = reserve_for(gen, out);
  on_backend(out.device(), "rand", [&]<class B>() { detail::rand_fill<B>(out, d.seed, d.offset); });
  return out;
}

Tensor randn(const Shape& shape, TensorOptions opts, Generator* gen) {
  check_floating(opts.dtype, "randn");
  Tensor out = empty(shape, opts);
  const Draw d = reserve_for(gen, out);
  on_backend(out.device(), "randn", [&]<class B>() { detail::randn_fill<B>(out, d.seed, d.offset); });
  return out;
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, TensorOptions opts, Generator* gen) {
  PG_CHECK(high > low, "randint: high (", high, ") must be greater than low (", low, ")");
  check_randint_range(opts.dtype, low, high);
  Tensor out = empty(shape, opts);
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  const Draw d = reserve_for(gen, out);
  on_backend(out.device(), "randint", [&]<class B>() { detail::randint_fill<B>(out, low, range, d.seed, d.offset); });
  return out;
}

Tensor randperm(int64_t n, TensorOptions opts, Generator* gen) {
  PG_CHECK(n >= 0, "randperm: n must be non-negative, got ", n);
  PG_CHECK(opts.dtype == DType::i64 || opts.dtype == DType::i32, "randperm: dtype ", dtype_name(opts.dtype),
           " is not supported (expected int32 or int64)");
  PG_CHECK(opts.dtype != DType::i32 || n - 1 <= std::numeric_limits<int32_t>::max(), "randperm: n = ", n,
           " does not fit int32 indices");
  Tensor out = empty({n}, opts);
  const Draw d = reserve_for(gen, out);
  on_backend(out.device(), "randperm", [&]<class B>() { detail::randperm_fill<B>(out, d.seed, d.offset); });
  return out;
}

Tensor bernoulli(const Tensor& p, Generator* gen) {
  PG_CHECK(p.defined(), "bernoulli: undefined probability tensor");
  check_floating(p.dtype(), "bernoulli");
  Tensor out = empty(p.shape(), p.options());
  const Draw d = reserve_for(gen, out);
  const bool ok = on_backend(out.device(), "bernoulli",
                             [&]<class B>() { return detail::bernoulli_tensor_fill<B>(out, p, d.seed, d.offset); });
  PG_CHECK(ok, "bernoulli: probabilities must lie in [0, 1] (found a value outside, or NaN)");
  return out;
}

Tensor bernoulli(const Shape& shape, double p, TensorOptions opts, Generator* gen) {
  PG_CHECK(p >= 0.0 && p <= 1.0, "bernoulli: probability p = ", p, " is outside [0, 1]");
  Tensor out = empty(shape, opts);
  const Draw d = reserve_for(gen, out);
  on_backend(out.device(), "bernoulli",
             [&]<class B>() { detail::bernoulli_scalar_fill<B>(out, p, d.seed, d.offset); });
  return out;
}

}  // namespace pg
