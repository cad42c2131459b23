// Naive geometry oracles in plain C++ (std::vector<double>, no pointgrad code): textbook FPS,
// brute-force kNN (full sort), Chamfer and Hausdorff. Clouds are flat row-major [B, n, 3].
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

namespace pg::ref {

inline double sqdist3(const double* a, const double* b) {
  const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return (dx * dx + dy * dy) + dz * dz;
}

struct FpsOut {
  std::vector<int64_t> idx;    // [B, m]
  std::vector<double> radius;  // [B, m]
};

// Textbook FPS per cloud, seeds [B, S] used in order (the first `count[b]` of them when
// counts are given), lowest index on ties.
inline FpsOut fps(const std::vector<double>& pts, int64_t B, int64_t N, int64_t m, const std::vector<int64_t>& seeds,
                  int64_t S, const std::vector<int64_t>& counts = {}) {
  FpsOut o;
  o.idx.assign(static_cast<size_t>(B * m), -1);
  o.radius.assign(static_cast<size_t>(B * m), 0.0);
  for (int64_t b = 0; b < B; ++b) {
    const double* p = pts.data() + b * N * 3;
    const int64_t s = counts.empty() ? S : counts[b];
    std::vector<double> field(static_cast<size_t>(N), std::numeric_limits<double>::infinity());
    std::vector<int64_t> picks;
    for (int64_t t = 0; t < m; ++t) {
      int64_t pick;
      if (t < s) {
        pick = seeds[b * S + t];
      } else {
        pick = 0;
        for (int64_t i = 1; i < N; ++i) {
          if (field[i] > field[pick]) pick = i;
        }
      }
      o.idx[b * m + t] = pick;
      o.radius[b * m + t] = field[pick];
      for (int64_t i = 0; i < N; ++i) field[i] = std::min(field[i], sqdist3(p + i * 3, p + pick * 3));
    }
  }
  return o;
}

struct KnnOut {
  std::vector<double> dist;  // [B, Q, k]
  std::vector<int64_t> idx;  // [B, Q, k]
};

// Brute force: all distances, stable sort by (distance, index), first k.
inline KnnOut knn(const std::vector<double>& q, const std::vector<double>& r, int64_t B, int64_t Q, int64_t R,
                  int64_t k) {
  KnnOut o;
  o.dist.resize(static_cast<size_t>(B * Q * k));
  o.idx.resize(static_cast<size_t>(B * Q * k));
  std::vector<std::pair<double, int64_t>> all(static_cast<size_t>(R));
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < Q; ++i) {
      for (int64_t j = 0; j < R; ++j) all[j] = {sqdist3(q.data() + (b * Q + i) * 3, r.data() + (b * R + j) * 3), j};
      std::sort(all.begin(), all.end());
      for (int64_t s = 0; s < k; ++s) {
        o.dist[(b * Q + i) * k + s] = all[s].first;
        o.idx[(b * Q + i) * k + s] = all[s].second;
      }
    }
  }
  return o;
}

struct ChamferOut {
  std::vector<double> dist_a, dist_b;  // [B, N], [B, M]
  std::vector<int64_t> idx_a, idx_b;
  double loss_mean = 0, loss_sum = 0;  // METHODS.md §1.2 (sum of directional means)
  std::vector<double> loss_none;       // [B]
};

inline ChamferOut chamfer(const std::vector<double>& a, const std::vector<double>& b, int64_t B, int64_t N, int64_t M) {
  ChamferOut o;
  const KnnOut ab = knn(a, b, B, N, M, 1);
  const KnnOut ba = knn(b, a, B, M, N, 1);
  o.dist_a = ab.dist;
  o.idx_a = ab.idx;
  o.dist_b = ba.dist;
  o.idx_b = ba.idx;
  o.loss_none.assign(static_cast<size_t>(B), 0.0);
  double sa = 0, sb = 0;
  for (int64_t bb = 0; bb < B; ++bb) {
    double ca = 0, cb = 0;
    for (int64_t i = 0; i < N; ++i) ca += o.dist_a[bb * N + i];
    for (int64_t j = 0; j < M; ++j) cb += o.dist_b[bb * M + j];
    o.loss_none[bb] = ca / N + cb / M;
    sa += ca;
    sb += cb;
  }
  o.loss_sum = sa + sb;
  o.loss_mean = sa / (B * N) + sb / (B * M);
  return o;
}

// Per-cloud Hausdorff: combine_sum ? h_a + h_b : max(h_a, h_b), h = max NN distance (squared, or
// Euclidean when !squared).
inline std::vector<double> hausdorff(const std::vector<double>& a, const std::vector<double>& b, int64_t B, int64_t N,
                                     int64_t M, bool squared, bool combine_sum) {
  const ChamferOut c = chamfer(a, b, B, N, M);
  std::vector<double> h(static_cast<size_t>(B));
  for (int64_t bb = 0; bb < B; ++bb) {
    double ma = 0, mb = 0;
    for (int64_t i = 0; i < N; ++i) ma = std::max(ma, c.dist_a[bb * N + i]);
    for (int64_t j = 0; j < M; ++j) mb = std::max(mb, c.dist_b[bb * M + j]);
    if (!squared) {
      ma = std::sqrt(ma);
      mb = std::sqrt(mb);
    }
    h[bb] = combine_sum ? ma + mb : std::max(ma, mb);
  }
  return h;
}

}  // namespace pg::ref
