// Registry entries: point_to_mesh_distance (family p2f) and the PU-Net/PU-GAN losses
// repulsion_loss, uniform_loss (family pu). Tie avoidance: repulsion inputs at ~0.03 spacing put
// some hinges on either side of h with margins ≫ the step; the uniform loss's FPS seeds and
// balls are fixed by well-spread random points.
#include <catch2/catch.hpp>

#include "ops/p2f.h"
#include "ops/pu_losses.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

// A tetrahedron plus one degenerate (collinear) face.
Tensor mesh_vertices() {
  return from_vector(std::vector<double>{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 2, 2, 2}, {5, 3});
}
Tensor mesh_faces() {
  return from_vector(std::vector<int64_t>{0, 1, 2, 0, 1, 3, 0, 2, 3, 1, 2, 3, 0, 4, 4}, {5, 3});
}

const bool registered = [] {
  for (P2fImpl impl : {P2fImpl::Auto, P2fImpl::BruteForce}) {
    Registrar({.name = std::string("point_to_mesh_distance") + (impl == P2fImpl::Auto ? "" : " brute force"),
               .covers = {"point_to_mesh_distance"},
               .family = "p2f",
               .samples =
                   [] {
                     return std::vector<Sample>{{"odd N", {uniform64({13, 3}, -1, 2.5, 91), mesh_vertices(), mesh_faces()}},
                                                {"strided points", {strided(uniform64({7, 3}, -1, 2.5, 92)), mesh_vertices(), mesh_faces()}}};
                   },
               .fn =
                   [impl](const std::vector<Tensor>& x) {
                     P2fOptions o;
                     o.impl = impl;
                     return std::vector<Tensor>{point_to_mesh_distance(x[0], x[1], x[2], o)};
                   },
               .f32_atol = 1e-5});
  }
  for (RepulsionVariant var : {RepulsionVariant::PUGAN, RepulsionVariant::PUNet}) {
    Registrar({.name = std::string("repulsion_loss ") + (var == RepulsionVariant::PUGAN ? "pugan" : "punet"),
               .covers = {"repulsion_loss"},
               .family = "pu",
               .samples =
                   [] {
                     return std::vector<Sample>{{"batch 2", {uniform64({2, 12, 3}, 0, 0.09, 93)}},
                                                {"odd N, strided", {strided(uniform64({1, 11, 3}, 0, 0.09, 94))}}};
                   },
               .fn =
                   [var](const std::vector<Tensor>& x) {
                     RepulsionOptions o;
                     o.variant = var;
                     o.nsample = 8;
                     return std::vector<Tensor>{repulsion_loss(x[0], o)};
                   },
               .differentiable = {0},
               .grad_eps = 1e-7,
               .grad_atol = 1e-8,
               .f32_atol = 1e-6,
               .f32_rtol = 1e-3});
  }
  Registrar({.name = "uniform_loss",
             .family = "pu",
             .samples = [] { return std::vector<Sample>{{"batch 2", {uniform64({2, 40, 3}, -0.5, 0.5, 13)}}}; },
             .fn =
                 [](const std::vector<Tensor>& x) {
                   UniformOptions o;
                   o.percentages = {0.1, 0.2};
                   o.radius = 0.4;
                   o.seed_fraction = 0.1;
                   return std::vector<Tensor>{uniform_loss(x[0], o)};
                 },
             .differentiable = {0},
             .grad_eps = 1e-7,
             .grad_atol = 1e-7,
             .f32_rtol = 1e-3});
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("p2f")
PG_REGISTRY_FAMILY("pu")

}  // namespace pg::test::registry
