// Counter-based RNG: Philox4x32-10 known answers, the documented word-to-value mapping
// (core/random_impl.h), stream reproducibility and offsets, statistics, and errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/philox.h"
#include "core/random.h"
#include "core/tensor.h"

namespace {

using pg::DType;
using pg::Generator;
using pg::Tensor;
using pg::TensorOptions;
using pg::philox::Counter;
using pg::philox::Key;

void require_words(const Counter& got, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  INFO(std::hex << got.v[0] << " " << got.v[1] << " " << got.v[2] << " " << got.v[3]);
  REQUIRE(got.v[0] == a);
  REQUIRE(got.v[1] == b);
  REQUIRE(got.v[2] == c);
  REQUIRE(got.v[3] == d);
}

struct Moments {
  double mean = 0.0, var = 0.0, min = 0.0, max = 0.0;
};

Moments moments(const std::vector<double>& v) {
  Moments m;
  m.min = *std::min_element(v.begin(), v.end());
  m.max = *std::max_element(v.begin(), v.end());
  for (double x : v) m.mean += x;
  m.mean /= static_cast<double>(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= static_cast<double>(v.size() - 1);
  return m;
}

uint64_t bits53(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 21) | (b >> 11); }
uint64_t bits64(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 32) | b; }

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const pg::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors", "[random]") {
  using pg::philox::philox4x32_10;
  require_words(philox4x32_10(Counter{{0, 0, 0, 0}}, Key{{0, 0}}), 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8);
  require_words(philox4x32_10(Counter{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}}, Key{{0xffffffff, 0xffffffff}}),
                0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd);
  require_words(philox4x32_10(Counter{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}}, Key{{0xa4093822, 0x299f31d0}}),
                0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1);
}

TEST_CASE("philox(seed, counter) splits both into 32-bit words, low word first", "[random]") {
  const uint64_t seed = 0x0123456789abcdefULL, ctr = 0xfedcba9876543210ULL;
  const Counter a = pg::philox::philox(seed, ctr);
  const Counter b = pg::philox::philox4x32_10(Counter{{0x76543210, 0xfedcba98, 0, 0}}, Key{{0x89abcdef, 0x01234567}});
  require_words(a, b.v[0], b.v[1], b.v[2], b.v[3]);
}

TEST_CASE("rand/randn/randint/bernoulli follow the documented word mapping", "[random]") {
  const uint64_t seed = 1234567;
  const int64_t n = 257;
  auto words = [&](int64_t i) { return pg::philox::philox(seed, static_cast<uint64_t>(i)); };

  Generator g(seed);
  const auto f32 = pg::rand({n}, DType::f32, &g).to_vector<float>();
  const auto f64 = pg::rand({n}, DType::f64, &g).to_vector<double>();  // counters n..2n-1
  const auto nf32 = pg::randn({n}, DType::f32, &g).to_vector<float>();
  const auto nf64 = pg::randn({n}, DType::f64, &g).to_vector<double>();
  const auto ri = pg::randint(-5, 1000003, {n}, DType::i64, &g).to_vector<int64_t>();
  const auto be = pg::bernoulli({n}, 0.375, DType::f32, &g).to_vector<float>();
  REQUIRE(g.offset() == static_cast<uint64_t>(6 * n));

  const double two_pi = 6.283185307179586476925286766559;
  for (int64_t i = 0; i < n; ++i) {
    INFO("element " << i);
    const Counter w0 = words(i), w1 = words(n + i), w2 = words(2 * n + i), w3 = words(3 * n + i),
                  w4 = words(4 * n + i), w5 = words(5 * n + i);
    REQUIRE(f32[i] == static_cast<float>(w0.v[0] >> 8) * 0x1p-24f);
    REQUIRE(f64[i] == static_cast<double>(bits53(w1.v[0], w1.v[1])) * 0x1p-53);
    {
      const double u1 = (static_cast<double>(w2.v[0]) + 1.0) * 0x1p-32;
      const double u2 = static_cast<double>(w2.v[1]) * 0x1p-32;
      REQUIRE(nf32[i] == static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2)));
    }
    {
      const double u1 = (static_cast<double>(bits53(w3.v[0], w3.v[1])) + 1.0) * 0x1p-53;
      const double u2 = static_cast<double>(bits53(w3.v[2], w3.v[3])) * 0x1p-53;
      REQUIRE(nf64[i] == std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2));
    }
    REQUIRE(ri[i] == -5 + static_cast<int64_t>(bits64(w4.v[0], w4.v[1]) % 1000008u));
    const double u = static_cast<double>(bits53(w5.v[0], w5.v[1])) * 0x1p-53;
    REQUIRE(be[i] == (u < 0.375 ? 1.0f : 0.0f));
  }
}

TEST_CASE("same seed gives the same stream; different seeds differ", "[random]") {
  for (DType dt : {DType::f32, DType::f64}) {
    Generator a(42), b(42), c(43);
    const auto x = pg::rand({1000}, dt, &a).to_vector<double>();
    const auto y = pg::rand({1000}, dt, &b).to_vector<double>();
    const auto z = pg::rand({1000}, dt, &c).to_vector<double>();
    REQUIRE(x == y);
    int64_t equal = 0;
    for (size_t i = 0; i < x.size(); ++i) equal += x[i] == z[i];
    REQUIRE(equal < 5);
  }
  // Seeds differing only in the high 32 bits give different streams too (both key words used).
  Generator lo(7), hi(7 + (uint64_t{1} << 32));
  REQUIRE(pg::randint(0, 1 << 30, {64}, DType::i64, &lo).to_vector<int64_t>() !=
          pg::randint(0, 1 << 30, {64}, DType::i64, &hi).to_vector<int64_t>());
}

TEST_CASE("draws advance the offset; consecutive draws continue one stream", "[random]") {
  Generator g(99);
  REQUIRE(g.seed() == 99);
  REQUIRE(g.offset() == 0);
  const auto first = pg::rand({3, 5}, DType::f64, &g).to_vector<double>();
  REQUIRE(g.offset() == 15);
  const auto second = pg::rand({7}, DType::f64, &g).to_vector<double>();
  REQUIRE(g.offset() == 22);

  Generator h(99);
  const auto whole = pg::rand({22}, DType::f64, &h).to_vector<double>();
  for (size_t i = 0; i < 15; ++i) REQUIRE(whole[i] == first[i]);
  for (size_t i = 0; i < 7; ++i) REQUIRE(whole[15 + i] == second[i]);
  REQUIRE(first[0] != second[0]);

  // reserve skips counters; manual_seed restarts the stream.
  REQUIRE(g.reserve(100) == 22);
  REQUIRE(g.offset() == 122);
  g.manual_seed(99);
  REQUIRE(g.offset() == 0);
  REQUIRE(pg::rand({15}, DType::f64, &g).to_vector<double>() == first);

  // Empty and 0-d draws.
  Generator e(1);
  REQUIRE(pg::rand({0, 4}, DType::f32, &e).numel() == 0);
  REQUIRE(e.offset() == 0);
  Tensor s = pg::randn({}, DType::f32, &e);
  REQUIRE(s.dim() == 0);
  REQUIRE(e.offset() == 1);
}

TEST_CASE("the default generator follows manual_seed", "[random]") {
  pg::manual_seed(2024);
  REQUIRE(pg::default_generator().seed() == 2024);
  REQUIRE(pg::default_generator().offset() == 0);
  const auto x = pg::randn({100}, DType::f64).to_vector<double>();
  REQUIRE(pg::default_generator().offset() == 100);
  Generator g(2024);
  REQUIRE(x == pg::randn({100}, DType::f64, &g).to_vector<double>());
  pg::manual_seed(2024);
  REQUIRE(x == pg::randn({100}, DType::f64).to_vector<double>());
}

TEST_CASE("concurrent draws from one generator get disjoint counters", "[random]") {
  Generator g(5);
  constexpr int kThreads = 4, kDraws = 200;
  std::vector<std::vector<uint64_t>> starts(kThreads);
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      for (int k = 0; k < kDraws; ++k) starts[t].push_back(g.reserve(3));
    });
  }
  for (auto& th : pool) th.join();
  REQUIRE(g.offset() == uint64_t{3} * kThreads * kDraws);
  std::set<uint64_t> all;
  for (const auto& s : starts) all.insert(s.begin(), s.end());
  REQUIRE(all.size() == static_cast<size_t>(kThreads * kDraws));
  for (uint64_t s : all) REQUIRE(s % 3 == 0);
}

TEST_CASE("rand statistics: U[0,1) mean, variance, range and histogram", "[random]") {
  const int64_t n = 100000;
  for (DType dt : {DType::f32, DType::f64}) {
    INFO(pg::dtype_name(dt));
    Generator g(777);
    const auto v = pg::rand({n}, dt, &g).to_vector<double>();
    const Moments m = moments(v);
    // Standard errors: mean 0.00091, variance 0.00024.
    REQUIRE(std::fabs(m.mean - 0.5) < 0.005);
    REQUIRE(std::fabs(m.var - 1.0 / 12.0) < 0.0015);
    REQUIRE(m.min >= 0.0);
    REQUIRE(m.max < 1.0);
    std::vector<int64_t> bins(10, 0);
    for (double x : v) bins[static_cast<size_t>(x * 10)]++;
    for (int64_t b : bins) REQUIRE(std::abs(b - n / 10) < 500);  // 5 sigma = 474
  }
}

TEST_CASE("randn statistics: N(0,1) moments and tail mass", "[random]") {
  const int64_t n = 100000;
  for (DType dt : {DType::f32, DType::f64}) {
    INFO(pg::dtype_name(dt));
    Generator g(31337);
    const auto v = pg::randn({n}, dt, &g).to_vector<double>();
    const Moments m = moments(v);
    REQUIRE(std::fabs(m.mean) < 0.016);       // 5 / sqrt(n)
    REQUIRE(std::fabs(m.var - 1.0) < 0.023);  // 5 sqrt(2 / n)
    double within1 = 0, within2 = 0, skew = 0, kurt = 0;
    for (double x : v) {
      within1 += std::fabs(x) < 1.0;
      within2 += std::fabs(x) < 2.0;
      skew += x * x * x;
      kurt += x * x * x * x;
    }
    REQUIRE(std::fabs(within1 / n - 0.682689) < 0.0075);
    REQUIRE(std::fabs(within2 / n - 0.954500) < 0.0035);
    REQUIRE(std::fabs(skew / n) < 0.04);        // sd sqrt(15 / n) = 0.012
    REQUIRE(std::fabs(kurt / n - 3.0) < 0.16);  // sd sqrt(96 / n) = 0.031
    REQUIRE(std::isfinite(m.min));
    REQUIRE(std::isfinite(m.max));
  }
}

TEST_CASE("randint stays in [low, high) and hits every value evenly", "[random]") {
  Generator g(11);
  const int64_t n = 80000;
  const auto v = pg::randint(-3, 5, {n}, DType::i64, &g).to_vector<int64_t>();
  std::vector<int64_t> counts(8, 0);
  for (int64_t x : v) {
    REQUIRE(x >= -3);
    REQUIRE(x < 5);
    counts[static_cast<size_t>(x + 3)]++;
  }
  for (int64_t c : counts) REQUIRE(std::abs(c - n / 8) < 470);  // 5 sigma = 468

  // Other dtypes, a single-value range and the full int64 range.
  Tensor t32 = pg::randint(100, 200, {1000}, DType::i32, &g);
  REQUIRE(t32.dtype() == DType::i32);
  for (int32_t x : t32.to_vector<int32_t>()) REQUIRE((x >= 100 && x < 200));
  for (uint8_t x : pg::randint(0, 256, {1000}, DType::u8, &g).to_vector<uint8_t>()) REQUIRE(x <= 255);
  for (float x : pg::randint(-2, 2, {1000}, DType::f32, &g).to_vector<float>()) {
    REQUIRE((x == -2.0f || x == -1.0f || x == 0.0f || x == 1.0f));
  }
  for (int64_t x : pg::randint(7, 8, {50}, DType::i64, &g).to_vector<int64_t>()) REQUIRE(x == 7);
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  const auto wide = pg::randint(lo, hi, {1000}, DType::i64, &g).to_vector<int64_t>();
  int64_t negative = 0;
  for (int64_t x : wide) {
    REQUIRE(x < hi);
    negative += x < 0;
  }
  REQUIRE(std::abs(negative - 500) < 80);
}

TEST_CASE("randperm is a permutation ordered by the documented keys", "[random]") {
  for (DType dt : {DType::i64, DType::i32}) {
    Generator g(2718);
    const int64_t n = 5000;
    Tensor p = pg::randperm(n, dt, &g);
    REQUIRE(p.dtype() == dt);
    REQUIRE(p.shape() == pg::Shape{n});
    REQUIRE(g.offset() == static_cast<uint64_t>(n));
    const auto v = p.to_vector<int64_t>();
    std::vector<int64_t> sorted = v;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < n; ++i) REQUIRE(sorted[i] == i);
    // Not the identity, and the order follows the keys of counters 0..n-1.
    int64_t fixed = 0;
    for (int64_t i = 0; i < n; ++i) fixed += v[i] == i;
    REQUIRE(fixed < 10);
    for (int64_t i = 0; i + 1 < n; ++i) {
      const Counter a = pg::philox::philox(2718, static_cast<uint64_t>(v[i]));
      const Counter b = pg::philox::philox(2718, static_cast<uint64_t>(v[i + 1]));
      REQUIRE(bits64(a.v[0], a.v[1]) <= bits64(b.v[0], b.v[1]));
    }
    Generator same(2718), other(2719);
    REQUIRE(pg::randperm(n, dt, &same).to_vector<int64_t>() == v);
    REQUIRE(pg::randperm(n, dt, &other).to_vector<int64_t>() != v);
  }
  Generator g(1);
  REQUIRE(pg::randperm(0, DType::i64, &g).numel() == 0);
  REQUIRE(pg::randperm(1, DType::i64, &g).to_vector<int64_t>() == std::vector<int64_t>{0});
  // Uniformity: position of element 0 over many permutations of 4.
  std::vector<int64_t> pos(4, 0);
  for (int k = 0; k < 4000; ++k) {
    const auto v = pg::randperm(4, DType::i64, &g).to_vector<int64_t>();
    pos[static_cast<size_t>(std::find(v.begin(), v.end(), 0) - v.begin())]++;
  }
  for (int64_t c : pos) REQUIRE(std::abs(c - 1000) < 140);  // 5 sigma = 137
}

TEST_CASE("bernoulli with a scalar probability", "[random]") {
  const int64_t n = 100000;
  Generator g(8);
  const auto v = pg::bernoulli({n}, 0.3, DType::f32, &g).to_vector<float>();
  double ones = 0;
  for (float x : v) {
    REQUIRE((x == 0.0f || x == 1.0f));
    ones += x;
  }
  REQUIRE(std::fabs(ones / n - 0.3) < 0.0073);  // 5 sigma
  for (float x : pg::bernoulli({1000}, 0.0, DType::f32, &g).to_vector<float>()) REQUIRE(x == 0.0f);
  for (double x : pg::bernoulli({1000}, 1.0, DType::f64, &g).to_vector<double>()) REQUIRE(x == 1.0);
  Tensor b = pg::bernoulli({2, 3}, 0.5, DType::b8, &g);
  REQUIRE(b.dtype() == DType::b8);
  REQUIRE(b.shape() == pg::Shape{2, 3});
  // Equivalent to comparing a float64 rand of the same counters against p.
  Generator a(77), c(77);
  const auto u = pg::rand({1000}, DType::f64, &a).to_vector<double>();
  const auto bits = pg::bernoulli({1000}, 0.625, DType::u8, &c).to_vector<uint8_t>();
  for (size_t i = 0; i < u.size(); ++i) REQUIRE(bits[i] == (u[i] < 0.625 ? 1 : 0));
}

TEST_CASE("bernoulli with a tensor of probabilities (strided input)", "[random]") {
  for (DType dt : {DType::f32, DType::f64}) {
    // p[i][j] = 0, 1, or 0.5 in a pattern; read through a transposed view.
    std::vector<double> vals(6 * 4);
    for (size_t i = 0; i < vals.size(); ++i) vals[i] = (i % 3 == 0) ? 0.0 : (i % 3 == 1 ? 1.0 : 0.5);
    Tensor base = pg::empty({6, 4}, dt);
    pg::detail::copy_raw(base, pg::from_vector(vals, {6, 4}));
    Tensor pt = pg::detail::make_view(base, {4, 6}, {1, 4}, 0);  // transpose of base
    REQUIRE_FALSE(pt.is_contiguous());
    std::vector<double> tvals(24);
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 6; ++c) tvals[r * 6 + c] = vals[c * 4 + r];
    Tensor pc = pg::empty({4, 6}, dt);
    pg::detail::copy_raw(pc, pg::from_vector(tvals, {4, 6}));

    Generator g1(3), g2(3);
    Tensor out = pg::bernoulli(pt, &g1);
    REQUIRE(out.dtype() == dt);
    REQUIRE(out.shape() == pg::Shape{4, 6});
    REQUIRE(g1.offset() == 24);
    const auto o = out.to_vector<double>();
    REQUIRE(o == pg::bernoulli(pc, &g2).to_vector<double>());
    for (size_t i = 0; i < o.size(); ++i) {
      if (tvals[i] == 0.0) REQUIRE(o[i] == 0.0);
      if (tvals[i] == 1.0) REQUIRE(o[i] == 1.0);
    }
  }
  // Frequency against a constant tensor; 0-d and empty inputs.
  Generator g(4);
  REQUIRE(pg::bernoulli(pg::scalar_tensor(1.0), &g).item<double>() == 1.0);
  REQUIRE(pg::bernoulli(pg::scalar_tensor(0.0, DType::f64), &g).item<double>() == 0.0);
  REQUIRE(pg::bernoulli(pg::empty({0, 3}), &g).shape() == pg::Shape{0, 3});
  REQUIRE(g.offset() == 2);
  const auto v = pg::bernoulli(pg::full({50000}, 0.8, DType::f64), &g).to_vector<double>();
  double ones = 0;
  for (double x : v) ones += x;
  REQUIRE(std::fabs(ones / 50000 - 0.8) < 0.009);  // 5 sigma
}

TEST_CASE("RNG argument errors name the function and the values", "[random]") {
  Generator g(1);
  using Catch::Matchers::Contains;
  REQUIRE_THAT(error_of([&] { pg::randint(5, 5, {3}, DType::i64, &g); }), Contains("randint") && Contains("high"));
  REQUIRE_THAT(error_of([&] { pg::randint(5, 2, {3}, DType::i64, &g); }), Contains("randint"));
  REQUIRE_THAT(error_of([&] { pg::randint(0, 300, {3}, DType::u8, &g); }), Contains("randint") && Contains("uint8"));
  REQUIRE_THAT(error_of([&] { pg::randint(0, 2, {3}, DType::b8, &g); }), Contains("randint"));
  REQUIRE_THAT(error_of([&] { pg::randperm(-1, DType::i64, &g); }), Contains("randperm") && Contains("-1"));
  REQUIRE_THAT(error_of([&] { pg::randperm(4, DType::f32, &g); }), Contains("randperm"));
  REQUIRE_THAT(error_of([&] { pg::bernoulli({3}, -0.1, DType::f32, &g); }), Contains("bernoulli") && Contains("-0.1"));
  REQUIRE_THAT(error_of([&] { pg::bernoulli({3}, 1.5, DType::f32, &g); }), Contains("bernoulli") && Contains("1.5"));
  REQUIRE_THAT(error_of([&] { pg::bernoulli({3}, std::nan(""), DType::f32, &g); }), Contains("bernoulli"));
  REQUIRE_THAT(error_of([&] { pg::bernoulli(pg::zeros({2}, DType::i64), &g); }), Contains("bernoulli"));
  REQUIRE_THAT(error_of([&] { pg::bernoulli(Tensor(), &g); }), Contains("bernoulli"));
  REQUIRE_THAT(error_of([&] { pg::rand({2}, DType::i32, &g); }), Contains("rand") && Contains("int32"));
  REQUIRE_THAT(error_of([&] { pg::randn({2}, DType::u8, &g); }), Contains("randn"));
  REQUIRE_THAT(error_of([&] { pg::rand({-1}, DType::f32, &g); }), Contains("negative"));
  // A call rejected on its arguments consumes no counters (validation comes first). Probability
  // values of a tensor are checked with the draw itself (on CUDA inside the kernel), so those
  // calls have reserved their counters when they raise.
  REQUIRE(g.offset() == 0);
  REQUIRE_THAT(error_of([&] { pg::bernoulli(pg::tensor({0.5, 1.25}), &g); }), Contains("[0, 1]"));
  REQUIRE_THAT(error_of([&] { pg::bernoulli(pg::tensor({-0.5, 0.25}, DType::f64), &g); }), Contains("[0, 1]"));
  REQUIRE_THAT(error_of([&] { pg::bernoulli(pg::tensor({0.5, std::nan("")}), &g); }), Contains("bernoulli"));
#if !PG_WITH_CUDA
  REQUIRE_THAT(error_of([&] { pg::rand({2}, TensorOptions(DType::f32, pg::Device::cuda(0)), &g); }),
               Contains("without CUDA"));
#endif
}
