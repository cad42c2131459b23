#include "autograd/engine.h"
#include "autograd/grad.h"

#include <algorithm>
#include <unordered_map>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/elementwise.h"

namespace pg::autograd {

namespace {

// Out-of-place a + b on a's device (no recording; grad mode is off inside backward).
Tensor add_raw(const Tensor& a, const Tensor& b) {
  PG_CHECK(a.shape() == b.shape(), "autograd: gradient shape mismatch while accumulating: ", shape_str(a.shape()),
           " vs ", shape_str(b.shape()));
  Tensor out = empty(a.shape(), a.options());
  on_backend(a.device(), "autograd accumulate", [&]<class B>() {
    kernels::binary<B>(kernels::BinaryOp::Add, out, a, b, 1.0, 0.0);
  });
  return out;
}

void check_grad_matches(const Tensor& g, const Shape& shape, DType dtype, Device device, const std::string& where) {
  PG_CHECK(g.shape() == shape, "autograd: ", where, " produced a gradient of shape ", shape_str(g.shape()),
           " for an input of shape ", shape_str(shape));
  PG_CHECK(g.dtype() == dtype, "autograd: ", where, " produced a ", dtype_name(g.dtype()), " gradient for a ",
           dtype_name(dtype), " input");
  PG_CHECK(g.device() == device, "autograd: ", where, " produced a gradient on ", g.device(), " for an input on ",
           device);
}

void accumulate_leaf(TensorImpl* leaf, const Tensor& g) {
  if (!leaf->grad) {
    // Own a private copy so later in-place edits of .grad never touch another tensor.
    Tensor own = empty(g.shape(), g.options());
    detail::copy_raw(own, g);
    leaf->grad = own.impl_ptr();
  } else {
    leaf->grad = add_raw(Tensor(leaf->grad), g).impl_ptr();
  }
}

// Where leaf gradients go: into .grad (capture == null) or, for autograd::grad, into the slot of
// the listed leaf (unlisted leaves are skipped).
struct LeafSink {
  const std::vector<Tensor>* capture = nullptr;
  std::vector<Tensor>* captured = nullptr;

  void add(TensorImpl* leaf, const Tensor& g) const {
    if (capture == nullptr) {
      accumulate_leaf(leaf, g);
      return;
    }
    for (size_t i = 0; i < capture->size(); ++i) {
      if ((*capture)[i].impl() != leaf) continue;
      Tensor& slot = (*captured)[i];
      slot = slot.defined() ? add_raw(slot, g) : g;
      return;
    }
  }
};

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph,
                  const LeafSink& sink) {
  PG_CHECK(roots.size() == grads.size(), "backward: ", roots.size(), " roots but ", grads.size(), " gradients");
  NoGradGuard no_grad;

  std::unordered_map<Node*, std::vector<Tensor>> pending;  // gradient buffers per node output
  std::vector<std::shared_ptr<Node>> order;                 // reachable nodes
  std::vector<Node*> stack;
  std::unordered_map<Node*, bool> seen;

  auto push_grad = [&](Node* n, int slot, const Tensor& g) {
    auto& buf = pending[n];
    if (buf.empty()) buf.resize(n->outputs().size());
    buf[slot] = buf[slot].defined() ? add_raw(buf[slot], g) : g;
  };

  for (size_t r = 0; r < roots.size(); ++r) {
    const Tensor& root = roots[r];
    PG_CHECK(root.defined(), "backward: undefined root tensor");
    PG_CHECK(root.requires_grad(), "backward: the tensor does not require grad and has no grad_fn (did you call it on "
                                   "a result computed under NoGradGuard or from inputs without requires_grad?)");
    Tensor g = grads[r];
    if (!g.defined()) {
      PG_CHECK(root.numel() == 1, "backward: grad can be implicitly created only for a tensor with one element; got shape ",
               shape_str(root.shape()), " — pass a gradient of that shape");
      g = ones(root.shape(), root.options());
    } else {
      check_grad_matches(g, root.shape(), root.dtype(), root.device(), "backward(root, grad)");
    }
    if (root.is_leaf()) {
      sink.add(root.impl(), g);
      continue;
    }
    push_grad(root.grad_fn().get(), root.impl()->output_nr, g);
    if (!seen[root.grad_fn().get()]) {
      seen[root.grad_fn().get()] = true;
      order.push_back(root.grad_fn());
      stack.push_back(root.grad_fn().get());
    }
  }

  // Collect every node reachable from the roots (iterative DFS).
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->edges()) {
      if (e.node && !seen[e.node.get()]) {
        seen[e.node.get()] = true;
        order.push_back(e.node);
        stack.push_back(e.node.get());
      }
    }
  }
  // Reverse tape order: a node runs after every node that consumes its outputs.
  std::sort(order.begin(), order.end(),
            [](const std::shared_ptr<Node>& a, const std::shared_ptr<Node>& b) { return a->sequence_nr() > b->sequence_nr(); });

  for (const auto& node : order) {
    auto it = pending.find(node.get());
    if (it == pending.end()) {
      if (!retain_graph) node->release_saved();
      continue;
    }
    std::vector<Tensor> grad_outputs = std::move(it->second);
    pending.erase(it);
    for (size_t i = 0; i < grad_outputs.size(); ++i) {
      if (!grad_outputs[i].defined()) {
        const OutputMeta& m = node->outputs()[i];
        grad_outputs[i] = zeros(m.shape, TensorOptions(m.dtype, m.device));
      }
    }
    std::vector<Tensor> input_grads = node->apply(grad_outputs);
    if (!retain_graph) node->release_saved();
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Edge& e = node->edges()[i];
      const Tensor& g = input_grads[i];
      if (!e.valid() || !g.defined()) continue;
      if (e.leaf) {
        check_grad_matches(g, e.leaf->shape, e.leaf->dtype, e.leaf->storage->device(), "backward of '" + node->name() + "'");
        sink.add(e.leaf.get(), g);
      } else {
        const OutputMeta& m = e.node->outputs()[e.output_nr];
        check_grad_matches(g, m.shape, m.dtype, m.device, "backward of '" + node->name() + "'");
        push_grad(e.node.get(), e.output_nr, g);
      }
    }
  }
}

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph) {
  run_backward(roots, grads, retain_graph, LeafSink{});
}

std::vector<Tensor> grad(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
                         const std::vector<Tensor>& inputs, bool retain_graph) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    PG_CHECK(inputs[i].defined() && inputs[i].is_leaf() && inputs[i].requires_grad(), "autograd::grad: input ", i,
             " must be a leaf tensor that requires grad");
  }
  std::vector<Tensor> out(inputs.size());
  run_backward(roots, grads, retain_graph, LeafSink{&inputs, &out});
  // A gradient that arrived as the caller's own tensor (a root that is also an input) is copied,
  // so the result never aliases a cotangent.
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].defined()) {
      for (const Tensor& g : grads) {
        if (g.defined() && g.impl() == out[i].impl()) {
          Tensor own = empty(g.shape(), g.options());
          detail::copy_raw(own, g);
          out[i] = own;
        }
      }
    }
  }
  return out;
}

GraphStats graph_stats(const std::vector<Tensor>& roots) {
  GraphStats st;
  std::unordered_map<Node*, bool> seen;
  std::unordered_map<const void*, bool> storages;
  std::vector<Node*> stack;
  for (const Tensor& r : roots) {
    if (r.defined() && r.grad_fn() && !seen[r.grad_fn().get()]) {
      seen[r.grad_fn().get()] = true;
      stack.push_back(r.grad_fn().get());
    }
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    ++st.nodes;
    for (const Tensor& t : n->saved_values()) {
      const void* key = t.storage().get();
      if (storages[key]) continue;
      storages[key] = true;
      ++st.saved_storages;
      st.saved_bytes += static_cast<int64_t>(t.storage()->nbytes());
    }
    for (const Edge& e : n->edges()) {
      if (e.node && !seen[e.node.get()]) {
        seen[e.node.get()] = true;
        stack.push_back(e.node.get());
      }
    }
  }
  return st;
}

void backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  backward(std::vector<Tensor>{root}, std::vector<Tensor>{grad}, retain_graph);
}

}  // namespace pg::autograd

namespace pg {
}  // namespace pg
