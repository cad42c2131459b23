// gradcheck (float64, CPU) of kNN distances, Chamfer (every reduction, direction and output) and
// Hausdorff. Random clouds in [-1, 1]: nearest-neighbour gaps are far above the finite-
// difference step, so no selection changes under perturbation (inputs free of ties).
#include <catch2/catch.hpp>

#include "ops/chamfer.h"
#include "ops/knn.h"
#include "test_util.h"

using namespace pg;

namespace {
autograd::GradcheckOptions opts() {
  autograd::GradcheckOptions o;
  o.eps = 1e-6;
  o.atol = 1e-7;
  o.rtol = 1e-5;
  return o;
}
}  // namespace

TEST_CASE("gradcheck knn distances w.r.t. query and ref", "[knn][gradcheck]") {
  for (KnnImpl impl : {KnnImpl::Auto, KnnImpl::Generic}) {
    Tensor q = test::leaf64({2, 6, 3}, -1, 1, 1);
    Tensor r = test::leaf64({2, 9, 3}, -1, 1, 2);
    KnnOptions ko;
    ko.impl = impl;
    test::check_grad([&](const std::vector<Tensor>& x) { return knn(x[0], x[1], 4, ko).dist2; }, {q, r}, opts());
    // k = 1 and a repeated query cloud (several queries sharing a neighbour → scatter sums)
    Tensor r2 = test::leaf64({2, 3, 3}, -1, 1, 3);
    test::check_grad([&](const std::vector<Tensor>& x) { return knn(x[0], x[1], 1, ko).dist2; }, {q, r2}, opts());
  }
}

TEST_CASE("gradcheck chamfer loss (mean, sum, none; both directions and one)", "[chamfer][gradcheck]") {
  Tensor a = test::leaf64({2, 7, 3}, -1, 1, 4);
  Tensor b = test::leaf64({2, 5, 3}, -1, 1, 5);
  for (ChamferReduction red : {ChamferReduction::mean, ChamferReduction::sum, ChamferReduction::none}) {
    for (ChamferDirection dir : {ChamferDirection::both, ChamferDirection::a_to_b, ChamferDirection::b_to_a}) {
      ChamferOptions co;
      co.reduction = red;
      co.direction = dir;
      INFO("reduction " << int(red) << " direction " << int(dir));
      test::check_grad([&](const std::vector<Tensor>& x) { return chamfer(x[0], x[1], co).loss; }, {a, b}, opts());
    }
  }
}

TEST_CASE("gradcheck chamfer per-point distance outputs", "[chamfer][gradcheck]") {
  Tensor a = test::leaf64({1, 6, 3}, -1, 1, 6);
  Tensor b = test::leaf64({1, 8, 3}, -1, 1, 7);
  for (ChamferImpl impl : {ChamferImpl::Auto, ChamferImpl::Generic}) {
    ChamferOptions co;
    co.impl = impl;
    test::check_grad([&](const std::vector<Tensor>& x) { return chamfer(x[0], x[1], co).dist_a; }, {a, b}, opts());
    test::check_grad([&](const std::vector<Tensor>& x) { return chamfer(x[0], x[1], co).dist_b; }, {a, b}, opts());
  }
}

TEST_CASE("gradcheck hausdorff (squared/Euclidean, max/sum, directions, reductions)", "[chamfer][gradcheck]") {
  Tensor a = test::leaf64({3, 6, 3}, -1, 1, 8);
  Tensor b = test::leaf64({3, 9, 3}, -1, 1, 9);
  for (bool squared : {true, false}) {
    for (HausdorffCombine comb : {HausdorffCombine::max, HausdorffCombine::sum}) {
      for (ChamferReduction red : {ChamferReduction::mean, ChamferReduction::none}) {
        for (ChamferDirection dir : {ChamferDirection::both, ChamferDirection::b_to_a}) {
          HausdorffOptions ho;
          ho.squared = squared;
          ho.combine = comb;
          ho.reduction = red;
          ho.direction = dir;
          INFO("squared " << squared << " combine " << int(comb) << " red " << int(red) << " dir " << int(dir));
          test::check_grad([&](const std::vector<Tensor>& x) { return hausdorff(x[0], x[1], ho); }, {a, b}, opts());
        }
      }
    }
  }
}
