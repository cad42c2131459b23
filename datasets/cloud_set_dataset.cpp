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

CloudSetDataset::CloudSetDataset(PointCloudSet set, std::string name) : set_(std::move(set)), name_(std::move(name)) {
  PG_CHECK(set_.points.defined() && set_.points.dim() == 3 && set_.points.size(2) == 3 &&
               set_.points.dtype() == DType::f32 && set_.points.is_cpu(),
           name_, ": points must be float32 [N, P, 3] on the CPU");
  PG_CHECK(set_.labels.defined() && set_.labels.dim() == 1 && set_.labels.size(0) == set_.points.size(0) &&
               set_.labels.dtype() == DType::i64 && set_.labels.is_cpu(),
           name_, ": labels must be int64 [N] on the CPU with N = ", set_.points.size(0));
  PG_CHECK(set_.size() > 0, name_, ": the set has no shapes");
}

Example CloudSetDataset::get(int64_t i) const {
  PG_CHECK(i >= 0 && i < size(), describe(), ": item ", i, " is outside [0, ", size(), ")");
  Example e;
  e["points"] = copy_row(set_.points, i);
  e["label"] = copy_row(set_.labels, i);
  return e;
}

std::string CloudSetDataset::describe() const {
  return name_ + " (" + std::to_string(set_.size()) + " shapes, " + std::to_string(set_.num_points()) + " points, " +
         std::to_string(set_.num_classes()) + " classes)";
}

}  // namespace pg::datasets
