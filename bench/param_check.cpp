#include "param_check.h"

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

}  // namespace pg::bench
