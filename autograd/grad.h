// Functional autograd helpers (kept out of engine.h / grad_mode.h, which most files include):
//
//   grad(roots, grads, inputs)  gradients of `roots` (cotangents `grads`, as in backward) w.r.t.
//     `inputs`, RETURNED instead of accumulated: no leaf's .grad changes, and leaves of the graph
//     not listed in `inputs` receive nothing. Every input must be a leaf that requires grad; an
//     input the roots do not reach gets an undefined tensor. Reentrant: a node's backward may
//     call it on a graph it builds itself (the reversible InvertibleSequence, models/nn/
//     invertible.h, recomputes a block and differentiates it this way). Frees the graph's saved
//     tensors unless retain_graph.
//   GradModeGuard(enabled)  sets grad mode for its scope (e.g. on, inside a backward, which runs
//     with grad mode off, to record such a graph).
//   graph_stats(roots)  what the graph behind `roots` holds for its backward: the nodes reachable
//     from the roots and the tensors they have saved, counted once per storage.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace pg::autograd {

std::vector<Tensor> grad(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
                         const std::vector<Tensor>& inputs, bool retain_graph = false);

class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled);
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool prev_;
};

struct GraphStats {
  int64_t nodes = 0;
  int64_t saved_storages = 0;
  int64_t saved_bytes = 0;
};
GraphStats graph_stats(const std::vector<Tensor>& roots);

}  // namespace pg::autograd
