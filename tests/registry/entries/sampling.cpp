// Registry entries of the sampling family: fps, fps_seeded, soft_projection, attention_pool,
// match_and_complete, ball_query, group_points, smallest_k. Random clouds in [-1, 1]: kNN and
// FPS field maxima have gaps far above both the finite-difference step and float32 rounding,
// so selections are identical in every run; softmax inputs stay O(1) (no saturation).
#include <catch2/catch.hpp>

#include "ops/attention_pool.h"
#include "ops/ball_query.h"
#include "ops/fps.h"
#include "ops/matching.h"
#include "ops/soft_projection.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

std::vector<Tensor> fps_outputs(const FpsResult& r) { return {r.indices, r.radius}; }

const bool registered = [] {
  // ---- fps ----
  Registrar({.name = "fps",
             .family = "fps",
             .samples =
                 [] {
                   return std::vector<Sample>{{"odd N, batch 2", {uniform64({2, 23, 3}, -1, 1, 51)}},
                                              {"strided", {strided(uniform64({1, 17, 3}, -1, 1, 52))}},
                                              {"m = N", {uniform64({3, 8, 3}, -1, 1, 53)}}};
                 },
             .fn =
                 [](const std::vector<Tensor>& x) {
                   FpsOptions o;
                   o.start = 1;
                   return fps_outputs(fps(x[0], std::min<int64_t>(x[0].size(1), 8), o));
                 },
             .nonfinite_ok = {1}});
  Registrar({.name = "fps_seeded (ragged seeds)",
             .covers = {"fps_seeded"},
             .family = "fps",
             .samples =
                 [] {
                   Tensor seeds = from_vector(std::vector<int64_t>{4, 9, 2, 7, 0, 0}, {2, 3});
                   Tensor counts = from_vector(std::vector<int64_t>{3, 1}, {2});
                   return std::vector<Sample>{{"odd N", {uniform64({2, 19, 3}, -1, 1, 54), seeds, counts}},
                                              {"strided", {strided(uniform64({2, 12, 3}, -1, 1, 55)), seeds, counts}}};
                 },
             .fn = [](const std::vector<Tensor>& x) { return fps_outputs(fps_seeded(x[0], x[1], 7, x[2])); },
             .nonfinite_ok = {1}});
  // ---- soft projection ----
  auto sp_samples = [] {
    return std::vector<Sample>{
        {"odd sizes", {uniform64({2, 5, 3}, -1, 1, 56), uniform64({2, 11, 3}, -1, 1, 57), scalar_tensor(0.7, TensorOptions(DType::f64))}},
        {"strided points, [1] t", {uniform64({1, 4, 3}, -1, 1, 58), strided(uniform64({1, 9, 3}, -1, 1, 59)),
                                   from_vector(std::vector<double>{1.3}, {1})}},
    };
  };
  for (bool floor : {false, true}) {
    Registrar({.name = std::string("soft_projection") + (floor ? " min_sigma" : ""),
               .covers = {"soft_projection"},
               .family = "sampling",
               .samples = sp_samples,
               .fn =
                   [floor](const std::vector<Tensor>& x) {
                     SoftProjectionOptions o;
                     o.k = 3;
                     o.min_sigma = floor ? 0.1 : 0.0;  // below t² of both samples: t still gets a gradient
                     const SoftProjectionResult r = soft_projection(x[0], x[1], x[2], o);
                     return std::vector<Tensor>{r.projected, r.weights, r.idx, r.sigma};
                   },
               .differentiable = {0, 1, 2},
               .grad_atol = 1e-6,
               .grad_rtol = 1e-5});
  }
  // σ floored (t² = 0.0025 < min_sigma = 0.01: no gradient to t) and k = N.
  Registrar({.name = "soft_projection floor active, k = N",
             .covers = {"soft_projection"},
             .family = "sampling",
             .samples =
                 [] {
                   return std::vector<Sample>{{"t 0.05", {uniform64({1, 5, 3}, -1, 1, 83), uniform64({1, 6, 3}, -1, 1, 84),
                                                          scalar_tensor(0.05, TensorOptions(DType::f64))}}};
                 },
             .fn =
                 [](const std::vector<Tensor>& x) {
                   SoftProjectionOptions o;
                   o.k = 6;
                   o.min_sigma = 1e-2;
                   const SoftProjectionResult r = soft_projection(x[0], x[1], x[2], o);
                   return std::vector<Tensor>{r.projected, r.weights, r.idx, r.sigma};
                 },
             .differentiable = {0, 1, 2},
             .grad_atol = 1e-6,
             .grad_rtol = 1e-5,
             .f32_rtol = 1e-3});
  Registrar({.name = "soft_projection hard",
             .covers = {"soft_projection"},
             .family = "sampling",
             .samples = sp_samples,
             .fn =
                 [](const std::vector<Tensor>& x) {
                   SoftProjectionOptions o;
                   o.k = 4;
                   o.hard = true;
                   const SoftProjectionResult r = soft_projection(x[0], x[1], x[2], o);
                   return std::vector<Tensor>{r.projected, r.weights, r.idx, r.sigma};
                 },
             .differentiable = {1, 2},
             .grad_outputs = {0, 3}});
  // ---- attention pool ----
  Registrar({.name = "attention_pool",
             .family = "sampling",
             .samples =
                 [] {
                   return std::vector<Sample>{
                       {"3-D query", {uniform64({2, 7, 4}, -1, 1, 60), uniform64({2, 3, 4}, -1, 1, 61), uniform64({2, 7, 3}, -1, 1, 62)}},
                       {"2-D query, C 33", {uniform64({1, 9, 33}, -1, 1, 63), uniform64({1, 33}, -1, 1, 64), uniform64({1, 9, 3}, -1, 1, 65)}},
                       {"strided features, D 5", {strided(uniform64({2, 5, 6}, -1, 1, 66)), uniform64({2, 2, 6}, -1, 1, 67),
                                                  uniform64({2, 5, 5}, -1, 1, 68)}},
                   };
                 },
             .fn =
                 [](const std::vector<Tensor>& x) {
                   const AttentionPoolResult r = attention_pool(x[0], x[1], x[2]);
                   return std::vector<Tensor>{r.output, r.weights};
                 },
             .differentiable = {0, 1, 2},
             .grad_atol = 1e-6,
             .grad_rtol = 1e-5});
  // ---- matching ----
  Registrar({.name = "match_and_complete",
             .family = "matching",
             .samples =
                 [] {
                   return std::vector<Sample>{
                       {"completion by FPS", {uniform64({2, 4, 3}, -1, 1, 69), uniform64({2, 21, 3}, -1, 1, 70)}},
                       {"more generated than m", {strided(uniform64({1, 12, 3}, -1, 1, 71)), uniform64({1, 15, 3}, -1, 1, 72)}},
                   };
                 },
             .fn =
                 [](const std::vector<Tensor>& x) {
                   const MatchResult r = match_and_complete(x[0], x[1], 6);
                   return std::vector<Tensor>{r.indices, r.num_unique};
                 }});
  // ---- ball query and its helpers ----
  Registrar({.name = "ball_query",
             .family = "matching",
             .samples =
                 [] {
                   return std::vector<Sample>{{"odd sizes", {uniform64({2, 5, 3}, -1, 1, 73), uniform64({2, 31, 3}, -1, 1, 74)}},
                                              {"strided ref", {uniform64({1, 6, 3}, -1, 1, 75), strided(uniform64({1, 20, 3}, -1, 1, 76))}}};
                 },
             .fn =
                 [](const std::vector<Tensor>& x) {
                   const BallQueryResult r = ball_query(x[0], x[1], 0.8, 5);
                   return std::vector<Tensor>{r.idx, r.count};
                 }});
  Registrar({.name = "group_points",
             .family = "matching",
             .samples =
                 [] {
                   return std::vector<Sample>{{"repeated indices", {uniform64({2, 7, 4}, -1, 1, 77), randint64({2, 3, 5}, 7, 78)}},
                                              {"strided points", {strided(uniform64({1, 6, 3}, -1, 1, 79)), randint64({1, 4, 2}, 6, 80)}}};
                 },
             .fn = [](const std::vector<Tensor>& x) { return std::vector<Tensor>{group_points(x[0], x[1])}; },
             .differentiable = {0}});
  Registrar({.name = "smallest_k",
             .family = "matching",
             .samples =
                 [] {
                   return std::vector<Sample>{{"rows of 9", {spread64({3, 4, 9}, -1, 1, 81)}},
                                              {"strided", {strided(spread64({5, 6}, -1, 1, 82))}}};
                 },
             .fn = [](const std::vector<Tensor>& x) { return std::vector<Tensor>{smallest_k(x[0], 3)}; }});
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("fps")
PG_REGISTRY_FAMILY("sampling")
PG_REGISTRY_FAMILY("matching")

}  // namespace pg::test::registry
