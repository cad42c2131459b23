// The entry list and the deterministic sample helpers of tests/registry/registry.h.
#include "registry/registry.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "core/random.h"
#include "ops/view.h"

namespace pg::test::registry {

std::vector<OpInfo>& entries() {
  static std::vector<OpInfo> list;
  return list;
}

Registrar::Registrar(OpInfo info) {
  if (info.covers.empty()) info.covers.push_back(info.name);
  entries().push_back(std::move(info));
}

Tensor uniform64(const Shape& shape, double lo, double hi, uint64_t seed) {
  Generator g(seed);
  std::vector<double> v = rand(shape, TensorOptions(DType::f64), &g).to_vector<double>();
  for (double& x : v) x = lo + (hi - lo) * x;
  return from_vector(v, shape);
}

Tensor spread64(const Shape& shape, double lo, double hi, uint64_t seed) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(perm.begin(), perm.end(), rng);
  std::uniform_real_distribution<double> jitter(0.25, 0.75);
  const double step = (hi - lo) / static_cast<double>(std::max<int64_t>(n, 1));
  std::vector<double> v(perm.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = lo + step * (static_cast<double>(perm[i]) + jitter(rng));
  return from_vector(v, shape);
}

Tensor strided(const Tensor& t) {
  const int64_t d = t.dim();
  Tensor swapped = contiguous(transpose(t, d - 2, d - 1));
  return transpose(swapped, d - 2, d - 1);
}

Tensor randint64(const Shape& shape, int64_t hi, uint64_t seed) {
  Generator g(seed);
  return randint(0, hi, shape, TensorOptions(DType::i64), &g);
}

}  // namespace pg::test::registry
