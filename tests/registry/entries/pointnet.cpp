// Registry entries of the PointNet layer ops: shared_mlp (no BN / BN training / BN eval, every
// activation, Generic path), batch_norm (both overloads; the updated running statistics are
// outputs too, so parity and float32 runs compare them) and max_pool_points (both paths).
// Kinks: relu/leaky_relu/selu pre-activations of random O(1) inputs are ≫ the step away from 0;
// max_pool inputs are spread (distinct values ≥ 1/(2·numel) apart), so no max is tied.
#include <catch2/catch.hpp>

#include "ops/pointnet.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

std::vector<Sample> mlp_samples() {
  // x, weight, bias, gamma, beta, running_mean, running_var
  auto stats = [](uint64_t s) {
    return std::vector<Tensor>{uniform64({4}, 0.5, 1.5, s), uniform64({4}, -1, 1, s + 1), uniform64({4}, -0.5, 0.5, s + 2),
                               uniform64({4}, 0.5, 2.0, s + 3)};
  };
  auto sample = [&](const std::string& label, Tensor x, uint64_t s) {
    std::vector<Tensor> in = {x, uniform64({4, 3}, -1, 1, s), uniform64({4}, -1, 1, s + 1)};
    for (const Tensor& t : stats(s + 2)) in.push_back(t);
    return Sample{label, in};
  };
  return {sample("[B, N, C] odd N", uniform64({2, 7, 3}, -1, 1, 101), 102),
          sample("strided", strided(uniform64({3, 5, 3}, -1, 1, 110)), 111),
          sample("2-D input", uniform64({5, 3}, -1, 1, 120), 121)};
}

const char* act_name(Activation a) { return activation_name(a); }

const bool registered = [] {
  for (int bn_mode : {0, 1, 2}) {  // 0: no BN, 1: BN training, 2: BN eval
    for (Activation a : {Activation::none, Activation::relu, Activation::leaky_relu, Activation::selu}) {
      const char* bn_names[] = {"", " bn-train", " bn-eval"};
      Registrar({.name = std::string("shared_mlp ") + act_name(a) + bn_names[bn_mode],
                 .covers = {"shared_mlp"},
                 .family = "pointnet_ops",
                 .samples = mlp_samples,
                 .fn =
                     [=](const std::vector<Tensor>& x) {
                       SharedMLPOptions o;
                       o.activation = a;
                       o.negative_slope = 0.2;
                       Tensor rm = x[5].clone(), rv = x[6].clone();
                       if (bn_mode > 0) o.bn = BatchNormArgs{x[3], x[4], rm, rv, bn_mode == 1, 0.1, 1e-5};
                       Tensor y = shared_mlp(x[0], x[1], x[2], o);
                       return std::vector<Tensor>{y, rm, rv};
                     },
                 .differentiable = bn_mode > 0 ? std::vector<int>{0, 1, 2, 3, 4} : std::vector<int>{0, 1, 2},
                 .grad_outputs = {0},
                 .f32_atol = 2e-4});
    }
  }
  Registrar({.name = "shared_mlp generic selu bn, no bias",
             .covers = {"shared_mlp"},
             .family = "pointnet_ops",
             .samples = mlp_samples,
             .fn =
                 [](const std::vector<Tensor>& x) {
                   SharedMLPOptions o;
                   o.activation = Activation::selu;
                   o.impl = PointnetImpl::Generic;
                   o.bn = BatchNormArgs{x[3], Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5};
                   return std::vector<Tensor>{shared_mlp(x[0], x[1], Tensor(), o)};
                 },
             .differentiable = {0, 1, 3},
             .f32_atol = 2e-4});
  for (bool training : {true, false}) {
    Registrar({.name = std::string("batch_norm ") + (training ? "training" : "eval"),
               .covers = {"batch_norm"},
               .family = "pointnet_ops",
               .samples =
                   [] {
                     auto s = [](const std::string& label, Tensor x, uint64_t seed) {
                       return Sample{label, {x, uniform64({4}, 0.5, 1.5, seed), uniform64({4}, -1, 1, seed + 1),
                                             uniform64({4}, -0.5, 0.5, seed + 2), uniform64({4}, 0.5, 2.0, seed + 3)}};
                     };
                     return std::vector<Sample>{s("[B, C]", uniform64({6, 4}, -2, 2, 130), 131),
                                                s("[B, N, C] strided", strided(uniform64({2, 5, 4}, -2, 2, 135)), 136)};
                   },
               .fn =
                   [training](const std::vector<Tensor>& x) {
                     Tensor rm = x[3].clone(), rv = x[4].clone();
                     Tensor y = batch_norm(x[0], x[1], x[2], rm, rv, training, 0.1, 1e-5);
                     return std::vector<Tensor>{y, rm, rv};
                   },
               .differentiable = {0, 1, 2},
               .grad_outputs = {0},
               .f32_atol = 2e-4});
  }
  Registrar({.name = "batch_norm args, no affine, no running stats",
             .covers = {"batch_norm"},
             .family = "pointnet_ops",
             .samples = [] { return std::vector<Sample>{{"[B, N, C]", {uniform64({3, 6, 2}, -2, 2, 140)}}}; },
             .fn =
                 [](const std::vector<Tensor>& x) {
                   BatchNormArgs args;
                   return std::vector<Tensor>{batch_norm(x[0], args)};
                 },
             .differentiable = {0},
             .f32_atol = 2e-4});
  for (PointnetImpl impl : {PointnetImpl::Auto, PointnetImpl::Generic}) {
    Registrar({.name = std::string("max_pool_points") + (impl == PointnetImpl::Auto ? "" : " generic"),
               .covers = {"max_pool_points"},
               .family = "pointnet_ops",
               .samples =
                   [] {
                     return std::vector<Sample>{{"batch 2, odd N", {spread64({2, 7, 5}, -1, 1, 150)}},
                                                {"strided, batch 3", {strided(spread64({3, 9, 4}, -1, 1, 151))}},
                                                {"C 33", {spread64({2, 4, 33}, -1, 1, 152)}}};
                   },
               .fn =
                   [impl](const std::vector<Tensor>& x) {
                     const MaxPoolResult r = max_pool_points(x[0], impl);
                     return std::vector<Tensor>{r.values, r.indices};
                   },
               .differentiable = {0},
               .grad_outputs = {0}});
  }
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("pointnet_ops")

}  // namespace pg::test::registry
