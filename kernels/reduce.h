// Reduction kernel launchers (one per backend). Defined in kernels/common/reduce_impl.h (shared
// reducer bodies and geometry) plus kernels/cpu/reduce.cpp and kernels/cuda/reduce.cu (the
// backend-specific execution strategies); instantiated in those two files.
//
// Conventions shared by every launcher:
// * `dims` are the reduced dims of x, already wrapped to [0, x.dim()), sorted and unique (the ops
//   layer validates them). An empty list reduces nothing (each output reduces one element).
// * Each output element reduces R = prod(x.shape[d] for d in dims) elements. Outputs are indexed
//   row-major over x's non-reduced dims; `out` and `indices` are contiguous with that many
//   elements (keepdim or not: the row-major order is the same).
// * Reduced elements are indexed row-major over the reduced dims ("r"); `indices` holds r of the
//   selected element (for a single reduced dim that is the index along that dim).
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "kernels/common/instantiate.h"

namespace pg::kernels {

enum class ReduceOp : uint8_t {
  Sum,        // any dtype but bool is numeric; float → same float (float64 accumulation),
              // integers and bool → int64
  Mean,       // (F) sum / R in float64, NaN when R == 0
  LogSumExp,  // (F) max-shifted, float64 accumulation; all -inf (or R == 0) → -inf
  Max,        // numeric; values (x's dtype) and/or int64 indices; ties → lowest r; NaN wins
  Min,        // numeric; as Max
};

const char* reduce_name(ReduceOp op);

// Strides that broadcast `t` (a reduced result of x over `dims`, keepdim or not) back over
// `xshape`: t's strides on the kept dims, 0 on the reduced dims. Host helper (ops and kernels).
Shape reduce_broadcast_strides(const Tensor& t, const Shape& xshape, const std::vector<int64_t>& dims);

// Forward. `out` is required for Sum/Mean/LogSumExp; for Max/Min either `out` (values) or
// `indices` (int64) may be undefined, not both.
template <class Backend>
void reduce(ReduceOp op, const Tensor& out, const Tensor& indices, const Tensor& x, const std::vector<int64_t>& dims);

// Backward of Mean and LogSumExp (float dtypes):
//   Mean:      grad_in = grad_out / R
//   LogSumExp: grad_in = grad_out * exp(x - out)
// grad_in is contiguous with x's shape (overwritten); grad_out and out have the reduced shape,
// keepdim or not (any strides); they are broadcast back over the reduced dims.
template <class Backend>
void reduce_backward(ReduceOp op, const Tensor& grad_in, const Tensor& grad_out, const Tensor& x, const Tensor& out,
                     const std::vector<int64_t>& dims);

// Backward of Max/Min: grad_in (contiguous, x's shape, ALREADY ZEROED by the caller) receives
// grad_out[o] at reduced position indices[o] of every output o (each output writes one distinct
// element, so no atomics are involved). grad_out has the reduced shape (keepdim or not).
template <class Backend>
void scatter_reduced_grad(const Tensor& grad_in, const Tensor& grad_out, const Tensor& indices,
                          const std::vector<int64_t>& dims);

// The launchers above, instantiated per backend by PG_INSTANTIATE_LAUNCHERS (kernels/common/instantiate.h).
#define PG_REDUCE_LAUNCHERS(X, B)                                                                                                  \
  X(B, void, reduce, (ReduceOp, const Tensor&, const Tensor&, const Tensor&, const std::vector<int64_t>&))                         \
  X(B, void, reduce_backward, (ReduceOp, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const std::vector<int64_t>&)) \
  X(B, void, scatter_reduced_grad, (const Tensor&, const Tensor&, const Tensor&, const std::vector<int64_t>&))

}  // namespace pg::kernels
