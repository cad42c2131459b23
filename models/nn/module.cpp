#include "models/nn/module.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "core/cuda_context.h"

namespace pg::nn {

void move_tensor_inplace(const Tensor& t, DType dtype, Device device) {
  if (!t.defined()) return;
  if (t.dtype() == dtype && t.device() == device) return;
  PG_CHECK(t.is_leaf(), "Module::to: can only move leaf tensors (parameters and buffers) in place");
  if (device.is_cuda()) cuda::require_device(device.index);
  Tensor moved = empty(t.shape(), TensorOptions(dtype, device));
  detail::copy_raw(moved, t);
  Tensor grad = t.grad();
  Tensor moved_grad;
  if (grad.defined()) {
    moved_grad = empty(grad.shape(), TensorOptions(dtype, device));
    detail::copy_raw(moved_grad, grad);
  }
  TensorImpl* impl = t.impl();
  impl->storage = moved.storage();
  impl->strides = moved.strides();
  impl->offset = moved.offset();
  impl->dtype = dtype;
  impl->grad = moved_grad.defined() ? moved_grad.impl_ptr() : nullptr;
}

uint64_t state_fingerprint(const NamedTensors& state) {
  uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&](const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 0x100000001b3ULL;
    }
  };
  for (const auto& [name, t] : state) {
    mix(name.data(), name.size() + 1);
    if (!t.defined()) continue;
    const char* dn = dtype_name(t.dtype());
    mix(dn, std::char_traits<char>::length(dn));
    for (int64_t d : t.shape()) mix(&d, sizeof d);
    Tensor host = empty(t.shape(), TensorOptions(t.dtype(), Device::cpu()));
    detail::copy_raw(host, t);
    mix(host.raw_data(), static_cast<size_t>(host.numel() * dtype_size(t.dtype())));
  }
  return h;
}

Module::Module(std::string type_name) : type_name_(std::move(type_name)) {}
Module::~Module() = default;

void Module::check_new_name(const std::string& name, const char* what) const {
  PG_CHECK(!name.empty(), type_name_, ": cannot register a ", what, " with an empty name");
  PG_CHECK(name.find('.') == std::string::npos, type_name_, ": ", what, " name '", name, "' must not contain '.'");
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& p) { return p.first == name; });
  };
  PG_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_), type_name_, ": the name '", name,
           "' is already registered (as a parameter, buffer or child module)");
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_new_name(name, "parameter");
  PG_CHECK(t.defined(), type_name_, ": parameter '", name, "' is an undefined tensor");
  PG_CHECK(t.is_leaf(), type_name_, ": parameter '", name,
           "' must be a leaf tensor (create it under NoGradGuard or detach() it)");
  if (requires_grad) {
    PG_CHECK(is_floating(t.dtype()), type_name_, ": parameter '", name, "' requires grad but has dtype ",
             dtype_name(t.dtype()));
  }
  t.requires_grad_(requires_grad);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name, "buffer");
  if (t.defined()) {
    PG_CHECK(!t.requires_grad(), type_name_, ": buffer '", name, "' must not require grad");
  }
  buffers_.emplace_back(name, t);
  return t;
}

void Module::replace_buffer(const std::string& name, Tensor t) {
  for (auto& [n, b] : buffers_) {
    if (n == name) {
      if (t.defined()) PG_CHECK(!t.requires_grad(), type_name_, ": buffer '", name, "' must not require grad");
      b = std::move(t);
      return;
    }
  }
  PG_FAIL(type_name_, ": no buffer named '", name, "'");
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name, "child module");
  PG_CHECK(m != nullptr, type_name_, ": child module '", name, "' is null");
  PG_CHECK(m.get() != this, type_name_, ": a module cannot be its own child");
  children_.emplace_back(name, std::move(m));
}

void Module::add_frozen_child(const std::string& name, std::shared_ptr<Module> m, std::string source) {
  add_child(name, m);
  frozen_.emplace_back(name, std::move(source));
  m->requires_grad_(false);
  m->train(false);
}

bool Module::is_frozen_child(const std::string& name) const {
  return std::any_of(frozen_.begin(), frozen_.end(), [&](const auto& f) { return f.first == name; });
}

std::vector<Module::FrozenChild> Module::frozen_children() const {
  std::vector<FrozenChild> out;
  for (const auto& [n, c] : children_) {
    auto it = std::find_if(frozen_.begin(), frozen_.end(), [&](const auto& f) { return f.first == n; });
    if (it != frozen_.end()) {
      out.push_back({n, c, it->second});
      continue;
    }
    for (FrozenChild& f : c->frozen_children()) {
      f.name = n + "." + f.name;
      out.push_back(std::move(f));
    }
  }
  return out;
}

void Module::collect(const std::string& prefix, bool params, bool bufs, NamedTensors& out, bool include_frozen) const {
  if (params) {
    for (const auto& [n, t] : params_) out.emplace_back(prefix + n, t);
  }
  if (bufs) {
    for (const auto& [n, t] : buffers_) {
      if (t.defined()) out.emplace_back(prefix + n, t);
    }
  }
  for (const auto& [n, c] : children_) {
    if (!include_frozen && is_frozen_child(n)) continue;
    c->collect(prefix + n + ".", params, bufs, out, include_frozen);
  }
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  if (!recurse) return params_;
  collect("", true, false, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

std::vector<Tensor> Module::trainable_parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters(true)) {
    if (t.requires_grad()) out.push_back(t);
  }
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  if (!recurse) {
    for (const auto& [n, t] : buffers_) {
      if (t.defined()) out.emplace_back(n, t);
    }
    return out;
  }
  collect("", false, true, out);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_buffers(recurse)) out.push_back(t);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules(bool include_frozen) {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  // Non-owning pointer for the root when it is not managed by a shared_ptr.
  std::shared_ptr<Module> self = weak_from_this().lock();
  if (!self) self = std::shared_ptr<Module>(this, [](Module*) {});
  struct Item {
    std::string name;
    std::shared_ptr<Module> m;
  };
  std::vector<Item> stack{{"", self}};
  while (!stack.empty()) {
    Item it = std::move(stack.back());
    stack.pop_back();
    out.emplace_back(it.name, it.m);
    const auto& ch = it.m->children_;
    for (auto c = ch.rbegin(); c != ch.rend(); ++c) {
      if (!include_frozen && it.m->is_frozen_child(c->first)) continue;
      stack.push_back({it.name.empty() ? c->first : it.name + "." + c->first, c->second});
    }
  }
  return out;
}

std::shared_ptr<Module> Module::child(const std::string& name) const {
  std::string names;
  for (const auto& [n, c] : children_) {
    if (n == name) return c;
    names += (names.empty() ? "" : ", ") + n;
  }
  PG_FAIL(type_name_, ": no child module named '", name, "' (children: ", names.empty() ? "none" : names, ")");
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  collect("", true, true, out);
  return out;
}

bool Module::is_parameter_name(const std::string& name) const {
  for (const auto& [n, t] : named_parameters(true)) {
    if (n == name) return true;
  }
  return false;
}

std::vector<std::string> Module::state_dict_problems(const NamedTensors& state, bool strict) const {
  const NamedTensors mine = state_dict();
  std::vector<std::string> missing, unexpected, mismatched, duplicated;
  std::set<std::string> given;
  for (const auto& [n, t] : state) {
    if (!given.insert(n).second) duplicated.push_back("duplicated: " + n);
  }
  std::set<std::string> own;
  for (const auto& [n, dst] : mine) {
    own.insert(n);
    auto it = std::find_if(state.begin(), state.end(), [&](const auto& p) { return p.first == n; });
    if (it == state.end()) {
      if (strict) missing.push_back("missing: " + n);
      continue;
    }
    const Tensor& src = it->second;
    if (!src.defined() || src.shape() != dst.shape()) {
      mismatched.push_back("shape mismatch: " + n + " (expected " + shape_str(dst.shape()) + ", got " +
                           (src.defined() ? shape_str(src.shape()) : std::string("undefined")) + ")");
    }
  }
  if (strict) {
    for (const auto& [n, t] : state) {
      if (!own.count(n)) unexpected.push_back("unexpected: " + n);
    }
  }
  std::vector<std::string> out;
  for (auto* v : {&missing, &unexpected, &mismatched, &duplicated}) out.insert(out.end(), v->begin(), v->end());
  return out;
}

void Module::load_state_dict(const NamedTensors& state, bool strict) {
  const std::vector<std::string> problems = state_dict_problems(state, strict);
  if (!problems.empty()) {
    std::ostringstream os;
    os << "load_state_dict: the state does not match " << type_name_ << " (" << problems.size() << " problems):";
    for (const auto& s : problems) os << "\n  " << s;
    PG_FAIL(os.str());
  }
  for (const auto& [n, dst] : state_dict()) {
    auto it = std::find_if(state.begin(), state.end(), [&](const auto& p) { return p.first == n; });
    if (it == state.end()) continue;
    detail::copy_raw(dst, it->second);
    dst.bump_version();
  }
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on && !is_frozen_child(n));  // frozen children stay in eval
}

void Module::to(Device device) {
  NamedTensors all;
  collect("", true, true, all, /*include_frozen=*/true);
  for (auto& [n, t] : all) move_tensor_inplace(t, t.dtype(), device);
}

void Module::to(DType dtype) {
  PG_CHECK(is_floating(dtype), type_name_, ".to: target dtype must be float32 or float64, got ", dtype_name(dtype));
  NamedTensors all;
  collect("", true, true, all, /*include_frozen=*/true);
  for (auto& [n, t] : all) {
    if (is_floating(t.dtype())) move_tensor_inplace(t, dtype, t.device());
  }
}

Device Module::device() const {
  const NamedTensors all = state_dict();
  return all.empty() ? Device::cpu() : all.front().second.device();
}

void Module::zero_grad() {
  for (auto& t : parameters()) t.zero_grad();
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (auto& t : parameters()) {
    if (!trainable_only || t.requires_grad()) n += t.numel();
  }
  return n;
}

void Module::requires_grad_(bool on) {
  for (auto& t : parameters()) t.requires_grad_(on);
}

void Module::summary_into(const std::string& prefix, int depth, std::string& out) const {
  std::ostringstream os;
  os << std::string(static_cast<size_t>(depth) * 2, ' ') << (prefix.empty() ? std::string("(root)") : prefix) << ": "
     << type_name_;
  int64_t own = 0;
  for (const auto& [n, t] : params_) {
    os << " " << n << shape_str(t.shape());
    own += t.numel();
  }
  if (own > 0) os << " [" << own << " params]";
  out += os.str() + "\n";
  for (const auto& [n, c] : children_) {
    const std::string name = prefix.empty() ? n : prefix + "." + n;
    for (const auto& [fn, src] : frozen_) {
      if (fn == n) {
        out += std::string(static_cast<size_t>(depth + 1) * 2, ' ') + name + ": " + c->type_name() + " (frozen" +
               (src.empty() ? std::string() : ", from " + src) + ", " + std::to_string(c->num_parameters()) +
               " params)\n";
      }
    }
    if (!is_frozen_child(n)) c->summary_into(name, depth + 1, out);
  }
}

std::string Module::summary() const {
  std::string out;
  summary_into("", 0, out);
  out += "total parameters: " + std::to_string(num_parameters()) + " (trainable " +
         std::to_string(num_parameters(true)) + ")\n";
  return out;
}

}  // namespace pg::nn
