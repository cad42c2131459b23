#include "models/nn/schedule.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/nn/optim.h"

namespace pg::nn {

namespace {

void check_base(double base, const char* who) {
  PG_CHECK(std::isfinite(base) && base >= 0.0, who, ": base value must be finite and >= 0, got ", base);
}

void check_t(int64_t t, const char* who) {
  PG_CHECK(t >= 0, who, ": the counter must be >= 0, got ", t);
}

}  // namespace

Schedule::~Schedule() = default;

double Schedule::apply(Optimizer& opt, int64_t t) const {
  const double lr = value(t);
  opt.set_lr(lr);
  return lr;
}

StepDecay::StepDecay(double base, int64_t step_size, double gamma, double min_value)
    : base_(base), step_size_(step_size), gamma_(gamma), min_(min_value) {
  check_base(base, "StepDecay");
  PG_CHECK(step_size > 0, "StepDecay: step_size must be > 0, got ", step_size);
  PG_CHECK(std::isfinite(gamma) && gamma > 0.0, "StepDecay: gamma must be finite and > 0, got ", gamma);
  PG_CHECK(std::isfinite(min_value) && min_value >= 0.0, "StepDecay: min_value must be finite and >= 0, got ",
           min_value);
}

double StepDecay::value(int64_t t) const {
  check_t(t, "StepDecay");
  return std::max(min_, base_ * std::pow(gamma_, static_cast<double>(t / step_size_)));
}

ExponentialDecay::ExponentialDecay(double base, double rate, int64_t decay_steps, bool staircase, double min_value)
    : base_(base), rate_(rate), decay_steps_(decay_steps), staircase_(staircase), min_(min_value) {
  check_base(base, "ExponentialDecay");
  PG_CHECK(decay_steps > 0, "ExponentialDecay: decay_steps must be > 0, got ", decay_steps);
  PG_CHECK(std::isfinite(rate) && rate > 0.0, "ExponentialDecay: rate must be finite and > 0, got ", rate);
  PG_CHECK(std::isfinite(min_value) && min_value >= 0.0, "ExponentialDecay: min_value must be finite and >= 0, got ",
           min_value);
}

double ExponentialDecay::value(int64_t t) const {
  check_t(t, "ExponentialDecay");
  const double e =
      staircase_ ? static_cast<double>(t / decay_steps_) : static_cast<double>(t) / static_cast<double>(decay_steps_);
  return std::max(min_, base_ * std::pow(rate_, e));
}

CosineAnnealing::CosineAnnealing(double base, int64_t t_max, double min_value)
    : base_(base), t_max_(t_max), min_(min_value) {
  check_base(base, "CosineAnnealing");
  PG_CHECK(t_max > 0, "CosineAnnealing: t_max must be > 0, got ", t_max);
  PG_CHECK(std::isfinite(min_value) && min_value >= 0.0 && min_value <= base,
           "CosineAnnealing: min_value must lie in [0, base], got ", min_value);
}

double CosineAnnealing::value(int64_t t) const {
  check_t(t, "CosineAnnealing");
  const double x = static_cast<double>(std::min(t, t_max_)) / static_cast<double>(t_max_);
  return min_ + (base_ - min_) * 0.5 * (1.0 + std::cos(M_PI * x));
}

std::unique_ptr<Schedule> pointnet_tf_lr(double base_lr, int64_t decay_step, double decay_rate, double min_lr) {
  return std::make_unique<StepDecay>(base_lr, decay_step, decay_rate, min_lr);
}

std::unique_ptr<Schedule> pointnet_tf_bn_momentum(int64_t decay_step) {
  return std::make_unique<StepDecay>(0.5, decay_step, 0.5, 0.01);
}

}  // namespace pg::nn
