// CUDA grid kNN (KnnImpl::Grid, kernels/cuda/knn_grid.cuh) against the CPU, forced at small sizes:
// uniform clouds (float32 and float64, register buckets and the row list past K = 32), clouds
// far from the origin, tight clusters with empty cells between them, queries outside the
// reference's box, flat and single-point clouds, K larger than a cell's content, K = R, and
// integer lattices full of duplicate points and equal distances. On the lattices every distance
// is exact (small integers), so the indices must match the CPU's tie rule (lower index first)
// entry for entry; elsewhere CUDA may fuse multiply-adds (distances to rounding, indices except
// between near-ties). Auto on a large cloud takes the grid and must agree too.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "ops/knn.h"
#include "test_util.h"

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

KnnResult grid_knn(const Tensor& q, const Tensor& r, int64_t k) {
  KnnOptions o;
  o.impl = KnnImpl::Grid;
  return knn(q.to(kCuda), r.to(kCuda), k, o);
}

// Distances to rounding; indices equal except between near-ties (exact = every index equal).
void require_same(const KnnResult& gpu, const KnnResult& cpu, double tol, bool exact) {
  REQUIRE(gpu.dist2.is_cuda());
  const auto dg = gpu.dist2.to(Device::cpu()).to_vector<double>();
  const auto dc = cpu.dist2.to_vector<double>();
  const auto ig = gpu.idx.to(Device::cpu()).to_vector<int64_t>();
  const auto ic = cpu.idx.to_vector<int64_t>();
  REQUIRE(dg.size() == dc.size());
  test::require_all(
      dg.size(),
      [&](size_t e) { return std::fabs(dg[e] - dc[e]) <= tol * (1.0 + dc[e]) && (!exact || ig[e] == ic[e]); },
      [&](size_t e) {
        return "entry " + std::to_string(e) + ": " + std::to_string(dg[e]) + " vs " + std::to_string(dc[e]) + ", idx " +
               std::to_string(ig[e]) + " vs " + std::to_string(ic[e]);
      });
  size_t mismatches = 0;
  for (size_t e = 0; e < dg.size(); ++e) mismatches += ig[e] != ic[e];
  REQUIRE(mismatches <= 2 + dg.size() / 10000);
}

void check(const Tensor& q, const Tensor& r, const std::vector<int64_t>& ks, bool exact = false) {
  const double tol = q.dtype() == DType::f32 ? 1e-5 : 1e-12;
  for (int64_t k : ks) {
    INFO("k " << k << " B " << q.size(0) << " Q " << q.size(1) << " R " << r.size(1));
    require_same(grid_knn(q, r, k), knn(q, r, k), tol, exact);
  }
}

// Points around a few tight cluster centres spread over a large box (most grid cells empty).
Tensor clustered(int64_t B, int64_t N, uint64_t seed, DType dt) {
  const auto u = test::uniform({B, N, 3}, -1.0, 1.0, seed).to_vector<double>();
  const auto c = test::uniform({B, 4, 3}, -20.0, 20.0, seed + 1).to_vector<double>();
  std::vector<double> v(u.size());
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t j = 0; j < N; ++j) {
      const int64_t cl = j % 4;
      for (int a = 0; a < 3; ++a) v[(b * N + j) * 3 + a] = c[(b * 4 + cl) * 3 + a] + 1e-2 * u[(b * N + j) * 3 + a];
    }
  }
  return from_vector(v, {B, N, 3}).to(dt);
}

// Integer coordinates in [0, side): many duplicates, exact distances, many equal distances.
Tensor lattice(int64_t B, int64_t N, int side, uint64_t seed, DType dt) {
  auto v = test::uniform({B, N, 3}, 0.0, static_cast<double>(side), seed).to_vector<double>();
  for (double& x : v) x = std::floor(x);
  return from_vector(v, {B, N, 3}).to(dt);
}

Tensor shifted(const Tensor& t, double by) {
  auto v = t.to_vector<double>();
  for (double& x : v) x += by;
  return from_vector(v, t.shape()).to(t.dtype());
}

}  // namespace

TEST_CASE("knn grid parity: uniform clouds, register buckets and the row list", "[parity][knn][knn_grid]") {
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    const Tensor q = test::uniform({3, 400, 3}, -1.0, 1.0, 101, TensorOptions(dt));
    const Tensor r = test::uniform({3, 2000, 3}, -1.0, 1.0, 102, TensorOptions(dt));
    check(q, r, {1, 3, 8, 16, 17, 32, 40});
  }
}

TEST_CASE("knn grid parity: far from the origin, outside queries, clusters", "[parity][knn][knn_grid]") {
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    const double far = dt == DType::f32 ? 1e3 : 1e7;
    const Tensor q = test::uniform({2, 300, 3}, -1.0, 1.0, 111, TensorOptions(dt));
    const Tensor r = test::uniform({2, 2000, 3}, -1.0, 1.0, 112, TensorOptions(dt));
    check(shifted(q, far), shifted(r, far), {1, 16});
    // Queries up to 3 box widths outside the reference cloud.
    check(test::uniform({2, 300, 3}, -4.0, 4.0, 113, TensorOptions(dt)), r, {1, 9});
    // Tight clusters far apart: the nearest K lie rings away for queries between clusters.
    check(test::uniform({2, 300, 3}, -20.0, 20.0, 114, TensorOptions(dt)), clustered(2, 2000, 115, dt), {1, 16});
    check(clustered(2, 300, 116, dt), clustered(2, 2000, 115, dt), {4, 33});
  }
}

TEST_CASE("knn grid parity: duplicates and equal distances keep the lower index", "[parity][knn][knn_grid]") {
  for (DType dt : {DType::f32, DType::f64}) {
    INFO("dtype " << dtype_name(dt));
    // 2000 points on 5³ lattice sites: ~16 copies of each point, K far beyond a cell's content.
    const Tensor r = lattice(2, 2000, 5, 121, dt);
    check(lattice(2, 300, 7, 122, dt), r, {1, 5, 16, 32, 50}, true);
    // Every point the same: one cell, K = R.
    const Tensor same = shifted(test::uniform({1, 64, 3}, 0.0, 0.0, 123, TensorOptions(dt)), 3.0);
    check(lattice(1, 50, 6, 124, dt), same, {1, 7, 64}, true);
    // A flat cloud (z = 0): one cell along z.
    auto v = lattice(1, 1500, 20, 125, dt).to_vector<double>();
    for (size_t e = 2; e < v.size(); e += 3) v[e] = 0.0;
    check(lattice(1, 200, 20, 126, dt), from_vector(v, {1, 1500, 3}).to(dt), {1, 12}, true);
  }
}

TEST_CASE("knn grid parity: Auto at the grid rule's size agrees with the CPU", "[parity][knn][knn_grid]") {
  // Auto's rule (knn.cu grid_wins): R >= 32768, Q >= 4096, k <= 32.
  const int64_t R = test::emu_size<int64_t>(40000, 32768), Q = 4096;
  const Tensor q = test::uniform({1, Q, 3}, -1.0, 1.0, 131, TensorOptions(DType::f32));
  const Tensor r = test::uniform({1, R, 3}, -1.0, 1.0, 132, TensorOptions(DType::f32));
  require_same(knn(q.to(kCuda), r.to(kCuda), 8), knn(q, r, 8), 1e-5, false);
}
