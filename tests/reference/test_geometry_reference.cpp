// Hand-computed golden cases for FPS, kNN, Chamfer and Hausdorff: checked against both the
// naive oracles of naive_geometry.h and the pointgrad ops (CPU, every path).
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/chamfer.h"
#include "ops/fps.h"
#include "ops/knn.h"
#include "reference/naive_geometry.h"
#include "test_util.h"

using namespace pg;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

// Corners of a 1 x 2 x 3 box, corner i = (bit0, 2·bit1, 3·bit2): pairwise squared distances are
// Δa² + 4Δb² + 9Δc², all distinct enough to follow FPS by hand.
std::vector<double> box_corners() {
  std::vector<double> p;
  for (int i = 0; i < 8; ++i) {
    p.push_back(i & 1);
    p.push_back(2.0 * ((i >> 1) & 1));
    p.push_back(3.0 * ((i >> 2) & 1));
  }
  return p;
}

}  // namespace

// By hand, start 0: field = [0,1,4,5,9,10,13,14] → pick 7 (14); field = [0,1,4,5,5,4,1,0] →
// 3 and 4 tie at 5, the lower index 3 wins; field = [0,1,1,0,5,4,1,0] → 4 (5); field =
// [0,1,1,0,0,1,1,0] → 1 (1); then 2 (1), 5 (1), 6 (1).
TEST_CASE("golden: FPS on the corners of a 1x2x3 box", "[fps][reference]") {
  const std::vector<double> pts = box_corners();
  const std::vector<int64_t> want_idx{0, 7, 3, 4, 1, 2, 5, 6};
  const std::vector<double> want_rad{kInf, 14, 5, 5, 1, 1, 1, 1};

  const ref::FpsOut o = ref::fps(pts, 1, 8, 8, {0}, 1);
  REQUIRE(o.idx == want_idx);
  REQUIRE(o.radius == want_rad);

  for (DType dt : {DType::f32, DType::f64}) {
    for (FpsImpl impl : {FpsImpl::Auto, FpsImpl::Generic}) {
      FpsOptions opt;
      opt.impl = impl;
      const FpsResult r = fps(from_vector(pts, {1, 8, 3}).to(dt), 8, opt);
      REQUIRE(r.indices.to_vector<int64_t>() == want_idx);
      REQUIRE(r.radius.to_vector<double>() == want_rad);
      // m = 4 is a prefix.
      REQUIRE(fps(from_vector(pts, {1, 8, 3}).to(dt), 4, opt).indices.to_vector<int64_t>() ==
              std::vector<int64_t>{0, 7, 3, 4});
    }
  }
}

// Seeds (7, 0): radius of seed 0 is its distance to seed 7 (14); the field is then the same as
// above after picks 0 and 7, so the free picks continue 3, 4, 1, 2, 5, 6.
TEST_CASE("golden: seeded FPS continues from the seeds", "[fps][reference]") {
  const std::vector<double> pts = box_corners();
  const std::vector<int64_t> want_idx{7, 0, 3, 4, 1, 2, 5, 6};
  const std::vector<double> want_rad{kInf, 14, 5, 5, 1, 1, 1, 1};
  REQUIRE(ref::fps(pts, 1, 8, 8, {7, 0}, 2).idx == want_idx);
  const FpsResult r = fps_seeded(from_vector(pts, {1, 8, 3}), from_vector<int64_t>({7, 0}, {1, 2}), 8);
  REQUIRE(r.indices.to_vector<int64_t>() == want_idx);
  REQUIRE(r.radius.to_vector<double>() == want_rad);
}

// Points on the x axis at 0, 1, 3, 6, 10. Query x = 2: squared distances 4, 1, 1, 16, 64 → the
// tie (1, 1) keeps index 1 before 2. Query x = 7: 49, 36, 16, 1, 9.
TEST_CASE("golden: kNN on points of a line, ties to the lower index", "[knn][reference]") {
  const std::vector<double> r{0, 0, 0, 1, 0, 0, 3, 0, 0, 6, 0, 0, 10, 0, 0};
  const std::vector<double> q{2, 0, 0, 7, 0, 0};
  const std::vector<double> want_d{1, 1, 4, 1, 9, 16};
  const std::vector<int64_t> want_i{1, 2, 0, 3, 4, 2};
  const ref::KnnOut o = ref::knn(q, r, 1, 2, 5, 3);
  REQUIRE(o.dist == want_d);
  REQUIRE(o.idx == want_i);
  for (DType dt : {DType::f32, DType::f64}) {
    for (KnnImpl impl : {KnnImpl::Auto, KnnImpl::Generic}) {
      KnnOptions opt;
      opt.impl = impl;
      const KnnResult res = knn(from_vector(q, {1, 2, 3}).to(dt), from_vector(r, {1, 5, 3}).to(dt), 3, opt);
      REQUIRE(res.dist2.to_vector<double>() == want_d);
      REQUIRE(res.idx.to_vector<int64_t>() == want_i);
    }
  }
}

// a = {(0,0,0), (2,0,0)}, b = {(0,1,0), (3,0,0), (2,0,2)}:
//   a0 → b0 (1), a1 → b1 (1); b0 → a0 (1), b1 → a1 (1), b2 → a1 (4).
//   mean: (1+1)/2 + (1+1+4)/3 = 3; sum: 8; Hausdorff: max(1, 4) = 4 (squared), 2 (Euclidean),
//   PU-GAN sum: 1 + 4 = 5.
//   ∂mean/∂a0 = ½·2(a0 − b0) + ⅓·(−2)(b0 − a0) = (0, −1, 0) + (0, −⅔, 0) = (0, −5/3, 0).
TEST_CASE("golden: Chamfer and Hausdorff of two tiny sets", "[chamfer][reference]") {
  const std::vector<double> a{0, 0, 0, 2, 0, 0};
  const std::vector<double> b{0, 1, 0, 3, 0, 0, 2, 0, 2};
  const ref::ChamferOut o = ref::chamfer(a, b, 1, 2, 3);
  REQUIRE(o.dist_a == std::vector<double>{1, 1});
  REQUIRE(o.idx_a == std::vector<int64_t>{0, 1});
  REQUIRE(o.dist_b == std::vector<double>{1, 1, 4});
  REQUIRE(o.idx_b == std::vector<int64_t>{0, 1, 1});
  REQUIRE(o.loss_mean == 3.0);
  REQUIRE(o.loss_sum == 8.0);
  REQUIRE(ref::hausdorff(a, b, 1, 2, 3, true, false)[0] == 4.0);
  REQUIRE(ref::hausdorff(a, b, 1, 2, 3, false, false)[0] == 2.0);
  REQUIRE(ref::hausdorff(a, b, 1, 2, 3, true, true)[0] == 5.0);

  for (ChamferImpl impl : {ChamferImpl::Auto, ChamferImpl::Generic}) {
    Tensor ta = from_vector(a, {1, 2, 3});
    Tensor tb = from_vector(b, {1, 3, 3});
    ta.requires_grad_(true);
    ChamferOptions opt;
    opt.impl = impl;
    const ChamferResult r = chamfer(ta, tb, opt);
    REQUIRE(r.loss.item() == 3.0);
    REQUIRE(r.dist_b.to_vector<double>() == std::vector<double>{1, 1, 4});
    REQUIRE(r.idx_b.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 1});
    r.loss.backward();
    const std::vector<double> g = ta.grad().to_vector<double>();
    REQUIRE(g[0] == Approx(0.0).margin(1e-15));
    REQUIRE(g[1] == Approx(-5.0 / 3.0).epsilon(1e-14));
    REQUIRE(g[2] == Approx(0.0).margin(1e-15));

    opt.reduction = ChamferReduction::sum;
    REQUIRE(chamfer(ta.detach(), tb, opt).loss.item() == 8.0);
    HausdorffOptions h;
    h.impl = impl;
    REQUIRE(hausdorff(ta.detach(), tb, h).item() == 4.0);
    h.squared = false;
    REQUIRE(hausdorff(ta.detach(), tb, h).item() == 2.0);
    h.squared = true;
    h.combine = HausdorffCombine::sum;
    REQUIRE(hausdorff(ta.detach(), tb, h).item() == 5.0);
  }
}
