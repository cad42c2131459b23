#include "datasets/cloud_set_dataset.h"

#include <utility>

#include "core/error.h"

namespace pg::datasets {

Tensor copy_row(const Tensor& t, int64_t i) {
  PG_CHECK(t.defined() && t.dim() >= 1 && i >= 0 && i < t.size(0), "copy_row: row ", i, " outside a tensor of shape ",
           t.defined() ? shape_str(t.shape()) : std::string("(undefined)"));
  const Shape shape(t.shape().begin() + 1, t.shape().end());
  const Shape strides(t.strides().begin() + 1, t.strides().end());
  const Tensor row = detail::make_view(t, shape, strides, t.offset() + i * t.stride(0));
  Tensor out = empty(shape, TensorOptions(t.dtype(), Device::cpu()));
  detail::copy_raw(out, row);
  return out;
}

CloudSetDataset::CloudSetDataset(PointCloudSet set, std::string name, int64_t num_points)
    : set_(std::move(set)), name_(std::move(name)) {
  PG_CHECK(set_.points.defined() && set_.points.dim() == 3 && set_.points.size(2) == 3 &&
               set_.points.dtype() == DType::f32 && set_.points.is_cpu(),
           name_, ": points must be float32 [N, P, 3] on the CPU");
  PG_CHECK(set_.labels.defined() && set_.labels.dim() == 1 && set_.labels.size(0) == set_.points.size(0) &&
               is_integral(set_.labels.dtype()) && set_.labels.is_cpu(),
           name_, ": labels must be integers [N] on the CPU with N = ", set_.points.size(0));
  PG_CHECK(set_.size() > 0, name_, ": the set has no shapes");
  if (set_.labels.dtype() != DType::i64) {
    Tensor l = empty(set_.labels.shape(), TensorOptions(DType::i64, Device::cpu()));
    detail::copy_raw(l, set_.labels);
    set_.labels = l;
  }
  const int64_t p = set_.num_points();
  PG_CHECK(num_points == -1 || (num_points >= 1 && num_points <= p), name_, ": num_points ", num_points,
           " is outside 1..", p, " (the stored points per shape; -1 takes all)");
  k_ = num_points == -1 ? p : num_points;
}

Example CloudSetDataset::get(int64_t i) const {
  PG_CHECK(i >= 0 && i < size(), describe(), ": item ", i, " is outside [0, ", size(), ")");
  Example e;
  const Tensor& pts = set_.points;
  // Shape i, first k points: a [k, 3] view, copied.
  const Tensor first_k = detail::make_view(pts, {k_, 3}, {pts.stride(1), pts.stride(2)}, pts.offset() + i * pts.stride(0));
  Tensor out = empty({k_, 3}, TensorOptions(DType::f32, Device::cpu()));
  detail::copy_raw(out, first_k);
  e["points"] = out;
  e["label"] = copy_row(set_.labels, i);
  return e;
}

std::string CloudSetDataset::describe() const {
  return name_ + " (" + std::to_string(set_.size()) + " shapes, " + std::to_string(k_) + " points, " +
         std::to_string(set_.num_classes()) + " classes)";
}

}  // namespace pg::datasets
