#include "datasets/mesh_sampling.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace pg::datasets {

Tensor sample_mesh_surface(const Tensor& vertices, const Tensor& faces, int64_t n, HostRng& rng,
                           const std::string& what) {
  PG_CHECK(vertices.defined() && vertices.dim() == 2 && vertices.size(1) == 3 && is_floating(vertices.dtype()), what,
           ": vertices must be float [V, 3]");
  PG_CHECK(faces.defined() && faces.dim() == 2 && faces.size(1) == 3 && is_integral(faces.dtype()), what,
           ": faces must be integer [F, 3]");
  PG_CHECK(n >= 1, what, ": n = ", n, " must be ≥ 1");
  const std::vector<double> v = vertices.to_vector<double>();
  const std::vector<int64_t> f = faces.to_vector<int64_t>();
  const int64_t nv = vertices.size(0), nf = faces.size(0);
  PG_CHECK(nf > 0, what, ": the mesh has no faces");
  for (const double x : v) PG_CHECK(std::isfinite(x), what, ": non-finite vertex coordinate ", x);
  for (int64_t i = 0; i < nf * 3; ++i) {
    PG_CHECK(f[static_cast<size_t>(i)] >= 0 && f[static_cast<size_t>(i)] < nv, what, ": face ", i / 3,
             " has vertex index ", f[static_cast<size_t>(i)], " outside [0, ", nv, ")");
  }
  auto corner = [&](int64_t face, int k, int d) {
    return v[static_cast<size_t>(f[static_cast<size_t>(face * 3 + k)] * 3 + d)];
  };
  std::vector<double> cumulative(static_cast<size_t>(nf));
  double total = 0.0;
  for (int64_t t = 0; t < nf; ++t) {
    double e1[3], e2[3];
    for (int d = 0; d < 3; ++d) {
      e1[d] = corner(t, 1, d) - corner(t, 0, d);
      e2[d] = corner(t, 2, d) - corner(t, 0, d);
    }
    const double cx = e1[1] * e2[2] - e1[2] * e2[1], cy = e1[2] * e2[0] - e1[0] * e2[2],
                 cz = e1[0] * e2[1] - e1[1] * e2[0];
    total += 0.5 * std::sqrt(cx * cx + cy * cy + cz * cz);
    cumulative[static_cast<size_t>(t)] = total;
  }
  PG_CHECK(total > 0.0, what, ": the mesh's total surface area is zero");
  // The last triangle with a positive area (a draw rounded up to `total` maps to it).
  int64_t last = nf - 1;
  while (last > 0 && cumulative[static_cast<size_t>(last)] == cumulative[static_cast<size_t>(last - 1)]) --last;
  Tensor out = empty({n, 3}, TensorOptions(DType::f32, Device::cpu()));
  float* p = out.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    // upper_bound: the first triangle whose cumulative area exceeds the draw, so a zero-area
    // triangle (cumulative equal to its predecessor's) is never chosen.
    const double u = rng.uniform() * total;
    const int64_t t = std::min<int64_t>(
        last, static_cast<int64_t>(std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin()));
    const double s = std::sqrt(rng.uniform()), r2 = rng.uniform();
    const double wa = 1.0 - s, wb = s * (1.0 - r2), wc = s * r2;
    for (int d = 0; d < 3; ++d) {
      p[i * 3 + d] = static_cast<float>(wa * corner(t, 0, d) + wb * corner(t, 1, d) + wc * corner(t, 2, d));
    }
  }
  return out;
}

}  // namespace pg::datasets
