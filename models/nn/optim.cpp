#include "models/nn/optim.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "autograd/grad_mode.h"
#include "core/parallel_for.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/view.h"

namespace pg::nn {

namespace {

void check_nonneg(double v, const std::string& opt, const char* what) {
  PG_CHECK(std::isfinite(v) && v >= 0.0, opt, ": ", what, " must be a finite value >= 0, got ", v);
}

}  // namespace

Optimizer::Optimizer(std::string name, std::vector<Tensor> params, double lr)
    : params_(std::move(params)), name_(std::move(name)), lr_(lr) {
  PG_CHECK(!params_.empty(), name_, ": got an empty parameter list");
  check_nonneg(lr, name_, "lr");
  std::set<const TensorImpl*> seen;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    PG_CHECK(p.defined(), name_, ": parameter ", i, " is undefined");
    PG_CHECK(is_floating(p.dtype()), name_, ": parameter ", i, " has dtype ", dtype_name(p.dtype()),
             " (expected float32 or float64)");
    PG_CHECK(p.is_leaf(), name_, ": parameter ", i, " is not a leaf tensor");
    PG_CHECK(p.is_contiguous(), name_, ": parameter ", i, " of shape ", shape_str(p.shape()), " is not contiguous");
    PG_CHECK(seen.insert(p.impl()).second, name_, ": parameter ", i, " appears more than once in the list");
  }
  states_.resize(params_.size());
  row_sparse_.assign(params_.size(), false);
}

Optimizer::~Optimizer() = default;

void Optimizer::set_lr(double lr) {
  check_nonneg(lr, name_, "lr");
  lr_ = lr;
}

void Optimizer::zero_grad() {
  for (auto& p : params_) p.zero_grad();
}

void Optimizer::set_row_sparse(const Tensor& param) {
  auto it = std::find_if(params_.begin(), params_.end(), [&](const Tensor& p) { return p.same(param); });
  PG_CHECK(it != params_.end(), name_, ".set_row_sparse: the tensor is not one of this optimizer's parameters");
  const size_t i = static_cast<size_t>(it - params_.begin());
  PG_CHECK(param.dim() >= 1, name_, ".set_row_sparse: parameter ", i, " is 0-dim (rows are along dim 0)");
  PG_CHECK(states_[i].step == 0 || row_sparse_[i], name_, ".set_row_sparse: parameter ", i,
           " already has dense state (", states_[i].step, " steps); mark it before its first step");
  row_sparse_[i] = true;
}

namespace {

// Rows of a gradient [rows, ...] (contiguous) that are not all zero (NaN counts as non-zero).
// CPU: a direct scan (no temporaries); elsewhere the row magnitudes are reduced on the device and
// only they are read back.
std::vector<int64_t> touched_rows(const Tensor& g) {
  std::vector<int64_t> rows;
  if (g.numel() == 0) return rows;
  const int64_t n = g.size(0), w = g.numel() / n;
  if (g.device().is_cpu()) {
    dispatch_floating(g.dtype(), "touched_rows", [&]<class T>() {
      const T* d = static_cast<const T*>(g.raw_data());
      for (int64_t r = 0; r < n; ++r) {
        const T* row = d + r * w;
        if (std::any_of(row, row + w, [](T v) { return !(v == T(0)); })) rows.push_back(r);
      }
    });
    return rows;
  }
  const Tensor mag = sum(abs(g.reshape({n, w})), {1});
  const std::vector<double> v = mag.to(DType::f64, Device::cpu()).to_vector<double>();
  for (int64_t r = 0; r < n; ++r) {
    if (!(v[r] == 0.0)) rows.push_back(r);
  }
  return rows;
}

}  // namespace

void Optimizer::step() {
  NoGradGuard ng;
  ++step_count_;
  const std::vector<std::string> names = state_names();
  // Work grouped by device (normally a single group): slots and the parameters they touch.
  struct Group {
    Device device;
    std::vector<Slot> slots;
    std::vector<size_t> params;
  };
  std::vector<Group> groups;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    Tensor g = p.grad();
    if (!g.defined()) continue;
    PG_CHECK(p.is_contiguous(), name_, ": parameter ", i, " is no longer contiguous");
    PG_CHECK(g.shape() == p.shape() && g.dtype() == p.dtype() && g.device() == p.device(), name_, ": parameter ", i,
             " (", shape_str(p.shape()), " ", dtype_name(p.dtype()), " on ", p.device(), ") has a gradient of ",
             shape_str(g.shape()), " ", dtype_name(g.dtype()), " on ", g.device());
    if (!g.is_contiguous()) {
      Tensor c = empty(g.shape(), g.options());
      detail::copy_raw(c, g);
      g = c;
    }
    ParamState& st = states_[i];
    if (st.buffers.size() != names.size()) {
      st.buffers.clear();
      for (size_t k = 0; k < names.size(); ++k) st.buffers.push_back(zeros(p.shape(), p.options()));
    } else {
      for (auto& b : st.buffers) move_tensor_inplace(b, p.dtype(), p.device());
    }
    ++st.step;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& gr) { return gr.device == p.device(); });
    if (it == groups.end()) {
      groups.push_back({p.device(), {}, {}});
      it = groups.end() - 1;
    }
    it->params.push_back(i);
    if (!row_sparse_[i]) {
      it->slots.push_back({p, g, st.buffers, st.step});
      continue;
    }
    // Row-sparse: one slot per touched row, each with its own step count.
    if (!st.row_step.defined()) st.row_step = zeros({p.size(0)}, TensorOptions(DType::i64));
    int64_t* row_step = st.row_step.data<int64_t>();
    for (int64_t r : touched_rows(g)) {
      Slot s{p.select(0, r), g.select(0, r), {}, ++row_step[r]};
      for (const Tensor& b : st.buffers) s.buffers.push_back(b.select(0, r));
      it->slots.push_back(std::move(s));
    }
  }
  for (Group& gr : groups) {
    if (!gr.slots.empty()) update(gr.device, gr.slots);
    for (size_t i : gr.params) {
      params_[i].bump_version();
      for (auto& b : states_[i].buffers) b.bump_version();
      if (states_[i].row_step.defined()) states_[i].row_step.bump_version();
    }
  }
}

NamedTensors Optimizer::state() const {
  NamedTensors out;
  const std::vector<std::string> names = state_names();
  for (size_t i = 0; i < params_.size(); ++i) {
    const ParamState& st = states_[i];
    if (st.step == 0 || st.buffers.size() != names.size()) continue;
    const std::string pre = std::to_string(i) + ".";
    out.emplace_back(pre + "step", scalar_tensor(static_cast<double>(st.step), TensorOptions(DType::i64)));
    for (size_t k = 0; k < names.size(); ++k) out.emplace_back(pre + names[k], st.buffers[k]);
    if (row_sparse_[i]) out.emplace_back(pre + "row_step", st.row_step);
  }
  return out;
}

namespace {

using ParsedState = std::map<size_t, std::map<std::string, Tensor>>;  // index → field → tensor

// Validates `state` against the optimizer's parameters and state names; fills `parsed`.
std::vector<std::string> parse_state(const NamedTensors& state, const std::vector<Tensor>& params,
                                     const std::vector<bool>& row_sparse, const std::vector<std::string>& names,
                                     const std::string& opt, ParsedState& parsed) {
  std::vector<std::string> problems;
  for (const auto& [key, t] : state) {
    const size_t dot = key.find('.');
    bool ok = dot != std::string::npos && dot > 0 && dot < 10;
    for (size_t c = 0; ok && c < dot; ++c) ok = std::isdigit(static_cast<unsigned char>(key[c])) != 0;
    if (!ok) {
      problems.push_back("unexpected: " + key + " (expected '<index>.<field>')");
      continue;
    }
    const size_t idx = std::stoul(key.substr(0, dot));
    const std::string field = key.substr(dot + 1);
    if (idx >= params.size()) {
      problems.push_back("unexpected: " + key + " (parameter index " + std::to_string(idx) +
                         " out of range: the optimizer has " + std::to_string(params.size()) + " parameters)");
      continue;
    }
    if (field == "row_step" && !row_sparse[idx]) {
      problems.push_back("unexpected: " + key + " (parameter " + std::to_string(idx) + " is not row-sparse here)");
      continue;
    }
    if (field != "step" && field != "row_step" && std::find(names.begin(), names.end(), field) == names.end()) {
      problems.push_back("unexpected: " + key + " (" + opt + " with these settings keeps no '" + field + "' state)");
      continue;
    }
    if (!t.defined()) {
      problems.push_back("undefined: " + key);
      continue;
    }
    if (field == "step") {
      if (t.numel() != 1) {
        problems.push_back("shape mismatch: " + key + " (expected one element, got " + shape_str(t.shape()) + ")");
        continue;
      }
    } else if (field == "row_step") {
      if (t.shape() != Shape{params[idx].size(0)} || is_floating(t.dtype())) {
        problems.push_back("shape mismatch: " + key + " (expected int64 [" + std::to_string(params[idx].size(0)) +
                           "], got " + dtype_name(t.dtype()) + " " + shape_str(t.shape()) + ")");
        continue;
      }
    } else if (t.shape() != params[idx].shape()) {
      problems.push_back("shape mismatch: " + key + " (expected " + shape_str(params[idx].shape()) + ", got " +
                         shape_str(t.shape()) + ")");
      continue;
    }
    if (parsed[idx].count(field)) {
      problems.push_back("duplicated: " + key);
      continue;
    }
    parsed[idx][field] = t;
  }
  for (const auto& [idx, fields] : parsed) {
    if (!fields.count("step")) problems.push_back("missing: " + std::to_string(idx) + ".step");
    if (row_sparse[idx] && !fields.count("row_step")) problems.push_back("missing: " + std::to_string(idx) + ".row_step");
    for (const std::string& f : names) {
      if (!fields.count(f)) problems.push_back("missing: " + std::to_string(idx) + "." + f);
    }
  }
  return problems;
}

}  // namespace

std::vector<std::string> Optimizer::state_problems(const NamedTensors& state) const {
  ParsedState parsed;
  return parse_state(state, params_, row_sparse_, state_names(), name_, parsed);
}

void Optimizer::load_state(const NamedTensors& state) {
  const std::vector<std::string> names = state_names();
  ParsedState parsed;
  const std::vector<std::string> problems = parse_state(state, params_, row_sparse_, names, name_, parsed);
  if (!problems.empty()) {
    std::ostringstream os;
    os << name_ << ".load_state: the state does not match this optimizer (" << problems.size() << " problems):";
    for (const auto& s : problems) os << "\n  " << s;
    PG_FAIL(os.str());
  }
  std::vector<ParamState> fresh(params_.size());
  for (const auto& [idx, fields] : parsed) {
    const Tensor& p = params_[idx];
    ParamState& st = fresh[idx];
    st.step = fields.at("step").item_int();
    PG_CHECK(st.step >= 1, name_, ".load_state: '", idx, ".step' must be >= 1, got ", st.step);
    for (const std::string& f : names) {
      Tensor b = empty(p.shape(), p.options());
      detail::copy_raw(b, fields.at(f));
      st.buffers.push_back(b);
    }
    if (row_sparse_[idx]) {
      st.row_step = zeros({p.size(0)}, TensorOptions(DType::i64));
      detail::copy_raw(st.row_step, fields.at("row_step"));
      for (int64_t v : st.row_step.to_vector<int64_t>()) {
        PG_CHECK(v >= 0, name_, ".load_state: '", idx, ".row_step' holds a negative count ", v);
      }
    }
  }
  states_ = std::move(fresh);
}

std::vector<std::pair<std::string, double>> Optimizer::hyperparameters() const {
  return {{"lr", lr_}, {"step_count", static_cast<double>(step_count_)}};
}

void Optimizer::set_hyperparameter(const std::string& key, double value) {
  if (key == "lr") {
    set_lr(value);
  } else if (key == "step_count") {
    PG_CHECK(value >= 0 && value == std::floor(value), name_, ": step_count must be a non-negative integer, got ",
             value);
    step_count_ = static_cast<int64_t>(value);
  } else {
    PG_FAIL(name_, ": unknown hyperparameter '", key, "'");
  }
}

// ---- SGD ----

SGD::SGD(std::vector<Tensor> params, SGDOptions opts) : Optimizer("SGD", std::move(params), opts.lr), opts_(opts) {
  check_nonneg(opts.momentum, "SGD", "momentum");
  check_nonneg(opts.weight_decay, "SGD", "weight_decay");
  PG_CHECK(std::isfinite(opts.dampening), "SGD: dampening must be finite, got ", opts.dampening);
  PG_CHECK(!opts.nesterov || (opts.momentum > 0 && opts.dampening == 0.0),
           "SGD: nesterov momentum requires momentum > 0 and dampening = 0 (got momentum ", opts.momentum,
           ", dampening ", opts.dampening, ")");
}

std::vector<std::string> SGD::state_names() const {
  if (opts_.momentum != 0.0) return {"momentum_buffer"};
  return {};
}

void SGD::update(Device device, const std::vector<Slot>& slots) {
  std::vector<kernels::SgdEntry> entries;
  entries.reserve(slots.size());
  const bool mom = opts_.momentum != 0.0;
  for (const Slot& s : slots) entries.push_back({s.param, s.grad, mom ? s.buffers[0] : Tensor(), s.step == 1});
  kernels::SgdHyper h;
  h.lr = lr();
  h.momentum = opts_.momentum;
  h.dampening = opts_.dampening;
  h.weight_decay = opts_.weight_decay;
  h.nesterov = opts_.nesterov;
  on_backend(device, "SGD.step", [&]<class B>() { kernels::sgd_step<B>(entries, h, impl_); });
}

std::vector<std::pair<std::string, double>> SGD::hyperparameters() const {
  auto out = Optimizer::hyperparameters();
  out.insert(out.end(), {{"momentum", opts_.momentum},
                         {"dampening", opts_.dampening},
                         {"weight_decay", opts_.weight_decay},
                         {"nesterov", opts_.nesterov ? 1.0 : 0.0}});
  return out;
}

void SGD::set_hyperparameter(const std::string& key, double value) {
  if (key == "momentum") {
    check_nonneg(value, "SGD", "momentum");
    PG_CHECK((value != 0.0) == (opts_.momentum != 0.0), "SGD: cannot switch momentum on or off (", opts_.momentum,
             " → ", value, "): the optimizer state would not match");
    opts_.momentum = value;
  } else if (key == "dampening") {
    opts_.dampening = value;
  } else if (key == "weight_decay") {
    check_nonneg(value, "SGD", "weight_decay");
    opts_.weight_decay = value;
  } else if (key == "nesterov") {
    opts_.nesterov = value != 0.0;
  } else {
    Optimizer::set_hyperparameter(key, value);
  }
}

// ---- Adam / AdamW ----

Adam::Adam(std::string name, std::vector<Tensor> params, AdamOptions opts, bool decoupled)
    : Optimizer(std::move(name), std::move(params), opts.lr), opts_(opts), decoupled_(decoupled) {
  PG_CHECK(opts.beta1 >= 0.0 && opts.beta1 < 1.0, this->name(), ": beta1 must lie in [0, 1), got ", opts.beta1);
  PG_CHECK(opts.beta2 >= 0.0 && opts.beta2 < 1.0, this->name(), ": beta2 must lie in [0, 1), got ", opts.beta2);
  check_nonneg(opts.eps, this->name(), "eps");
  check_nonneg(opts.weight_decay, this->name(), "weight_decay");
}

Adam::Adam(std::vector<Tensor> params, AdamOptions opts) : Adam("Adam", std::move(params), opts, false) {}

AdamW::AdamW(std::vector<Tensor> params, AdamOptions opts) : Adam("AdamW", std::move(params), opts, true) {}

std::vector<std::string> Adam::state_names() const {
  if (opts_.amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

void Adam::update(Device device, const std::vector<Slot>& slots) {
  std::vector<kernels::AdamEntry> entries;
  entries.reserve(slots.size());
  for (const Slot& s : slots) {
    entries.push_back({s.param, s.grad, s.buffers[0], s.buffers[1], opts_.amsgrad ? s.buffers[2] : Tensor(), s.step});
  }
  kernels::AdamHyper h;
  h.lr = lr();
  h.beta1 = opts_.beta1;
  h.beta2 = opts_.beta2;
  h.eps = opts_.eps;
  h.weight_decay = opts_.weight_decay;
  h.decoupled_weight_decay = decoupled_;
  h.amsgrad = opts_.amsgrad;
  on_backend(device, "Adam.step", [&]<class B>() { kernels::adam_step<B>(entries, h, impl_); });
}

std::vector<std::pair<std::string, double>> Adam::hyperparameters() const {
  auto out = Optimizer::hyperparameters();
  out.insert(out.end(), {{"beta1", opts_.beta1},
                         {"beta2", opts_.beta2},
                         {"eps", opts_.eps},
                         {"weight_decay", opts_.weight_decay},
                         {"amsgrad", opts_.amsgrad ? 1.0 : 0.0}});
  return out;
}

void Adam::set_hyperparameter(const std::string& key, double value) {
  if (key == "beta1") {
    PG_CHECK(value >= 0.0 && value < 1.0, name(), ": beta1 must lie in [0, 1), got ", value);
    opts_.beta1 = value;
  } else if (key == "beta2") {
    PG_CHECK(value >= 0.0 && value < 1.0, name(), ": beta2 must lie in [0, 1), got ", value);
    opts_.beta2 = value;
  } else if (key == "eps") {
    check_nonneg(value, name(), "eps");
    opts_.eps = value;
  } else if (key == "weight_decay") {
    check_nonneg(value, name(), "weight_decay");
    opts_.weight_decay = value;
  } else if (key == "amsgrad") {
    PG_CHECK((value != 0.0) == opts_.amsgrad, name(), ": cannot switch amsgrad ", opts_.amsgrad ? "off" : "on",
             " (the optimizer state would not match)");
  } else {
    Optimizer::set_hyperparameter(key, value);
  }
}

}  // namespace pg::nn
