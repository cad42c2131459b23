#include "models/zoo/simplify_net.h"

#include "core/error.h"
#include "models/nn/mlp.h"
#include "models/zoo/pcae.h"
#include "ops/ops.h"

namespace pg::models {

const char* simplify_arch_name(SimplifyArch a) {
  return a == SimplifyArch::autoencoder ? "autoencoder" : "pointnet";
}

SimplifyArch parse_simplify_arch(const std::string& s) {
  if (s == "pointnet") return SimplifyArch::pointnet;
  if (s == "autoencoder") return SimplifyArch::autoencoder;
  PG_FAIL("SimplifyNet: unknown architecture '", s, "' (expected 'pointnet' or 'autoencoder')");
}

SimplifyNet::SimplifyNet(SimplifyNetConfig cfg) : nn::Module("SimplifyNet"), cfg_(cfg) {
  PG_CHECK(cfg.out_points >= 1, "SimplifyNet: out_points must be positive, got ", cfg.out_points);
  PG_CHECK(cfg.bottleneck >= 1, "SimplifyNet: bottleneck must be positive, got ", cfg.bottleneck);
  const int64_t out3 = 3 * cfg.out_points;
  if (cfg.arch == SimplifyArch::pointnet) {
    nn::SharedMLPConfig m;
    m.init = nn::LinearInit::xavier;
    m.bn_eps = 1e-3;
    m.tensor = cfg.tensor;
    m.gen = cfg.gen;
    encoder = register_module(
        "encoder", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{3, 64, 64, 64, 128, cfg.bottleneck}, m));
    fc = register_module("fc", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{cfg.bottleneck, 256, 256, 256}, m));
    out = register_module("out", std::make_shared<nn::SharedMLPLayer>(256, out3, cfg.last_bn, Activation::none, m));
  } else {
    // The PCAE layout with MLPOptions' default BN settings.
    const nn::MLPOptions defaults;
    PCAEStacks stacks = make_pcae_stacks(cfg.bottleneck, out3, defaults.bn_eps, defaults.bn_momentum, cfg.tensor, cfg.gen);
    encoder = register_module("encoder", stacks.encoder);
    decoder = register_module("decoder", stacks.decoder);
  }
}

Tensor SimplifyNet::forward(const Tensor& points) const {
  PG_CHECK(points.defined() && points.dim() == 3 && points.size(2) == 3 && points.size(0) >= 1 && points.size(1) >= 1,
           "SimplifyNet: expected points [B, N, 3], got ", points.defined() ? shape_str(points.shape()) : "undefined");
  PG_CHECK(!is_training() || points.size(0) >= 2,
           "SimplifyNet: training mode needs a batch of at least 2 clouds (BatchNorm statistics), got ",
           shape_str(points.shape()));
  const Tensor code = max_pool_points(encoder->forward(points)).values;  // [B, bottleneck]
  const Tensor flat = cfg_.arch == SimplifyArch::pointnet ? out->forward(fc->forward(code)) : decoder->forward(code);
  return reshape(flat, {points.size(0), cfg_.out_points, 3});
}

}  // namespace pg::models
