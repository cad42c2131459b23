#include "ops/check.h"
#include "ops/view.h"

#include "core/parallel_for.h"
#include "kernels/knn.h"

namespace pg::check {

namespace {
// "float32 [2, 3] on cpu": what a mismatch message shows of each operand.
std::string describe(const Tensor& t) {
  return detail::concat(dtype_name(t.dtype()), " ", shape_str(t.shape()), " on ", t.device().str());
}
}  // namespace

void defined(const char* op, const char* name, const Tensor& t) {
  PG_CHECK(t.defined(), op, ": ", name, " is an undefined tensor");
}

void floating(const char* op, const char* name, const Tensor& t) {
  defined(op, name, t);
  PG_CHECK(is_floating(t.dtype()), op, ": ", name, " must be float32 or float64, got ", dtype_name(t.dtype()));
}

void dtype(const char* op, const char* name, const Tensor& t, DType want) {
  defined(op, name, t);
  PG_CHECK(t.dtype() == want, op, ": ", name, " must be ", dtype_name(want), ", got ", dtype_name(t.dtype()));
}

void index_dtype(const char* op, const char* name, const Tensor& t) {
  defined(op, name, t);
  PG_CHECK(t.dtype() == DType::i64 || t.dtype() == DType::i32, op, ": ", name, " must be int64 or int32, got ",
           dtype_name(t.dtype()));
}

void numeric(const char* op, const char* name, const Tensor& t) {
  PG_CHECK(t.dtype() != DType::b8, op, ": ", name, " is bool, which is not supported (expected a numeric dtype)");
}

void rank(const char* op, const char* name, const Tensor& t, int64_t rank, const char* layout) {
  PG_CHECK(t.dim() == rank, op, ": ", name, " must be ", layout, ", got shape ", shape_str(t.shape()));
}

void cloud(const char* op, const char* name, const Tensor& t) {
  floating(op, name, t);
  PG_CHECK(t.dim() == 3 && t.size(2) == 3, op, ": ", name, " must be a [B, n, 3] point cloud, got shape ",
           shape_str(t.shape()));
  PG_CHECK(t.size(0) >= 1, op, ": ", name, " has an empty batch (shape ", shape_str(t.shape()), ")");
  PG_CHECK(t.size(1) >= 1, op, ": ", name, " is an empty cloud (shape ", shape_str(t.shape()), ")");
  PG_CHECK(t.size(1) < (int64_t(1) << 31), op, ": ", name, " has ", t.size(1),
           " points per cloud; at most 2^31 - 1 are supported");
}

void points(const char* op, const char* name, const Tensor& t) {
  floating(op, name, t);
  PG_CHECK(t.dim() == 2 && t.size(1) == 3, op, ": ", name, " must be an [n, 3] point set, got shape ",
           shape_str(t.shape()));
}

void same_device(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b) {
  defined(op, name_a, a);
  defined(op, name_b, b);
  PG_CHECK(a.device() == b.device(), op, ": device mismatch: ", name_a, " is ", describe(a), " but ", name_b, " is ",
           describe(b), " (move one with .to(device); there are no implicit transfers)");
}

void same_dtype(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b) {
  defined(op, name_a, a);
  defined(op, name_b, b);
  PG_CHECK(a.dtype() == b.dtype(), op, ": dtype mismatch: ", name_a, " is ", describe(a), " but ", name_b, " is ",
           describe(b), " (no implicit promotion; convert with .to(dtype))");
}

void same_as(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b) {
  same_device(op, name_a, a, name_b, b);
  same_dtype(op, name_a, a, name_b, b);
}

void same_shape(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b) {
  PG_CHECK(a.shape() == b.shape(), op, ": ", name_a, " and ", name_b, " must have the same shape, got ",
           shape_str(a.shape()), " and ", shape_str(b.shape()));
}

void cloud_pair(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b) {
  cloud(op, name_a, a);
  cloud(op, name_b, b);
  same_as(op, name_a, a, name_b, b);
  PG_CHECK(a.size(0) == b.size(0), op, ": batch sizes differ: ", name_a, " has ", a.size(0), " clouds, ", name_b,
           " has ", b.size(0));
}

void index_range(const char* op, const char* name, const Tensor& index, int64_t size, const std::string& what) {
  if (index.numel() == 0) return;
  auto fail = [&](int64_t v) {
    if (size == 0) {
      PG_FAIL(op, ": ", name, " ", v, " is out of range: ", what, " is 0 (no index is valid)");
    }
    PG_FAIL(op, ": ", name, " ", v, " is out of range for ", what, " = ", size, " (valid range 0..", size - 1, ")");
  };
  if (index.is_cpu() && index.is_contiguous()) {
    dispatch_index(index.dtype(), op, [&]<class I>() {
      const I* p = static_cast<const I*>(index.raw_data());
      const int64_t n = index.numel();
      for (int64_t i = 0; i < n; ++i) {
        const int64_t v = static_cast<int64_t>(p[i]);
        if (v < 0 || v >= size) fail(v);
      }
    });
    return;
  }
  for (int64_t v : index.to_vector<int64_t>()) {
    if (v < 0 || v >= size) fail(v);
  }
}

void on_cpu(const char* op, const char* name, const Tensor& t) {
  PG_CHECK(t.is_cpu(), op, ": runs on the CPU only (", name, " is on ", t.device().str(), ")");
}

void contiguous_buffer(const char* op, const char* name, const Tensor& t) {
  PG_CHECK(t.is_contiguous(), op, ": ", name, " must be contiguous (it is updated in place), got shape ",
           shape_str(t.shape()), " with strides ", shape_str(t.strides()));
}

void finite(const char* op, const char* name, const Tensor& t) {
  if (t.numel() == 0) return;
  const Tensor c = t.is_contiguous() ? t : t.detach().contiguous();
  const bool ok = on_backend(c.device(), op, [&]<class B>() { return kernels::all_finite<B>(c); });
  PG_CHECK(ok, op, ": ", name, " contains NaN or Inf values");
}

}  // namespace pg::check
