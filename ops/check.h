// Shared input validation of the ops. Every check throws pg::Error whose message starts with
// "<op>: <name>" and shows the offending value (dtype, device or shape), e.g.
//   knn: query must be a [B, n, 3] point cloud, got shape [2, 5]
//   chamfer: device mismatch: a is float32 [2, 5, 3] on cpu but b is float32 [2, 4, 3] on cuda:0 (...)
//   bmm: dtype mismatch: a is float32 [2, 3, 4] on cpu but b is float64 [2, 4, 5] on cpu (...)
// `op` is the public op name users called, `name` the argument's name in that op's header.
// Each op still checks its own op-specific conditions (k <= N, radius > 0, ...) with PG_CHECK.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"

namespace pg::check {

// t is a defined tensor.
void defined(const char* op, const char* name, const Tensor& t);
// t is defined and float32 or float64.
void floating(const char* op, const char* name, const Tensor& t);
// t is defined and has exactly dtype `want`.
void dtype(const char* op, const char* name, const Tensor& t, DType want);
// t is defined and int64 or int32 (index and class-label tensors).
void index_dtype(const char* op, const char* name, const Tensor& t);
// t is not bool (the arithmetic ops accept every numeric dtype).
void numeric(const char* op, const char* name, const Tensor& t);
// t has rank `rank`; `layout` is the expected shape as users read it, e.g. "[B, N, C]".
void rank(const char* op, const char* name, const Tensor& t, int64_t rank, const char* layout);

// A batch of clouds: defined, float32/float64, shape [B, n, 3] with B >= 1 and 1 <= n < 2^31.
void cloud(const char* op, const char* name, const Tensor& t);
// One cloud without a batch dim: defined, float32/float64, shape [n, 3] (n may be 0).
void points(const char* op, const char* name, const Tensor& t);

// a and b are defined and live on the same device.
void same_device(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b);
// a and b are defined and have the same dtype.
void same_dtype(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b);
// Same device, then same dtype (a device mismatch is the more fundamental error).
void same_as(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b);
// a and b have the same shape.
void same_shape(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b);
// Two clouds checked with cloud(): same device, dtype and batch size.
void cloud_pair(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b);

// Every value of integer tensor `index` lies in [0, size); otherwise throws
// "<op>: <name> <v> is out of range for <what> = <size> (valid range 0..<size-1>)" naming the first
// offending value. CPU contiguous indices are read in place; others are copied to the host
// (on CUDA this synchronises).
void index_range(const char* op, const char* name, const Tensor& index, int64_t size, const std::string& what);

// t lives in host memory (ops without a CUDA path).
void on_cpu(const char* op, const char* name, const Tensor& t);
// t's storage can be indexed as dense row-major memory (buffers updated in place).
void contiguous_buffer(const char* op, const char* name, const Tensor& t);
// Every element of floating t is finite. One reduction on t's device (on CUDA plus a 4-byte
// copy to the host, so the check synchronises).
void finite(const char* op, const char* name, const Tensor& t);

}  // namespace pg::check
