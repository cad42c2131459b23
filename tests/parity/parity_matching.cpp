// CUDA vs CPU parity of match_and_complete (block-per-cloud unique + seeded FPS), ball_query
// (tiled, early-exit), smallest_k, point_to_mesh_distance (tiled brute force vs the CPU BVH and
// the shared brute-force body) and the PU losses (compositions). Ball query and the unique are
// exact (rounded distances / integer work); match_and_complete depends on the kNN, whose CUDA
// distances may round differently, so it is compared on clouds whose generated points are near
// input points (no near-ties).
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "ops/ball_query.h"
#include "ops/matching.h"
#include "ops/p2f.h"
#include "ops/pu_losses.h"
#include "test_util.h"

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

}  // namespace

TEST_CASE("match_and_complete parity", "[parity][matching]") {
  for (DType dt : {DType::f32, DType::f64}) {
    for (int64_t N : test::emu_size(std::vector<int64_t>{64, 1024, 5000}, std::vector<int64_t>{64, 1024})) {
      const int64_t B = 3;
      const Tensor pts = test::uniform({B, N, 3}, -1, 1, 1 + N, TensorOptions(dt));
      for (int64_t Mg : {8, 700, 2000}) {
        // generated = input points picked with repeats, plus a small jitter
        std::vector<int64_t> pick(static_cast<size_t>(B * Mg));
        for (int64_t i = 0; i < B * Mg; ++i) pick[i] = (i * 7 + (i * i) % 13) % (Mg < N ? Mg : N);
        const Tensor idx = from_vector(pick, {B, Mg, 1}).expand({B, Mg, 3}).contiguous();
        const Tensor gen = add(gather(pts, 1, idx), test::uniform({B, Mg, 3}, -1e-4, 1e-4, 7, TensorOptions(dt)));
        for (int64_t m : {1, 32, 512}) {
          if (m > N) continue;
          const MatchResult cpu = match_and_complete(gen, pts, m);
          const MatchResult gpu = match_and_complete(gen.to(kCuda), pts.to(kCuda), m);
          INFO("dtype " << dtype_name(dt) << " N " << N << " M' " << Mg << " m " << m);
          REQUIRE(gpu.indices.is_cuda());
          REQUIRE(gpu.indices.to(Device::cpu()).to_vector<int64_t>() == cpu.indices.to_vector<int64_t>());
          REQUIRE(gpu.num_unique.to(Device::cpu()).to_vector<int64_t>() == cpu.num_unique.to_vector<int64_t>());
        }
      }
    }
  }
}

TEST_CASE("ball_query and smallest_k parity (exact)", "[parity][matching]") {
  for (DType dt : {DType::f32, DType::f64}) {
    const Tensor q = test::uniform({2, 700, 3}, -1, 1, 3, TensorOptions(dt));
    const Tensor r = test::uniform({2, 3000, 3}, -1, 1, 4, TensorOptions(dt));
    for (double radius : {0.03, 0.1, 0.4, 5.0}) {
      for (int64_t S : {1, 20, 64, 300}) {
        const BallQueryResult cpu = ball_query(q, r, radius, S);
        const BallQueryResult gpu = ball_query(q.to(kCuda), r.to(kCuda), radius, S);
        INFO("dtype " << dtype_name(dt) << " radius " << radius << " nsample " << S);
        REQUIRE(gpu.idx.to(Device::cpu()).to_vector<int64_t>() == cpu.idx.to_vector<int64_t>());
        REQUIRE(gpu.count.to(Device::cpu()).to_vector<int64_t>() == cpu.count.to_vector<int64_t>());
      }
    }
    const Tensor v = test::uniform({1000, 37}, 0, 1, 5, TensorOptions(dt));
    for (int64_t k : {1, 5, 37}) {
      REQUIRE(smallest_k(v.to(kCuda), k).to(Device::cpu()).to_vector<int64_t>() ==
              smallest_k(v, k).to_vector<int64_t>());
    }
  }
}

TEST_CASE("point_to_mesh_distance parity", "[parity][p2f]") {
  for (DType dt : {DType::f32, DType::f64}) {
    for (int64_t F : {1, 100, 2049}) {
      const Tensor v = test::uniform({F * 3, 3}, -1, 1, 10 + F, TensorOptions(dt));
      std::vector<int64_t> fv(static_cast<size_t>(F * 3));
      for (int64_t i = 0; i < F * 3; ++i) fv[i] = (i * 7919) % (F * 3);
      const Tensor f = from_vector(fv, {F, 3});
      const Tensor p = test::uniform({1000, 3}, -1.5, 1.5, 20 + F, TensorOptions(dt));
      const Tensor cpu = point_to_mesh_distance(p, v, f);
      for (P2fImpl impl : {P2fImpl::Auto, P2fImpl::BruteForce}) {
        P2fOptions o;
        o.impl = impl;
        const Tensor gpu = point_to_mesh_distance(p.to(kCuda), v.to(kCuda), f.to(kCuda), o);
        INFO("dtype " << dtype_name(dt) << " F " << F << " impl " << int(impl));
        REQUIRE(gpu.is_cuda());
        test::require_close(gpu.to(Device::cpu()), cpu, dt == DType::f32 ? 1e-7 : 1e-14,
                            dt == DType::f32 ? 1e-6 : 1e-12);
      }
    }
  }
  REQUIRE_THROWS_WITH(point_to_mesh_distance(test::uniform({4, 3}, 0, 1, 1, TensorOptions(DType::f32, kCuda)),
                                             test::uniform({3, 3}, 0, 1, 2, TensorOptions(DType::f32, kCuda)),
                                             from_vector(std::vector<int64_t>{0, 1, 3}, {1, 3}, kCuda)),
                      Catch::Contains("outside [0, 3)"));
}

TEST_CASE("PU losses parity (values and gradients)", "[parity][pu]") {
  const Tensor x = test::uniform({2, 1000, 3}, -0.3, 0.3, 42, TensorOptions(DType::f64));
  for (int which = 0; which < 3; ++which) {
    auto loss = [&](const Tensor& p) {
      if (which == 0) return repulsion_loss(p);
      if (which == 1) {
        RepulsionOptions o;
        o.variant = RepulsionVariant::PUNet;
        return repulsion_loss(p, o);
      }
      return uniform_loss(p);
    };
    Tensor a = x.clone();
    a.requires_grad_(true);
    Tensor b = x.to(kCuda);
    b.requires_grad_(true);
    const Tensor la = loss(a), lb = loss(b);
    INFO("loss " << which);
    REQUIRE(lb.item<double>() == Approx(la.item<double>()).epsilon(1e-9));
    autograd::backward(la);
    autograd::backward(lb);
    test::require_close(b.grad().to(Device::cpu()), a.grad(), 1e-10, 1e-7);
  }
}
