// Backward engine. backward(root) walks the nodes reachable from root in reverse creation
// order (an explicit loop, no recursion), sums gradients per node output, and accumulates into
// leaves' .grad (out of place: a new tensor each time, so stored gradients never alias).
// Without retain_graph the saved tensors of every visited node are freed; a second backward
// through them raises a clear error.
#pragma once

#include <vector>

#include "core/tensor.h"

namespace pg::autograd {

// `grad` may be omitted only when root has one element (then it is 1).
void backward(const Tensor& root, const Tensor& grad = Tensor(), bool retain_graph = false);
// Several roots at once (e.g. multi-task losses); grads[i] may be undefined for scalars.
void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph = false);

}  // namespace pg::autograd

namespace pg {
// What Tensor::backward() resolves to (see core/tensor.h); same as autograd::backward.
inline void tensor_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  autograd::backward(root, grad, retain_graph);
}
}  // namespace pg
