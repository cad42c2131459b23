// One row-major GEMM on raw tensor storage, on c's device — the building block of the fused ops
// (shared MLP, LSTM cell) that manage their own buffers. Not differentiable; not a public op.
//
//   c[m, n] = op(a)·op(b) + beta·c      op(a) m×k, op(b) k×n, c contiguous [m, n]
//
// lda / ldb are the leading dimensions of a and b as stored (a may be a row-strided view, e.g.
// one time step of a [B, T, I] sequence). k = 0 with beta = 0 zero-fills c. `op` names the
// caller in error messages.
#pragma once

#include <cstdint>

#include "core/tensor.h"

namespace pg::detail {

void raw_gemm(const Tensor& c, const Tensor& a, int64_t lda, bool trans_a, const Tensor& b, int64_t ldb,
              bool trans_b, int64_t m, int64_t n, int64_t k, double beta, const char* op);

}  // namespace pg::detail
