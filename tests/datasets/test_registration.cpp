// Registration pairs: the Euler/quaternion convention against rotation matrices built by hand,
// source = R·template + t, angle ranges, a fixed set per seed (pair i depends on (seed, i)
// only), the per-epoch transform, errors.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <thread>

#include "datasets/registration.h"
#include "ds_test_util.h"

using namespace pg;
using namespace pg::datasets;
using pg::test::coded_points;
using pg::test::require_error;

namespace {

using Mat = std::array<double, 9>;

Mat mul(const Mat& a, const Mat& b) {
  Mat c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) c[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return c;
}
Mat rot_x(double a) {
  return {1, 0, 0, 0, std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a)};
}
Mat rot_y(double a) {
  return {std::cos(a), 0, std::sin(a), 0, 1, 0, -std::sin(a), 0, std::cos(a)};
}
Mat rot_z(double a) {
  return {std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1};
}

// Euler angles of R = Rx(ax)·Ry(ay)·Rz(az) with |ay| < 90°.
std::array<double, 3> euler_xyz_of(const Mat& r) {
  return {std::atan2(-r[5], r[8]), std::asin(std::clamp(r[2], -1.0, 1.0)), std::atan2(-r[1], r[0])};
}

double max_diff(const Mat& a, const Mat& b) {
  double m = 0.0;
  for (int i = 0; i < 9; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// A small cloud dataset: shape i is coded_points row i (plus a label), 16 points.
class Clouds : public Dataset {
 public:
  explicit Clouds(int64_t n) : pts_(coded_points(n, 16, -0.5f)) {
    // Keep the coordinates around unit size: (base + i) would grow with i.
    auto* p = pts_.data<float>();
    for (int64_t k = 0; k < pts_.numel(); ++k) p[k] = std::fmod(p[k], 1.0f) - 0.5f * (k % 3 == 1);
  }
  int64_t size() const override { return pts_.size(0); }
  Example get(int64_t i) const override {
    const auto v = pts_.to_vector<float>();
    return {{"points", from_vector(std::vector<float>(v.begin() + i * 48, v.begin() + (i + 1) * 48), {16, 3})},
            {"label", scalar_tensor(static_cast<double>(i % 3), TensorOptions(DType::i64))}};
  }
  std::string describe() const override { return "clouds"; }
  std::vector<std::string> class_names() const override { return {"a", "b", "c"}; }

 private:
  Tensor pts_;
};

// Checks source = R(q)·template + t (R from the stored float quaternion) to `tol`.
void check_pair(const Example& e, double tol) {
  const auto q32 = e.at("rotation").to_vector<float>();
  const std::array<double, 4> q{q32[0], q32[1], q32[2], q32[3]};
  CHECK(std::fabs(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3] - 1.0) < 1e-6);
  CHECK(q[0] >= 0.0);
  const Mat r = quaternion_to_matrix(q);
  const auto t = e.at("translation").to_vector<float>();
  const auto x = e.at("template").to_vector<float>();
  const auto y = e.at("source").to_vector<float>();
  REQUIRE(x.size() == y.size());
  double worst = 0.0;
  for (size_t j = 0; j < x.size(); j += 3) {
    for (int a = 0; a < 3; ++a) {
      const double want = r[a * 3] * x[j] + r[a * 3 + 1] * x[j + 1] + r[a * 3 + 2] * x[j + 2] + t[a];
      worst = std::max(worst, std::fabs(want - y[j + a]));
    }
  }
  CHECK(worst < tol);
}

}  // namespace

TEST_CASE("registration: Euler xyz → quaternion → matrix is Rx·Ry·Rz", "[datasets][registration]") {
  // A quarter turn about x maps y to z.
  const RigidMotion qx = rigid_motion_from_euler_xyz(M_PI / 2, 0, 0);
  CHECK(qx.quaternion[0] == Approx(std::sqrt(0.5)));
  CHECK(qx.quaternion[1] == Approx(std::sqrt(0.5)));
  CHECK(qx.rotation[2 * 3 + 1] == Approx(1.0));  // R[z][y]
  // Non-commuting angles: the order matters and must be x, then y, then z (matrix product).
  for (const auto& e :
       {std::array<double, 3>{0.3, -0.7, 0.5}, {-0.78, 0.78, -0.1}, {0.0, 0.0, 0.0}, {0.6, 0.2, -0.4}}) {
    const RigidMotion m = rigid_motion_from_euler_xyz(e[0], e[1], e[2], {0.1, -0.2, 0.3});
    const Mat want = mul(mul(rot_x(e[0]), rot_y(e[1])), rot_z(e[2]));
    CHECK(max_diff(m.rotation, want) < 1e-12);
    CHECK(max_diff(m.rotation, mul(mul(rot_z(e[2]), rot_y(e[1])), rot_x(e[0]))) > (e[0] == 0 ? -1 : 1e-3));
    CHECK(max_diff(quaternion_to_matrix(m.quaternion), want) < 1e-12);
    const auto back = euler_xyz_of(m.rotation);
    for (int a = 0; a < 3; ++a) CHECK(back[a] == Approx(e[a]).margin(1e-12));
    CHECK(m.quaternion[0] >= 0.0);
    CHECK(m.translation[2] == 0.3);
  }
}

TEST_CASE("registration: pairs satisfy source = R·template + t with angles within ±45°", "[datasets][registration]") {
  auto base = std::make_shared<Clouds>(10);
  RegistrationOptions o;
  o.seed = 7;
  o.repeat = 25;
  const RegistrationPairs pairs(base, o);
  REQUIRE(pairs.size() == 250);
  CHECK(pairs.class_names() == base->class_names());
  CHECK(pairs.describe().find("250 pairs, Euler xyz ±45°, translation ±0, seed 7") != std::string::npos);
  std::array<double, 3> lo{0, 0, 0}, hi{0, 0, 0};
  for (int64_t i = 0; i < pairs.size(); ++i) {
    const Example e = pairs.get(i);
    REQUIRE(e.size() == 5);  // template, source, rotation, translation, label
    CHECK(e.count("points") == 0);
    CHECK(e.at("label").item<int64_t>() == (i % 10) % 3);
    CHECK(e.at("template").to_vector<float>() == base->get(i % 10).at("points").to_vector<float>());
    CHECK(e.at("translation").to_vector<float>() == std::vector<float>{0, 0, 0});
    check_pair(e, 1e-6);
    const RigidMotion m = pairs.motion(i);
    const auto ang = euler_xyz_of(m.rotation);
    for (int a = 0; a < 3; ++a) {
      CHECK(std::fabs(m.euler[a]) <= M_PI / 4);
      CHECK(ang[a] == Approx(m.euler[a]).margin(1e-9));
      lo[a] = std::min(lo[a], m.euler[a]);
      hi[a] = std::max(hi[a], m.euler[a]);
    }
    // The stored float quaternion is the motion's.
    const auto q = e.at("rotation").to_vector<float>();
    for (int a = 0; a < 4; ++a) CHECK(q[a] == Approx(m.quaternion[a]).margin(1e-7));
  }
  // 250 draws per axis cover the range on both sides ([−45°, 45°], not [0°, 45°]).
  for (int a = 0; a < 3; ++a) {
    CHECK(lo[a] < -0.7);
    CHECK(hi[a] > 0.7);
  }
}

TEST_CASE("registration: a fixed set per seed; pair i depends only on (seed, i)", "[datasets][registration]") {
  auto base = std::make_shared<Clouds>(6);
  RegistrationOptions o;
  o.seed = 1;
  const RegistrationPairs a(base, o), b(base, o);
  o.repeat = 3;
  const RegistrationPairs longer(base, o);
  o.repeat = 1;
  o.seed = 2;
  const RegistrationPairs other(base, o);
  int differ = 0;
  for (int64_t i = a.size() - 1; i >= 0; --i) {  // reverse order: access order does not matter
    const auto qa = a.get(i).at("source").to_vector<float>();
    CHECK(qa == b.get(i).at("source").to_vector<float>());
    CHECK(qa == a.get(i).at("source").to_vector<float>());
    CHECK(qa == longer.get(i).at("source").to_vector<float>());
    differ += qa != other.get(i).at("source").to_vector<float>();
  }
  CHECK(differ == 6);
  // Repetitions of a shape get their own motions.
  CHECK(longer.motion(0).euler != longer.motion(6).euler);
  // Concurrent access gives the same pairs.
  std::vector<std::vector<float>> par(static_cast<size_t>(longer.size()));
  std::thread t1([&] {
    for (int64_t i = 0; i < longer.size(); i += 2)
      par[static_cast<size_t>(i)] = longer.get(i).at("source").to_vector<float>();
  });
  for (int64_t i = 1; i < longer.size(); i += 2)
    par[static_cast<size_t>(i)] = longer.get(i).at("source").to_vector<float>();
  t1.join();
  for (int64_t i = 0; i < longer.size(); ++i)
    CHECK(par[static_cast<size_t>(i)] == longer.get(i).at("source").to_vector<float>());
}

TEST_CASE("registration: translation range, the per-epoch transform, errors", "[datasets][registration]") {
  auto base = std::make_shared<Clouds>(4);
  RegistrationOptions o;
  o.range.max_translation = 0.5;
  o.range.max_angle_deg = 30.0;
  o.seed = 3;
  o.repeat = 20;
  const RegistrationPairs pairs(base, o);
  double tmax = 0.0;
  for (int64_t i = 0; i < pairs.size(); ++i) {
    const Example e = pairs.get(i);
    check_pair(e, 2e-6);
    for (const float t : e.at("translation").to_vector<float>()) {
      CHECK(std::fabs(t) <= 0.5f);
      tmax = std::max(tmax, std::fabs(double(t)));
    }
    for (const double a : pairs.motion(i).euler) CHECK(std::fabs(a) <= M_PI / 6);
  }
  CHECK(tmax > 0.4);

  // The transform draws from the item's stream: the same stream name gives the same pair, another
  // stream (e.g. the next epoch) another one.
  const Transform tf = registration_transform({45.0, 0.0});
  Example e1 = base->get(2), e2 = base->get(2), e3 = base->get(2);
  HostRng r1(5, {0, 2}), r2(5, {0, 2}), r3(5, {1, 2});
  tf(e1, r1);
  tf(e2, r2);
  tf(e3, r3);
  check_pair(e1, 1e-6);
  CHECK(e1.at("source").to_vector<float>() == e2.at("source").to_vector<float>());
  CHECK(e1.at("source").to_vector<float>() != e3.at("source").to_vector<float>());
  CHECK(e1.at("label").item<int64_t>() == 2);

  // Errors.
  RegistrationOptions bad;
  bad.range.max_angle_deg = 181;
  require_error([&] { RegistrationPairs(base, bad); }, {"max angle 181"});
  bad = {};
  bad.range.max_translation = -1;
  require_error([&] { RegistrationPairs(base, bad); }, {"max translation -1"});
  bad = {};
  bad.repeat = 0;
  require_error([&] { RegistrationPairs(base, bad); }, {"repeat 0"});
  require_error([&] { RegistrationPairs(nullptr); }, {"no base dataset"});
  bad = {};
  bad.points_key = "xyz";
  require_error([&] { RegistrationPairs(base, bad).get(0); }, {"no 'xyz' tensor"});
  require_error([&] { pairs.get(pairs.size()); }, {"pair 80", "[0, 80)"});
  Example twice = base->get(0);
  tf(twice, r1);
  twice["points"] = twice.at("template");
  require_error([&] { tf(twice, r1); }, {"already has a 'template'"});
  Example wrong{{"points", zeros({4, 2})}};
  require_error([&] { tf(wrong, r1); }, {"'points' must be float32 [P, 3]", "[4, 2]"});
}
