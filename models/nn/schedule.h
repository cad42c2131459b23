// Schedules: a value (learning rate, BN momentum, ...) as a pure function of a counter t whose
// unit the caller chooses (epochs, optimizer steps, or samples seen). Being stateless, a
// schedule resumes exactly from a checkpointed counter.
//
//   ConstantSchedule(v):                       v
//   StepDecay(base, step_size, gamma, min):    max(min, base · gamma^floor(t / step_size))
//       PyTorch StepLR with t = epoch; TF exponential_decay(staircase=True) is the same formula.
//   ExponentialDecay(base, rate, decay_steps, staircase, min):
//       max(min, base · rate^(t / decay_steps)), the exponent floored when staircase
//       (TF tf.train.exponential_decay; decay_steps = 1, staircase = false is PyTorch's
//       ExponentialLR with t = epoch).
//   CosineAnnealing(base, t_max, min):        min + (base − min)·(1 + cos(π·min(t, t_max)/t_max))/2
//
// The TF PointNet recipe (METHODS.md §3.1), with t = samples seen:
//   lr          = StepDecay(0.001, 200000, 0.7, /*min=*/1e-5)
//   bn_momentum = StepDecay(0.5, 200000, 0.5, /*min=*/0.01)    (PyTorch momentum = 1 − TF decay:
//                 TF's bn_decay = min(0.99, 1 − 0.5·0.5^floor(t/200000)))
// see pointnet_tf_lr() / pointnet_tf_bn_momentum().
#pragma once

#include <cstdint>
#include <memory>

namespace pg::nn {

class Optimizer;

class Schedule {
 public:
  virtual ~Schedule();
  virtual double value(int64_t t) const = 0;
  double operator()(int64_t t) const { return value(t); }
  // Sets the optimizer's learning rate to value(t) and returns it.
  double apply(Optimizer& opt, int64_t t) const;
};

class ConstantSchedule : public Schedule {
 public:
  explicit ConstantSchedule(double v) : v_(v) {}
  double value(int64_t) const override { return v_; }

 private:
  double v_;
};

class StepDecay : public Schedule {
 public:
  StepDecay(double base, int64_t step_size, double gamma, double min_value = 0.0);
  double value(int64_t t) const override;

 private:
  double base_;
  int64_t step_size_;
  double gamma_, min_;
};

class ExponentialDecay : public Schedule {
 public:
  ExponentialDecay(double base, double rate, int64_t decay_steps = 1, bool staircase = false, double min_value = 0.0);
  double value(int64_t t) const override;

 private:
  double base_, rate_;
  int64_t decay_steps_;
  bool staircase_;
  double min_;
};

class CosineAnnealing : public Schedule {
 public:
  CosineAnnealing(double base, int64_t t_max, double min_value = 0.0);
  double value(int64_t t) const override;

 private:
  double base_;
  int64_t t_max_;
  double min_;
};

// The TF PointNet schedules (t = samples seen; defaults of train_classifier.py).
std::unique_ptr<Schedule> pointnet_tf_lr(double base_lr = 0.001, int64_t decay_step = 200000, double decay_rate = 0.7,
                                         double min_lr = 1e-5);
std::unique_ptr<Schedule> pointnet_tf_bn_momentum(int64_t decay_step = 200000);

}  // namespace pg::nn
