#include "core/tensor.h"

#include <cmath>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "core/copy_kernels.h"

namespace pg {

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "]";
  return os.str();
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size(), 1);
  int64_t acc = 1;
  for (int64_t i = static_cast<int64_t>(s.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
  return st;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t lo = ndim == 0 ? -1 : -ndim;
  const int64_t hi = ndim == 0 ? 0 : ndim - 1;
  PG_CHECK(dim >= lo && dim <= hi, op, ": dim ", dim, " out of range for a tensor of rank ", ndim,
           " (expected ", lo, "..", hi, ")");
  return dim < 0 ? dim + std::max<int64_t>(ndim, 1) : dim;
}

const TensorImpl& Tensor::checked() const {
  PG_CHECK(impl_ != nullptr, "Tensor: use of an undefined tensor");
  return *impl_;
}

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "Tensor::size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "Tensor::stride")]; }

bool Tensor::is_contiguous() const {
  const auto& t = checked();
  int64_t expected = 1;
  for (int64_t i = static_cast<int64_t>(t.shape.size()) - 1; i >= 0; --i) {
    if (t.shape[i] == 1) continue;
    if (t.strides[i] != expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  const auto& t = checked();
  auto* base = static_cast<char*>(t.storage->data());
  if (base == nullptr) return nullptr;
  return base + t.offset * dtype_size(t.dtype);
}

Tensor& Tensor::requires_grad_(bool r) {
  auto& t = const_cast<TensorImpl&>(checked());
  PG_CHECK(t.grad_fn == nullptr || r, "requires_grad_: cannot clear requires_grad on a non-leaf tensor (use detach())");
  PG_CHECK(!r || is_floating(t.dtype), "requires_grad_: only floating tensors can require gradients, got ",
           dtype_name(t.dtype));
  t.requires_grad = r;
  return *this;
}

Tensor Tensor::grad() const { return Tensor(checked().grad); }

void Tensor::set_grad(const Tensor& g) const {
  auto& t = const_cast<TensorImpl&>(checked());
  if (g.defined()) {
    PG_CHECK(g.shape() == t.shape, "set_grad: gradient shape ", shape_str(g.shape()), " != tensor shape ",
             shape_str(t.shape));
    PG_CHECK(g.dtype() == t.dtype, "set_grad: gradient dtype ", dtype_name(g.dtype()), " != tensor dtype ",
             dtype_name(t.dtype));
    PG_CHECK(g.device() == device(), "set_grad: gradient on ", g.device(), " but tensor on ", device());
  }
  t.grad = g.impl_ptr();
}

void Tensor::zero_grad() const { const_cast<TensorImpl&>(checked()).grad.reset(); }

Tensor Tensor::detach() const {
  const auto& t = checked();
  return detail::make_view(*this, t.shape, t.strides, t.offset);
}

double Tensor::item_double() const {
  PG_CHECK(numel() == 1, "item: expected a tensor with one element, got shape ", shape_str(shape()));
  Tensor host = empty({}, TensorOptions(DType::f64, Device::cpu()));
  detail::copy_raw(host, detail::make_view(*this, {}, {}, offset()));
  return *host.data<double>();
}

int64_t Tensor::item_int() const {
  PG_CHECK(numel() == 1, "item: expected a tensor with one element, got shape ", shape_str(shape()));
  Tensor host = empty({}, TensorOptions(DType::i64, Device::cpu()));
  detail::copy_raw(host, detail::make_view(*this, {}, {}, offset()));
  return *host.data<int64_t>();
}

template <class T>
std::vector<T> Tensor::to_vector() const {
  Tensor host = empty(shape(), TensorOptions(dtype_v<T>, Device::cpu()));
  detail::copy_raw(host, *this);
  const T* p = host.data<T>();
  return std::vector<T>(p, p + host.numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;

namespace {

void render(std::ostream& os, const std::vector<double>& v, const Shape& shape, size_t dim, int64_t& pos,
            bool is_float, int indent) {
  constexpr int64_t kEdge = 3;
  if (dim == shape.size()) {
    const double x = v[pos++];
    if (is_float) {
      os << std::setprecision(6) << x;
    } else {
      os << static_cast<long long>(x);
    }
    return;
  }
  const int64_t n = shape[dim];
  const int64_t inner = shape_numel(Shape(shape.begin() + dim + 1, shape.end()));
  os << "[";
  for (int64_t i = 0; i < n; ++i) {
    if (n > 2 * kEdge && i == kEdge) {
      os << "...";
      pos += (n - 2 * kEdge) * inner;
      i = n - kEdge - 1;
      os << (dim + 1 == shape.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
      continue;
    }
    render(os, v, shape, dim + 1, pos, is_float, indent + 1);
    if (i + 1 < n) os << (dim + 1 == shape.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
  }
  os << "]";
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  const std::vector<double> v = to_vector<double>();
  int64_t pos = 0;
  os << "Tensor(";
  render(os, v, shape(), 0, pos, is_floating(dtype()), 7);
  os << ", shape=" << shape_str(shape()) << ", dtype=" << dtype_name(dtype()) << ", device=" << device();
  if (requires_grad()) os << ", requires_grad";
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

// ---- factories ----

Tensor empty(const Shape& shape, TensorOptions opts) {
  for (int64_t d : shape) PG_CHECK(d >= 0, "empty: negative dimension in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  const int64_t n = shape_numel(shape);
  impl->storage = make_storage(static_cast<size_t>(n) * dtype_size(opts.dtype), opts.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = opts.dtype;
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, double value, TensorOptions opts) {
  Tensor t = empty(shape, opts);
  detail::fill_raw(t, value);
  return t;
}

Tensor zeros(const Shape& shape, TensorOptions opts) { return full(shape, 0.0, opts); }
Tensor ones(const Shape& shape, TensorOptions opts) { return full(shape, 1.0, opts); }
Tensor scalar_tensor(double value, TensorOptions opts) { return full({}, value, opts); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), t.options()); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.options()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.options()); }
Tensor full_like(const Tensor& t, double value) { return full(t.shape(), value, t.options()); }

Tensor arange(int64_t end, TensorOptions opts) { return arange(0.0, static_cast<double>(end), 1.0, opts); }

Tensor arange(double start, double end, double step, TensorOptions opts) {
  PG_CHECK(step != 0.0, "arange: step must be non-zero");
  const double span = (end - start) / step;
  const int64_t n = span > 0 ? static_cast<int64_t>(std::ceil(span)) : 0;
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + step * static_cast<double>(i);
  Tensor host = from_vector(v, {n});
  Tensor out = empty({n}, opts);
  detail::copy_raw(out, host);
  return out;
}

template <class T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape, Device device) {
  PG_CHECK(shape_numel(shape) == static_cast<int64_t>(values.size()), "from_vector: ", values.size(),
           " values do not fill shape ", shape_str(shape));
  Tensor host = empty(shape, TensorOptions(dtype_v<T>, Device::cpu()));
  if (!values.empty()) std::memcpy(host.raw_data(), values.data(), values.size() * sizeof(T));
  if (device.is_cpu()) return host;
  Tensor out = empty(shape, TensorOptions(dtype_v<T>, device));
  detail::copy_raw(out, host);
  return out;
}
template Tensor from_vector<float>(const std::vector<float>&, const Shape&, Device);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&, Device);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, const Shape&, Device);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&, Device);
template Tensor from_vector<uint8_t>(const std::vector<uint8_t>&, const Shape&, Device);

Tensor tensor(std::initializer_list<double> values, TensorOptions opts) {
  return tensor(values, {static_cast<int64_t>(values.size())}, opts);
}

Tensor tensor(std::initializer_list<double> values, const Shape& shape, TensorOptions opts) {
  Tensor host = from_vector(std::vector<double>(values), shape);
  Tensor out = empty(shape, opts);
  detail::copy_raw(out, host);
  return out;
}

namespace detail {

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.storage();
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

}  // namespace detail

}  // namespace pg
