// PIBlock, PIDenseExtractor and PointLIERescale (see the header).
#include "models/zoo/pointlie_block.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "core/tensor.h"
#include "ops/affine_coupling.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/view.h"

namespace pg::models {

namespace {

nn::SharedMLPConfig mlp_config(double slope, const TensorOptions& tensor, Generator* gen) {
  nn::SharedMLPConfig c;
  c.batch_norm = false;
  c.last_batch_norm = false;
  c.last_activation = false;  // the conditioners' outputs are raw (shift, pre-sigmoid scale)
  c.activation = Activation::leaky_relu;
  c.negative_slope = slope;
  c.tensor = tensor;
  c.gen = gen;
  return c;
}

std::shared_ptr<nn::SharedMLP> make_mlp(const char* name, int64_t in, const std::vector<int64_t>& hidden, int64_t out,
                                        const PIBlockOptions& o) {
  std::vector<int64_t> widths{in};
  for (int64_t h : hidden) {
    PG_CHECK(h >= 1, "PIBlock: ", name, " hidden widths must be >= 1, got ", h);
    widths.push_back(h);
  }
  widths.push_back(out);
  return std::make_shared<nn::SharedMLP>(widths, mlp_config(o.negative_slope, o.tensor, o.gen));
}

}  // namespace

PIDenseExtractor::PIDenseExtractor(int64_t in, int64_t out, int64_t growth, int64_t layers, double negative_slope,
                                   const TensorOptions& tensor, Generator* gen)
    : Module("PIDenseExtractor") {
  PG_CHECK(in >= 1 && out >= 1, "PIDenseExtractor: in and out widths must be >= 1, got ", in, " and ", out);
  PG_CHECK(growth >= 1, "PIDenseExtractor: growth must be >= 1, got ", growth);
  PG_CHECK(layers >= 1, "PIDenseExtractor: needs at least 1 dense layer, got ", layers);
  const nn::SharedMLPConfig cfg = mlp_config(negative_slope, tensor, gen);
  for (int64_t i = 0; i < layers; ++i)
    layers_.push_back(register_module(std::to_string(i), std::make_shared<nn::SharedMLPLayer>(
                                                             in + i * growth, growth, false, Activation::leaky_relu, cfg)));
  out_ = register_module("out",
                         std::make_shared<nn::SharedMLPLayer>(in + layers * growth, out, false, Activation::none, cfg));
}

Tensor PIDenseExtractor::forward(const Tensor& x) const {
  Tensor h = x;
  // Dense connectivity: every layer sees the input and all earlier layers' outputs.
  for (const auto& l : layers_) h = cat({h, l->forward(h)}, -1);
  return out_->forward(h);
}

PIBlock::PIBlock(int64_t d, int64_t k, PIBlockOptions opts)
    : InvertibleModule("PIBlock"), d_(d), k_(k), clamp_(opts.clamp) {
  PG_CHECK(d >= 1, "PIBlock: feature width d must be >= 1, got ", d);
  PG_CHECK(k >= 1, "PIBlock: number of neighbours k must be >= 1, got ", k);
  PG_CHECK(std::isfinite(opts.clamp) && opts.clamp > 0.0, "PIBlock: clamp must be finite and > 0, got ", opts.clamp);
  F = register_module("F", make_mlp("F", k * d, opts.f_hidden, d, opts));
  G = register_module("G", make_mlp("G", d, opts.g_hidden, k * d, opts));
  H = register_module("H", std::make_shared<PIDenseExtractor>(d, k * d, opts.h_growth, opts.h_layers,
                                                               opts.negative_slope, opts.tensor, opts.gen));
}

void PIBlock::check_input(const Tensor& x, const char* what) const {
  PG_CHECK(x.defined() && x.dim() == 3 && x.size(2) == channels(), "PIBlock.", what, ": expected [B, N, ", channels(),
           "] = [Q_s (d = ", d_, "), Q_r (k·d = ", k_ * d_, ")], got ",
           x.defined() ? shape_str(x.shape()) : std::string("an undefined tensor"));
}

nn::FlowResult PIBlock::forward(const Tensor& x) {
  check_input(x, "forward");
  const Tensor qs = slice(x, 2, 0, d_), qr = slice(x, 2, d_, channels());
  const Tensor qs1 = add(qs, F->forward(qr));
  const AffineCouplingResult r = affine_coupling(qr, G->forward(qs1), H->forward(qs1), clamp_);
  return {cat({qs1, r.y}, 2), r.logdet};
}

Tensor PIBlock::inverse(const Tensor& y) {
  check_input(y, "inverse");
  const Tensor qs1 = slice(y, 2, 0, d_), qr1 = slice(y, 2, d_, channels());
  const Tensor qr = affine_coupling_inverse(qr1, G->forward(qs1), H->forward(qs1), clamp_);
  return cat({sub(qs1, F->forward(qr)), qr}, 2);
}

PointLIERescale::PointLIERescale(int64_t d, int64_t k, int64_t n_blocks, PIBlockOptions opts)
    : Module("PointLIERescale"), d_(d), k_(k) {
  PG_CHECK(d >= 3, "PointLIERescale: features must start with xyz (d >= 3), got d = ", d);
  PG_CHECK(n_blocks >= 1, "PointLIERescale: needs at least 1 PI block, got ", n_blocks);
  blocks = register_module("blocks", std::make_shared<nn::InvertibleSequence>());
  for (int64_t i = 0; i < n_blocks; ++i) blocks->push_back(std::make_shared<PIBlock>(d, k, opts));
}

RescaleResult PointLIERescale::forward(const Tensor& features, int64_t fps_start) {
  PG_CHECK(features.defined() && features.dim() == 3 && features.size(2) == d_, "PointLIERescale: expected [B, N, ",
           d_, "], got ", features.defined() ? shape_str(features.shape()) : std::string("an undefined tensor"));
  RescaleResult res;
  res.decomposition = pointlie_decompose(features, k_, fps_start);
  const nn::FlowResult r = blocks->forward(cat({res.decomposition.sampled, res.decomposition.offsets}, 2));
  res.features = r.y;
  res.logdet = r.logdet;
  return res;
}

Tensor PointLIERescale::inverse_blocks(const Tensor& y) { return blocks->inverse(y); }

}  // namespace pg::models
