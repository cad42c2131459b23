// Procedural data set: every class samples its surface (exactly, in the canonical frame) and
// uniformly (area fractions), shapes are normalised like ModelNet, and the data set written in
// the ModelNet layout is deterministic by seed.
#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <functional>

#include "datasets/datagen.h"
#include "datasets/host_rng.h"
#include "datasets/modelnet40.h"
#include "ds_test_util.h"

using namespace pg;
using namespace pg::datasets;
using pg::test::TempDir;

namespace {

ShapeOptions exact() {
  ShapeOptions o;
  o.rotation = RotationMode::none;
  o.noise = 0.0;
  return o;
}

struct P3 {
  double x, y, z;
};

std::vector<P3> canon(const GeneratedShape& s) {
  std::vector<P3> out;
  for (size_t i = 0; i < s.canonical.size(); i += 3)
    out.push_back({s.canonical[i], s.canonical[i + 1], s.canonical[i + 2]});
  return out;
}

double radial(const P3& p) {
  return std::hypot(p.x, p.z);
}

// Distance-like residual of p from the class's surface (0 on the surface).
double residual(const std::string& cls, const GeneratedShape& s, const P3& p) {
  const double tol_in = 1e-5;
  if (cls == "sphere") return std::fabs(std::sqrt(p.x * p.x + p.y * p.y + p.z * p.z) - 1.0);
  if (cls == "box") {
    const double m =
        std::max({std::fabs(p.x) / s.param("hx"), std::fabs(p.y) / s.param("hy"), std::fabs(p.z) / s.param("hz")});
    return std::fabs(m - 1.0);
  }
  if (cls == "cylinder") {
    const double h = s.param("h");
    const double side = std::fabs(p.y) <= h / 2 + tol_in ? std::fabs(radial(p) - 1.0) : 1e9;
    const double cap = radial(p) <= 1.0 + tol_in ? std::fabs(std::fabs(p.y) - h / 2) : 1e9;
    return std::min(side, cap);
  }
  if (cls == "cone") {
    const double h = s.param("h");
    const double side = (p.y >= -tol_in && p.y <= h + tol_in) ? std::fabs(radial(p) - (h - p.y) / h) : 1e9;
    const double base = radial(p) <= 1.0 + tol_in ? std::fabs(p.y) : 1e9;
    return std::min(side, base);
  }
  if (cls == "torus") {
    const double R = s.param("R"), r = s.param("r");
    return std::fabs(std::hypot(radial(p) - R, p.y) - r);
  }
  if (cls == "capsule") {
    const double L = s.param("L");
    if (std::fabs(p.y) <= L / 2) return std::fabs(radial(p) - 1.0);
    const double cy = p.y > 0 ? L / 2 : -L / 2;
    return std::fabs(std::sqrt(p.x * p.x + (p.y - cy) * (p.y - cy) + p.z * p.z) - 1.0);
  }
  if (cls == "pyramid") {
    const double h = s.param("h");
    const double m = std::max(std::fabs(p.x), std::fabs(p.z));
    const double base = m <= 1.0 + tol_in ? std::fabs(p.y) : 1e9;
    const double side = (p.y >= -tol_in && p.y <= h + tol_in) ? std::fabs(m - (1.0 - p.y / h)) : 1e9;
    return std::min(base, side);
  }
  if (cls == "ellipsoid") {
    const double a = s.param("a"), b = s.param("b"), c = s.param("c");
    return std::fabs(std::sqrt((p.x / a) * (p.x / a) + (p.y / b) * (p.y / b) + (p.z / c) * (p.z / c)) - 1.0);
  }
  if (cls == "ring_of_spheres") {
    const int k = static_cast<int>(s.param("count"));
    const double r = s.param("r");
    double best = 1e9;
    for (int i = 0; i < k; ++i) {
      const double a = 2.0 * M_PI * i / k;
      const double d =
          std::sqrt((p.x - std::cos(a)) * (p.x - std::cos(a)) + p.y * p.y + (p.z - std::sin(a)) * (p.z - std::sin(a)));
      best = std::min(best, std::fabs(d - r));
    }
    return best;
  }
  if (cls == "cross") {
    const double w = s.param("w");
    const P3 h[3] = {{1, w, w}, {w, 1, w}, {w, w, 1}};
    double on = 1e9;
    for (const P3& b : h) {
      const double m = std::max({std::fabs(p.x) / b.x, std::fabs(p.y) / b.y, std::fabs(p.z) / b.z});
      if (m < 1.0 - 1e-4) return 1e9;  // strictly inside a bar: not on the union's surface
      on = std::min(on, std::fabs(m - 1.0));
    }
    return on;
  }
  if (cls == "hourglass") {
    const double h = s.param("h");
    const double side = std::fabs(p.y) <= h + tol_in ? std::fabs(radial(p) - std::fabs(p.y) / h) : 1e9;
    const double cap = radial(p) <= 1.0 + tol_in ? std::fabs(std::fabs(p.y) - h) : 1e9;
    return std::min(side, cap);
  }
  if (cls == "helix_spring") {
    // On the tube: distance rho from the centre line (dense search over t, curve cached per
    // shape); on an end cap: within rho of the end centre, in the plane normal to the tangent.
    const double R = s.param("R"), H = s.param("H"), rho = s.param("rho");
    const double tmax = 2.0 * M_PI * s.param("turns"), b = H / tmax;
    static thread_local std::vector<P3> curve;
    static thread_local double cached_key = -1;
    const int steps = 40000;
    if (cached_key != H * 1000 + tmax) {
      cached_key = H * 1000 + tmax;
      curve.clear();
      for (int i = 0; i <= steps; ++i) {
        const double t = tmax * i / steps;
        curve.push_back({R * std::cos(t), b * t - H / 2, R * std::sin(t)});
      }
    }
    double best = 1e9;
    for (const P3& c : curve) {
      best = std::min(best, (p.x - c.x) * (p.x - c.x) + (p.y - c.y) * (p.y - c.y) + (p.z - c.z) * (p.z - c.z));
    }
    double res = std::fabs(std::sqrt(best) - rho);
    const double speed = std::sqrt(R * R + b * b);
    for (double t : {0.0, tmax}) {
      const P3 c{R * std::cos(t), b * t - H / 2, R * std::sin(t)};
      const P3 T{-R * std::sin(t) / speed, b / speed, R * std::cos(t) / speed};
      const P3 d{p.x - c.x, p.y - c.y, p.z - c.z};
      if (std::sqrt(d.x * d.x + d.y * d.y + d.z * d.z) <= rho + tol_in) {
        res = std::min(res, std::fabs(d.x * T.x + d.y * T.y + d.z * T.z));
      }
    }
    return res;
  }
  FAIL("no residual for class " << cls);
  return 0;
}

double fraction(const std::vector<P3>& pts, const std::function<bool(const P3&)>& pred) {
  int64_t c = 0;
  for (const P3& p : pts) c += pred(p);
  return static_cast<double>(c) / static_cast<double>(pts.size());
}

}  // namespace

TEST_CASE("datagen: the class list", "[datasets]") {
  const auto& all = shape_classes();
  CHECK(all.size() >= 10);
  for (const char* c : {"sphere", "box", "cylinder", "cone", "torus", "capsule", "pyramid", "ellipsoid", "helix_spring",
                        "ring_of_spheres"}) {
    CHECK(std::find(all.begin(), all.end(), c) != all.end());
  }
  CHECK(parse_class_selection("all") == all);
  CHECK(parse_class_selection("3") == std::vector<std::string>(all.begin(), all.begin() + 3));
  CHECK(parse_class_selection(" torus, box ") == std::vector<std::string>{"torus", "box"});
  CHECK_THROWS_AS(parse_class_selection("torus,teapot"), pg::Error);
  CHECK_THROWS_AS(parse_class_selection("box,box"), pg::Error);
  CHECK_THROWS_AS(parse_class_selection("1"), pg::Error);
  CHECK_THROWS_AS(parse_class_selection("99"), pg::Error);
  CHECK_THROWS_AS(generate_shape("teapot", 10, 1), pg::Error);
  CHECK(parse_rotation_mode("so3") == RotationMode::so3);
  CHECK_THROWS_AS(parse_rotation_mode("xyz"), pg::Error);
}

TEST_CASE("datagen: every class samples its own surface, normalised into the unit sphere", "[datasets]") {
  for (const std::string& cls : shape_classes()) {
    INFO("class " << cls);
    for (uint64_t k = 0; k < 3; ++k) {
      const GeneratedShape s = generate_shape(cls, 1024, stream_key(11, {k}), exact());
      const auto pts = canon(s);
      double worst = 0.0;
      for (const P3& p : pts) worst = std::max(worst, residual(cls, s, p));
      CHECK(worst < 2e-5);
      // Normalisation: zero mean, max norm = the random scale in [0.8, 1].
      double mx = 0, my = 0, mz = 0, maxn = 0;
      for (size_t i = 0; i < s.points.size(); i += 3) {
        mx += s.points[i];
        my += s.points[i + 1];
        mz += s.points[i + 2];
        maxn = std::max(maxn, std::sqrt(double(s.points[i]) * s.points[i] + double(s.points[i + 1]) * s.points[i + 1] +
                                        double(s.points[i + 2]) * s.points[i + 2]));
      }
      CHECK(std::fabs(mx / 1024) < 1e-5);
      CHECK(std::fabs(my / 1024) < 1e-5);
      CHECK(std::fabs(mz / 1024) < 1e-5);
      CHECK(maxn <= 1.0 + 1e-5);
      CHECK(maxn >= 0.8 - 1e-5);
      // points = scale · R · canonical + offset exactly (no noise).
      double err = 0;
      for (size_t i = 0; i < s.points.size(); i += 3) {
        for (int d = 0; d < 3; ++d) {
          const double q = s.scale * (s.rotation[3 * d] * s.canonical[i] + s.rotation[3 * d + 1] * s.canonical[i + 1] +
                                      s.rotation[3 * d + 2] * s.canonical[i + 2]) +
                           s.offset[d];
          err = std::max(err, std::fabs(q - s.points[i + d]));
        }
      }
      CHECK(err < 1e-5);
    }
  }
}

TEST_CASE("datagen: sampling is uniform over the surface area", "[datasets]") {
  const int64_t n = 40000;  // binomial σ ≤ 0.0025
  const double tol = 0.012;
  {
    const auto s = generate_shape("sphere", n, 1, exact());
    const auto p = canon(s);
    CHECK(fraction(p, [](const P3& q) { return q.y > 0; }) == Approx(0.5).margin(tol));
    CHECK(fraction(p, [](const P3& q) { return std::fabs(q.y) < 0.5; }) == Approx(0.5).margin(tol));  // Archimedes
    CHECK(fraction(p, [](const P3& q) { return q.x > 0 && q.z > 0; }) == Approx(0.25).margin(tol));
  }
  {
    const auto s = generate_shape("box", n, 2, exact());
    const double hx = s.param("hx"), hy = s.param("hy"), hz = s.param("hz");
    const double ax = hy * hz, ay = hx * hz, az = hx * hy, tot = ax + ay + az;
    const auto p = canon(s);
    CHECK(fraction(p, [&](const P3& q) { return std::fabs(std::fabs(q.x) - hx) < 1e-6; }) ==
          Approx(ax / tot).margin(tol));
    CHECK(fraction(p, [&](const P3& q) { return std::fabs(std::fabs(q.y) - hy) < 1e-6; }) ==
          Approx(ay / tot).margin(tol));
    // Uniform within a face: half of the +x face has y > 0.
    const double fx = fraction(p, [&](const P3& q) { return std::fabs(q.x - hx) < 1e-6; });
    const double fxy = fraction(p, [&](const P3& q) { return std::fabs(q.x - hx) < 1e-6 && q.y > 0; });
    CHECK(fxy / fx == Approx(0.5).margin(0.03));
  }
  {
    const auto s = generate_shape("cylinder", n, 3, exact());
    const double h = s.param("h");
    const auto p = canon(s);
    CHECK(fraction(p, [&](const P3& q) { return std::fabs(std::fabs(q.y) - h / 2) < 1e-6; }) ==
          Approx(1.0 / (1.0 + h)).margin(tol));
    // On a cap, the area inside radius 1/√2 is half.
    const double cap = fraction(p, [&](const P3& q) { return std::fabs(q.y - h / 2) < 1e-6; });
    const double inner =
        fraction(p, [&](const P3& q) { return std::fabs(q.y - h / 2) < 1e-6 && radial(q) < M_SQRT1_2; });
    CHECK(inner / cap == Approx(0.5).margin(0.03));
  }
  {
    const auto s = generate_shape("cone", n, 4, exact());
    const double h = s.param("h"), slant = std::sqrt(1.0 + h * h);
    const auto p = canon(s);
    const double base = fraction(p, [](const P3& q) { return std::fabs(q.y) < 1e-6 && radial(q) < 1.0 - 1e-6; });
    CHECK(base == Approx(1.0 / (1.0 + slant)).margin(tol));
    // Lateral area above half height (near the apex) is a quarter of the lateral area.
    const double upper = fraction(p, [&](const P3& q) { return q.y > h / 2; });
    CHECK(upper / (1.0 - base) == Approx(0.25).margin(0.02));
  }
  {
    const auto s = generate_shape("torus", n, 5, exact());
    const double R = s.param("R"), r = s.param("r");
    const auto p = canon(s);
    CHECK(fraction(p, [&](const P3& q) { return radial(q) > R; }) ==
          Approx((M_PI * R + 2 * r) / (2 * M_PI * R)).margin(tol));
  }
  {
    const auto s = generate_shape("capsule", n, 6, exact());
    const double L = s.param("L");
    const auto p = canon(s);
    CHECK(fraction(p, [&](const P3& q) { return std::fabs(q.y) > L / 2; }) == Approx(2.0 / (2.0 + L)).margin(tol));
  }
  {
    // Ellipsoid: the 8 octants have equal area.
    const auto s = generate_shape("ellipsoid", n, 7, exact());
    const auto p = canon(s);
    CHECK(fraction(p, [](const P3& q) { return q.x > 0 && q.y > 0 && q.z > 0; }) == Approx(0.125).margin(tol));
    // Uniformity (not the naive map of sphere directions): on a flat ellipsoid (c << a) the
    // band |z| < c/2 holds much less area than under the direction map. Compare with a
    // fine numerical integral of the area element.
    const double a = s.param("a"), b = s.param("b"), c = s.param("c");
    double band = 0, total = 0;
    const int m = 400;
    for (int i = 0; i < m; ++i) {
      const double th = M_PI * (i + 0.5) / m;  // polar angle from the +z axis
      for (int j = 0; j < 2 * m; ++j) {
        const double ph = M_PI * (j + 0.5) / m;
        const double ux = std::sin(th) * std::cos(ph), uy = std::sin(th) * std::sin(ph), uz = std::cos(th);
        const double el =
            std::sqrt((b * c * ux) * (b * c * ux) + (a * c * uy) * (a * c * uy) + (a * b * uz) * (a * b * uz)) *
            std::sin(th);
        total += el;
        if (std::fabs(c * uz) < c / 2) band += el;
      }
    }
    CHECK(fraction(p, [&](const P3& q) { return std::fabs(q.z) < c / 2; }) == Approx(band / total).margin(tol));
  }
  {
    // Ring of spheres: each member sphere gets the same share.
    const auto s = generate_shape("ring_of_spheres", n, 8, exact());
    const int k = static_cast<int>(s.param("count"));
    const auto p = canon(s);
    CHECK(fraction(p, [&](const P3& q) { return std::hypot(q.x - 1.0, q.z) < 0.5; }) == Approx(1.0 / k).margin(tol));
  }
}

TEST_CASE("datagen: rotations and noise", "[datasets]") {
  ShapeOptions o = exact();
  o.rotation = RotationMode::so3;
  const auto s = generate_shape("box", 256, 42, o);
  const double* R = s.rotation;
  // Orthonormal with det +1.
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      const double d = R[3 * i] * R[3 * j] + R[3 * i + 1] * R[3 * j + 1] + R[3 * i + 2] * R[3 * j + 2];
      CHECK(d == Approx(i == j ? 1.0 : 0.0).margin(1e-12));
    }
  const double det =
      R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
  CHECK(det == Approx(1.0));
  o.rotation = RotationMode::up;
  const auto u = generate_shape("box", 256, 42, o);
  CHECK(u.rotation[4] == 1.0);
  CHECK(u.rotation[1] == 0.0);

  // Noise σ = 0.01 of the unit sphere: residual RMS close to σ (times the final scale ≤ 1).
  o.rotation = RotationMode::none;
  o.noise = 0.01;
  o.scale_lo = o.scale_hi = 1.0;
  const auto nz = generate_shape("sphere", 4096, 3, o);
  double ss = 0;
  for (size_t i = 0; i < nz.points.size(); i += 3) {
    for (int d = 0; d < 3; ++d) {
      const double q = nz.scale * nz.canonical[i + d] + nz.offset[d];
      ss += (q - nz.points[i + d]) * (q - nz.points[i + d]);
    }
  }
  const double rms = std::sqrt(ss / static_cast<double>(nz.points.size()));
  CHECK(rms > 0.008);
  CHECK(rms < 0.0105);
}

TEST_CASE("datagen: writes a deterministic ModelNet-layout data set", "[datasets]") {
  TempDir a("pg_dg"), b("pg_dg"), c("pg_dg");
  DatagenOptions o;
  o.classes = {"sphere", "torus", "helix_spring"};
  o.train_per_class = 5;
  o.test_per_class = 2;
  o.points = 64;
  o.shard_size = 4;
  o.seed = 7;
  o.out_dir = a.path();
  const DatagenSummary sa = generate_dataset(o);
  CHECK(sa.train_shapes == 15);
  CHECK(sa.test_shapes == 6);
  CHECK(sa.files.size() == 4 + 1 + 2 + 1 + 1);
  CHECK(pg::test::count_temporaries(a.path()) == 0);
  const PointCloudSet train = read_modelnet40(a.path(), Split::train);
  const PointCloudSet test = read_modelnet40(a.path(), Split::test);
  CHECK(train.class_names == o.classes);
  CHECK(train.points.shape() == Shape{15, 64, 3});
  CHECK(train.files.size() == 4);
  CHECK(train.class_counts() == std::vector<int64_t>{5, 5, 5});
  CHECK(test.class_counts() == std::vector<int64_t>{2, 2, 2});
  // Classes are interleaved, not in blocks.
  const auto lv = train.labels.to_vector<int64_t>();
  CHECK_FALSE(std::is_sorted(lv.begin(), lv.end()));
  // Normalised like ModelNet.
  const auto pv = train.points.to_vector<float>();
  for (int64_t sh = 0; sh < 15; ++sh) {
    double m[3] = {0, 0, 0}, maxn = 0;
    for (int64_t j = 0; j < 64; ++j) {
      const float* q = &pv[static_cast<size_t>((sh * 64 + j) * 3)];
      for (int d = 0; d < 3; ++d) m[d] += q[d] / 64.0;
      maxn = std::max(maxn, std::sqrt(double(q[0]) * q[0] + double(q[1]) * q[1] + double(q[2]) * q[2]));
    }
    CHECK(std::hypot(m[0], m[1], m[2]) < 1e-5);
    CHECK(maxn <= 1.0 + 1e-5);
    CHECK(maxn >= 0.8 - 1e-5);
  }

  // Same seed → identical data, whatever the thread count; another seed → different data.
  o.out_dir = b.path();
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  generate_dataset(o);
  omp_set_num_threads(threads);
  const PointCloudSet train_b = read_modelnet40(b.path(), Split::train);
  CHECK(train_b.points.to_vector<float>() == pv);
  CHECK(train_b.labels.to_vector<int64_t>() == lv);
  o.out_dir = c.path();
  o.seed = 8;
  generate_dataset(o);
  CHECK(read_modelnet40(c.path(), Split::train).points.to_vector<float>() != pv);

  // Re-running with fewer shapes removes the stale shards of the larger run.
  o.train_per_class = 1;
  generate_dataset(o);
  CHECK(read_modelnet40(c.path(), Split::train).size() == 3);
  CHECK_FALSE(std::filesystem::exists(c.file("ply_data_train1.h5")));

  o.train_per_class = 0;
  CHECK_THROWS_AS(generate_dataset(o), pg::Error);
}
