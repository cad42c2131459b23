// pg::Tensor: a cheap shared handle to a TensorImpl (storage, shape, strides, offset, dtype,
// autograd metadata). Views share storage. Shapes and strides are in elements, 64-bit.
//
// Member functions that create new tensors (views, conversions, copies), the in-place copy_/
// fill_ and backward() are sugar for free functions of higher layers (ops/view.h,
// autograd/engine.h). Core must not depend on those layers, so the methods are templates whose
// bodies make an unqualified call with a dependent argument: the call is resolved by
// argument-dependent lookup where the method is used, against the free function declared by the
// header that code includes (ops/ops.h or pointgrad.h). Core itself declares nothing that a
// higher layer defines; using such a method without including ops/view.h (or
// autograd/engine.h for backward) is a compile error naming the missing function.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/storage.h"

namespace pg {

namespace autograd {
class Node;
}

class Tensor;
using Shape = std::vector<int64_t>;

// The forwarding bodies of Tensor's layered methods (see the file comment). Each makes an
// unqualified call on a dependent argument, found by argument-dependent lookup at instantiation.
namespace tensor_sugar {
template <class T> T reshape_of(const T& x, const Shape& s) { return reshape(x, s); }
template <class T> T view_of(const T& x, const Shape& s) { return view(x, s); }
template <class T> T permute_of(const T& x, const std::vector<int64_t>& d) { return permute(x, d); }
template <class T> T transpose_of(const T& x, int64_t a, int64_t b) { return transpose(x, a, b); }
template <class T> T slice_of(const T& x, int64_t d, int64_t s, int64_t e, int64_t st) { return slice(x, d, s, e, st); }
template <class T> T select_of(const T& x, int64_t d, int64_t i) { return select(x, d, i); }
template <class T> T expand_of(const T& x, const Shape& s) { return expand(x, s); }
template <class T> T squeeze_of(const T& x, int64_t d) { return squeeze(x, d); }
template <class T> T squeeze_all_of(const T& x) { return squeeze(x); }
template <class T> T unsqueeze_of(const T& x, int64_t d) { return unsqueeze(x, d); }
template <class T> T flatten_of(const T& x, int64_t s, int64_t e) { return flatten(x, s, e); }
template <class T> T contiguous_of(const T& x) { return contiguous(x); }
template <class T> T clone_of(const T& x) { return clone(x); }
template <class T> T to_of(const T& x, DType t, Device d) { return to(x, t, d); }
template <class T> void copy_in(const T& x, const T& src) { copy_(x, src); }
template <class T> void fill_in(const T& x, double v) { fill_(x, v); }
template <class T> void backward_of(const T& root, const T& grad, bool retain) { tensor_backward(root, grad, retain); }
}  // namespace tensor_sugar

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);
// Wraps a possibly negative dim into [0, ndim); throws naming `op` when out of range.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

struct TensorImpl {
  Storage storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::f32;

  // Autograd metadata. A leaf has no grad_fn; a non-leaf's grad_fn produced it as its
  // `output_nr`-th output.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
  int output_nr = 0;
};

struct TensorOptions {
  DType dtype = DType::f32;
  Device device = Device::cpu();
  TensorOptions() = default;
  TensorOptions(DType t) : dtype(t) {}                 // NOLINT(implicit)
  TensorOptions(Device d) : device(d) {}               // NOLINT(implicit)
  TensorOptions(DType t, Device d) : dtype(t), device(d) {}
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  // ---- metadata ----
  const Shape& shape() const { return checked().shape; }
  const Shape& strides() const { return checked().strides; }
  int64_t dim() const { return static_cast<int64_t>(checked().shape.size()); }
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t offset() const { return checked().offset; }
  int64_t numel() const { return shape_numel(checked().shape); }
  DType dtype() const { return checked().dtype; }
  Device device() const { return checked().storage->device(); }
  bool is_cuda() const { return device().is_cuda(); }
  bool is_cpu() const { return device().is_cpu(); }
  bool is_contiguous() const;
  int64_t element_size() const { return dtype_size(dtype()); }
  TensorOptions options() const { return {dtype(), device()}; }

  const Storage& storage() const { return checked().storage; }
  // Address of element 0 (storage base + offset).
  void* raw_data() const;
  // Typed pointer to element 0; throws if T does not match dtype().
  template <class T>
  T* data() const {
    PG_CHECK(dtype_v<T> == dtype(), "Tensor::data: requested ", dtype_name(dtype_v<T>),
             " but the tensor is ", dtype_name(dtype()));
    return static_cast<T*>(raw_data());
  }

  uint64_t version() const { return storage()->version(); }
  // Marks an in-place modification (autograd checks saved tensors against it).
  void bump_version() const { storage()->bump_version(); }

  // ---- autograd ----
  bool requires_grad() const { return checked().requires_grad; }
  // Only leaves can be flagged; a non-leaf's flag is set by the op that created it.
  Tensor& requires_grad_(bool r = true);
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  // Drops the accumulated gradient (the next backward starts from nothing).
  void zero_grad() const;
  bool is_leaf() const { return checked().grad_fn == nullptr; }
  const std::shared_ptr<autograd::Node>& grad_fn() const { return checked().grad_fn; }
  // A view sharing storage with no autograd history and requires_grad = false.
  Tensor detach() const;
  // Backpropagates from this tensor (autograd/engine.h: autograd::backward).
  template <class T = Tensor>
  void backward(const T& grad = T(), bool retain_graph = false) const {
    tensor_sugar::backward_of<T>(*this, grad, retain_graph);
  }

  // ---- views (differentiable; ops/view.h) ----
  // reshape: a view when the strides allow, else a copy; view: always a view, throws if impossible.
  template <class T = Tensor> T reshape(const Shape& shape) const { return tensor_sugar::reshape_of<T>(*this, shape); }
  template <class T = Tensor> T view(const Shape& shape) const { return tensor_sugar::view_of<T>(*this, shape); }
  template <class T = Tensor> T permute(const std::vector<int64_t>& dims) const {
    return tensor_sugar::permute_of<T>(*this, dims);
  }
  template <class T = Tensor> T transpose(int64_t d0, int64_t d1) const {
    return tensor_sugar::transpose_of<T>(*this, d0, d1);
  }
  // 2-D transpose (a tensor of rank < 2 is returned as is).
  template <class T = Tensor> T t() const {
    PG_CHECK(dim() <= 2, "t: expects a tensor of rank <= 2, got rank ", dim());
    return dim() < 2 ? T(*this) : tensor_sugar::transpose_of<T>(*this, 0, 1);
  }
  template <class T = Tensor> T slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const {
    return tensor_sugar::slice_of<T>(*this, dim, start, end, step);
  }
  template <class T = Tensor> T select(int64_t dim, int64_t index) const {
    return tensor_sugar::select_of<T>(*this, dim, index);
  }
  template <class T = Tensor> T expand(const Shape& shape) const { return tensor_sugar::expand_of<T>(*this, shape); }
  template <class T = Tensor> T squeeze(int64_t dim) const { return tensor_sugar::squeeze_of<T>(*this, dim); }
  template <class T = Tensor> T squeeze() const { return tensor_sugar::squeeze_all_of<T>(*this); }
  template <class T = Tensor> T unsqueeze(int64_t dim) const { return tensor_sugar::unsqueeze_of<T>(*this, dim); }
  template <class T = Tensor> T flatten(int64_t start_dim = 0, int64_t end_dim = -1) const {
    return tensor_sugar::flatten_of<T>(*this, start_dim, end_dim);
  }

  // ---- copies and conversions (differentiable; ops/view.h) ----
  template <class T = Tensor> T contiguous() const { return tensor_sugar::contiguous_of<T>(*this); }
  template <class T = Tensor> T clone() const { return tensor_sugar::clone_of<T>(*this); }
  template <class T = Tensor> T to(Device device) const { return tensor_sugar::to_of<T>(*this, dtype(), device); }
  template <class T = Tensor> T to(DType dtype) const { return tensor_sugar::to_of<T>(*this, dtype, device()); }
  template <class T = Tensor> T to(DType dtype, Device device) const {
    return tensor_sugar::to_of<T>(*this, dtype, device);
  }

  // ---- in place (not differentiable; bump the version; ops/view.h) ----
  // copy_ broadcasts src, converts dtype and may cross devices.
  template <class T = Tensor> Tensor& copy_(const T& src) {
    tensor_sugar::copy_in<T>(*this, src);
    return *this;
  }
  template <class T = Tensor> Tensor& fill_(double value) {
    tensor_sugar::fill_in<T>(*this, value);
    return *this;
  }
  template <class T = Tensor> Tensor& zero_() { return fill_<T>(0.0); }

  // Value of a one-element tensor (any device) converted to T.
  template <class T = double>
  T item() const {
    return static_cast<T>(item_double());
  }
  double item_double() const;
  int64_t item_int() const;

  // Host copy of all elements in row-major order, converted to T.
  template <class T>
  std::vector<T> to_vector() const;

  // Readable rendering: shape, dtype, device and (abbreviated) values.
  std::string str() const;

 private:
  const TensorImpl& checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// ---- factories ----
Tensor empty(const Shape& shape, TensorOptions opts = {});
Tensor zeros(const Shape& shape, TensorOptions opts = {});
Tensor ones(const Shape& shape, TensorOptions opts = {});
Tensor full(const Shape& shape, double value, TensorOptions opts = {});
Tensor scalar_tensor(double value, TensorOptions opts = {});
// [start, end) with `step`; dtype defaults to int64 when not given.
Tensor arange(int64_t end, TensorOptions opts = TensorOptions(DType::i64));
Tensor arange(double start, double end, double step, TensorOptions opts = TensorOptions(DType::i64));
Tensor empty_like(const Tensor& t);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);

// Host data → tensor. The element type T sets the dtype unless opts.dtype differs (then the
// values are converted).
template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device = Device::cpu());
Tensor tensor(std::initializer_list<double> values, TensorOptions opts = {});
Tensor tensor(std::initializer_list<double> values, const Shape& shape, TensorOptions opts = {});

namespace detail {
// A new TensorImpl over `base`'s storage (no autograd history).
Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset);
// Raw (non-recording) copy of `src` into `dst`: broadcasting, dtype conversion and device
// transfer. Shapes must be broadcast-compatible with dst.
void copy_raw(const Tensor& dst, const Tensor& src);
// Raw fill.
void fill_raw(const Tensor& dst, double value);
}  // namespace detail

}  // namespace pg
