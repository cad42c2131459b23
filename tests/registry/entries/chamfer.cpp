// Registry entries: chamfer (every reduction × direction, Auto and Generic) and hausdorff
// (squared/Euclidean × max/sum combine). Random clouds in [-1, 1]: NN gaps ≫ the
// finite-difference step, and the max inside hausdorff has no near-ties among ~10 distances.
#include <catch2/catch.hpp>

#include "ops/chamfer.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

std::vector<Sample> pair_samples() {
  return {
      {"odd sizes", {uniform64({2, 7, 3}, -1, 1, 21), uniform64({2, 5, 3}, -1, 1, 22)}},
      {"strided a", {strided(uniform64({1, 9, 3}, -1, 1, 23)), uniform64({1, 6, 3}, -1, 1, 24)}},
      {"batch 3", {uniform64({3, 6, 3}, -1, 1, 25), uniform64({3, 9, 3}, -1, 1, 26)}},
  };
}

std::vector<Tensor> defined_only(std::initializer_list<Tensor> ts) {
  std::vector<Tensor> out;
  for (const Tensor& t : ts) {
    if (t.defined()) out.push_back(t);
  }
  return out;
}

const bool registered = [] {
  const char* red_names[] = {"mean", "sum", "none"};
  const char* dir_names[] = {"both", "a_to_b", "b_to_a"};
  for (ChamferReduction red : {ChamferReduction::mean, ChamferReduction::sum, ChamferReduction::none}) {
    for (ChamferDirection dir : {ChamferDirection::both, ChamferDirection::a_to_b, ChamferDirection::b_to_a}) {
      for (ChamferImpl impl : {ChamferImpl::Auto, ChamferImpl::Generic}) {
        // The Generic path only for one reduction: it differs in the per-point search only.
        if (impl == ChamferImpl::Generic && red != ChamferReduction::mean) continue;
        Registrar({.name = std::string("chamfer ") + red_names[int(red)] + " " + dir_names[int(dir)] +
                           (impl == ChamferImpl::Generic ? " generic" : ""),
                   .covers = {"chamfer"},
                   .family = "chamfer",
                   .samples = pair_samples,
                   .fn =
                       [=](const std::vector<Tensor>& x) {
                         ChamferOptions o;
                         o.reduction = red;
                         o.direction = dir;
                         o.impl = impl;
                         const ChamferResult r = chamfer(x[0], x[1], o);
                         return defined_only({r.loss, r.dist_a, r.idx_a, r.dist_b, r.idx_b});
                       },
                   .differentiable = {0, 1},
                   .grad_atol = 1e-7,
                   .grad_rtol = 1e-5});
      }
    }
  }
  for (bool squared : {true, false}) {
    for (HausdorffCombine comb : {HausdorffCombine::max, HausdorffCombine::sum}) {
      Registrar({.name = std::string("hausdorff ") + (squared ? "squared " : "euclidean ") +
                         (comb == HausdorffCombine::max ? "max" : "sum"),
                 .covers = {"hausdorff"},
                 .family = "chamfer",
                 .samples = pair_samples,
                 .fn =
                     [=](const std::vector<Tensor>& x) {
                       HausdorffOptions o;
                       o.squared = squared;
                       o.combine = comb;
                       o.reduction = ChamferReduction::none;
                       return std::vector<Tensor>{hausdorff(x[0], x[1], o)};
                     },
                 .differentiable = {0, 1},
                 .grad_atol = 1e-7,
                 .grad_rtol = 1e-5});
    }
  }
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("chamfer")

}  // namespace pg::test::registry
