// Module: the base of every nn building block and model.
//
// A module owns named parameters (leaf tensors, usually requiring grad), named buffers (state
// that is not trained, e.g. BatchNorm running statistics) and named child modules. Names are
// hierarchical and dotted, in registration order: a child "fc1" with a parameter "weight" gives
// "fc1.weight" (the order of state_dict() below is PyTorch's).
//
// Identity: parameters and buffers are tensor HANDLES shared with the subclass members that
// hold them (`Tensor weight = register_parameter(...)`). to(Device)/to(DType) change the
// tensors IN PLACE (their TensorImpl gets new storage), so those handles, an optimizer built
// before the move and any other holder keep pointing at the same leaves, which stay leaves and
// keep requires_grad. Gradients are moved along (converted) when present.
//
// Forward signatures differ between modules, so the base has no virtual forward(); each module
// declares its own `Tensor forward(...)`.
//
// Modules are held by std::shared_ptr; register_module stores the pointer and returns it typed.
// Modules are not copyable (parameters would alias); copy values with load_state_dict.
//
// Frozen children (register_frozen): a pretrained network used inside another one (e.g. the
// task network inside a sampler). A frozen child
//   * has requires_grad off on all its parameters (so trainable_parameters() and an optimizer
//     never see it) and stays off when the parent calls requires_grad_(true);
//   * stays in eval mode: the parent's train() does not reach it (BN uses its running statistics,
//     dropout is off);
//   * is NOT part of the parent's state: named_parameters(), named_buffers(), parameters(),
//     state_dict() and load_state_dict() skip it, so a checkpoint of the parent does not re-save
//     it. It is loaded from its own checkpoint; `source` records that file (the trainer writes
//     it, with state_fingerprint() of the child, into the parent's checkpoint config);
//   * still moves with the parent in to(Device/DType), and named_modules() lists it (pass
//     include_frozen = false to skip it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace pg::nn {

// Ordered name → tensor list (the tensors are the module's own handles, not copies).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module : public std::enable_shared_from_this<Module> {
 public:
  explicit Module(std::string type_name = "Module");
  virtual ~Module();
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Class name for messages and printing ("Linear", "BatchNorm1d", ...).
  const std::string& type_name() const { return type_name_; }

  // ---- registration (call from constructors). Names must be non-empty, contain no '.', and be
  // unique across this module's parameters, buffers and children. ----
  // Registers `t` (defined, a leaf) and returns the same handle. requires_grad is set to
  // `requires_grad` (false gives a frozen parameter that still counts and is still saved).
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  // Buffers never require grad. An undefined tensor is allowed (an optional buffer: skipped by
  // buffers()/state_dict()).
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }
  // Registers a frozen child (see the header comment). `source` is where its weights came from
  // (a checkpoint path; may be empty for a network built in code).
  template <class M>
  std::shared_ptr<M> register_frozen(const std::string& name, std::shared_ptr<M> m, std::string source = "") {
    add_frozen_child(name, m, std::move(source));
    return m;
  }
  // Replaces the tensor behind an existing parameter/buffer name (e.g. an optional buffer being
  // created later). The old handle no longer belongs to the module.
  void replace_buffer(const std::string& name, Tensor t);

  // ---- traversal ----
  // All parameters, this module first, then children in registration order (recursively).
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> parameters(bool recurse = true) const;
  // Only the parameters that require grad (what an optimizer should get).
  std::vector<Tensor> trainable_parameters() const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // This module (name "") and every descendant, depth first, in registration order (frozen
  // subtrees only with include_frozen).
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules(bool include_frozen = true);
  // The frozen children of this module and of its (non-frozen) descendants, by dotted name.
  struct FrozenChild {
    std::string name;  // dotted, e.g. "sampler.task_net"
    std::shared_ptr<Module> module;
    std::string source;
  };
  std::vector<FrozenChild> frozen_children() const;
  bool is_frozen_child(const std::string& name) const;
  // Child by name; throws naming the module and the available children when absent.
  std::shared_ptr<Module> child(const std::string& name) const;

  // Parameters then buffers per module, in the order of named_modules() (PyTorch's state_dict
  // layout, e.g. "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var", "fc.weight").
  // The tensors are the live handles (not copies).
  NamedTensors state_dict() const;
  // Names in state_dict() that are parameters (the rest are buffers).
  bool is_parameter_name(const std::string& name) const;

  // Copies every tensor of `state` into the tensor of the same name (values only: dtype is
  // converted, devices may differ; no autograd). With `strict`, every missing name, unexpected
  // name and shape mismatch is collected and reported in ONE pg::Error before anything is
  // copied; without it, missing and unexpected names are ignored (shape mismatches still throw).
  void load_state_dict(const NamedTensors& state, bool strict = true);
  // What load_state_dict would complain about, one line per problem ("missing: fc.weight",
  // "unexpected: foo", "shape mismatch: fc.bias (expected [4], got [5])"); empty when it loads.
  std::vector<std::string> state_dict_problems(const NamedTensors& state, bool strict = true) const;

  // ---- modes ----
  // Sets training mode on this module and all descendants.
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // ---- placement (in place, see the header comment) ----
  void to(Device device);
  void to(DType dtype);  // floating parameters/buffers only; integer buffers keep their dtype
  // Device of the first parameter or buffer (cpu when there is none).
  Device device() const;

  // ---- gradients and counting ----
  // Drops every parameter's .grad (the next backward starts from nothing).
  void zero_grad();
  // Total element count of the parameters (only those requiring grad with trainable_only).
  int64_t num_parameters(bool trainable_only = false) const;
  // Sets requires_grad on every parameter (freezing or unfreezing a network).
  void requires_grad_(bool on);

  // Multi-line summary: one line per module with its type, own parameter shapes and counts.
  std::string summary() const;

 protected:
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  void add_frozen_child(const std::string& name, std::shared_ptr<Module> m, std::string source);

 private:
  void check_new_name(const std::string& name, const char* what) const;
  void collect(const std::string& prefix, bool params, bool bufs, NamedTensors& out, bool include_frozen = false) const;
  void summary_into(const std::string& prefix, int depth, std::string& out) const;

  std::string type_name_;
  bool training_ = true;
  NamedTensors params_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::vector<std::pair<std::string, std::string>> frozen_;  // child name → source
};

// Moves/converts one tensor in place (its TensorImpl gets new storage; handles stay valid,
// leaves stay leaves). A no-op when nothing changes. Used by Module::to and Optimizer::to.
void move_tensor_inplace(const Tensor& t, DType dtype, Device device);

// A 64-bit fingerprint (FNV-1a) of names, dtypes, shapes and values of `state` (read to the
// host): equal states give equal fingerprints; any changed value changes it (with overwhelming
// probability). Used to check that a frozen network is the one a checkpoint was trained with.
uint64_t state_fingerprint(const NamedTensors& state);

}  // namespace pg::nn
