// InvertibleSequence: stored-activation and reversible forward (see the header).
#include "models/nn/invertible.h"

#include "autograd/grad.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "ops/elementwise.h"
#include "ops/view.h"

namespace pg::nn {

Recomputed InvertibleModule::recompute(const Tensor& y) {
  Recomputed r;
  {
    NoGradGuard ng;
    r.x = inverse(y).detach();
  }
  Tensor leaf = r.x.detach();
  leaf.requires_grad_(true);
  r.parts = {leaf};
  r.out = forward(leaf);
  return r;
}

Tensor InvertibleModule::join_grads(const std::vector<Tensor>& parts_grad, const Recomputed& r) const {
  return parts_grad[0].defined() ? parts_grad[0] : zeros(r.x.shape(), r.x.options());
}

void InvertibleSequence::add_block(std::shared_ptr<InvertibleModule> block) {
  PG_CHECK(block != nullptr, "InvertibleSequence: null block at position ", blocks_.size());
  register_module(std::to_string(blocks_.size()), block);
  blocks_.push_back(std::move(block));
}

FlowResult InvertibleSequence::forward(const Tensor& x) {
  PG_CHECK(x.defined() && x.dim() >= 1, "InvertibleSequence: input must be a tensor [B, ...]");
  if (reversible_ && !blocks_.empty()) return forward_reversible(x);
  return forward_stored(x);
}

FlowResult InvertibleSequence::forward_stored(const Tensor& x) {
  FlowResult r{x, zeros({x.size(0)}, x.options())};
  for (const auto& b : blocks_) {
    const FlowResult o = b->forward(r.y);
    r.y = o.y;
    r.logdet = add(r.logdet, o.logdet);
  }
  return r;
}

FlowResult InvertibleSequence::forward_reversible(const Tensor& x) {
  // Per block: its trainable parameters (the node's inputs after x, block by block).
  std::vector<std::vector<Tensor>> params(blocks_.size());
  std::vector<Tensor> inputs{x};
  for (size_t k = 0; k < blocks_.size(); ++k) {
    params[k] = blocks_[k]->trainable_parameters();
    inputs.insert(inputs.end(), params[k].begin(), params[k].end());
  }
  if (!autograd::any_requires_grad(inputs)) return forward_stored(x);

  FlowResult r;
  {
    NoGradGuard ng;
    r = forward_stored(x);
  }
  const std::vector<std::shared_ptr<InvertibleModule>> blocks = blocks_;
  autograd::record(
      "reversible_sequence", inputs, {r.y, r.logdet}, {r.y},
      [blocks, params](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
        Tensor y = ctx.saved[0];
        Tensor gy = g[0];
        const Tensor& gld = g[1];
        std::vector<Tensor> out(ctx.needs_input_grad.size());
        size_t offset = 1;
        for (size_t k = 0; k < blocks.size(); ++k) offset += params[k].size();
        for (size_t k = blocks.size(); k-- > 0;) {
          offset -= params[k].size();
          std::vector<Tensor> grads;
          Recomputed rc;
          {
            autograd::GradModeGuard on(true);
            rc = blocks[k]->recompute(y);
            std::vector<Tensor> wrt = rc.parts;
            wrt.insert(wrt.end(), params[k].begin(), params[k].end());
            grads = autograd::grad({rc.out.y, rc.out.logdet}, {gy, gld}, wrt);
          }
          const size_t np = rc.parts.size();
          for (size_t p = 0; p < params[k].size(); ++p) out[offset + p] = grads[np + p];
          gy = blocks[k]->join_grads(std::vector<Tensor>(grads.begin(), grads.begin() + np), rc);
          y = rc.x;
        }
        if (ctx.needs_input_grad[0]) out[0] = gy;
        return out;
      });
  return r;
}

Tensor InvertibleSequence::inverse(const Tensor& y) {
  Tensor x = y;
  for (size_t k = blocks_.size(); k-- > 0;) x = blocks_[k]->inverse(x);
  return x;
}

}  // namespace pg::nn
