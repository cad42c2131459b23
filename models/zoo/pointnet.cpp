#include "models/zoo/pointnet.h"

#include <cstdio>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "ops/ops.h"

namespace pg::models {

const char* pointnet_variant_name(PointNetVariant v) { return v == PointNetVariant::full ? "full" : "vanilla"; }

PointNetVariant parse_pointnet_variant(const std::string& s) {
  if (s == "vanilla") return PointNetVariant::vanilla;
  if (s == "full") return PointNetVariant::full;
  PG_FAIL("PointNet: unknown variant '", s, "' (expected 'vanilla' or 'full')");
}

PointNetConfig PointNetConfig::pytorch(PointNetVariant v, int64_t num_classes) {
  PointNetConfig c;
  c.variant = v;
  c.num_classes = num_classes;
  c.init = nn::LinearInit::pytorch;
  c.bn_eps = 1e-5;
  c.bn_momentum = 0.1;
  return c;
}

namespace {

nn::SharedMLPConfig mlp_config(const PointNetConfig& cfg) {
  nn::SharedMLPConfig m;
  m.batch_norm = true;
  m.activation = Activation::relu;
  m.init = cfg.init;
  m.bn_eps = cfg.bn_eps;
  m.bn_momentum = cfg.bn_momentum;
  m.tensor = cfg.tensor;
  m.gen = cfg.gen;
  return m;
}

nn::LinearOptions linear_options(const PointNetConfig& cfg, nn::LinearInit init) {
  nn::LinearOptions o;
  o.init = init;
  o.tensor = cfg.tensor;
  o.gen = cfg.gen;
  return o;
}

void check_points(const Tensor& points, int64_t channels) {
  PG_CHECK(points.defined(), "PointNet: points are undefined");
  PG_CHECK(points.dim() == 3 && points.size(2) == channels, "PointNet: expected points [B, N, ", channels,
           "], got ", shape_str(points.shape()));
  PG_CHECK(points.size(0) >= 1 && points.size(1) >= 1, "PointNet: empty input ", shape_str(points.shape()));
}

}  // namespace

// ---------------------------------------------------------------------------------------- TNet

TNet::TNet(int64_t k, const PointNetConfig& cfg) : nn::Module("TNet"), k_(k) {
  PG_CHECK(k >= 1, "TNet: k must be positive, got ", k);
  const nn::SharedMLPConfig m = mlp_config(cfg);
  point_mlp = register_module("point_mlp", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{k, 64, 128, 1024}, m));
  head = register_module("head", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{1024, 512, 256}, m));
  transform = register_module("transform", std::make_shared<nn::Linear>(256, k * k, linear_options(cfg, nn::LinearInit::zeros)));
  std::vector<double> eye(static_cast<size_t>(k * k), 0.0);
  for (int64_t i = 0; i < k; ++i) eye[static_cast<size_t>(i * k + i)] = 1.0;
  identity_ = from_vector(eye, {k * k}).to(cfg.tensor.dtype, cfg.tensor.device);
}

Tensor TNet::forward(const Tensor& x) const {
  check_points(x, k_);
  const Tensor pooled = max_pool_points(point_mlp->forward(x)).values;  // [B, 1024]
  Tensor t = transform->forward(head->forward(pooled));                 // [B, k²]
  const Tensor eye = identity_.device() == t.device() && identity_.dtype() == t.dtype()
                         ? identity_
                         : identity_.to(t.dtype(), t.device());
  t = add(t, eye);
  return reshape(t, {x.size(0), k_, k_});
}

void TNet::set_bn_momentum(double m) {
  point_mlp->set_bn_momentum(m);
  head->set_bn_momentum(m);
}

// ------------------------------------------------------------------------------------ PointNet

PointNet::PointNet(PointNetConfig cfg) : nn::Model("PointNet"), cfg_(cfg) {
  PG_CHECK(cfg.num_classes >= 2, "PointNet: num_classes must be at least 2, got ", cfg.num_classes);
  PG_CHECK(cfg.dropout >= 0.0 && cfg.dropout < 1.0, "PointNet: dropout must be in [0, 1), got ", cfg.dropout);
  const nn::SharedMLPConfig m = mlp_config(cfg);
  if (cfg.variant == PointNetVariant::full) {
    input_tnet = register_module("input_tnet", std::make_shared<TNet>(3, cfg));
    mlp1 = register_module("mlp1", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{3, 64, 64}, m));
    feature_tnet = register_module("feature_tnet", std::make_shared<TNet>(64, cfg));
    mlp2 = register_module("mlp2", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{64, 64, 128, 1024}, m));
  } else {
    mlp1 = register_module("mlp1", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{3, 64, 64, 64, 128, 1024}, m));
  }
  fc1 = register_module("fc1", std::make_shared<nn::SharedMLPLayer>(1024, 512, true, Activation::relu, m));
  if (cfg.variant == PointNetVariant::full) drop1 = register_module("drop1", std::make_shared<nn::Dropout>(cfg.dropout, cfg.gen));
  fc2 = register_module("fc2", std::make_shared<nn::SharedMLPLayer>(512, 256, true, Activation::relu, m));
  drop2 = register_module("drop2", std::make_shared<nn::Dropout>(cfg.dropout, cfg.gen));
  fc3 = register_module("fc3", std::make_shared<nn::Linear>(256, cfg.num_classes, linear_options(cfg, cfg.init)));
}

PointNetOutput PointNet::forward(const Tensor& points) const {
  check_points(points, 3);
  PG_CHECK(!is_training() || points.size(0) >= 2,
           "PointNet: training mode needs a batch of at least 2 shapes (BatchNorm statistics), got ",
           shape_str(points.shape()));
  PointNetOutput out;
  Tensor x = points;
  if (cfg_.variant == PointNetVariant::full) {
    out.input_transform = input_tnet->forward(x);
    x = bmm(x, out.input_transform);  // [B, N, 3] · [B, 3, 3]
    x = mlp1->forward(x);
    out.feature_transform = feature_tnet->forward(x);
    x = bmm(x, out.feature_transform);  // [B, N, 64] · [B, 64, 64]
    x = mlp2->forward(x);
  } else {
    x = mlp1->forward(x);
  }
  out.global_feature = max_pool_points(x).values;  // [B, 1024]
  Tensor h = fc1->forward(out.global_feature);
  if (drop1) h = drop1->forward(h);
  h = drop2->forward(fc2->forward(h));
  out.logits = fc3->forward(h);
  return out;
}

Tensor PointNet::transform_regularizer(const PointNetOutput& out) const {
  if (cfg_.variant != PointNetVariant::full || !out.feature_transform.defined() || cfg_.reg_weight == 0.0) {
    const Tensor& ref = out.logits;
    return zeros({}, TensorOptions(ref.dtype(), ref.device()));
  }
  const Tensor& a = out.feature_transform;  // [B, k, k]
  const int64_t k = a.size(1);
  std::vector<double> eye(static_cast<size_t>(k * k), 0.0);
  for (int64_t i = 0; i < k; ++i) eye[static_cast<size_t>(i * k + i)] = 1.0;
  const Tensor identity = from_vector(eye, {k, k}).to(a.dtype(), a.device());
  const Tensor diff = sub(bmm(a, transpose(a, 1, 2)), identity);
  return mul(sum(square(diff)), 0.5 * cfg_.reg_weight);
}

Tensor PointNet::loss(const PointNetOutput& out, const Tensor& labels, double label_smoothing) const {
  Tensor l = cross_entropy(out.logits, labels, Reduction::mean, label_smoothing);
  if (cfg_.variant == PointNetVariant::full && cfg_.reg_weight != 0.0) l = add(l, transform_regularizer(out));
  return l;
}

void PointNet::set_bn_momentum(double m) {
  if (input_tnet) input_tnet->set_bn_momentum(m);
  if (feature_tnet) feature_tnet->set_bn_momentum(m);
  mlp1->set_bn_momentum(m);
  if (mlp2) mlp2->set_bn_momentum(m);
  fc1->bn->set_momentum(m);
  fc2->bn->set_momentum(m);
}

// ------------------------------------------------------------------------------ config string

nn::ModelConfig pointnet_model_config(const PointNetConfig& cfg) {
  nn::ModelConfig m("pointnet");
  m.set("variant", pointnet_variant_name(cfg.variant));
  m.set_int("num_classes", cfg.num_classes);
  m.set_double("dropout", cfg.dropout);
  m.set_double("reg_weight", cfg.reg_weight);
  m.set_double("bn_eps", cfg.bn_eps);
  m.set_double("bn_momentum", cfg.bn_momentum);
  m.set("init", nn::linear_init_name(cfg.init));
  return m;
}

PointNetConfig pointnet_config_from(const nn::ModelConfig& m) {
  PG_CHECK(m.name() == "pointnet", "PointNet: the config describes model '", m.name(), "', not 'pointnet'");
  PointNetConfig cfg;
  if (m.has("variant")) cfg.variant = parse_pointnet_variant(m.get("variant"));
  if (m.has("num_classes")) cfg.num_classes = m.get_int("num_classes");
  if (m.has("dropout")) cfg.dropout = m.get_double("dropout");
  if (m.has("reg_weight")) cfg.reg_weight = m.get_double("reg_weight");
  if (m.has("bn_eps")) cfg.bn_eps = m.get_double("bn_eps");
  if (m.has("bn_momentum")) cfg.bn_momentum = m.get_double("bn_momentum");
  if (m.has("init")) cfg.init = nn::parse_linear_init(m.get("init"));
  return cfg;
}

ModelFactory pointnet_factory() {
  return [](const nn::ModelConfig& m) -> std::shared_ptr<nn::Model> {
    return std::make_shared<PointNet>(pointnet_config_from(m));
  };
}

nn::ModelConfig PointNet::model_config() const { return pointnet_model_config(cfg_); }

std::string pointnet_config_string(const PointNetConfig& cfg) {
  std::ostringstream s;
  s.precision(17);
  s << "model=pointnet variant=" << pointnet_variant_name(cfg.variant) << " num_classes=" << cfg.num_classes
    << " dropout=" << cfg.dropout << " reg_weight=" << cfg.reg_weight << " bn_eps=" << cfg.bn_eps
    << " init=" << nn::linear_init_name(cfg.init);
  return s.str();
}

PointNetConfig parse_pointnet_config_string(const std::string& str) {
  PointNetConfig cfg;
  std::istringstream in(str);
  std::string tok;
  bool is_pointnet = false;
  while (in >> tok) {
    const size_t eq = tok.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = tok.substr(0, eq), val = tok.substr(eq + 1);
    try {
      if (key == "model") is_pointnet = val == "pointnet";
      else if (key == "variant") cfg.variant = parse_pointnet_variant(val);
      else if (key == "num_classes") cfg.num_classes = std::stoll(val);
      else if (key == "dropout") cfg.dropout = std::stod(val);
      else if (key == "reg_weight") cfg.reg_weight = std::stod(val);
      else if (key == "bn_eps") cfg.bn_eps = std::stod(val);
      else if (key == "init") cfg.init = nn::parse_linear_init(val);
    } catch (const std::logic_error&) {
      PG_FAIL("PointNet: bad value '", val, "' for '", key, "' in the config string '", str, "'");
    }
  }
  PG_CHECK(is_pointnet, "PointNet: the config string does not describe a PointNet: '", str, "'");
  return cfg;
}

}  // namespace pg::models
