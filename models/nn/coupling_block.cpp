// AffineCouplingBlock and make_coupling_flow (see the header).
#include "models/nn/coupling_block.h"

#include <cmath>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "core/tensor.h"
#include "ops/affine_coupling.h"
#include "ops/index.h"
#include "ops/view.h"

namespace pg::nn {

namespace {

SharedMLPConfig cond_config(const CouplingBlockOptions& o) {
  SharedMLPConfig c;
  c.batch_norm = false;
  c.last_batch_norm = false;
  c.last_activation = false;
  c.activation = Activation::relu;
  c.tensor = o.tensor;
  c.gen = o.gen;
  return c;
}

}  // namespace

AffineCouplingBlock::AffineCouplingBlock(int64_t channels, CouplingBlockOptions opts)
    : InvertibleModule("AffineCouplingBlock"), channels_(channels), c1_(channels / 2), opts_(std::move(opts)) {
  PG_CHECK(channels >= 2, "AffineCouplingBlock: needs at least 2 channels to split, got ", channels);
  PG_CHECK(std::isfinite(opts_.clamp) && opts_.clamp > 0.0, "AffineCouplingBlock: clamp must be finite and > 0, got ",
           opts_.clamp);
  const int64_t c_keep = opts_.transform_first ? channels - c1_ : c1_;
  const int64_t c_tr = channels - c_keep;
  std::vector<int64_t> widths{c_keep};
  for (int64_t h : opts_.hidden) {
    PG_CHECK(h >= 1, "AffineCouplingBlock: conditioner hidden widths must be >= 1, got ", h);
    widths.push_back(h);
  }
  widths.push_back(2 * c_tr);
  cond = register_module("cond", std::make_shared<SharedMLP>(widths, cond_config(opts_)));
}

AffineCouplingBlock::Parts AffineCouplingBlock::split(const Tensor& x, const char* what) const {
  PG_CHECK(x.defined() && x.dim() == 3 && x.size(2) == channels_, "AffineCouplingBlock.", what,
           ": expected channels-last [B, N, ", channels_, "], got ",
           x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
  const Tensor first = slice(x, 2, 0, c1_), second = slice(x, 2, c1_, channels_);
  return opts_.transform_first ? Parts{second, first} : Parts{first, second};
}

Tensor AffineCouplingBlock::join(const Tensor& keep, const Tensor& tr) const {
  return opts_.transform_first ? cat({tr, keep}, 2) : cat({keep, tr}, 2);
}

std::pair<Tensor, Tensor> AffineCouplingBlock::conditioner(const Tensor& keep) const {
  const Tensor h = cond->forward(keep);
  const int64_t c_tr = h.size(2) / 2;
  return {slice(h, 2, 0, c_tr), slice(h, 2, c_tr, 2 * c_tr)};
}

FlowResult AffineCouplingBlock::forward(const Tensor& x) {
  const Parts p = split(x, "forward");
  const auto [s_raw, t] = conditioner(p.keep);
  const AffineCouplingResult r = affine_coupling(p.tr, s_raw, t, opts_.clamp);
  return {join(p.keep, r.y), r.logdet};
}

Tensor AffineCouplingBlock::inverse(const Tensor& y) {
  const Parts p = split(y, "inverse");
  const auto [s_raw, t] = conditioner(p.keep);
  return join(p.keep, affine_coupling_inverse(p.tr, s_raw, t, opts_.clamp));
}

Recomputed AffineCouplingBlock::recompute(const Tensor& y) {
  const Parts p = split(y.detach(), "recompute");
  Tensor keep = p.keep.detach();
  keep.requires_grad_(true);
  const auto [s_raw, t] = conditioner(keep);
  Tensor tr;
  {
    NoGradGuard ng;
    tr = affine_coupling_inverse(p.tr, s_raw.detach(), t.detach(), opts_.clamp);
  }
  tr.requires_grad_(true);
  const AffineCouplingResult r = affine_coupling(tr, s_raw, t, opts_.clamp);
  Recomputed rc;
  {
    NoGradGuard ng;
    rc.x = join(p.keep, tr.detach());
  }
  rc.parts = {keep, tr};
  rc.out = {join(keep, r.y), r.logdet};
  return rc;
}

Tensor AffineCouplingBlock::join_grads(const std::vector<Tensor>& parts_grad, const Recomputed& r) const {
  NoGradGuard ng;
  auto grad_or_zero = [&](size_t i) {
    return parts_grad.at(i).defined() ? parts_grad[i] : zeros(r.parts.at(i).shape(), r.parts[i].options());
  };
  return join(grad_or_zero(0), grad_or_zero(1));
}

std::shared_ptr<InvertibleSequence> make_coupling_flow(int64_t channels, int64_t blocks, CouplingBlockOptions opts) {
  PG_CHECK(blocks >= 0, "make_coupling_flow: number of blocks must be >= 0, got ", blocks);
  auto seq = std::make_shared<InvertibleSequence>();
  for (int64_t k = 0; k < blocks; ++k) {
    CouplingBlockOptions o = opts;
    o.transform_first = (k % 2) == 1;
    seq->push_back(std::make_shared<AffineCouplingBlock>(channels, o));
  }
  return seq;
}

}  // namespace pg::nn
