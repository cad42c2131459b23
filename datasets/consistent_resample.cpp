#include "datasets/consistent_resample.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "datasets/host_rng.h"

namespace pg::datasets {

namespace {

constexpr uint64_t kSampleTag = 0x434f4e53495354ULL;  // "CONSIST"

// The vertices [N, V, 3] as float64, checked (shape, dtype, at least one shape and vertex, finite).
std::vector<double> checked_vertices(const Tensor& vertices, const std::string& what) {
  PG_CHECK(vertices.defined() && vertices.dim() == 3 && vertices.size(2) == 3 && is_floating(vertices.dtype()), what,
           ": vertices must be float [N, V, 3], got ", vertices.defined() ? shape_str(vertices.shape()) : "none");
  PG_CHECK(vertices.size(0) > 0, what, ": no shapes (N = 0)");
  PG_CHECK(vertices.size(1) > 0, what, ": the shapes have no vertices (V = 0)");
  std::vector<double> v = vertices.to_vector<double>();
  const int64_t nv = vertices.size(1);
  for (size_t i = 0; i < v.size(); ++i) {
    PG_CHECK(std::isfinite(v[i]), what, ": non-finite coordinate ", v[i], " (shape ",
             static_cast<int64_t>(i) / (nv * 3), ", vertex ", static_cast<int64_t>(i) / 3 % nv, ")");
  }
  return v;
}

// The faces [F, 3] as int64, checked (shape, dtype, F > 0, indices in [0, V)).
std::vector<int64_t> checked_faces(const Tensor& faces, int64_t nv, const std::string& what) {
  PG_CHECK(faces.defined() && faces.dim() == 2 && faces.size(1) == 3 && is_integral(faces.dtype()), what,
           ": faces must be integer [F, 3], got ", faces.defined() ? shape_str(faces.shape()) : "none");
  PG_CHECK(faces.size(0) > 0, what, ": no faces (F = 0)");
  std::vector<int64_t> f = faces.to_vector<int64_t>();
  for (size_t i = 0; i < f.size(); ++i) {
    PG_CHECK(f[i] >= 0 && f[i] < nv, what, ": face ", i / 3, " has vertex index ", f[i], " outside [0, ", nv, ")");
  }
  return f;
}

}  // namespace

ConsistentSample draw_consistent_sample(const Tensor& vertices, const Tensor& faces, int64_t n, uint64_t seed,
                                        const std::string& what) {
  const std::vector<double> v = checked_vertices(vertices, what);
  const int64_t ns = vertices.size(0), nv = vertices.size(1);
  const std::vector<int64_t> f = checked_faces(faces, nv, what);
  PG_CHECK(n >= 1, what, ": the number of points n = ", n, " must be ≥ 1");
  const int64_t nf = faces.size(0);
  // Mean over the shapes of each face's area (float64).
  std::vector<double> cumulative(static_cast<size_t>(nf));
  double total = 0.0;
  for (int64_t t = 0; t < nf; ++t) {
    double area = 0.0;
    for (int64_t s = 0; s < ns; ++s) {
      const double* a = &v[static_cast<size_t>((s * nv + f[static_cast<size_t>(t * 3)]) * 3)];
      const double* b = &v[static_cast<size_t>((s * nv + f[static_cast<size_t>(t * 3 + 1)]) * 3)];
      const double* c = &v[static_cast<size_t>((s * nv + f[static_cast<size_t>(t * 3 + 2)]) * 3)];
      const double e1[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
      const double e2[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
      const double cx = e1[1] * e2[2] - e1[2] * e2[1], cy = e1[2] * e2[0] - e1[0] * e2[2],
                   cz = e1[0] * e2[1] - e1[1] * e2[0];
      area += 0.5 * std::sqrt(cx * cx + cy * cy + cz * cz);
    }
    total += area / static_cast<double>(ns);
    cumulative[static_cast<size_t>(t)] = total;
  }
  PG_CHECK(total > 0.0, what, ": the faces' total surface area is zero on every shape");
  // The last face with a positive area (a draw rounded up to `total` maps to it).
  int64_t last = nf - 1;
  while (last > 0 && cumulative[static_cast<size_t>(last)] == cumulative[static_cast<size_t>(last - 1)]) --last;

  ConsistentSample out;
  out.face = empty({n}, TensorOptions(DType::i64, Device::cpu()));
  out.bary = empty({n, 3}, TensorOptions(DType::f32, Device::cpu()));
  int64_t* face = out.face.data<int64_t>();
  float* w = out.bary.data<float>();
  HostRng rng(seed, {kSampleTag});
  for (int64_t i = 0; i < n; ++i) {
    // upper_bound: the first face whose cumulative area exceeds the draw, so a zero-area face
    // (cumulative equal to its predecessor's) is never chosen.
    const double u = rng.uniform() * total;
    face[i] = std::min<int64_t>(
        last, static_cast<int64_t>(std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin()));
    const double s = std::sqrt(rng.uniform()), r2 = rng.uniform();
    w[i * 3] = static_cast<float>(1.0 - s);
    w[i * 3 + 1] = static_cast<float>(s * (1.0 - r2));
    w[i * 3 + 2] = static_cast<float>(s * r2);
  }
  return out;
}

Tensor apply_consistent_sample(const Tensor& vertices, const Tensor& faces, const ConsistentSample& sample,
                               const std::string& what) {
  const std::vector<double> v = checked_vertices(vertices, what);
  const int64_t ns = vertices.size(0), nv = vertices.size(1);
  const std::vector<int64_t> f = checked_faces(faces, nv, what);
  const int64_t nf = faces.size(0);
  PG_CHECK(sample.face.defined() && sample.face.dim() == 1 && is_integral(sample.face.dtype()), what,
           ": the sample's faces must be integer [n]");
  const int64_t n = sample.face.size(0);
  PG_CHECK(n >= 1, what, ": the sample has no points");
  PG_CHECK(sample.bary.defined() && sample.bary.shape() == Shape({n, 3}) && is_floating(sample.bary.dtype()), what,
           ": the sample's weights must be float [", n, ", 3], got ",
           sample.bary.defined() ? shape_str(sample.bary.shape()) : "none");
  const std::vector<int64_t> face = sample.face.to_vector<int64_t>();
  const std::vector<float> w = sample.bary.to_vector<float>();
  for (int64_t i = 0; i < n; ++i) {
    PG_CHECK(face[static_cast<size_t>(i)] >= 0 && face[static_cast<size_t>(i)] < nf, what, ": sample point ", i,
             " has face ", face[static_cast<size_t>(i)], " outside [0, ", nf, ")");
    for (int k = 0; k < 3; ++k) {
      const float x = w[static_cast<size_t>(i * 3 + k)];
      PG_CHECK(std::isfinite(x) && x >= 0.0f, what, ": sample point ", i, " has weight ", x,
               " (barycentric weights are finite and ≥ 0)");
    }
  }
  Tensor out = empty({ns, n, 3}, TensorOptions(DType::f32, Device::cpu()));
  float* p = out.data<float>();
  for (int64_t s = 0; s < ns; ++s) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t t = face[static_cast<size_t>(i)];
      const double w0 = w[static_cast<size_t>(i * 3)], w1 = w[static_cast<size_t>(i * 3 + 1)],
                   w2 = w[static_cast<size_t>(i * 3 + 2)];
      const double* a = &v[static_cast<size_t>((s * nv + f[static_cast<size_t>(t * 3)]) * 3)];
      const double* b = &v[static_cast<size_t>((s * nv + f[static_cast<size_t>(t * 3 + 1)]) * 3)];
      const double* c = &v[static_cast<size_t>((s * nv + f[static_cast<size_t>(t * 3 + 2)]) * 3)];
      for (int d = 0; d < 3; ++d) p[(s * n + i) * 3 + d] = static_cast<float>(w0 * a[d] + w1 * b[d] + w2 * c[d]);
    }
  }
  return out;
}

Tensor mean_shape(const Tensor& vertices, const std::string& what) {
  const std::vector<double> v = checked_vertices(vertices, what);
  const int64_t ns = vertices.size(0), nv = vertices.size(1);
  std::vector<float> mean(static_cast<size_t>(nv * 3));
  for (int64_t j = 0; j < nv * 3; ++j) {
    double sum = 0.0;
    for (int64_t s = 0; s < ns; ++s) sum += v[static_cast<size_t>(s * nv * 3 + j)];
    mean[static_cast<size_t>(j)] = static_cast<float>(sum / static_cast<double>(ns));
  }
  return from_vector(mean, {nv, 3});
}

Tensor vertex_subset_from_order(const Tensor& order, int64_t num_vertices, int64_t multiple, const std::string& what) {
  PG_CHECK(num_vertices >= 1, what, ": the shapes have no vertices (V = ", num_vertices, ")");
  PG_CHECK(multiple >= 1 && multiple <= num_vertices, what, ": multiple = ", multiple,
           " must be in [1, V = ", num_vertices, "]");
  PG_CHECK(order.defined() && order.dim() == 1 && order.size(0) == num_vertices && is_integral(order.dtype()), what,
           ": the vertex order must be integer [", num_vertices, "], got ",
           order.defined() ? shape_str(order.shape()) : "none");
  const std::vector<int64_t> o = order.to_vector<int64_t>();
  std::vector<char> seen(static_cast<size_t>(num_vertices), 0);
  for (const int64_t i : o) {
    PG_CHECK(i >= 0 && i < num_vertices && !seen[static_cast<size_t>(i)], what,
             ": the vertex order is not a permutation of [0, ", num_vertices, ") (entry ", i, ")");
    seen[static_cast<size_t>(i)] = 1;
  }
  const int64_t m = num_vertices / multiple * multiple;
  std::vector<int64_t> keep(o.begin(), o.begin() + m);
  std::sort(keep.begin(), keep.end());
  return from_vector(keep, {m});
}

Tensor gather_vertices(const Tensor& vertices, const Tensor& index, const std::string& what) {
  PG_CHECK(vertices.defined() && vertices.dim() == 3 && vertices.size(2) == 3 && is_floating(vertices.dtype()), what,
           ": vertices must be float [N, V, 3], got ", vertices.defined() ? shape_str(vertices.shape()) : "none");
  PG_CHECK(index.defined() && index.dim() == 1 && is_integral(index.dtype()), what,
           ": the vertex index must be integer [M]");
  const int64_t ns = vertices.size(0), nv = vertices.size(1), m = index.size(0);
  const std::vector<int64_t> idx = index.to_vector<int64_t>();
  for (const int64_t i : idx) PG_CHECK(i >= 0 && i < nv, what, ": vertex index ", i, " outside [0, ", nv, ")");
  const std::vector<float> v = vertices.to_vector<float>();
  Tensor out = empty({ns, m, 3}, TensorOptions(DType::f32, Device::cpu()));
  float* p = out.data<float>();
  for (int64_t s = 0; s < ns; ++s)
    for (int64_t j = 0; j < m; ++j)
      for (int d = 0; d < 3; ++d)
        p[(s * m + j) * 3 + d] = v[static_cast<size_t>((s * nv + idx[static_cast<size_t>(j)]) * 3 + d)];
  return out;
}

Tensor subset_faces(const Tensor& faces, const Tensor& index, int64_t num_vertices, const std::string& what) {
  const std::vector<int64_t> f = checked_faces(faces, num_vertices, what);
  PG_CHECK(index.defined() && index.dim() == 1 && is_integral(index.dtype()), what,
           ": the vertex index must be integer [M]");
  const std::vector<int64_t> idx = index.to_vector<int64_t>();
  std::vector<int64_t> renumber(static_cast<size_t>(num_vertices), -1);
  for (size_t j = 0; j < idx.size(); ++j) {
    PG_CHECK(idx[j] >= 0 && idx[j] < num_vertices && renumber[static_cast<size_t>(idx[j])] < 0, what, ": vertex index ",
             idx[j], " outside [0, ", num_vertices, ") or repeated");
    renumber[static_cast<size_t>(idx[j])] = static_cast<int64_t>(j);
  }
  std::vector<int64_t> out;
  for (size_t t = 0; t < f.size(); t += 3) {
    const int64_t a = renumber[static_cast<size_t>(f[t])], b = renumber[static_cast<size_t>(f[t + 1])],
                  c = renumber[static_cast<size_t>(f[t + 2])];
    if (a >= 0 && b >= 0 && c >= 0) out.insert(out.end(), {a, b, c});
  }
  return from_vector(out, {static_cast<int64_t>(out.size() / 3), 3});
}

}  // namespace pg::datasets
