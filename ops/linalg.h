// Dense algebra on OpenBLAS (CPU) and cuBLAS (CUDA), float32 and float64 only. Contract:
// * matmul: 1-D·1-D → scalar, 2-D·2-D → [n, m], N-D with batch dims broadcast (NumPy rules);
//   1-D operands are promoted as in NumPy and the added dim removed.
// * bmm: [B, n, k] · [B, k, m] → [B, n, m] (no broadcasting).
// * linear: x [..., in] · wᵀ [out, in] + b [out] → [..., out] (PyTorch layout); b optional.
// * cuBLAS runs in pedantic FP32 (no TF32) so CPU and CUDA agree to fp32 rounding.
#pragma once

#include "core/tensor.h"

namespace pg {

Tensor matmul(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace pg
