#include "models/zoo/pcrnet.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "models/nn/mlp.h"
#include "ops/ops.h"

namespace pg::models {

namespace {

void check_cloud(const Tensor& t, const char* name) {
  PG_CHECK(t.defined() && t.dim() == 3 && t.size(2) == 3 && t.size(0) >= 1 && t.size(1) >= 1, "PCRNet: expected ", name,
           " [B, N, 3], got ", t.defined() ? shape_str(t.shape()) : "undefined");
}

}  // namespace

PCRNet::PCRNet(PCRNetConfig cfg) : nn::Model("PCRNet"), cfg_(cfg) {
  PG_CHECK(cfg.feature >= 1, "PCRNet: feature must be positive, got ", cfg.feature);
  nn::MLPOptions enc;
  enc.last_activation = true;  // ReLU after every layer, no BN (§3.4)
  enc.tensor = cfg.tensor;
  enc.gen = cfg.gen;
  encoder = register_module("encoder", nn::make_shared_mlp({3, 64, 64, 64, 128, cfg.feature}, enc));
  nn::MLPOptions h;
  h.tensor = cfg.tensor;
  h.gen = cfg.gen;
  head = register_module("head", nn::make_mlp({2 * cfg.feature, 1024, 1024, 512, 512, 256, 7}, h));
}

PCRNetOutput PCRNet::forward(const Tensor& template_points, const Tensor& source) const {
  check_cloud(template_points, "template");
  check_cloud(source, "source");
  PG_CHECK(template_points.size(0) == source.size(0), "PCRNet: template and source batch sizes differ (",
           template_points.size(0), " vs ", source.size(0), ")");
  const Tensor ft = max_pool_points(encoder->forward(template_points)).values;
  const Tensor fs = max_pool_points(encoder->forward(source)).values;
  const Tensor y = head->forward(cat({ft, fs}, 1));  // [B, 7]
  PCRNetOutput out;
  const Tensor q = slice(y, 1, 0, 4);
  const Tensor norm = sqrt(add(sum(square(q), {1}, true), 1e-12));
  out.quaternion = div(q, norm);
  out.translation = slice(y, 1, 4, 7);
  out.rotation = quaternion_rotation(out.quaternion);
  return out;
}

Tensor quaternion_rotation(const Tensor& q) {
  PG_CHECK(q.defined() && q.dim() == 2 && q.size(1) == 4, "PCRNet: expected quaternions [B, 4], got ",
           q.defined() ? shape_str(q.shape()) : "undefined");
  const Tensor w = select(q, 1, 0), x = select(q, 1, 1), y = select(q, 1, 2), z = select(q, 1, 3);
  const auto two = [](const Tensor& a, const Tensor& b) { return mul(mul(a, b), 2.0); };
  const Tensor xx = two(x, x), yy = two(y, y), zz = two(z, z);
  const Tensor xy = two(x, y), xz = two(x, z), yz = two(y, z);
  const Tensor wx = two(w, x), wy = two(w, y), wz = two(w, z);
  const std::vector<Tensor> r = {rsub(1.0, add(yy, zz)), sub(xy, wz), add(xz, wy), add(xy, wz),
                                 rsub(1.0, add(xx, zz)), sub(yz, wx), sub(xz, wy), add(yz, wx),
                                 rsub(1.0, add(xx, yy))};
  return reshape(stack(r, 1), {q.size(0), 3, 3});
}

std::vector<double> rotation_error_degrees(const Tensor& a, const Tensor& b) {
  PG_CHECK(a.dim() == 2 && a.size(1) == 4 && b.dim() == 2 && b.size(1) == 4 && a.size(0) == b.size(0),
           "rotation error: expected two quaternion batches [B, 4], got ", shape_str(a.shape()), " and ",
           shape_str(b.shape()));
  const std::vector<double> va = a.detach().to(DType::f64, Device::cpu()).contiguous().to_vector<double>();
  const std::vector<double> vb = b.detach().to(DType::f64, Device::cpu()).contiguous().to_vector<double>();
  std::vector<double> err(static_cast<size_t>(a.size(0)));
  for (size_t i = 0; i < err.size(); ++i) {
    double dot = 0.0, na = 0.0, nb = 0.0;
    for (size_t j = 0; j < 4; ++j) {
      dot += va[4 * i + j] * vb[4 * i + j];
      na += va[4 * i + j] * va[4 * i + j];
      nb += vb[4 * i + j] * vb[4 * i + j];
    }
    const double c = dot / std::sqrt(std::max(na * nb, 1e-300));
    // The acos argument is clamped: rounding can push 2c² − 1 past ±1 (the reference code's NaN).
    err[i] = std::acos(std::clamp(2.0 * c * c - 1.0, -1.0, 1.0)) * 180.0 / std::numbers::pi;
  }
  return err;
}

Tensor PCRNet::rotation_loss(const PCRNetOutput& out, const Tensor& rotation_gt) {
  PG_CHECK(rotation_gt.dim() == 2 && rotation_gt.size(1) == 4 && rotation_gt.size(0) == out.rotation.size(0),
           "PCRNet: expected ground-truth quaternions [", out.rotation.size(0), ", 4], got ",
           shape_str(rotation_gt.shape()));
  const Tensor r_gt = quaternion_rotation(rotation_gt.to(out.rotation.dtype(), out.rotation.device()));
  const Tensor eye = reshape(tensor({1, 0, 0, 0, 1, 0, 0, 0, 1}, {3, 3}, out.rotation.options()), {1, 3, 3});
  const Tensor diff = sub(bmm(out.rotation, transpose(r_gt, 1, 2)), eye);
  return div(sum(square(diff)), static_cast<double>(out.rotation.size(0)));
}

Tensor PCRNet::alignment_loss(const PCRNetOutput& out, const Tensor& template_points, const Tensor& source) {
  check_cloud(template_points, "template");
  check_cloud(source, "source");
  // Row-vector points: (R·p)ᵀ = pᵀ·Rᵀ.
  const Tensor moved = add(bmm(template_points, transpose(out.rotation, 1, 2)), unsqueeze(out.translation, 1));
  return chamfer(source, moved).loss;
}

Tensor PCRNet::loss(const PCRNetOutput& out, const Tensor& rotation_gt, const Tensor& template_points,
                    const Tensor& source) {
  return add(rotation_loss(out, rotation_gt), alignment_loss(out, template_points, source));
}

nn::ModelConfig PCRNet::model_config() const {
  return nn::ModelConfig("pcrnet").set_int("feature", cfg_.feature);
}

PCRNetConfig pcrnet_config_from(const nn::ModelConfig& m) {
  PG_CHECK(m.name() == "pcrnet", "PCRNet: the config describes model '", m.name(), "', not 'pcrnet'");
  PCRNetConfig c;
  if (m.has("feature")) c.feature = m.get_int("feature");
  return c;
}

ModelFactory pcrnet_factory() {
  return [](const nn::ModelConfig& m) -> std::shared_ptr<nn::Model> {
    return std::make_shared<PCRNet>(pcrnet_config_from(m));
  };
}

}  // namespace pg::models
