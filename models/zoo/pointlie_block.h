// PointLIE's Point Invertible (PI) block and Rescale Layer (METHODS.md §11.3, §11.1, §11.4).
//
// PIBlock(d, k): an InvertibleModule over channels-last features x [B, N, d·(k+1)] laid out as
// PointLIE's concatenation [Q_s, Q_r] (§11.4): channels [0, d) are the sampled features Q_s,
// channels [d, d·(k+1)) the kNN offsets Q_r. Forward (Fig. 2b, docs/decisions.md "PI block"):
//     Q_s' = Q_s + F(Q_r)                                   F: k·d → d   (child "F")
//     Q_r' = affine_coupling(Q_r, G(Q_s'), H(Q_s'), clamp)  G, H: d → k·d (children "G", "H")
//          = Q_r ⊙ exp(s) + H(Q_s'),  s = clamp·(2σ(G(Q_s')) − 1)   (IRN's bounded scale)
//     y = [Q_s', Q_r'],  logdet [B] = Σ s  (the additive update has unit Jacobian determinant).
// Inverse: Q_r = (Q_r' − H(Q_s')) ⊙ exp(−s), then Q_s = Q_s' − F(Q_r).
// F, G: shared MLPs over the points (LeakyReLU 0.2 hidden layers, linear last layer). H: a
// per-point densely connected MLP (PIDenseExtractor, 3PU-style dense concatenation without the
// kNN grouping; decision in docs/decisions.md). No BatchNorm, no dropout: the block is a
// deterministic function, as the reversible mode of InvertibleSequence requires.
//
// PointLIERescale(d, k, blocks): one Rescale Layer, forward direction only: pointlie_decompose
// (models/zoo/pointlie_decompose.h) then `blocks` PI blocks (M = 8 for ×4, 4 for ×8/×16) on
// [Q_s⁰, Q_r⁰] → features [B, N/2, d·(k+1)] for the next layer, plus the blocks' log-det.
// inverse_blocks() inverts the PI blocks only (the inverse decomposition of §11.5 is separate).
//
// Errors (pg::Error naming PIBlock / PIDenseExtractor / PointLIERescale and the value): d < 1,
// k < 1, a hidden width / growth < 1, dense layers < 1, clamp not finite and > 0, blocks < 1
// (construction); an input that is not [B, N, d·(k+1)] (resp. [B, N, d]) for this block.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/random.h"
#include "models/nn/invertible.h"
#include "models/nn/shared_mlp.h"
#include "models/zoo/pointlie_decompose.h"

namespace pg::models {

struct PIBlockOptions {
  std::vector<int64_t> f_hidden = {32, 32};  // F's hidden widths
  std::vector<int64_t> g_hidden = {32, 32};  // G's hidden widths
  int64_t h_growth = 12;                     // H: channels each dense layer adds (3PU's g)
  int64_t h_layers = 3;                      // H: dense layers before its linear output (3PU's n)
  double negative_slope = 0.2;               // LeakyReLU slope of the hidden layers (IRN's)
  double clamp = 1.0;                        // bound of the log-scale s (IRN's value)
  TensorOptions tensor = {};
  Generator* gen = nullptr;  // initialisation draws
};

// Per-point densely connected MLP: in → out. Layer i (i = 0..layers−1) maps the concatenation of
// the input and every earlier layer's output (in + i·growth channels) to `growth` channels
// (LeakyReLU); a final linear layer "out" maps all in + layers·growth channels to `out`.
// Children "0", "1", ..., "out". x [..., in] → [..., out].
class PIDenseExtractor : public nn::Module {
 public:
  PIDenseExtractor(int64_t in, int64_t out, int64_t growth, int64_t layers, double negative_slope,
                   const TensorOptions& tensor, Generator* gen);
  Tensor forward(const Tensor& x) const;

 private:
  std::vector<std::shared_ptr<nn::SharedMLPLayer>> layers_;
  std::shared_ptr<nn::SharedMLPLayer> out_;
};

class PIBlock : public nn::InvertibleModule {
 public:
  PIBlock(int64_t d, int64_t k, PIBlockOptions opts = {});
  nn::FlowResult forward(const Tensor& x) override;
  Tensor inverse(const Tensor& y) override;

  int64_t d() const { return d_; }
  int64_t k() const { return k_; }
  int64_t channels() const { return d_ * (k_ + 1); }

  std::shared_ptr<nn::SharedMLP> F, G;
  std::shared_ptr<PIDenseExtractor> H;

 private:
  void check_input(const Tensor& x, const char* what) const;
  int64_t d_, k_;
  double clamp_;
};

struct RescaleResult {
  Tensor features;  // [B, N/2, d·(k+1)] = [Q_s^M, Q_r^M]
  Tensor logdet;    // [B], sum over the PI blocks
  Decomposition decomposition;  // the decomposition's indices and Q_s⁰, Q_r⁰
};

class PointLIERescale : public nn::Module {
 public:
  PointLIERescale(int64_t d, int64_t k, int64_t blocks, PIBlockOptions opts = {});
  // features [B, N, d], first 3 channels xyz (d ≥ 3 as pointlie_decompose requires).
  RescaleResult forward(const Tensor& features, int64_t fps_start = 0);
  // [Q_s^M, Q_r^M] → [Q_s⁰, Q_r⁰] through the inverted PI blocks.
  Tensor inverse_blocks(const Tensor& y);

  std::shared_ptr<nn::InvertibleSequence> blocks;  // child "blocks"

 private:
  int64_t d_, k_;
};

}  // namespace pg::models
