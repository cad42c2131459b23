// Invertible modules (normalising-flow building blocks) and a sequence of them.
//
// InvertibleModule: forward(x) → {y, logdet} with logdet [B] = log|det ∂y/∂x| per sample (dim 0
// of x is the batch), and inverse(y) → x with inverse(forward(x).y) = x to rounding. Both are
// differentiable. Subclasses must be deterministic functions of their input and parameters (no
// dropout, no batch-statistics BatchNorm): the reversible mode below recomputes them.
//
// InvertibleSequence: blocks applied in order; logdet is the sum of the blocks' log-dets, inverse
// runs the blocks' inverses in reverse order. Children "0", "1", ... (state names "0.cond.0.conv.weight", ...).
//
// Reversible mode (set_reversible(true); PERFORMANCE.md T-AC-4): with grad mode on, forward runs
// every block WITHOUT recording and records ONE tape node (inputs x and the blocks' trainable
// parameters, outputs y and logdet) that saves only y. Its backward walks the blocks from last to
// first: x_k = block_k.inverse(y_k) (no recording), then re-runs block_k.forward on x_k with
// recording and differentiates that small graph with autograd::grad (autograd/grad.h), which returns
// ∂/∂x_k and ∂/∂θ_k without touching .grad; the gradient for x_k becomes the cotangent for block
// k − 1. Only one block's activations live at a time, so the memory held for the backward does not
// grow with the number of blocks (graph_stats counts it). Gradients equal the stored-activation
// ones up to the rounding of the reconstructed x_k. Parameter gradients reach .grad through the
// node's edges, like any op's. Tensors the blocks capture from outside (other than x and their own
// parameters) receive no gradient in this mode.
//
// Errors: push_back of a null block; a forward input that is undefined or 0-dim. Shape errors of
// the blocks' inputs are reported by the blocks themselves.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/nn/module.h"

namespace pg::nn {

struct FlowResult {
  Tensor y;
  Tensor logdet;  // [B]
};

// What the reversible backward needs from one block (InvertibleModule::recompute): the block's
// input x rebuilt from its output, as one or more fresh leaves requiring grad (`parts`), the
// block's forward recorded on them (`out`), and how the parts' gradients form ∂/∂x (`join`).
struct Recomputed {
  Tensor x;                  // the rebuilt input (no history)
  std::vector<Tensor> parts;  // leaves requiring grad that `out` was recorded from
  FlowResult out;            // forward(x), recorded
};

class InvertibleModule : public Module {
 public:
  explicit InvertibleModule(std::string type_name) : Module(std::move(type_name)) {}
  virtual FlowResult forward(const Tensor& x) = 0;
  virtual Tensor inverse(const Tensor& y) = 0;
  // For the reversible mode; called with grad mode ON. Default: x = inverse(y) without recording,
  // parts = {x as a leaf}, out = forward(parts[0]). Blocks may override to share work between
  // the inverse and the recomputed forward (AffineCouplingBlock runs its conditioner once).
  virtual Recomputed recompute(const Tensor& y);
  // ∂L/∂x from the gradients of `parts` (undefined entries are zero). Default: parts_grad[0].
  virtual Tensor join_grads(const std::vector<Tensor>& parts_grad, const Recomputed& r) const;
};

class InvertibleSequence : public InvertibleModule {
 public:
  InvertibleSequence() : InvertibleModule("InvertibleSequence") {}

  // Appends `block` as child "<size()>" and returns it.
  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> block) {
    add_block(block);
    return block;
  }

  // Empty sequence: y = x, logdet = zeros [B].
  FlowResult forward(const Tensor& x) override;
  Tensor inverse(const Tensor& y) override;

  void set_reversible(bool on) { reversible_ = on; }
  bool reversible() const { return reversible_; }
  size_t size() const { return blocks_.size(); }
  const std::shared_ptr<InvertibleModule>& block(size_t i) const { return blocks_.at(i); }

 private:
  void add_block(std::shared_ptr<InvertibleModule> block);
  FlowResult forward_stored(const Tensor& x);
  FlowResult forward_reversible(const Tensor& x);

  std::vector<std::shared_ptr<InvertibleModule>> blocks_;
  bool reversible_ = false;
};

}  // namespace pg::nn
