#include "datasets/datagen.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <sstream>

#include "core/error.h"
#include "datasets/atomic_write.h"
#include "datasets/host_rng.h"
#include "datasets/modelnet40.h"

namespace pg::datasets {

namespace fs = std::filesystem;

namespace {

// ---- small vector algebra ----
struct V3 {
  double x = 0, y = 0, z = 0;
};
V3 operator+(V3 a, V3 b) {
  return {a.x + b.x, a.y + b.y, a.z + b.z};
}
V3 operator-(V3 a, V3 b) {
  return {a.x - b.x, a.y - b.y, a.z - b.z};
}
V3 operator*(double s, V3 a) {
  return {s * a.x, s * a.y, s * a.z};
}
double dot(V3 a, V3 b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
V3 cross(V3 a, V3 b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
double norm(V3 a) {
  return std::sqrt(dot(a, a));
}

V3 unit_dir(HostRng& r) {
  while (true) {
    const V3 v{r.normal(), r.normal(), r.normal()};
    const double n = norm(v);
    if (n > 1e-12) return (1.0 / n) * v;
  }
}

// ---- surface parts: an area and a uniform sampler ----
struct Part {
  double area;
  std::function<V3(HostRng&)> sample;
};

Part sphere_part(V3 c, double r) {
  return {4.0 * M_PI * r * r, [=](HostRng& g) { return c + r * unit_dir(g); }};
}

// Half sphere on the side `sign` (+1/-1) of the plane y = c.y.
Part hemisphere_part(V3 c, double r, double sign) {
  return {2.0 * M_PI * r * r, [=](HostRng& g) {
            V3 d = unit_dir(g);
            d.y = sign * std::fabs(d.y);
            return c + r * d;
          }};
}

// Disk of radius r centred at c, spanned by the orthonormal e1, e2.
Part disk_part(V3 c, V3 e1, V3 e2, double r) {
  return {M_PI * r * r, [=](HostRng& g) {
            const double rho = r * std::sqrt(g.uniform());
            const double phi = 2.0 * M_PI * g.uniform();
            return c + (rho * std::cos(phi)) * e1 + (rho * std::sin(phi)) * e2;
          }};
}
Part disk_y(double y, double r) {
  return disk_part({0, y, 0}, {1, 0, 0}, {0, 0, 1}, r);
}

// Lateral surface of a y-axis cylinder of radius r between y0 and y1.
Part cylinder_lateral(double r, double y0, double y1) {
  return {2.0 * M_PI * r * std::fabs(y1 - y0), [=](HostRng& g) {
            const double phi = 2.0 * M_PI * g.uniform();
            return V3{r * std::cos(phi), y0 + (y1 - y0) * g.uniform(), r * std::sin(phi)};
          }};
}

// Lateral surface of a y-axis cone with apex height ya and base circle (radius R) at yb.
Part cone_lateral(double ya, double yb, double R) {
  const double slant = std::sqrt(R * R + (ya - yb) * (ya - yb));
  return {M_PI * R * slant, [=](HostRng& g) {
            const double t = std::sqrt(g.uniform());  // distance fraction from the apex (area ∝ t)
            const double phi = 2.0 * M_PI * g.uniform();
            return V3{t * R * std::cos(phi), ya + t * (yb - ya), t * R * std::sin(phi)};
          }};
}

Part rect_part(V3 o, V3 e1, V3 e2) {
  return {norm(cross(e1, e2)), [=](HostRng& g) {
            const double u = g.uniform(), v = g.uniform();
            return o + u * e1 + v * e2;
          }};
}

Part triangle_part(V3 a, V3 b, V3 c) {
  return {0.5 * norm(cross(b - a, c - a)), [=](HostRng& g) {
            const double r1 = std::sqrt(g.uniform()), r2 = g.uniform();
            return (1.0 - r1) * a + (r1 * (1.0 - r2)) * b + (r1 * r2) * c;
          }};
}

// The six faces of the box centred at c with half extents h.
void box_parts(V3 c, V3 h, std::vector<Part>& out) {
  const V3 ex{2 * h.x, 0, 0}, ey{0, 2 * h.y, 0}, ez{0, 0, 2 * h.z};
  const V3 lo = c - h;
  out.push_back(rect_part(lo, ey, ez));
  out.push_back(rect_part(lo + ex, ey, ez));
  out.push_back(rect_part(lo, ex, ez));
  out.push_back(rect_part(lo + ey, ex, ez));
  out.push_back(rect_part(lo, ex, ey));
  out.push_back(rect_part(lo + ez, ex, ey));
}

struct Surface {
  std::vector<Part> parts;
  std::function<bool(const V3&)> reject;  // optional: resample points for which this is true
  std::vector<std::pair<std::string, double>> params;
};

// A random permutation of three values.
V3 shuffled(HostRng& g, double a, double b, double c) {
  double v[3] = {a, b, c};
  for (int i = 2; i > 0; --i) std::swap(v[i], v[g.below(static_cast<uint64_t>(i + 1))]);
  return {v[0], v[1], v[2]};
}

// ---- the classes ----

Surface make_sphere(HostRng&) {
  Surface s;
  s.parts.push_back(sphere_part({0, 0, 0}, 1.0));
  s.params = {{"r", 1.0}};
  return s;
}

Surface make_box(HostRng& g) {
  Surface s;
  const V3 h = shuffled(g, 1.0, g.uniform(0.35, 1.0), g.uniform(0.35, 1.0));
  box_parts({0, 0, 0}, h, s.parts);
  s.params = {{"hx", h.x}, {"hy", h.y}, {"hz", h.z}};
  return s;
}

Surface make_cylinder(HostRng& g) {
  Surface s;
  const double h = g.uniform(1.2, 3.0);
  s.parts.push_back(cylinder_lateral(1.0, -h / 2, h / 2));
  s.parts.push_back(disk_y(-h / 2, 1.0));
  s.parts.push_back(disk_y(h / 2, 1.0));
  s.params = {{"r", 1.0}, {"h", h}};
  return s;
}

Surface make_cone(HostRng& g) {
  Surface s;
  const double h = g.uniform(1.0, 2.5);
  s.parts.push_back(cone_lateral(h, 0.0, 1.0));
  s.parts.push_back(disk_y(0.0, 1.0));
  s.params = {{"r", 1.0}, {"h", h}};
  return s;
}

Surface make_torus(HostRng& g) {
  Surface s;
  const double R = 1.0, r = g.uniform(0.2, 0.45);
  // Area element (R + r cos θ) dθ dφ: θ by rejection, φ uniform.
  s.parts.push_back({4.0 * M_PI * M_PI * R * r, [=](HostRng& q) {
                       double th;
                       do {
                         th = 2.0 * M_PI * q.uniform();
                       } while (q.uniform() * (R + r) > R + r * std::cos(th));
                       const double phi = 2.0 * M_PI * q.uniform();
                       const double rho = R + r * std::cos(th);
                       return V3{rho * std::cos(phi), r * std::sin(th), rho * std::sin(phi)};
                     }});
  s.params = {{"R", R}, {"r", r}};
  return s;
}

Surface make_capsule(HostRng& g) {
  Surface s;
  const double L = g.uniform(1.2, 3.0);
  s.parts.push_back(cylinder_lateral(1.0, -L / 2, L / 2));
  s.parts.push_back(hemisphere_part({0, L / 2, 0}, 1.0, 1.0));
  s.parts.push_back(hemisphere_part({0, -L / 2, 0}, 1.0, -1.0));
  s.params = {{"r", 1.0}, {"L", L}};
  return s;
}

Surface make_pyramid(HostRng& g) {
  Surface s;
  const double h = g.uniform(1.0, 2.0);
  const V3 apex{0, h, 0};
  const V3 c[4] = {{-1, 0, -1}, {1, 0, -1}, {1, 0, 1}, {-1, 0, 1}};
  s.parts.push_back(rect_part(c[0], {2, 0, 0}, {0, 0, 2}));
  for (int i = 0; i < 4; ++i) s.parts.push_back(triangle_part(c[i], c[(i + 1) % 4], apex));
  s.params = {{"half_width", 1.0}, {"h", h}};
  return s;
}

Surface make_ellipsoid(HostRng& g) {
  Surface s;
  const V3 ax = shuffled(g, 1.0, g.uniform(0.45, 0.7), g.uniform(0.2, 0.4));
  const double a = ax.x, b = ax.y, c = ax.z;
  const double gmax = std::max({b * c, a * c, a * b});
  // Uniform on the surface: a direction u on the unit sphere, mapped to (a ux, b uy, c uz), kept
  // with probability (area element at u) / max (Chen & Glotzer's exact rejection method).
  const double p = 1.6075;  // Knud Thomsen's area approximation (only relative areas matter)
  const double area =
      4.0 * M_PI * std::pow((std::pow(a * b, p) + std::pow(a * c, p) + std::pow(b * c, p)) / 3.0, 1.0 / p);
  s.parts.push_back({area, [=](HostRng& q) {
                       while (true) {
                         const V3 u = unit_dir(q);
                         const double el = std::sqrt((b * c * u.x) * (b * c * u.x) + (a * c * u.y) * (a * c * u.y) +
                                                     (a * b * u.z) * (a * b * u.z));
                         if (q.uniform() * gmax <= el) return V3{a * u.x, b * u.y, c * u.z};
                       }
                     }});
  s.params = {{"a", a}, {"b", b}, {"c", c}};
  return s;
}

Surface make_helix(HostRng& g) {
  Surface s;
  const double R = 1.0;
  const double turns = g.uniform(2.5, 4.5);
  const double H = g.uniform(1.6, 3.0);
  const double rho = g.uniform(0.07, 0.12);
  const double tmax = 2.0 * M_PI * turns;
  const double b = H / tmax;  // rise per radian
  const double speed = std::sqrt(R * R + b * b);
  const double kappa = R / (speed * speed);
  auto centre = [=](double t) { return V3{R * std::cos(t), b * t - H / 2, R * std::sin(t)}; };
  auto normal = [=](double t) { return V3{-std::cos(t), 0.0, -std::sin(t)}; };  // towards the axis
  auto binormal = [=](double t) { return (1.0 / speed) * V3{-b * std::sin(t), -R, b * std::cos(t)}; };
  // Tube: area element speed·(1 − κρ cos θ) dt dθ with θ measured from the principal normal.
  s.parts.push_back({2.0 * M_PI * rho * speed * tmax, [=](HostRng& q) {
                       double t, th;
                       do {
                         t = tmax * q.uniform();
                         th = 2.0 * M_PI * q.uniform();
                       } while (q.uniform() * (1.0 + kappa * rho) > 1.0 - kappa * rho * std::cos(th));
                       return centre(t) + (rho * std::cos(th)) * normal(t) + (rho * std::sin(th)) * binormal(t);
                     }});
  s.parts.push_back(disk_part(centre(0.0), normal(0.0), binormal(0.0), rho));
  s.parts.push_back(disk_part(centre(tmax), normal(tmax), binormal(tmax), rho));
  s.params = {{"R", R}, {"turns", turns}, {"H", H}, {"rho", rho}};
  return s;
}

Surface make_ring_of_spheres(HostRng& g) {
  Surface s;
  const int k = 5 + static_cast<int>(g.below(4));              // 5..8 spheres
  const double r = g.uniform(0.45, 0.8) * std::sin(M_PI / k);  // adjacent spheres never touch
  for (int i = 0; i < k; ++i) {
    const double a = 2.0 * M_PI * i / k;
    s.parts.push_back(sphere_part({std::cos(a), 0.0, std::sin(a)}, r));
  }
  s.params = {{"count", static_cast<double>(k)}, {"R", 1.0}, {"r", r}};
  return s;
}

Surface make_cross(HostRng& g) {
  Surface s;
  const double w = g.uniform(0.15, 0.3);
  const V3 h[3] = {{1.0, w, w}, {w, 1.0, w}, {w, w, 1.0}};
  for (const V3& hb : h) box_parts({0, 0, 0}, hb, s.parts);
  // The surface of the union: drop points strictly inside another bar.
  s.reject = [=](const V3& p) {
    const double eps = 1e-9;
    for (const V3& hb : h) {
      if (std::fabs(p.x) < hb.x - eps && std::fabs(p.y) < hb.y - eps && std::fabs(p.z) < hb.z - eps) return true;
    }
    return false;
  };
  s.params = {{"L", 1.0}, {"w", w}};
  return s;
}

Surface make_hourglass(HostRng& g) {
  Surface s;
  const double h = g.uniform(0.8, 1.6);
  s.parts.push_back(cone_lateral(0.0, h, 1.0));
  s.parts.push_back(cone_lateral(0.0, -h, 1.0));
  s.parts.push_back(disk_y(h, 1.0));
  s.parts.push_back(disk_y(-h, 1.0));
  s.params = {{"r", 1.0}, {"h", h}};
  return s;
}

struct ClassDef {
  const char* name;
  Surface (*make)(HostRng&);
};

const std::vector<ClassDef>& class_defs() {
  static const std::vector<ClassDef> defs = {
      {"sphere", make_sphere},      {"box", make_box},
      {"cylinder", make_cylinder},  {"cone", make_cone},
      {"torus", make_torus},        {"capsule", make_capsule},
      {"pyramid", make_pyramid},    {"ellipsoid", make_ellipsoid},
      {"helix_spring", make_helix}, {"ring_of_spheres", make_ring_of_spheres},
      {"cross", make_cross},        {"hourglass", make_hourglass},
  };
  return defs;
}

const ClassDef& find_class(const std::string& name) {
  for (const ClassDef& d : class_defs()) {
    if (name == d.name) return d;
  }
  std::string all;
  for (const ClassDef& d : class_defs()) all += (all.empty() ? "" : ", ") + std::string(d.name);
  PG_FAIL("datagen: unknown shape class '", name, "' (available: ", all, ")");
}

uint64_t name_hash(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

void random_rotation(HostRng& g, RotationMode mode, double R[9]) {
  if (mode == RotationMode::none) {
    const double I[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    std::memcpy(R, I, sizeof(I));
  } else if (mode == RotationMode::up) {
    const double a = 2.0 * M_PI * g.uniform();
    const double c = std::cos(a), s = std::sin(a);
    const double Ry[9] = {c, 0, -s, 0, 1, 0, s, 0, c};
    std::memcpy(R, Ry, sizeof(Ry));
  } else {
    // A uniformly random unit quaternion gives a uniformly random rotation.
    double q[4], n = 0.0;
    do {
      n = 0.0;
      for (double& v : q) {
        v = g.normal();
        n += v * v;
      }
    } while (n < 1e-12);
    n = std::sqrt(n);
    const double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
    const double M[9] = {1 - 2 * (y * y + z * z), 2 * (x * y - z * w),     2 * (x * z + y * w),
                         2 * (x * y + z * w),     1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
                         2 * (x * z - y * w),     2 * (y * z + x * w),     1 - 2 * (x * x + y * y)};
    std::memcpy(R, M, sizeof(M));
  }
}

// Centres `p` (n × 3) on its mean and scales it into the unit sphere; returns (mean, max norm).
std::pair<V3, double> normalise(std::vector<double>& p) {
  const size_t n = p.size() / 3;
  V3 m;
  for (size_t i = 0; i < n; ++i) m = m + V3{p[3 * i], p[3 * i + 1], p[3 * i + 2]};
  m = (1.0 / static_cast<double>(n)) * m;
  double d = 0.0;
  for (size_t i = 0; i < n; ++i) {
    d = std::max(d, norm(V3{p[3 * i] - m.x, p[3 * i + 1] - m.y, p[3 * i + 2] - m.z}));
  }
  if (d <= 0.0) d = 1.0;
  for (size_t i = 0; i < n; ++i) {
    p[3 * i] = (p[3 * i] - m.x) / d;
    p[3 * i + 1] = (p[3 * i + 1] - m.y) / d;
    p[3 * i + 2] = (p[3 * i + 2] - m.z) / d;
  }
  return {m, d};
}

}  // namespace

const std::vector<std::string>& shape_classes() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const ClassDef& d : class_defs()) v.emplace_back(d.name);
    return v;
  }();
  return names;
}

std::vector<std::string> parse_class_selection(const std::string& spec) {
  const auto& all = shape_classes();
  if (spec.empty() || spec == "all") return all;
  if (std::all_of(spec.begin(), spec.end(), [](unsigned char c) { return std::isdigit(c); })) {
    const long n = std::stol(spec);
    PG_CHECK(n >= 2 && n <= static_cast<long>(all.size()), "datagen: class count ", n, " is outside 2..", all.size());
    return std::vector<std::string>(all.begin(), all.begin() + n);
  }
  std::vector<std::string> out;
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.pop_back();
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.erase(item.begin());
    if (item.empty()) continue;
    find_class(item);
    PG_CHECK(std::find(out.begin(), out.end(), item) == out.end(), "datagen: class '", item, "' listed twice");
    out.push_back(item);
  }
  PG_CHECK(out.size() >= 2, "datagen: at least 2 classes are needed, got '", spec, "'");
  return out;
}

RotationMode parse_rotation_mode(const std::string& s) {
  if (s == "so3") return RotationMode::so3;
  if (s == "up" || s == "y") return RotationMode::up;
  if (s == "none") return RotationMode::none;
  PG_FAIL("datagen: unknown rotation mode '", s, "' (expected so3, up or none)");
}

const char* rotation_mode_name(RotationMode m) {
  switch (m) {
    case RotationMode::so3:
      return "so3";
    case RotationMode::up:
      return "up";
    case RotationMode::none:
      return "none";
  }
  return "?";
}

double GeneratedShape::param(const std::string& name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  PG_FAIL("GeneratedShape: no parameter '", name, "'");
}

GeneratedShape generate_shape(const std::string& cls, int64_t n, uint64_t key, const ShapeOptions& opts) {
  const ClassDef& def = find_class(cls);
  PG_CHECK(n >= 1, "datagen: points per shape must be >= 1, got ", n);
  PG_CHECK(opts.noise >= 0.0, "datagen: noise must be >= 0, got ", opts.noise);
  PG_CHECK(opts.scale_lo > 0.0 && opts.scale_lo <= opts.scale_hi && opts.scale_hi <= 1.0, "datagen: scale range [",
           opts.scale_lo, ", ", opts.scale_hi, "] must satisfy 0 < lo <= hi <= 1");
  HostRng g(key);
  Surface surf = def.make(g);
  std::vector<double> cdf;
  double total = 0.0;
  for (const Part& p : surf.parts) cdf.push_back(total += p.area);

  GeneratedShape out;
  out.params = surf.params;
  out.canonical.resize(static_cast<size_t>(n * 3));
  std::vector<double> pts(static_cast<size_t>(n * 3));
  random_rotation(g, opts.rotation, out.rotation);
  const double* R = out.rotation;
  for (int64_t i = 0; i < n; ++i) {
    V3 p;
    for (int attempt = 0;; ++attempt) {
      PG_CHECK(attempt < 100000, "datagen: rejection sampling of class '", cls, "' does not terminate");
      const double u = g.uniform() * total;
      const size_t k =
          std::min(cdf.size() - 1, static_cast<size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin()));
      p = surf.parts[k].sample(g);
      if (!surf.reject || !surf.reject(p)) break;
    }
    out.canonical[3 * i] = static_cast<float>(p.x);
    out.canonical[3 * i + 1] = static_cast<float>(p.y);
    out.canonical[3 * i + 2] = static_cast<float>(p.z);
    pts[3 * i] = R[0] * p.x + R[1] * p.y + R[2] * p.z;
    pts[3 * i + 1] = R[3] * p.x + R[4] * p.y + R[5] * p.z;
    pts[3 * i + 2] = R[6] * p.x + R[7] * p.y + R[8] * p.z;
  }
  const auto [m1, d1] = normalise(pts);
  if (opts.noise > 0.0) {
    for (double& v : pts) v += opts.noise * g.normal();
  }
  const auto [m2, d2] = normalise(pts);
  const double s = opts.scale_lo == opts.scale_hi ? opts.scale_lo : g.uniform(opts.scale_lo, opts.scale_hi);
  out.points.resize(pts.size());
  for (size_t i = 0; i < pts.size(); ++i) out.points[i] = static_cast<float>(s * pts[i]);
  // points = s/d2 · ((R c − m1)/d1 + noise − m2) = scale · R c + offset + s/d2 · noise
  out.scale = s / (d1 * d2);
  out.offset[0] = -s * (m1.x / (d1 * d2) + m2.x / d2);
  out.offset[1] = -s * (m1.y / (d1 * d2) + m2.y / d2);
  out.offset[2] = -s * (m1.z / (d1 * d2) + m2.z / d2);
  return out;
}

DatagenSummary generate_dataset(const DatagenOptions& opts) {
  const auto t0 = std::chrono::steady_clock::now();
  PG_CHECK(!opts.out_dir.empty(), "datagen: no output folder given");
  PG_CHECK(opts.train_per_class >= 1 && opts.test_per_class >= 1, "datagen: shapes per class must be >= 1 (train ",
           opts.train_per_class, ", test ", opts.test_per_class, ")");
  PG_CHECK(opts.points >= 16, "datagen: points per shape must be >= 16, got ", opts.points);
  PG_CHECK(opts.shard_size >= 1, "datagen: shard size must be >= 1, got ", opts.shard_size);
  const std::vector<std::string> classes = opts.classes.empty() ? shape_classes() : opts.classes;
  PG_CHECK(classes.size() >= 2 && classes.size() <= 256, "datagen: between 2 and 256 classes are needed, got ",
           classes.size());
  for (const std::string& c : classes) find_class(c);
  // Validate the shape options once, before any thread runs.
  generate_shape(classes[0], 16, 0, opts.shape);

  std::error_code ec;
  fs::create_directories(opts.out_dir, ec);
  PG_CHECK(fs::is_directory(opts.out_dir, ec), "datagen: cannot create the output folder '", opts.out_dir, "'");

  DatagenSummary summary;
  summary.class_names = classes;
  const int64_t C = static_cast<int64_t>(classes.size());
  const int64_t P = opts.points;

  for (Split split : {Split::train, Split::test}) {
    const int64_t per_class = split == Split::train ? opts.train_per_class : opts.test_per_class;
    const int64_t count = per_class * C;
    const uint64_t split_tag = split == Split::train ? 0x545241494EULL : 0x54455354ULL;
    // A seeded interleaving of the classes (like the official shards).
    std::vector<std::pair<int64_t, int64_t>> order;  // (class, index within class)
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t i = 0; i < per_class; ++i) order.emplace_back(c, i);
    }
    HostRng og(opts.seed, {split_tag, 0x4F52444552ULL});
    for (int64_t i = count - 1; i > 0; --i) {
      std::swap(order[static_cast<size_t>(i)], order[og.below(static_cast<uint64_t>(i + 1))]);
    }
    Tensor points = empty({count, P, 3}, TensorOptions(DType::f32, Device::cpu()));
    Tensor labels = empty({count}, TensorOptions(DType::i64, Device::cpu()));
    float* dp = points.data<float>();
    int64_t* dl = labels.data<int64_t>();
    std::exception_ptr err;
    std::mutex err_mu;
#pragma omp parallel for schedule(dynamic, 4)
    for (int64_t j = 0; j < count; ++j) {
      try {
        const auto [c, i] = order[static_cast<size_t>(j)];
        const std::string& name = classes[static_cast<size_t>(c)];
        const uint64_t key = stream_key(opts.seed, {split_tag, name_hash(name), static_cast<uint64_t>(i)});
        const GeneratedShape s = generate_shape(name, P, key, opts.shape);
        std::memcpy(dp + j * P * 3, s.points.data(), static_cast<size_t>(P * 3) * sizeof(float));
        dl[j] = c;
      } catch (...) {
        std::lock_guard<std::mutex> lock(err_mu);
        if (!err) err = std::current_exception();
      }
    }
    if (err) std::rethrow_exception(err);

    const int64_t nshards = (count + opts.shard_size - 1) / opts.shard_size;
    std::string list;
    for (int64_t k = 0; k < nshards; ++k) {
      const int64_t b = k * opts.shard_size, e = std::min(count, b + opts.shard_size);
      const std::string base = std::string("ply_data_") + split_name(split) + std::to_string(k) + ".h5";
      const std::string path = (fs::path(opts.out_dir) / base).string();
      Tensor sp = detail::make_view(points, {e - b, P, 3}, {P * 3, 3, 1}, b * P * 3);
      Tensor sl = detail::make_view(labels, {e - b}, {1}, b);
      write_modelnet_shard(path, sp, sl);
      summary.files.push_back(path);
      list += base + "\n";
    }
    // Drop stale shards of an earlier, larger run in the same folder (the lists are authoritative).
    for (int64_t k = nshards;; ++k) {
      const fs::path stale =
          fs::path(opts.out_dir) / (std::string("ply_data_") + split_name(split) + std::to_string(k) + ".h5");
      if (!fs::exists(stale, ec)) break;
      fs::remove(stale, ec);
    }
    const std::string list_path = (fs::path(opts.out_dir) / (std::string(split_name(split)) + "_files.txt")).string();
    write_text_atomic(list_path, list);
    summary.files.push_back(list_path);
    (split == Split::train ? summary.train_shapes : summary.test_shapes) = count;
  }
  std::string names;
  for (const std::string& c : classes) names += c + "\n";
  const std::string names_path = (fs::path(opts.out_dir) / "shape_names.txt").string();
  write_text_atomic(names_path, names);
  summary.files.push_back(names_path);
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

}  // namespace pg::datasets
