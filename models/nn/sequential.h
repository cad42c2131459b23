// Containers of modules, named like PyTorch's so state_dict names match ("0.weight",
// "1.running_mean", "2.conv.bias", ...).
//
// Sequential: an ordered chain of single-tensor modules; forward(x) feeds x through every child
// in order. A child may be any Module subclass with a `Tensor forward(const Tensor&) const`
// (Linear, BatchNorm1d, Dropout, SharedMLP, SharedMLPLayer, the activation modules, another
// Sequential, a user module): push_back stores a typed call to it, so the base Module needs no
// virtual forward. Children are named "0", "1", ... in insertion order.
//
// ModuleList: an ordered list of modules of any kind (no forward: the owner decides how to call
// them), named "0", "1", ...; at<M>(i) returns child i as M or throws naming the actual type.
//
// Errors: null modules, a module added to itself, indices out of range, wrong types in at<M>().
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/nn/module.h"

namespace pg::nn {

template <class M>
concept TensorModule = std::derived_from<M, Module> && requires(const M& m, const Tensor& x) {
  { m.forward(x) } -> std::convertible_to<Tensor>;
};

namespace detail {
// The child at `i` as M (shared by Sequential and ModuleList).
std::shared_ptr<Module> child_at(const Module& owner, const std::vector<std::shared_ptr<Module>>& list, size_t i);
[[noreturn]] void wrong_child_type(const Module& owner, size_t i, const Module& actual, const char* wanted);
}  // namespace detail

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}

  // Appends `m` as child "<size()>" and returns it.
  template <TensorModule M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    register_module(std::to_string(mods_.size()), m);
    const M* raw = m.get();
    mods_.push_back(m);
    calls_.push_back([raw](const Tensor& x) { return Tensor(raw->forward(x)); });
    return m;
  }

  // x through every child in order (the identity when empty).
  Tensor forward(const Tensor& x) const;
  Tensor operator()(const Tensor& x) const { return forward(x); }

  size_t size() const { return mods_.size(); }
  bool empty() const { return mods_.empty(); }
  std::shared_ptr<Module> operator[](size_t i) const { return detail::child_at(*this, mods_, i); }
  template <class M>
  std::shared_ptr<M> at(size_t i) const {
    std::shared_ptr<Module> c = detail::child_at(*this, mods_, i);
    auto typed = std::dynamic_pointer_cast<M>(c);
    if (!typed) detail::wrong_child_type(*this, i, *c, typeid(M).name());
    return typed;
  }

 protected:
  explicit Sequential(std::string type_name) : Module(std::move(type_name)) {}

 private:
  std::vector<std::shared_ptr<Module>> mods_;
  std::vector<std::function<Tensor(const Tensor&)>> calls_;
};

class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}

  template <class M>
  std::shared_ptr<M> push_back(std::shared_ptr<M> m) {
    register_module(std::to_string(mods_.size()), m);
    mods_.push_back(m);
    return m;
  }

  size_t size() const { return mods_.size(); }
  bool empty() const { return mods_.empty(); }
  std::shared_ptr<Module> operator[](size_t i) const { return detail::child_at(*this, mods_, i); }
  template <class M>
  std::shared_ptr<M> at(size_t i) const {
    std::shared_ptr<Module> c = detail::child_at(*this, mods_, i);
    auto typed = std::dynamic_pointer_cast<M>(c);
    if (!typed) detail::wrong_child_type(*this, i, *c, typeid(M).name());
    return typed;
  }
  auto begin() const { return mods_.begin(); }
  auto end() const { return mods_.end(); }

 private:
  std::vector<std::shared_ptr<Module>> mods_;
};

}  // namespace pg::nn
