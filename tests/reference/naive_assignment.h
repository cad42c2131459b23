// Naive assignment oracles for the tests, independent of the library's solvers:
//  * brute_force_assignment: every permutation (n ≤ 8), the textbook definition;
//  * hungarian_assignment: the classic O(n³) Hungarian method with potentials (Kuhn–Munkres,
//    row-by-row Dijkstra on reduced costs), a second exact solver for sizes brute force cannot do.
// Costs are row-major n×n float64; both return the minimal total and write a row → column map.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <vector>

namespace pg::test {

inline double brute_force_assignment(const std::vector<double>& cost, int n, std::vector<int64_t>* best = nullptr) {
  std::vector<int> perm(n);
  std::iota(perm.begin(), perm.end(), 0);
  double best_cost = std::numeric_limits<double>::infinity();
  do {
    double c = 0.0;
    for (int i = 0; i < n; ++i) c += cost[static_cast<size_t>(i) * n + perm[i]];
    if (c < best_cost) {
      best_cost = c;
      if (best) best->assign(perm.begin(), perm.end());
    }
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best_cost;
}

inline double hungarian_assignment(const std::vector<double>& cost, int n, std::vector<int64_t>* out = nullptr) {
  const double inf = std::numeric_limits<double>::infinity();
  // 1-based arrays: p[j] = row matched to column j (0 = none); u, v potentials.
  std::vector<double> u(n + 1, 0.0), v(n + 1, 0.0);
  std::vector<int> p(n + 1, 0), way(n + 1, 0);
  for (int i = 1; i <= n; ++i) {
    p[0] = i;
    int j0 = 0;
    std::vector<double> minv(n + 1, inf);
    std::vector<char> used(n + 1, 0);
    do {
      used[j0] = 1;
      const int i0 = p[j0];
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double cur = cost[static_cast<size_t>(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (int j = 0; j <= n; ++j) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (p[j0] != 0);
    do {
      const int j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int64_t> row(n);
  for (int j = 1; j <= n; ++j) row[p[j] - 1] = j - 1;
  double total = 0.0;
  for (int i = 0; i < n; ++i) total += cost[static_cast<size_t>(i) * n + row[i]];
  if (out) *out = row;
  return total;
}

// Euclidean cost matrix between two clouds (xyz row-major, n points each).
inline std::vector<double> euclidean_cost(const std::vector<double>& a, const std::vector<double>& b, int64_t n,
                                          int64_t offset_points = 0) {
  std::vector<double> c(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < n; ++k) {
      double d = 0.0;
      for (int t = 0; t < 3; ++t) {
        const double x = a[3 * (offset_points + i) + t] - b[3 * (offset_points + k) + t];
        d += x * x;
      }
      c[i * n + k] = std::sqrt(d);
    }
  }
  return c;
}

}  // namespace pg::test
