#include "datasets/transforms.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace pg::datasets {

namespace {

// p ← R p for every point.
void apply_matrix(const std::array<double, 9>& r, double* xyz, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double* p = xyz + 3 * i;
    const double x = p[0], y = p[1], z = p[2];
    p[0] = r[0] * x + r[1] * y + r[2] * z;
    p[1] = r[3] * x + r[4] * y + r[5] * z;
    p[2] = r[6] * x + r[7] * y + r[8] * z;
  }
}

PointApply matrix_apply(const std::array<double, 9>& r) {
  return [r](double* xyz, int64_t n, HostRng&) { apply_matrix(r, xyz, n); };
}

}  // namespace

std::array<double, 4> random_unit_quaternion(HostRng& rng) {
  // Shoemake (1992): uniform on S³, hence a Haar-uniform rotation.
  const double u1 = rng.uniform(), u2 = rng.uniform(), u3 = rng.uniform();
  const double a = std::sqrt(1.0 - u1), b = std::sqrt(u1);
  return {a * std::sin(2.0 * M_PI * u2), a * std::cos(2.0 * M_PI * u2), b * std::sin(2.0 * M_PI * u3),
          b * std::cos(2.0 * M_PI * u3)};
}

PointStep rotate_y() {
  return {"rotate_y", [](HostRng& rng) -> PointApply {
            const double angle = rng.uniform() * 2.0 * M_PI;
            const double c = std::cos(angle), s = std::sin(angle);
            // The formula of PointNet's rotate_point_cloud (and of the issue-3 loader), kept
            // literally so the recipe stays bit-identical.
            return [c, s](double* xyz, int64_t n, HostRng&) {
              for (int64_t i = 0; i < n; ++i) {
                double* p = xyz + 3 * i;
                const double px = p[0], pz = p[2];
                p[0] = px * c - pz * s;
                p[2] = px * s + pz * c;
              }
            };
          }};
}

PointStep rotate_axis(std::array<double, 3> axis, double max_angle) {
  const double len = std::sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]);
  PG_CHECK(std::isfinite(len) && len > 0.0, "rotate_axis: the axis (", axis[0], ", ", axis[1], ", ", axis[2],
           ") must be a finite non-zero vector");
  PG_CHECK(std::isfinite(max_angle) && max_angle >= 0.0, "rotate_axis: max_angle must be finite and >= 0, got ",
           max_angle);
  for (double& a : axis) a /= len;
  return {"rotate_axis", [axis, max_angle](HostRng& rng) -> PointApply {
            const double angle = rng.uniform(-max_angle, max_angle);
            const double h = 0.5 * angle, s = std::sin(h);
            return matrix_apply(quaternion_to_matrix({std::cos(h), axis[0] * s, axis[1] * s, axis[2] * s}));
          }};
}

PointStep rotate_so3() {
  return {"rotate_so3", [](HostRng& rng) -> PointApply {
            return matrix_apply(quaternion_to_matrix(random_unit_quaternion(rng)));
          }};
}

PointStep scale(double lo, double hi) {
  PG_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo > 0.0 && lo <= hi, "scale: the range [", lo, ", ", hi,
           "] must satisfy 0 < lo <= hi");
  return {"scale", [lo, hi](HostRng& rng) -> PointApply {
            const double s = rng.uniform(lo, hi);
            return [s](double* xyz, int64_t n, HostRng&) {
              for (int64_t i = 0; i < 3 * n; ++i) xyz[i] *= s;
            };
          }};
}

PointStep shift(double range) {
  PG_CHECK(std::isfinite(range) && range >= 0.0, "shift: range must be finite and >= 0, got ", range);
  return {"shift", [range](HostRng& rng) -> PointApply {
            std::array<double, 3> t{};
            for (double& v : t) v = rng.uniform(-range, range);
            return [t](double* xyz, int64_t n, HostRng&) {
              for (int64_t i = 0; i < n; ++i) {
                for (int d = 0; d < 3; ++d) xyz[3 * i + d] += t[static_cast<size_t>(d)];
              }
            };
          }};
}

PointStep jitter(double sigma, double clip) {
  PG_CHECK(std::isfinite(sigma) && std::isfinite(clip) && sigma >= 0.0 && clip >= 0.0,
           "jitter: sigma and clip must be finite and >= 0, got ", sigma, " and ", clip);
  return {"jitter", [sigma, clip](HostRng&) -> PointApply {
            return [sigma, clip](double* xyz, int64_t n, HostRng& rng) {
              for (int64_t i = 0; i < 3 * n; ++i) xyz[i] += std::clamp(sigma * rng.normal(), -clip, clip);
            };
          }};
}

PointStep normalize_unit_sphere() {
  return {"normalize_unit_sphere", [](HostRng&) -> PointApply {
            return [](double* xyz, int64_t n, HostRng&) {
              if (n == 0) return;
              double c[3] = {0.0, 0.0, 0.0};
              for (int64_t i = 0; i < n; ++i) {
                for (int d = 0; d < 3; ++d) c[d] += xyz[3 * i + d];
              }
              for (double& v : c) v /= static_cast<double>(n);
              double r2 = 0.0;
              for (int64_t i = 0; i < n; ++i) {
                double s = 0.0;
                for (int d = 0; d < 3; ++d) {
                  xyz[3 * i + d] -= c[d];
                  s += xyz[3 * i + d] * xyz[3 * i + d];
                }
                r2 = std::max(r2, s);
              }
              if (r2 > 0.0) {
                const double inv = 1.0 / std::sqrt(r2);
                for (int64_t i = 0; i < 3 * n; ++i) xyz[i] *= inv;
              }
            };
          }};
}

Transform point_transform(std::vector<PointStep> steps, std::vector<std::string> names) {
  PG_CHECK(!names.empty(), "point_transform: no tensor names given");
  std::string label;
  for (const PointStep& s : steps) {
    PG_CHECK(s.draw != nullptr, "point_transform: step '", s.name, "' has no draw function");
    label += (label.empty() ? "" : "+") + s.name;
  }
  if (label.empty()) label = "identity";
  return [steps = std::move(steps), names = std::move(names), label](Example& item, HostRng& rng) {
    std::vector<PointApply> apply;
    apply.reserve(steps.size());
    for (const PointStep& s : steps) apply.push_back(s.draw(rng));
    std::vector<double> buf;
    for (const std::string& name : names) {
      auto it = item.find(name);
      PG_CHECK(it != item.end(), "point_transform (", label, "): the item has no tensor '", name, "'");
      Tensor& t = it->second;
      PG_CHECK(t.defined() && t.dim() == 2 && t.size(1) == 3 && (t.dtype() == DType::f32 || t.dtype() == DType::f64) &&
                   t.is_cpu(),
               "point_transform (", label, "): tensor '", name, "' must be [P, 3] float32/float64 on the CPU, got ",
               t.defined() ? dtype_name(t.dtype()) + std::string(" ") + shape_str(t.shape()) + " on " + t.device().str()
                           : std::string("undefined"));
      const int64_t n = t.size(0);
      // Work on a private contiguous copy (the item may share storage with the dataset).
      Tensor out = empty(t.shape(), TensorOptions(t.dtype(), Device::cpu()));
      detail::copy_raw(out, t);
      buf.resize(static_cast<size_t>(3 * n));
      if (out.dtype() == DType::f32) {
        const float* src = out.data<float>();
        for (int64_t i = 0; i < 3 * n; ++i) buf[static_cast<size_t>(i)] = src[i];
      } else {
        std::copy(out.data<double>(), out.data<double>() + 3 * n, buf.begin());
      }
      for (const PointApply& a : apply) a(buf.data(), n, rng);
      if (out.dtype() == DType::f32) {
        float* dst = out.data<float>();
        for (int64_t i = 0; i < 3 * n; ++i) dst[i] = static_cast<float>(buf[static_cast<size_t>(i)]);
      } else {
        std::copy(buf.begin(), buf.end(), out.data<double>());
      }
      t = out;
    }
  };
}

}  // namespace pg::datasets
