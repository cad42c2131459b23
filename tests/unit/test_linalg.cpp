// matmul / bmm / linear against naive host loops: plain, transposed and sliced operands (the
// no-copy BLAS paths and the copy fallbacks), broadcast batch dims, 1-D promotion, the folded
// shared-weight path, tiny batched products, degenerate sizes and the error messages.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/parallel_for.h"
#include "kernels/blas.h"
#include "test_util.h"

using namespace pg;

namespace {

// NumPy matmul semantics in float64 on the host.
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  Shape as = a.shape(), bs = b.shape();
  const bool a1 = as.size() == 1, b1 = bs.size() == 1;
  if (a1) as = {1, as[0]};
  if (b1) bs = {bs[0], 1};
  const int64_t n = as[as.size() - 2], k = as[as.size() - 1], m = bs[bs.size() - 1];
  REQUIRE(bs[bs.size() - 2] == k);
  const size_t nba = as.size() - 2, nbb = bs.size() - 2, nb = std::max(nba, nbb);
  Shape batch(nb, 1);
  for (size_t i = 0; i < nb; ++i) {
    const int64_t da = i < nb - nba ? 1 : as[i - (nb - nba)];
    const int64_t db = i < nb - nbb ? 1 : bs[i - (nb - nbb)];
    REQUIRE((da == db || da == 1 || db == 1));
    batch[i] = std::max(da, db);
  }
  const auto va = a.to_vector<double>();
  const auto vb = b.to_vector<double>();
  const int64_t nbatch = shape_numel(batch);
  std::vector<double> out(nbatch * n * m, 0.0);
  for (int64_t p = 0; p < nbatch; ++p) {
    // Batch coordinates of p, then the flat batch index into a and b (size-1 dims broadcast).
    int64_t rem = p, pa = 0, pb = 0, mula = 1, mulb = 1;
    for (int64_t i = static_cast<int64_t>(nb) - 1; i >= 0; --i) {
      const int64_t c = rem % batch[i];
      rem /= batch[i];
      const int64_t ia = i - static_cast<int64_t>(nb - nba), ib = i - static_cast<int64_t>(nb - nbb);
      if (ia >= 0) {
        pa += (as[ia] == 1 ? 0 : c) * mula;
        mula *= as[ia];
      }
      if (ib >= 0) {
        pb += (bs[ib] == 1 ? 0 : c) * mulb;
        mulb *= bs[ib];
      }
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        double acc = 0.0;
        for (int64_t l = 0; l < k; ++l) acc += va[pa * n * k + i * k + l] * vb[pb * k * m + l * m + j];
        out[(p * n + i) * m + j] = acc;
      }
  }
  Shape final_shape = batch;
  if (!a1) final_shape.push_back(n);
  if (!b1) final_shape.push_back(m);
  return from_vector(out, final_shape);
}

Tensor rnd(const Shape& s, uint64_t seed, DType t = DType::f64) {
  return test::uniform(s, -1, 1, seed, TensorOptions(t));
}

// Integer values in [-4, 4] as floats: products and sums are exact in float32.
Tensor ints(const Shape& s, uint64_t seed, DType t = DType::f32) {
  return test::uniform(s, -4, 5, seed, TensorOptions(DType::f64)).to(DType::i64).to(t);
}

void check_matmul(const Tensor& a, const Tensor& b, double atol) {
  Tensor r = matmul(a, b);
  Tensor ref = naive_matmul(a, b);
  REQUIRE(r.shape() == ref.shape());
  REQUIRE(r.dtype() == a.dtype());
  REQUIRE(r.is_contiguous());
  test::require_close(r, ref, atol);
}

}  // namespace

TEST_CASE("matmul 2-D matches naive loops (f32 and f64)", "[linalg]") {
  for (DType t : {DType::f32, DType::f64}) {
    const double tol = t == DType::f32 ? 1e-4 : 1e-12;
    check_matmul(rnd({3, 4}, 1, t), rnd({4, 5}, 2, t), tol);
    check_matmul(rnd({1, 1}, 3, t), rnd({1, 1}, 4, t), tol);
    check_matmul(rnd({1, 7}, 5, t), rnd({7, 1}, 6, t), tol);
    check_matmul(rnd({67, 131}, 7, t), rnd({131, 45}, 8, t), tol);  // big enough for threaded OpenBLAS
  }
  // Integer-valued inputs are exact in float32.
  Tensor a = ints({9, 17}, 11), b = ints({17, 6}, 12);
  REQUIRE(test::max_abs_diff(matmul(a, b), naive_matmul(a, b)) == 0.0);
}

TEST_CASE("matmul hand-computed values", "[linalg]") {
  Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = tensor({7, 8, 9, 10, 11, 12}, {3, 2});
  REQUIRE(matmul(a, b).to_vector<float>() == std::vector<float>{58, 64, 139, 154});
  REQUIRE(matmul(b, a).shape() == Shape{3, 3});
  REQUIRE(matmul(b, a).to_vector<float>() == std::vector<float>{39, 54, 69, 49, 68, 87, 59, 82, 105});
}

TEST_CASE("matmul with transposed and sliced operands", "[linalg]") {
  for (DType t : {DType::f32, DType::f64}) {
    const double tol = t == DType::f32 ? 1e-4 : 1e-12;
    Tensor a = rnd({6, 5}, 21, t), b = rnd({7, 5}, 22, t);
    check_matmul(a, b.t(), tol);  // transposed B: flag, no copy
    check_matmul(b, a.t(), tol);
    check_matmul(a.t(), rnd({6, 3}, 23, t), tol);      // transposed A
    check_matmul(a.t(), rnd({3, 6}, 34, t).t(), tol);  // both transposed
    Tensor big = rnd({9, 12}, 24, t);
    check_matmul(big.slice(1, 2, 7), rnd({5, 4}, 25, t), tol);      // row stride 12 > 5 cols
    check_matmul(big.slice(0, 1, 6).t(), rnd({5, 3}, 26, t), tol);  // transposed slice
    check_matmul(big.slice(1, 0, 12, 3), rnd({4, 2}, 27, t), tol);  // column step 3: copy path
    check_matmul(big.slice(0, 0, 9, 2).slice(1, 1, 9, 2), rnd({4, 5}, 28, t), tol);
    // Batched transposes (transpose of the last two dims of a contiguous batch).
    Tensor x = rnd({3, 4, 6}, 29, t), y = rnd({3, 5, 6}, 30, t);
    check_matmul(x, y.transpose(1, 2), tol);
    check_matmul(x.transpose(1, 2), rnd({3, 4, 2}, 31, t), tol);
    // Batch dim not outermost in memory: permuted batch → copy path.
    check_matmul(rnd({4, 3, 5}, 32, t).permute({1, 0, 2}), rnd({3, 5, 2}, 33, t), tol);
  }
}

TEST_CASE("large products split into panels over threads match naive loops", "[linalg]") {
  // Three threads: uneven panels (the last one short), rows or columns by C's longer side, and a
  // batch with as many large products as threads; every operand layout of the BLAS call.
  const int saved = cpu_num_threads();
  set_cpu_num_threads(3);
  for (DType t : {DType::f32, DType::f64}) {
    const double tol = t == DType::f32 ? 1e-4 : 1e-12;
    Tensor a = rnd({300, 90}, 41, t), b = rnd({90, 20}, 42, t);
    check_matmul(a, b, tol);                                              // tall C: row panels
    check_matmul(b.t(), a.t(), tol);                                      // wide C: column panels, both transposed
    check_matmul(a.t().contiguous().t(), rnd({20, 90}, 43, t).t(), tol);  // transposed A and B, tall
    check_matmul(rnd({20, 90}, 44, t), rnd({300, 90}, 45, t).t(), tol);   // wide, transposed B
    check_matmul(rnd({20, 90}, 52, t), rnd({90, 300}, 53, t), tol);       // wide, plain operands
    Tensor wide = rnd({320, 100}, 46, t);
    check_matmul(wide.slice(1, 5, 95), rnd({90, 17}, 47, t), tol);        // row stride 100 > 90 cols
    check_matmul(rnd({3, 200, 40}, 48, t), rnd({3, 40, 50}, 49, t), tol);  // a batch per thread
    check_matmul(rnd({2, 200, 40}, 50, t), rnd({2, 40, 50}, 51, t), tol);  // fewer than threads: panels
  }
  set_cpu_num_threads(saved);
}

TEST_CASE("one-row and one-column products (the matrix-vector path) match naive loops", "[linalg]") {
  // Straight on the kernel: every transpose layout, leading dimensions wider than the rows,
  // alpha ≠ 1, beta = 0 over a C full of NaN (must not leak) and beta ≠ 0 (must accumulate),
  // a column C with ldc > 1, and a batch of one-row products (one APSNet attention step).
  for (DType t : {DType::f32, DType::f64}) {
    const double tol = t == DType::f32 ? 1e-4 : 1e-12;
    for (int shape = 0; shape < 2; ++shape)
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
          for (double beta : {0.0, 0.5}) {
            const int64_t batch = 3, k = 37, pad = 5;
            // m·n·k above the tiny-product threshold (4096), so the BLAS path runs.
            const int64_t m = shape == 0 ? 1 : 150, n = shape == 0 ? 150 : 1;
            // Stored shapes: op(A) m×k from A (m×k, or k×m when transposed); likewise B.
            const int64_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
            const int64_t lda = ac + pad, ldb = bc + pad, ldc = n + pad;
            std::vector<double> av = rnd({batch * ar * lda}, 91 + ta, DType::f64).to_vector<double>();
            std::vector<double> bv = rnd({batch * br * ldb}, 93 + tb, DType::f64).to_vector<double>();
            std::vector<double> cv = rnd({batch * m * ldc}, 95, DType::f64).to_vector<double>();
            std::vector<double> expect = cv;
            const double alpha = -1.5;
            for (int64_t p = 0; p < batch; ++p)
              for (int64_t i = 0; i < m; ++i)
                for (int64_t j = 0; j < n; ++j) {
                  double acc = 0;
                  for (int64_t l = 0; l < k; ++l) {
                    const double x = ta ? av[p * ar * lda + l * lda + i] : av[p * ar * lda + i * lda + l];
                    const double y = tb ? bv[p * br * ldb + j * ldb + l] : bv[p * br * ldb + l * ldb + j];
                    acc += x * y;
                  }
                  double& e = expect[p * m * ldc + i * ldc + j];
                  e = alpha * acc + (beta == 0.0 ? 0.0 : beta * e);
                }
            if (beta == 0.0)
              for (int64_t p = 0; p < batch; ++p)
                for (int64_t i = 0; i < m; ++i)
                  for (int64_t j = 0; j < n; ++j) cv[p * m * ldc + i * ldc + j] = std::numeric_limits<double>::quiet_NaN();
            Tensor A = from_vector(av, {batch * ar * lda}).to(t), Bt = from_vector(bv, {batch * br * ldb}).to(t);
            Tensor C = from_vector(cv, {batch * m * ldc}).to(t);
            kernels::GemmBatch g;
            g.dtype = t;
            g.trans_a = ta != 0;
            g.trans_b = tb != 0;
            g.m = m;
            g.n = n;
            g.k = k;
            g.a = A.raw_data();
            g.lda = lda;
            g.stride_a = ar * lda;
            g.b = Bt.raw_data();
            g.ldb = ldb;
            g.stride_b = br * ldb;
            g.c = C.raw_data();
            g.ldc = ldc;
            g.stride_c = m * ldc;
            g.batch = batch;
            g.alpha = alpha;
            g.beta = beta;
            kernels::gemm_strided_batched<CpuBackend>(g);
            const std::vector<double> got = C.to_vector<double>();
            for (int64_t p = 0; p < batch; ++p)
              for (int64_t i = 0; i < m; ++i)
                for (int64_t j = 0; j < n; ++j) {
                  const int64_t at = p * m * ldc + i * ldc + j;
                  INFO("shape " << shape << " ta " << ta << " tb " << tb << " beta " << beta << " at " << at);
                  REQUIRE(std::abs(got[at] - expect[at]) <= tol);
                }
          }
  }
  // Through matmul on three threads: a wide one-row product and a tall one-column product big
  // enough to be split into panels, each panel one matrix-vector call.
  const int saved = cpu_num_threads();
  set_cpu_num_threads(3);
  for (DType t : {DType::f32, DType::f64}) {
    const double tol = t == DType::f32 ? 1e-4 : 1e-12;
    check_matmul(rnd({1, 128}, 97, t), rnd({5000, 128}, 98, t).t(), tol);
    check_matmul(rnd({1, 128}, 99, t), rnd({128, 5000}, 100, t), tol);
    check_matmul(rnd({5000, 128}, 101, t), rnd({128, 1}, 102, t), tol);
    check_matmul(rnd({128, 5000}, 103, t).t(), rnd({1, 128}, 104, t).t(), tol);
  }
  set_cpu_num_threads(saved);
}

TEST_CASE("matmul broadcasts batch dims", "[linalg]") {
  for (DType t : {DType::f32, DType::f64}) {
    const double tol = t == DType::f32 ? 1e-4 : 1e-12;
    check_matmul(rnd({2, 1, 3, 4}, 41, t), rnd({5, 4, 2}, 42, t), tol);  // [2,5,3,2]
    check_matmul(rnd({3, 4}, 43, t), rnd({2, 3, 4, 5}, 44, t), tol);     // 2-D · 4-D
    check_matmul(rnd({4, 6, 3}, 45, t), rnd({3, 8}, 46, t), tol);        // shared weight: folded
    check_matmul(rnd({2, 3, 6, 3}, 47, t), rnd({3, 8}, 48, t), tol);
    check_matmul(rnd({4, 1, 3}, 49, t), rnd({1, 3, 2}, 50, t), tol);
    // Row slices of a batch: [B, 1, k] views with a batch stride larger than k (fold with lda).
    Tensor base = rnd({5, 4, 7}, 51, t);
    check_matmul(base.slice(1, 2, 3), rnd({7, 3}, 52, t), tol);
    // Explicitly expanded operand (stride 0 on a batch dim) and a mixed broadcast needing a copy.
    check_matmul(rnd({1, 3, 4}, 53, t).expand({6, 3, 4}), rnd({6, 4, 2}, 54, t), tol);
    check_matmul(rnd({3, 1, 2, 4}, 55, t).expand({3, 2, 2, 4}), rnd({3, 2, 4, 2}, 56, t), tol);
  }
  Tensor r = matmul(zeros({2, 1, 3, 4}), zeros({5, 4, 2}));
  REQUIRE(r.shape() == Shape{2, 5, 3, 2});
}

TEST_CASE("matmul 1-D promotion", "[linalg]") {
  Tensor v = rnd({4}, 61), w = rnd({4}, 62);
  Tensor dot = matmul(v, w);
  REQUIRE(dot.dim() == 0);
  check_matmul(v, w, 1e-12);
  check_matmul(v, rnd({4, 3}, 63), 1e-12);                               // → [3]
  check_matmul(rnd({5, 4}, 64), v, 1e-12);                               // → [5]
  check_matmul(v, rnd({2, 4, 3}, 65), 1e-12);                            // → [2, 3]
  check_matmul(rnd({2, 5, 4}, 66), v, 1e-12);                            // → [2, 5]
  check_matmul(rnd({8}, 67).slice(0, 0, 8, 2), rnd({4, 2}, 68), 1e-12);  // strided vector
  REQUIRE(matmul(v, rnd({4, 3}, 63)).shape() == Shape{3});
  REQUIRE(matmul(rnd({2, 5, 4}, 66), v).shape() == Shape{2, 5});
  REQUIRE(tensor({1, 2, 3}, DType::f64).dim() == 1);
  REQUIRE(matmul(tensor({1, 2, 3}, DType::f64), tensor({4, 5, 6}, DType::f64)).item() == 32.0);
}

TEST_CASE("matmul degenerate sizes", "[linalg]") {
  Tensor r = matmul(rnd({3, 0}, 71), rnd({0, 4}, 72));
  REQUIRE(r.shape() == Shape{3, 4});
  for (double x : r.to_vector<double>()) REQUIRE(x == 0.0);
  REQUIRE(matmul(rnd({0, 5}, 73), rnd({5, 4}, 74)).shape() == Shape{0, 4});
  REQUIRE(matmul(rnd({2, 0, 5}, 75), rnd({5, 4}, 76)).shape() == Shape{2, 0, 4});
  REQUIRE(matmul(rnd({0, 3, 5}, 77), rnd({5, 4}, 78)).shape() == Shape{0, 3, 4});
}

TEST_CASE("tiny batched products match naive loops", "[linalg]") {
  for (DType t : {DType::f32, DType::f64}) {
    const double tol = t == DType::f32 ? 1e-5 : 1e-13;
    Tensor a = rnd({2000, 3, 3}, 81, t), b = rnd({2000, 3, 3}, 82, t);  // enough work for threads
    test::require_close(bmm(a, b), naive_matmul(a, b), tol);
    test::require_close(bmm(a, b.transpose(1, 2)), naive_matmul(a, b.transpose(1, 2)), tol);
    test::require_close(bmm(a.transpose(1, 2), b), naive_matmul(a.transpose(1, 2), b), tol);
  }
}

TEST_CASE("bmm matches naive loops and validates shapes", "[linalg]") {
  for (DType t : {DType::f32, DType::f64}) {
    const double tol = t == DType::f32 ? 1e-4 : 1e-12;
    Tensor a = rnd({4, 33, 20}, 91, t), b = rnd({4, 20, 25}, 92, t);
    Tensor r = bmm(a, b);
    REQUIRE(r.shape() == Shape{4, 33, 25});
    test::require_close(r, naive_matmul(a, b), tol);
    test::require_close(bmm(b.transpose(1, 2), a.transpose(1, 2)), naive_matmul(b.transpose(1, 2), a.transpose(1, 2)),
                        tol);
  }
  REQUIRE_THROWS_WITH(bmm(rnd({2, 3, 4}, 1), rnd({3, 4, 5}, 2)),
                      Catch::Contains("bmm") && Catch::Contains("[2, 3, 4]") && Catch::Contains("[3, 4, 5]"));
  REQUIRE_THROWS_WITH(bmm(rnd({2, 3, 4}, 1), rnd({2, 5, 5}, 2)),
                      Catch::Contains("[2, 3, 4]") && Catch::Contains("[2, 5, 5]"));
  REQUIRE_THROWS_WITH(bmm(rnd({3, 4}, 1), rnd({4, 5}, 2)), Catch::Contains("3-D"));
}

TEST_CASE("linear matches x·wᵀ + b", "[linalg]") {
  for (DType t : {DType::f32, DType::f64}) {
    const double tol = t == DType::f32 ? 1e-4 : 1e-12;
    Tensor w = rnd({7, 5}, 101, t), bias = rnd({7}, 102, t);
    for (const Shape& xs : {Shape{5}, Shape{3, 5}, Shape{2, 4, 5}, Shape{2, 3, 4, 5}}) {
      Tensor x = rnd(xs, 103, t);
      Shape os = xs;
      os.back() = 7;
      Tensor ref_nb = naive_matmul(x, w.t());
      Tensor r = linear(x, w);
      REQUIRE(r.shape() == os);
      test::require_close(r, ref_nb, tol);
      // With bias: add it on the host.
      auto v = ref_nb.to_vector<double>();
      const auto bv = bias.to_vector<double>();
      for (size_t i = 0; i < v.size(); ++i) v[i] += bv[i % 7];
      test::require_close(linear(x, w, bias), from_vector(v, os), tol);
    }
    // Non-contiguous input and transposed weight storage.
    Tensor xt = rnd({5, 6}, 104, t).t();  // [6, 5]
    Tensor wt = rnd({5, 7}, 105, t).t();  // [7, 5], column-major
    test::require_close(linear(xt, wt), naive_matmul(xt, wt.t()), tol);
    Tensor xs = rnd({3, 8, 5}, 106, t).slice(1, 1, 8, 2);  // [3, 4, 5] with a row step
    test::require_close(linear(xs, w), naive_matmul(xs, w.t()), tol);
  }
  // Zero input features: the output is the bias.
  Tensor r = linear(zeros({4, 0}), zeros({3, 0}), tensor({1, 2, 3}));
  REQUIRE(r.to_vector<float>() == std::vector<float>{1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3});
}

TEST_CASE("linalg error messages", "[linalg][errors]") {
  REQUIRE_THROWS_WITH(matmul(rnd({2, 3}, 1), rnd({4, 5}, 2)),
                      Catch::Contains("matmul") && Catch::Contains("[2, 3]") && Catch::Contains("[4, 5]"));
  REQUIRE_THROWS_WITH(matmul(rnd({2, 2, 3}, 1), rnd({3, 3, 5}, 2)),
                      Catch::Contains("[2, 2, 3]") && Catch::Contains("[3, 3, 5]") && Catch::Contains("broadcast"));
  REQUIRE_THROWS_WITH(matmul(arange(6).reshape({2, 3}), arange(6).reshape({3, 2})),
                      Catch::Contains("matmul") && Catch::Contains("int64"));
  REQUIRE_THROWS_WITH(matmul(rnd({2, 3}, 1, DType::f32), rnd({3, 2}, 2, DType::f64)),
                      Catch::Contains("float32") && Catch::Contains("float64"));
  REQUIRE_THROWS_WITH(matmul(scalar_tensor(1.0), rnd({3}, 2, DType::f32)), Catch::Contains("at least one dim"));
  REQUIRE_THROWS_WITH(bmm(zeros({2, 3, 4}, DType::i32), zeros({2, 4, 5}, DType::i32)), Catch::Contains("int32"));
  REQUIRE_THROWS_WITH(linear(rnd({4, 5}, 1), rnd({3, 6}, 2)),
                      Catch::Contains("linear") && Catch::Contains("[4, 5]") && Catch::Contains("[3, 6]"));
  REQUIRE_THROWS_WITH(linear(rnd({4, 5}, 1), rnd({3, 5}, 2), rnd({4}, 3)),
                      Catch::Contains("bias") && Catch::Contains("[4]"));
  REQUIRE_THROWS_WITH(linear(rnd({4, 5}, 1), rnd({5}, 2)), Catch::Contains("2-D"));
}

TEST_CASE("matmul records a node and returns analytic gradients", "[linalg]") {
  Tensor a = test::leaf64({2, 3}, -1, 1, 111), b = test::leaf64({3, 4}, -1, 1, 112);
  Tensor y = matmul(a, b);
  REQUIRE(y.requires_grad());
  REQUIRE(y.grad_fn() != nullptr);
  sum(y).backward();
  // d sum(a·b)/da = 1·bᵀ: row sums of b broadcast over the rows of a.
  const auto bv = b.to_vector<double>();
  const auto ga = a.grad().to_vector<double>();
  for (int i = 0; i < 2; ++i)
    for (int l = 0; l < 3; ++l) {
      double s = 0;
      for (int j = 0; j < 4; ++j) s += bv[l * 4 + j];
      REQUIRE(ga[i * 3 + l] == Approx(s).margin(1e-12));
    }
  {
    NoGradGuard ng;
    REQUIRE_FALSE(matmul(a, b).requires_grad());
  }
}
