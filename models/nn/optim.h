// Optimizers over a list of parameters (leaf float tensors), PyTorch semantics.
//
// * step() runs under NoGradGuard and updates every parameter that has a gradient IN PLACE (the
//   version is bumped; the tensor handles keep their identity). Parameters without a gradient
//   are skipped: their state is neither created nor advanced (as PyTorch with grad = None).
// * The update math is one fused kernel pass per parameter (kernels/optim.h; on CUDA one
//   multi-tensor launch per ≤ 24 parameters); formulas in kernels/common/optim_impl.h.
// * Per-parameter state is created lazily on the parameter's device and dtype at its first step.
//   If a parameter moves (Module::to) the state follows at the next step.
// * state() / load_state() expose the state for checkpoints as ordered name → tensor entries,
//   keyed by the parameter's position in the list: "<i>.step" (int64 0-dim: that parameter's
//   step count), "<i>.momentum_buffer" (SGD with momentum), "<i>.exp_avg", "<i>.exp_avg_sq",
//   "<i>.max_exp_avg_sq" (Adam/AdamW, the last with amsgrad only). hyperparameters() gives the
//   scalar settings (lr, betas, ...) by name.
// * Row-sparse ("lazy") parameters (set_row_sparse; e.g. an Embedding's lookup table, whose
//   gradient is zero outside the rows of the batch): a step updates only the rows whose gradient
//   row is not all zero (NaN counts as non-zero), and each row keeps its own step count, so rows
//   absent from a batch keep their values AND their state (no momentum drift, no decay of
//   exp_avg / exp_avg_sq, no weight decay), and a row's k-th update uses the bias corrections of
//   step k — what a dense optimizer would do on that row alone, stepped only when the row is in
//   the batch. The per-row counts are saved as "<i>.row_step" (int64 [rows]); "<i>.step" still
//   counts the steps in which the parameter had a gradient. (TF's LazyAdam semantics; PyTorch's
//   SparseAdam keeps one step count for the whole table instead.)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "kernels/optim.h"
#include "models/nn/module.h"

namespace pg::nn {

class Optimizer {
 public:
  Optimizer(std::string name, std::vector<Tensor> params, double lr);
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<Tensor>& params() const { return params_; }

  // One update of every parameter that has a gradient.
  void step();
  // Drops every parameter's gradient.
  void zero_grad();

  double lr() const { return lr_; }
  void set_lr(double lr);
  // Number of step() calls so far (restored by load_state).
  int64_t step_count() const { return step_count_; }

  // Checkpoint view of the state (live handles, not copies) and its inverse. load_state copies
  // values into freshly created state tensors on each parameter's device/dtype; it checks every
  // name and shape first and reports ALL problems (unknown names, indices out of range, shape
  // mismatches, incomplete per-parameter state) in one pg::Error.
  NamedTensors state() const;
  void load_state(const NamedTensors& state);
  // What load_state would complain about (one line per problem); empty when it loads.
  std::vector<std::string> state_problems(const NamedTensors& state) const;
  // Scalar settings by name ("lr", "momentum", "beta1", ...), including "step_count".
  virtual std::vector<std::pair<std::string, double>> hyperparameters() const;
  // Sets one of hyperparameters() by name (unknown names throw). Used when resuming.
  virtual void set_hyperparameter(const std::string& key, double value);

  // Launch path of the CUDA kernels (tests and benchmarks).
  void set_impl(kernels::OptimImpl impl) { impl_ = impl; }

  // Makes `param` (one of params(), rank >= 1, rows along dim 0) row-sparse (see the header
  // comment). Must be called before the parameter's first step (and before load_state of a
  // state saved with it); a parameter that is not in the list is an error.
  void set_row_sparse(const Tensor& param);
  bool is_row_sparse(size_t i) const { return row_sparse_.at(i); }

 protected:
  struct ParamState {
    int64_t step = 0;
    std::vector<Tensor> buffers;  // per state_names(), allocated lazily
    Tensor row_step;              // row-sparse parameters: int64 [rows] on the host
  };
  // One unit of work for update(): a whole parameter, or one row of a row-sparse parameter (then
  // param, grad and buffers are contiguous row views and step is that row's count).
  struct Slot {
    Tensor param, grad;
    std::vector<Tensor> buffers;  // per state_names()
    int64_t step = 1;             // including the current step (>= 1)
  };
  // Names of the per-parameter state tensors this optimizer keeps (given its settings).
  virtual std::vector<std::string> state_names() const = 0;
  // Runs the update for `slots` (all on `device`, contiguous, state allocated, steps advanced).
  virtual void update(Device device, const std::vector<Slot>& slots) = 0;

  std::vector<Tensor> params_;
  std::vector<ParamState> states_;
  std::vector<bool> row_sparse_;
  kernels::OptimImpl impl_ = kernels::OptimImpl::Auto;

 private:
  std::string name_;
  double lr_;
  int64_t step_count_ = 0;
};

struct SGDOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;  // requires momentum > 0 and dampening = 0
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions opts = {});
  const SGDOptions& options() const { return opts_; }
  std::vector<std::pair<std::string, double>> hyperparameters() const override;
  void set_hyperparameter(const std::string& key, double value) override;

 protected:
  std::vector<std::string> state_names() const override;
  void update(Device device, const std::vector<Slot>& slots) override;

 private:
  SGDOptions opts_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;  // Adam: L2 added to the gradient; AdamW: decoupled decay
  bool amsgrad = false;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions opts = {});
  const AdamOptions& options() const { return opts_; }
  std::vector<std::pair<std::string, double>> hyperparameters() const override;
  void set_hyperparameter(const std::string& key, double value) override;

 protected:
  Adam(std::string name, std::vector<Tensor> params, AdamOptions opts, bool decoupled);
  std::vector<std::string> state_names() const override;
  void update(Device device, const std::vector<Slot>& slots) override;

 private:
  AdamOptions opts_;
  bool decoupled_;
};

// AdamW: PyTorch's default weight decay is 0.01 (pass it explicitly in AdamOptions).
class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, AdamOptions opts = {0.001, 0.9, 0.999, 1e-8, 0.01, false});
};

}  // namespace pg::nn
