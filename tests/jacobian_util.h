// Numerical Jacobians and log-determinants for the invertible-network tests (log-det checks of
// the coupling op, coupling flows and PointLIE's PI blocks).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace pg::test {

// J[i·n + j] = ∂y_i/∂x_j of y = f(x) (n inputs, n outputs) by central differences of step h.
inline std::vector<double> numerical_jacobian(const std::function<std::vector<double>(const std::vector<double>&)>& f,
                                              const std::vector<double>& x, double h = 1e-6) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<double> jac(static_cast<size_t>(n * n));
  for (int64_t j = 0; j < n; ++j) {
    std::vector<double> xp = x, xm = x;
    xp[j] += h;
    xm[j] -= h;
    const std::vector<double> yp = f(xp), ym = f(xm);
    for (int64_t i = 0; i < n; ++i) jac[i * n + j] = (yp[i] - ym[i]) / (2 * h);
  }
  return jac;
}

// log|det A| of a dense n×n row-major matrix (Gaussian elimination, partial pivoting).
inline double log_abs_det(std::vector<double> a, int64_t n) {
  double ld = 0.0;
  for (int64_t c = 0; c < n; ++c) {
    int64_t piv = c;
    for (int64_t r = c + 1; r < n; ++r)
      if (std::fabs(a[r * n + c]) > std::fabs(a[piv * n + c])) piv = r;
    for (int64_t j = 0; j < n; ++j) std::swap(a[c * n + j], a[piv * n + j]);
    ld += std::log(std::fabs(a[c * n + c]));
    for (int64_t r = c + 1; r < n; ++r) {
      const double q = a[r * n + c] / a[c * n + c];
      for (int64_t j = c; j < n; ++j) a[r * n + j] -= q * a[c * n + j];
    }
  }
  return ld;
}

}  // namespace pg::test
