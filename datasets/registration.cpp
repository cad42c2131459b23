#include "datasets/registration.h"

#include <cmath>
#include <sstream>
#include <utility>

#include "core/error.h"

namespace pg::datasets {

namespace {

// Tag that separates the registration streams from other users of the same seed.
constexpr uint64_t kPairStreamTag = 0x5245474953ULL;  // "REGIS"

using Quat = std::array<double, 4>;

Quat hamilton(const Quat& q, const Quat& r) {
  return {q[0] * r[0] - q[1] * r[1] - q[2] * r[2] - q[3] * r[3], q[0] * r[1] + q[1] * r[0] + q[2] * r[3] - q[3] * r[2],
          q[0] * r[2] - q[1] * r[3] + q[2] * r[0] + q[3] * r[1], q[0] * r[3] + q[1] * r[2] - q[2] * r[1] + q[3] * r[0]};
}

void check_range(const RigidMotionRange& r) {
  PG_CHECK(std::isfinite(r.max_angle_deg) && r.max_angle_deg >= 0.0 && r.max_angle_deg <= 180.0,
           "registration pairs: max angle ", r.max_angle_deg, "° is outside [0°, 180°]");
  PG_CHECK(std::isfinite(r.max_translation) && r.max_translation >= 0.0, "registration pairs: max translation ",
           r.max_translation, " must be finite and ≥ 0");
}

Tensor f32_vector(const double* v, int64_t n) {
  std::vector<float> f(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) f[static_cast<size_t>(i)] = static_cast<float>(v[i]);
  return from_vector(f, {n});
}

}  // namespace

std::array<double, 9> quaternion_to_matrix(const Quat& q) {
  const double w = q[0], x = q[1], y = q[2], z = q[3];
  return {1 - 2 * (y * y + z * z), 2 * (x * y - w * z),     2 * (x * z + w * y),
          2 * (x * y + w * z),     1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
          2 * (x * z - w * y),     2 * (y * z + w * x),     1 - 2 * (x * x + y * y)};
}

RigidMotion rigid_motion_from_euler_xyz(double ax, double ay, double az, const std::array<double, 3>& t) {
  const Quat qx{std::cos(ax / 2), std::sin(ax / 2), 0.0, 0.0};
  const Quat qy{std::cos(ay / 2), 0.0, std::sin(ay / 2), 0.0};
  const Quat qz{std::cos(az / 2), 0.0, 0.0, std::sin(az / 2)};
  Quat q = hamilton(hamilton(qx, qy), qz);
  const double norm = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  const double sign = q[0] < 0.0 ? -1.0 : 1.0;
  for (double& c : q) c = sign * c / norm;
  RigidMotion m;
  m.euler = {ax, ay, az};
  m.quaternion = q;
  m.rotation = quaternion_to_matrix(q);
  m.translation = t;
  return m;
}

RigidMotion draw_rigid_motion(HostRng& rng, const RigidMotionRange& range) {
  check_range(range);
  const double a = range.max_angle_deg * M_PI / 180.0;
  double e[3];
  for (double& v : e) v = rng.uniform(-a, a);
  std::array<double, 3> t{};
  for (double& v : t)
    v = range.max_translation > 0.0 ? rng.uniform(-range.max_translation, range.max_translation) : 0.0;
  return rigid_motion_from_euler_xyz(e[0], e[1], e[2], t);
}

void make_registration_pair(Example& item, const RigidMotion& m, const std::string& points_key) {
  const auto it = item.find(points_key);
  PG_CHECK(it != item.end(), "registration pair: the item has no '", points_key, "' tensor");
  const Tensor pts = it->second;
  PG_CHECK(pts.defined() && pts.dim() == 2 && pts.size(1) == 3 && pts.dtype() == DType::f32 && pts.is_cpu(),
           "registration pair: '", points_key, "' must be float32 [P, 3] on the CPU, got ",
           pts.defined() ? dtype_name(pts.dtype()) + std::string(" ") + shape_str(pts.shape()) : "undefined");
  for (const char* k : {"template", "source", "rotation", "translation"}) {
    PG_CHECK(k == points_key || item.count(k) == 0, "registration pair: the item already has a '", k, "' tensor");
  }
  const int64_t p = pts.size(0);
  Tensor tmpl = empty({p, 3}, TensorOptions(DType::f32, Device::cpu()));
  detail::copy_raw(tmpl, pts);
  Tensor src = empty({p, 3}, TensorOptions(DType::f32, Device::cpu()));
  const float* x = tmpl.data<float>();
  float* y = src.data<float>();
  const auto& R = m.rotation;
  for (int64_t j = 0; j < p; ++j) {
    const double v[3] = {x[j * 3], x[j * 3 + 1], x[j * 3 + 2]};
    for (int r = 0; r < 3; ++r) {
      y[j * 3 + r] = static_cast<float>(R[r * 3] * v[0] + R[r * 3 + 1] * v[1] + R[r * 3 + 2] * v[2] + m.translation[r]);
    }
  }
  item.erase(points_key);
  item["template"] = tmpl;
  item["source"] = src;
  item["rotation"] = f32_vector(m.quaternion.data(), 4);
  item["translation"] = f32_vector(m.translation.data(), 3);
}

RegistrationPairs::RegistrationPairs(DatasetPtr base, RegistrationOptions opts)
    : base_(std::move(base)), opts_(std::move(opts)) {
  PG_CHECK(base_ != nullptr, "registration pairs: no base dataset");
  check_range(opts_.range);
  PG_CHECK(opts_.repeat >= 1, "registration pairs: repeat ", opts_.repeat, " must be ≥ 1");
  PG_CHECK(base_->size() > 0, "registration pairs: the base dataset ", base_->describe(), " is empty");
}

RigidMotion RegistrationPairs::motion(int64_t i) const {
  PG_CHECK(i >= 0 && i < size(), describe(), ": pair ", i, " is outside [0, ", size(), ")");
  HostRng rng(opts_.seed, {kPairStreamTag, static_cast<uint64_t>(i)});
  return draw_rigid_motion(rng, opts_.range);
}

Example RegistrationPairs::get(int64_t i) const {
  const RigidMotion m = motion(i);
  Example item = base_->get(i % base_->size());
  make_registration_pair(item, m, opts_.points_key);
  return item;
}

std::string RegistrationPairs::describe() const {
  std::ostringstream os;
  os << "registration pairs of " << base_->describe() << " (" << size() << " pairs, Euler xyz ±"
     << opts_.range.max_angle_deg << "°, translation ±" << opts_.range.max_translation << ", seed " << opts_.seed
     << ")";
  return os.str();
}

Transform registration_transform(const RigidMotionRange& range, const std::string& points_key) {
  check_range(range);
  return [range, points_key](Example& item, HostRng& rng) {
    make_registration_pair(item, draw_rigid_motion(rng, range), points_key);
  };
}

}  // namespace pg::datasets
