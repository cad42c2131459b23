// Validated reads of point-cloud stacks from HDF5: the checks every reader (ModelNet40,
// ShapeNet, PU-147, consistent shapes) shares, with the same messages everywhere.
//
//   read_cloud_stack(f, name, spec) → float32 [N, P, 3] (CPU, contiguous)
// Errors (pg::Error starting "file '<path>', dataset '<name>'"): not found; wrong dtype (float32
// required, float64 too when spec.allow_double; converted to float32); wrong rank (≠ 3); wrong
// shape (last dim ≠ 3, or P ≠ spec.points when given); no points (P = 0); more points asked for
// (spec.max_points) than stored; non-finite coordinate (naming the cloud and point index) when
// spec.check_finite; plus H5File's truncated/corrupt-file errors.
#pragma once

#include <cstdint>
#include <string>

#include "core/tensor.h"
#include "datasets/h5_file.h"

namespace pg::datasets {

struct CloudStackSpec {
  bool allow_double = false;  // accept float64 storage (read as float32)
  int64_t points = -1;        // required points per cloud (-1: any)
  int64_t max_points = -1;    // read only the first k points of every cloud (-1: all)
  bool check_finite = true;   // reject NaN/Inf coordinates
};

// "file '<path>', dataset '<name>'".
std::string h5_where(const H5File& f, const std::string& name);

Tensor read_cloud_stack(const H5File& f, const std::string& name, const CloudStackSpec& spec = {});

// Throws naming `where`, the cloud and the point when a float32 [N, P, 3] stack holds NaN/Inf.
void check_finite_clouds(const Tensor& clouds, const std::string& where);

}  // namespace pg::datasets
