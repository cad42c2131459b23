#include "autograd/node.h"

#include <atomic>

#include "autograd/grad_mode.h"

namespace pg::autograd {

namespace {
std::atomic<uint64_t> g_next_seq{0};

// Releases a chain of nodes iteratively: a node about to die hands its edges to this loop
// instead of destroying them recursively, so 10^6-long chains do not overflow the stack.
void release_edges(std::vector<Edge>&& edges) {
  thread_local bool draining = false;
  thread_local std::vector<std::shared_ptr<Node>> pending;
  for (Edge& e : edges) {
    if (e.node) pending.push_back(std::move(e.node));
  }
  edges.clear();
  if (draining) return;
  draining = true;
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    n.reset();  // may run ~Node, which appends its edges to `pending` and returns
  }
  draining = false;
}
}  // namespace

SavedTensor::SavedTensor(const Tensor& t) {
  if (!t.defined()) return;
  data_ = t.detach();
  version_ = t.version();
}

Tensor SavedTensor::unpack(const std::string& op) const {
  PG_CHECK(!released_, "autograd: trying to backward through the graph a second time (saved tensors of '", op,
           "' were freed); call backward with retain_graph=true the first time");
  if (!data_.defined()) return data_;
  PG_CHECK(data_.version() == version_, "autograd: a tensor saved by '", op,
           "' for the backward was modified by an in-place operation (version ", data_.version(),
           ", expected ", version_, ")");
  return data_;
}

Node::Node(std::string name, std::vector<Edge> edges, std::vector<OutputMeta> outputs)
    : name_(std::move(name)), seq_(g_next_seq.fetch_add(1)), edges_(std::move(edges)), outputs_(std::move(outputs)) {}

Node::~Node() { release_edges(std::move(edges_)); }

FunctionNode::FunctionNode(std::string name, std::vector<Edge> edges, std::vector<OutputMeta> outputs,
                           std::vector<SavedTensor> saved, BackwardFn fn)
    : Node(std::move(name), std::move(edges), std::move(outputs)), saved_(std::move(saved)), fn_(std::move(fn)) {}

std::vector<Tensor> FunctionNode::apply(const std::vector<Tensor>& grad_outputs) {
  PG_CHECK(!released_, "autograd: trying to backward through the graph a second time (saved tensors of '", name(),
           "' were freed); call backward with retain_graph=true the first time");
  BackwardContext ctx;
  ctx.saved.reserve(saved_.size());
  for (const auto& s : saved_) ctx.saved.push_back(s.unpack(name()));
  ctx.needs_input_grad.resize(num_inputs());
  for (int i = 0; i < num_inputs(); ++i) ctx.needs_input_grad[i] = needs_input_grad(i);
  std::vector<Tensor> grads = fn_(ctx, grad_outputs);
  PG_CHECK(static_cast<int>(grads.size()) == num_inputs(), "autograd: backward of '", name(), "' returned ",
           grads.size(), " gradients for ", num_inputs(), " inputs");
  return grads;
}

std::vector<Tensor> FunctionNode::saved_values() const {
  std::vector<Tensor> out;
  for (const auto& s : saved_) {
    if (s.peek().defined()) out.push_back(s.peek());
  }
  return out;
}

void FunctionNode::release_saved() {
  for (auto& s : saved_) s.release();
  fn_ = nullptr;
  released_ = true;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const auto& t : inputs) {
    if (t.defined() && t.requires_grad()) return true;
  }
  return false;
}

std::shared_ptr<Node> record(const std::string& name, const std::vector<Tensor>& inputs,
                             const std::vector<Tensor>& outputs, const std::vector<Tensor>& saved, BackwardFn fn) {
  if (!any_requires_grad(inputs)) return nullptr;
  std::vector<Edge> edges(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined() || !t.requires_grad()) continue;
    if (t.grad_fn()) {
      edges[i].node = t.grad_fn();
      edges[i].output_nr = t.impl()->output_nr;
    } else {
      edges[i].leaf = t.impl_ptr();
    }
  }
  std::vector<OutputMeta> metas;
  metas.reserve(outputs.size());
  for (const auto& o : outputs) metas.push_back({o.shape(), o.dtype(), o.device()});
  std::vector<SavedTensor> saved_tensors;
  saved_tensors.reserve(saved.size());
  for (const auto& s : saved) saved_tensors.emplace_back(s);
  auto node = std::make_shared<FunctionNode>(name, std::move(edges), std::move(metas), std::move(saved_tensors),
                                             std::move(fn));
  for (size_t i = 0; i < outputs.size(); ++i) {
    TensorImpl* o = outputs[i].impl();
    o->grad_fn = node;
    o->output_nr = static_cast<int>(i);
    o->requires_grad = true;
  }
  return node;
}

}  // namespace pg::autograd
