#include "param_check.h"

#include <limits>

#include <algorithm>
#include <cmath>

#include "ops/ops.h"

namespace pg::bench {

double max_param_diff(const nn::Module& a, const nn::Module& b) {
  const auto pa = a.parameters(), pb = b.parameters();
  double worst = 0.0;
  for (size_t i = 0; i < pa.size(); ++i) {
    const auto x = pa[i].to(Device::cpu()).to_vector<double>();
    const auto y = pb[i].to(Device::cpu()).to_vector<double>();
    for (size_t j = 0; j < x.size(); ++j) {
      const double d = std::abs(x[j] - y[j]);
      worst = std::isnan(d) ? INFINITY : std::max(worst, d);
    }
  }
  return worst;
}

double scaled_max_diff(const Tensor& a, const Tensor& b) {
  const auto x = a.to(Device::cpu()).to_vector<double>();
  const auto y = b.to(Device::cpu()).to_vector<double>();
  if (x.size() != y.size()) return std::numeric_limits<double>::infinity();
  double m = 0, ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = std::abs(x[i] - y[i]);
    m = std::isnan(d) ? std::numeric_limits<double>::infinity() : std::max(m, d);
    ref = std::max(ref, std::abs(y[i]));
  }
  return m / std::max(1.0, ref);
}

}  // namespace pg::bench
