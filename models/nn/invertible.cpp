// InvertibleSequence: stored-activation and reversible forward (see the header).
#include "models/nn/invertible.h"

#include "autograd/grad.h"
#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "ops/elementwise.h"
#include "ops/view.h"

namespace pg::nn {

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
          Tensor xk;
          {
            NoGradGuard ng;
            xk = blocks[k]->inverse(y).detach();
          }
          xk.requires_grad_(true);
          std::vector<Tensor> wrt{xk};
          wrt.insert(wrt.end(), params[k].begin(), params[k].end());
          std::vector<Tensor> grads;
          {
            autograd::GradModeGuard on(true);
            const FlowResult o = blocks[k]->forward(xk);
            grads = autograd::grad({o.y, o.logdet}, {gy, gld}, wrt);
          }
          for (size_t p = 0; p < params[k].size(); ++p) out[offset + p] = grads[1 + p];
          gy = grads[0].defined() ? grads[0] : zeros(xk.shape(), xk.options());
          y = xk.detach();
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
