#include "datasets/pointcloud_dataset.h"

#include <cstring>

#include "core/error.h"

namespace pg::datasets {

PointCloudDataset::PointCloudDataset(const PointCloudSet& set, int64_t num_points, std::string name)
    : class_names_(set.class_names), name_(std::move(name)) {
  const Tensor& points = set.points;
  const Tensor& labels = set.labels;
  PG_CHECK(points.defined() && labels.defined(), "PointCloudDataset (", name_, "): points and labels must be defined");
  PG_CHECK(points.dim() == 3 && points.size(2) == 3, "PointCloudDataset (", name_, "): points must be [N, P, 3], got ",
           shape_str(points.shape()));
  PG_CHECK(points.dtype() == DType::f32, "PointCloudDataset (", name_, "): points must be float32, got ",
           dtype_name(points.dtype()));
  PG_CHECK(labels.dim() == 1 && labels.size(0) == points.size(0), "PointCloudDataset (", name_,
           "): labels must be [N] with N = ", points.size(0), ", got ", shape_str(labels.shape()));
  PG_CHECK(is_integral(labels.dtype()), "PointCloudDataset (", name_, "): labels must be integers, got ",
           dtype_name(labels.dtype()));
  PG_CHECK(points.is_cpu() && labels.is_cpu(), "PointCloudDataset (", name_, "): the set must be in host memory");
  n_ = points.size(0);
  p_ = points.size(1);
  PG_CHECK(num_points == -1 || (num_points >= 1 && num_points <= p_), "PointCloudDataset (", name_, "): num_points ",
           num_points, " is outside 1..", p_, " (the stored points per shape; -1 takes all)");
  k_ = num_points == -1 ? p_ : num_points;
  if (points.is_contiguous()) {
    points_ = points;
  } else {
    points_ = empty(points.shape(), TensorOptions(DType::f32, Device::cpu()));
    detail::copy_raw(points_, points);
  }
  labels_ = empty({n_}, TensorOptions(DType::i64, Device::cpu()));
  detail::copy_raw(labels_, labels);
}

Example PointCloudDataset::get(int64_t i) const {
  PG_CHECK(i >= 0 && i < n_, "PointCloudDataset (", name_, "): item ", i, " is outside 0..", n_ - 1);
  Tensor pts = empty({k_, 3}, TensorOptions(DType::f32, Device::cpu()));
  std::memcpy(pts.data<float>(), points_.data<float>() + i * p_ * 3, static_cast<size_t>(k_ * 3) * sizeof(float));
  Tensor label = empty({}, TensorOptions(DType::i64, Device::cpu()));
  *label.data<int64_t>() = labels_.data<int64_t>()[i];
  return Example{{"points", pts}, {"label", label}};
}

std::string PointCloudDataset::describe() const {
  return name_ + " (" + std::to_string(n_) + " shapes, " + std::to_string(k_) + " points, " +
         std::to_string(class_names_.size()) + " classes)";
}

}  // namespace pg::datasets
