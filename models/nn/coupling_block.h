// Affine coupling block (RealNVP-style, with IRN's bounded scale): an InvertibleModule over
// channels-last point features x [B, N, C], C ≥ 2.
//
// The channels split into a first part [0, C1) and a second part [C1, C), C1 = C / 2 (floor).
// One part is kept (passes through unchanged) and conditions the other: a shared MLP over the
// points, child "cond", maps the kept part [B, N, C_keep] to [B, N, 2·C_tr] whose first C_tr
// channels are ŝ and the last C_tr are t; the transformed part becomes
// affine_coupling(x_tr, ŝ, t, clamp) (ops/affine_coupling.h): y_tr = x_tr ⊙ exp(s) + t with
// s = clamp·(2σ(ŝ) − 1). Output channels stay in place: y = [y_first, y_second]. logdet [B] is
// the op's Σ s. inverse: the kept part is unchanged, so ŝ and t are recomputed from it and the
// op's exact inverse recovers x_tr.
// transform_first = false transforms the second part (conditioned on the first); true the
// first. make_coupling_flow alternates it so every channel is transformed.
//
// The conditioner has no BatchNorm and no dropout (a deterministic function of the kept part:
// the reversible mode of InvertibleSequence recomputes it). Its last layer is linear.
//
// Errors: C < 2, hidden width < 1, clamp not > 0 (at construction); an input that is not
// [B, N, C] with this block's C (naming the block and the shape).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/random.h"
#include "models/nn/invertible.h"
#include "models/nn/shared_mlp.h"

namespace pg::nn {

struct CouplingBlockOptions {
  std::vector<int64_t> hidden = {32};  // conditioner hidden widths (ReLU after each)
  double clamp = 1.0;                  // bound of s (IRN's value; docs/decisions.md)
  bool transform_first = false;
  TensorOptions tensor = {};
  Generator* gen = nullptr;  // initialisation draws
};

class AffineCouplingBlock : public InvertibleModule {
 public:
  AffineCouplingBlock(int64_t channels, CouplingBlockOptions opts = {});
  FlowResult forward(const Tensor& x) override;
  Tensor inverse(const Tensor& y) override;
  // Reversible mode: the conditioner runs ONCE on the kept part of y (which equals x's), its ŝ, t
  // serve both the unrecorded inverse of the transformed part and the recorded forward; parts =
  // {kept part, transformed part} as leaves.
  Recomputed recompute(const Tensor& y) override;
  Tensor join_grads(const std::vector<Tensor>& parts_grad, const Recomputed& r) const override;

  int64_t channels() const { return channels_; }
  std::shared_ptr<SharedMLP> cond;

 private:
  struct Parts {
    Tensor keep, tr;
  };
  Parts split(const Tensor& x, const char* what) const;
  Tensor join(const Tensor& keep, const Tensor& tr) const;
  // ŝ and t from the kept part.
  std::pair<Tensor, Tensor> conditioner(const Tensor& keep) const;

  int64_t channels_, c1_;
  CouplingBlockOptions opts_;
};

// `blocks` coupling blocks over `channels` channels, alternating the transformed part (the first
// block transforms the second part). opts.transform_first is ignored.
std::shared_ptr<InvertibleSequence> make_coupling_flow(int64_t channels, int64_t blocks, CouplingBlockOptions opts = {});

}  // namespace pg::nn
