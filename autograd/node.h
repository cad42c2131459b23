// The tape. Every differentiable op whose inputs require grad (with grad mode on) creates a
// Node: saved tensors (with the storage versions at save time), a backward function and one
// edge per input. Nodes carry a global sequence number in creation order, which is a
// topological order of the graph; backward() processes the nodes reachable from the loss in
// decreasing sequence number (the tape walked in reverse), without recursion.
//
// Saved tensors are stored detached (no grad_fn), so a node never owns itself through a saved
// output; double backward is therefore not supported (first-order gradients only).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg::autograd {

class Node;

// Where a gradient flows: into another node's output slot, or into a leaf's .grad.
struct Edge {
  std::shared_ptr<Node> node;        // producer of the input (non-leaf), or null
  std::shared_ptr<TensorImpl> leaf;  // the input itself when it is a leaf requiring grad
  int output_nr = 0;                 // which output of `node`
  bool valid() const { return node != nullptr || leaf != nullptr; }
};

class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t);
  // The saved value; throws if the tensor was modified in place since it was saved, or if the
  // node's saved tensors were already released by an earlier backward.
  Tensor unpack(const std::string& op) const;
  void release() { data_ = Tensor(); released_ = true; }
  bool defined() const { return data_.defined() || released_; }
  // The held value without the version check (undefined once released): for graph statistics.
  const Tensor& peek() const { return data_; }

 private:
  Tensor data_;
  uint64_t version_ = 0;
  bool released_ = false;
};

struct OutputMeta {
  Shape shape;
  DType dtype;
  Device device;
};

class Node {
 public:
  Node(std::string name, std::vector<Edge> edges, std::vector<OutputMeta> outputs);
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const { return name_; }
  uint64_t sequence_nr() const { return seq_; }
  const std::vector<Edge>& edges() const { return edges_; }
  const std::vector<OutputMeta>& outputs() const { return outputs_; }
  int num_inputs() const { return static_cast<int>(edges_.size()); }
  bool needs_input_grad(int i) const { return edges_[i].valid(); }

  // Gradients w.r.t. the inputs (one per edge; undefined where none) given the gradients of
  // all outputs (missing ones are zero-filled by the engine).
  virtual std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs) = 0;
  // Frees saved tensors (after a backward without retain_graph).
  virtual void release_saved() = 0;
  bool released() const { return released_; }
  // The tensors this node currently holds for its backward (empty once released): what
  // graph_stats (autograd/engine.h) counts.
  virtual std::vector<Tensor> saved_values() const { return {}; }

 protected:
  bool released_ = false;

 private:
  std::string name_;
  uint64_t seq_;
  std::vector<Edge> edges_;
  std::vector<OutputMeta> outputs_;
};

struct BackwardContext {
  std::vector<Tensor> saved;           // unpacked saved tensors, in save order
  std::vector<bool> needs_input_grad;  // per input
};

using BackwardFn = std::function<std::vector<Tensor>(const BackwardContext& ctx, const std::vector<Tensor>& grads)>;

// A node whose backward is a function of its saved tensors (the common case).
class FunctionNode final : public Node {
 public:
  FunctionNode(std::string name, std::vector<Edge> edges, std::vector<OutputMeta> outputs,
               std::vector<SavedTensor> saved, BackwardFn fn);
  std::vector<Tensor> apply(const std::vector<Tensor>& grad_outputs) override;
  void release_saved() override;
  std::vector<Tensor> saved_values() const override;

 private:
  std::vector<SavedTensor> saved_;
  BackwardFn fn_;
};

// True when grad mode is on and any input requires grad.
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Records an op on the tape if any input requires grad (and grad mode is on): creates a
// FunctionNode with edges to `inputs` and attaches it to `outputs` (which then require grad).
// `saved` are tensors the backward needs (inputs or outputs); they are version-checked.
// Returns the node (null when nothing was recorded).
std::shared_ptr<Node> record(const std::string& name, const std::vector<Tensor>& inputs,
                             const std::vector<Tensor>& outputs, const std::vector<Tensor>& saved, BackwardFn fn);

}  // namespace pg::autograd
