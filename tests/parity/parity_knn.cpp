// CUDA vs CPU parity of kNN: the register path for every K bucket (k rounded up inside), the
// shared-memory list path (k <= 128), the global-scratch list path (k > 128), float64 (list
// path), the generic baseline, odd sizes, and the backward. CUDA may fuse multiply-adds, so
// distances agree to rounding and indices may differ only between near-ties.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "ops/knn.h"
#include "test_util.h"

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

Tensor cloud(int64_t B, int64_t N, uint64_t seed, DType dt) {
  return test::uniform({B, N, 3}, -1.0, 1.0, seed, TensorOptions(dt));
}

void require_knn_close(const KnnResult& gpu, const KnnResult& cpu, double tol) {
  REQUIRE(gpu.dist2.is_cuda());
  const auto dg = gpu.dist2.to(Device::cpu()).to_vector<double>();
  const auto dc = cpu.dist2.to_vector<double>();
  const auto ig = gpu.idx.to(Device::cpu()).to_vector<int64_t>();
  const auto ic = cpu.idx.to_vector<int64_t>();
  REQUIRE(dg.size() == dc.size());
  size_t mismatches = 0;
  test::require_all(
      dg.size(), [&](size_t e) { return std::fabs(dg[e] - dc[e]) <= tol * (1.0 + dc[e]); },
      [&](size_t e) {
        return "entry " + std::to_string(e) + ": " + std::to_string(dg[e]) + " vs " + std::to_string(dc[e]) + ", idx " +
               std::to_string(ig[e]) + " vs " + std::to_string(ic[e]);
      });
  for (size_t e = 0; e < dg.size(); ++e) mismatches += ig[e] != ic[e];  // near-ties resolved differently by rounding
  REQUIRE(mismatches <= 2 + dg.size() / 10000);
}

}  // namespace

TEST_CASE("knn parity: register buckets, shared and global lists (float32)", "[parity][knn]") {
  struct Case {
    int64_t B, Q, R;
  };
  const std::vector<Case> cases = test::emu_size(std::vector<Case>{{1, 5, 300}, {3, 257, 1000}, {2, 1000, 2049}},
                                                 std::vector<Case>{{1, 5, 300}, {2, 257, 700}});
  for (const Case c : cases) {
    Tensor q = cloud(c.B, c.Q, 1 + c.Q, DType::f32);
    Tensor r = cloud(c.B, c.R, 2 + c.R, DType::f32);
    Tensor qc = q.to(kCuda), rc = r.to(kCuda);
    for (int64_t k : {1, 2, 3, 4, 5, 8, 12, 16, 17, 31, 32, 33, 64, 100, 128, 129, 200}) {
      const KnnResult cpu = knn(q, r, k);
      for (KnnImpl impl : {KnnImpl::Auto, KnnImpl::Register, KnnImpl::List}) {
        KnnOptions o;
        o.impl = impl;
        INFO("B " << c.B << " Q " << c.Q << " R " << c.R << " k " << k << " impl " << int(impl));
        require_knn_close(knn(qc, rc, k, o), cpu, 1e-5);
      }
    }
  }
}

TEST_CASE("knn parity: float64 and the generic baseline", "[parity][knn]") {
  Tensor q = cloud(2, 300, 11, DType::f64);
  Tensor r = cloud(2, 700, 12, DType::f64);
  for (int64_t k : {1, 7, 32, 64, 150}) {
    const KnnResult cpu = knn(q, r, k);
    for (KnnImpl impl : {KnnImpl::Auto, KnnImpl::Generic}) {
      KnnOptions o;
      o.impl = impl;
      INFO("k " << k << " impl " << int(impl));
      require_knn_close(knn(q.to(kCuda), r.to(kCuda), k, o), cpu, 1e-12);
    }
  }
  Tensor qf = q.to(DType::f32), rf = r.to(DType::f32);
  KnnOptions g;
  g.impl = KnnImpl::Generic;
  require_knn_close(knn(qf.to(kCuda), rf.to(kCuda), 9, g), knn(qf, rf, 9), 1e-5);
}

TEST_CASE("knn parity: k = R and a single reference point", "[parity][knn]") {
  Tensor q = cloud(2, 50, 21, DType::f32);
  Tensor r = cloud(2, 40, 22, DType::f32);
  require_knn_close(knn(q.to(kCuda), r.to(kCuda), 40), knn(q, r, 40), 1e-5);
  Tensor r1 = cloud(2, 1, 23, DType::f32);
  require_knn_close(knn(q.to(kCuda), r1.to(kCuda), 1), knn(q, r1, 1), 1e-5);
}

TEST_CASE("knn parity: backward", "[parity][knn]") {
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor q = cloud(2, 200, 31, dt), r = cloud(2, 150, 32, dt);
    Tensor w = test::uniform({2, 200, 6}, 0.5, 1.5, 33, TensorOptions(dt));
    Tensor qg = q.clone(), rg = r.clone();
    qg.requires_grad_(true);
    rg.requires_grad_(true);
    knn(qg, rg, 6).dist2.backward(w);
    Tensor qd = q.to(kCuda), rd = r.to(kCuda);
    qd.requires_grad_(true);
    rd.requires_grad_(true);
    knn(qd, rd, 6).dist2.backward(w.to(kCuda));
    const double tol = dt == DType::f32 ? 1e-4 : 1e-10;
    REQUIRE(test::rel_l2(qd.grad().to(Device::cpu()), qg.grad()) < tol);
    REQUIRE(test::rel_l2(rd.grad().to(Device::cpu()), rg.grad()) < tol);
  }
}

TEST_CASE("knn on CUDA rejects NaN and mixed devices", "[parity][knn][errors]") {
  Tensor q = cloud(1, 10, 41, DType::f32);
  std::vector<double> v = q.to_vector<double>();
  v[3] = std::nan("");
  Tensor bad = from_vector(v, {1, 10, 3}).to(DType::f32).to(kCuda);
  REQUIRE_THROWS_WITH(knn(bad, q.to(kCuda), 2), Catch::Contains("knn") && Catch::Contains("query contains NaN"));
  REQUIRE_THROWS_WITH(knn(q.to(kCuda), q, 2), Catch::Contains("knn") && Catch::Contains("cuda"));
}
