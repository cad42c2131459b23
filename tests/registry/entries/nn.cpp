// Registry entries of ops/nn.h: softmax / log_softmax (every dim, every SoftmaxImpl),
// cross_entropy (label smoothing), nll_loss, kl_div (both arguments, log_target), mse_loss and
// dropout (a re-seeded generator gives the same mask on every call: a fixed linear map).
// Smooth everywhere; probabilities are kept away from 0 so log p is well conditioned.
#include <catch2/catch.hpp>

#include "ops/nn.h"
#include "ops/view.h"
#include "registry/registry.h"

namespace pg::test::registry {
namespace {

using V = std::vector<Tensor>;

std::vector<Sample> logits_samples() {
  return {{"[3, 4, 5]", {uniform64({3, 4, 5}, -2, 2, 201)}},
          {"strided [7, 3]", {strided(uniform64({7, 3}, -2, 2, 202))}},
          {"[2, 33]", {uniform64({2, 33}, -2, 2, 203)}}};
}

std::vector<Sample> class_samples() {
  Tensor target = from_vector<int64_t>({2, 0, 4, 1, 4}, {5});
  return {{"5 × 6", {uniform64({5, 6}, -3, 3, 211), target}},
          {"strided", {strided(uniform64({5, 6}, -3, 3, 212)), target}}};
}

const char* red_name(Reduction r) { return reduction_name(r); }

const bool registered = [] {
  for (int64_t dim : {0, -1}) {
    for (SoftmaxImpl impl : {SoftmaxImpl::Auto, SoftmaxImpl::WarpRow, SoftmaxImpl::BlockRow, SoftmaxImpl::Column}) {
      for (bool log : {false, true}) {
        const std::string nm = log ? "log_softmax" : "softmax";
        Registrar({.name = nm + " dim " + std::to_string(dim) + " impl " + std::to_string(int(impl)),
                   .covers = {nm},
                   .family = "nn",
                   .samples = logits_samples,
                   .fn = [=](const V& x) { return V{log ? log_softmax(x[0], dim, impl) : softmax(x[0], dim, impl)}; },
                   .differentiable = {0}});
      }
    }
  }
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
    for (double eps : {0.0, 0.1}) {
      Registrar({.name = std::string("cross_entropy ") + red_name(r) + " smoothing " + std::to_string(eps),
                 .covers = {"cross_entropy"},
                 .family = "nn",
                 .samples = class_samples,
                 .fn = [=](const V& x) { return V{cross_entropy(x[0], x[1], r, eps)}; },
                 .differentiable = {0}});
    }
    Registrar({.name = std::string("nll_loss ") + red_name(r),
               .covers = {"nll_loss"},
               .family = "nn",
               .samples = class_samples,
               .fn = [=](const V& x) { return V{nll_loss(x[0], x[1], r)}; },
               .differentiable = {0}});
    Registrar({.name = std::string("mse_loss ") + red_name(r),
               .covers = {"mse_loss"},
               .family = "nn",
               .samples =
                   [] {
                     return std::vector<Sample>{{"3 × 4", {uniform64({3, 4}, -1, 1, 221), uniform64({3, 4}, -1, 1, 222)}},
                                                {"strided", {strided(uniform64({5, 3}, -1, 1, 223)), uniform64({5, 3}, -1, 1, 224)}}};
                   },
               .fn = [=](const V& x) { return V{mse_loss(x[0], x[1], r)}; },
               .differentiable = {0, 1}});
  }
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none, Reduction::batchmean}) {
    for (bool log_target : {false, true}) {
      Registrar({.name = std::string("kl_div ") + red_name(r) + (log_target ? " log_target" : ""),
                 .covers = {"kl_div"},
                 .family = "nn",
                 .samples =
                     [log_target] {
                       // input: log-probabilities; target: probabilities in [0.1, 0.9] or log of them
                       Tensor in = uniform64({3, 4}, std::log(0.1), std::log(0.9), 231);
                       Tensor t = log_target ? uniform64({3, 4}, std::log(0.1), std::log(0.9), 232)
                                             : uniform64({3, 4}, 0.1, 0.9, 232);
                       return std::vector<Sample>{{"3 × 4", {in, t}}, {"strided input", {strided(in), t}}};
                     },
                 .fn = [=](const V& x) { return V{kl_div(x[0], x[1], r, log_target)}; },
                 .differentiable = {0, 1}});
    }
  }
  Registrar({.name = "dropout",
             .family = "nn",
             .samples = [] { return std::vector<Sample>{{"6 × 7", {uniform64({6, 7}, -1, 1, 241)}},
                                                        {"strided", {strided(uniform64({5, 9}, -1, 1, 242))}}}; },
             .fn =
                 [](const V& x) {
                   Generator g(99);
                   return V{dropout(x[0], 0.4, true, &g)};
                 },
             .differentiable = {0}});  // Philox: the same seed gives the same mask on both devices
  return true;
}();

}  // namespace

PG_REGISTRY_FAMILY("nn")

}  // namespace pg::test::registry
