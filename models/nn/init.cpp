#include "models/nn/init.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/grad_mode.h"
#include "ops/elementwise.h"

namespace pg::nn::init {

namespace {

void check_float(const Tensor& t, const char* op) {
  PG_CHECK(t.defined(), "nn::init::", op, ": undefined tensor");
  PG_CHECK(is_floating(t.dtype()), "nn::init::", op, ": expected a float32 or float64 tensor, got ",
           dtype_name(t.dtype()));
}

// Writes `values` (same shape, any device/dtype) into t without recording.
void assign(const Tensor& t, const Tensor& values) {
  detail::copy_raw(t, values);
  t.bump_version();
}

}  // namespace

std::pair<int64_t, int64_t> fans(const Tensor& w) {
  PG_CHECK(w.defined() && w.dim() >= 2, "nn::init::fans: fan in and fan out need a tensor with at least 2 dims, got ",
           w.defined() ? shape_str(w.shape()) : std::string("undefined"));
  int64_t receptive = 1;
  for (int64_t d = 2; d < w.dim(); ++d) receptive *= w.size(d);
  return {w.size(1) * receptive, w.size(0) * receptive};
}

double calculate_gain(Nonlinearity nl, double param) {
  switch (nl) {
    case Nonlinearity::linear:
    case Nonlinearity::identity:
    case Nonlinearity::sigmoid:
      return 1.0;
    case Nonlinearity::tanh:
      return 5.0 / 3.0;
    case Nonlinearity::relu:
      return std::sqrt(2.0);
    case Nonlinearity::leaky_relu:
      return std::sqrt(2.0 / (1.0 + param * param));
    case Nonlinearity::selu:
      return 0.75;
  }
  PG_FAIL("nn::init::calculate_gain: unknown nonlinearity");
}

void uniform_(const Tensor& t, double lo, double hi, Generator* gen) {
  check_float(t, "uniform_");
  PG_CHECK(lo <= hi, "nn::init::uniform_: lo ", lo, " > hi ", hi);
  NoGradGuard ng;
  // Draw in float64 so that the scaled values are exact before rounding to the target dtype.
  Tensor u = rand(t.shape(), TensorOptions(DType::f64, t.device()), gen);
  assign(t, add(mul(u, hi - lo), lo));
}

void normal_(const Tensor& t, double mean, double std, Generator* gen) {
  check_float(t, "normal_");
  PG_CHECK(std >= 0, "nn::init::normal_: std must be >= 0, got ", std);
  NoGradGuard ng;
  Tensor z = randn(t.shape(), TensorOptions(DType::f64, t.device()), gen);
  assign(t, add(mul(z, std), mean));
}

void constant_(const Tensor& t, double value) {
  check_float(t, "constant_");
  detail::fill_raw(t, value);
  t.bump_version();
}

void zeros_(const Tensor& t) {
  constant_(t, 0.0);
}
void ones_(const Tensor& t) {
  constant_(t, 1.0);
}

void eye_(const Tensor& t) {
  check_float(t, "eye_");
  PG_CHECK(t.dim() == 2, "nn::init::eye_: expected a 2-D tensor, got ", shape_str(t.shape()));
  const int64_t r = t.size(0), c = t.size(1);
  std::vector<double> v(static_cast<size_t>(r * c), 0.0);
  for (int64_t i = 0; i < std::min(r, c); ++i) v[static_cast<size_t>(i * c + i)] = 1.0;
  assign(t, from_vector(v, t.shape()));
}

void kaiming_uniform_(const Tensor& w, double a, FanMode mode, Nonlinearity nl, Generator* gen) {
  check_float(w, "kaiming_uniform_");
  const auto [fan_in, fan_out] = fans(w);
  const int64_t fan = mode == FanMode::fan_in ? fan_in : fan_out;
  PG_CHECK(fan > 0, "nn::init::kaiming_uniform_: zero fan for shape ", shape_str(w.shape()));
  const double bound = calculate_gain(nl, a) * std::sqrt(3.0 / static_cast<double>(fan));
  uniform_(w, -bound, bound, gen);
}

void kaiming_normal_(const Tensor& w, double a, FanMode mode, Nonlinearity nl, Generator* gen) {
  check_float(w, "kaiming_normal_");
  const auto [fan_in, fan_out] = fans(w);
  const int64_t fan = mode == FanMode::fan_in ? fan_in : fan_out;
  PG_CHECK(fan > 0, "nn::init::kaiming_normal_: zero fan for shape ", shape_str(w.shape()));
  normal_(w, 0.0, calculate_gain(nl, a) / std::sqrt(static_cast<double>(fan)), gen);
}

void xavier_uniform_(const Tensor& w, double gain, Generator* gen) {
  check_float(w, "xavier_uniform_");
  const auto [fan_in, fan_out] = fans(w);
  PG_CHECK(fan_in + fan_out > 0, "nn::init::xavier_uniform_: zero fans for shape ", shape_str(w.shape()));
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  uniform_(w, -bound, bound, gen);
}

void xavier_normal_(const Tensor& w, double gain, Generator* gen) {
  check_float(w, "xavier_normal_");
  const auto [fan_in, fan_out] = fans(w);
  PG_CHECK(fan_in + fan_out > 0, "nn::init::xavier_normal_: zero fans for shape ", shape_str(w.shape()));
  normal_(w, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)), gen);
}

void lecun_normal_(const Tensor& w, Generator* gen) {
  kaiming_normal_(w, 0.0, FanMode::fan_in, Nonlinearity::linear, gen);
}

void default_linear_init_(const Tensor& weight, const Tensor& bias, Generator* gen) {
  kaiming_uniform_(weight, std::sqrt(5.0), FanMode::fan_in, Nonlinearity::leaky_relu, gen);
  if (bias.defined()) {
    const int64_t fan_in = fans(weight).first;
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    uniform_(bias, -bound, bound, gen);
  }
}

void xavier_linear_init_(const Tensor& weight, const Tensor& bias, Generator* gen) {
  xavier_uniform_(weight, 1.0, gen);
  if (bias.defined()) zeros_(bias);
}

void lecun_linear_init_(const Tensor& weight, const Tensor& bias, Generator* gen) {
  lecun_normal_(weight, gen);
  if (bias.defined()) zeros_(bias);
}

}  // namespace pg::nn::init
