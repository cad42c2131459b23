#include "datasets/h5_clouds.h"

#include <cmath>

#include "core/error.h"

namespace pg::datasets {

std::string h5_where(const H5File& f, const std::string& name) {
  return "file '" + f.path() + "', dataset '" + name + "'";
}

void check_finite_clouds(const Tensor& clouds, const std::string& where) {
  PG_CHECK(clouds.dim() == 3 && clouds.dtype() == DType::f32 && clouds.is_contiguous(), where,
           ": check_finite_clouds expects a contiguous float32 [N, P, 3] stack");
  const int64_t p = clouds.size(1);
  const auto* x = clouds.data<float>();
  const int64_t total = clouds.numel();
  for (int64_t i = 0; i < total; ++i) {
    if (!std::isfinite(x[i])) {
      PG_FAIL(where, ": non-finite coordinate ", x[i], " in shape ", i / (p * 3), ", point ", (i / 3) % p,
              " (corrupt file?)");
    }
  }
}

Tensor read_cloud_stack(const H5File& f, const std::string& name, const CloudStackSpec& spec) {
  const std::string where = h5_where(f, name);
  PG_CHECK(f.is_dataset(name), where, ": not found");
  const Shape s = f.shape(name);
  const H5TypeInfo t = f.type(name);
  const bool is_f32 = t.kind == H5TypeInfo::Kind::floating && t.size == 4;
  const bool is_f64 = t.kind == H5TypeInfo::Kind::floating && t.size == 8;
  PG_CHECK(is_f32 || (spec.allow_double && is_f64), where, ": wrong dtype: stored as ", t.describe(), ", expected ",
           spec.allow_double ? "float32 or float64" : "float32");
  PG_CHECK(s.size() == 3, where, ": wrong rank: shape ", shape_str(s), ", expected [N, P, 3]");
  PG_CHECK(s[2] == 3, where, ": wrong shape ", shape_str(s), ", expected [N, P, 3] (xyz in the last dim)");
  PG_CHECK(s[1] >= 1, where, ": shape ", shape_str(s), " has no points per shape");
  PG_CHECK(spec.points < 0 || s[1] == spec.points, where, ": wrong shape ", shape_str(s), ", expected [N, ",
           spec.points, ", 3]");
  int64_t p = s[1];
  if (spec.max_points >= 0) {
    PG_CHECK(spec.max_points >= 1 && spec.max_points <= p, where, ": asked for the first ", spec.max_points,
             " points but each shape has ", p);
    p = spec.max_points;
  }
  Tensor out = p == s[1] ? f.read_as(name, DType::f32) : f.read_slab(name, {0, 0, 0}, {s[0], p, 3}, DType::f32);
  if (spec.check_finite) check_finite_clouds(out, where);
  return out;
}

}  // namespace pg::datasets
