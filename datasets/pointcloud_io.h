// Point-cloud and mesh files: .xyz, .ply, .off and HDF5 collections.
//
// Formats read:
//   .xyz/.txt/.pts  one point per line, whitespace-separated "x y z [more columns ignored]";
//                   blank lines and lines starting with '#' are skipped.
//   .ply            ASCII, binary_little_endian and binary_big_endian; the `vertex` element's
//                   x/y/z (any numeric type) are read, other vertex properties and other
//                   elements are skipped, except `face` (list property vertex_indices or
//                   vertex_index), which is read into Mesh::faces.
//   .off            OFF / COFF / NOFF / CNOFF, also the "OFF<V> <F> <E>" one-line header some
//                   ModelNet files have; '#' comments; faces "n i1 .. in [colour]".
//   .h5/.hdf5       a dataset (default `data`) [N, M, 3] (one cloud selected by `index`) or
//                   [M, 3]; float32 or float64.
// Every reader validates counts, indices, truncation and non-finite coordinates and throws
// pg::Error naming the file (and the line or dataset). Writers are atomic (temporary + rename).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg::datasets {

struct Mesh {
  Tensor vertices;                          // [V, 3] float32, CPU
  std::vector<std::vector<int64_t>> faces;  // polygons as vertex indices (empty for clouds)
};

Tensor read_xyz(const std::string& path);
void write_xyz(const std::string& path, const Tensor& points);

Mesh read_ply(const std::string& path);
// Binary little-endian (float32 x, y, z) unless ascii; faces optional.
void write_ply(const std::string& path, const Tensor& points, bool binary = true,
               const std::vector<std::vector<int64_t>>& faces = {});

Mesh read_off(const std::string& path);
void write_off(const std::string& path, const Mesh& mesh);

// One cloud [M, 3] float32 from an HDF5 dataset [N, M, 3] (row `index`) or [M, 3] (index 0).
Tensor read_h5_cloud(const std::string& path, const std::string& dataset = "data", int64_t index = 0);
// Number of clouds in an HDF5 dataset ([N, M, 3] → N, [M, 3] → 1).
int64_t count_h5_clouds(const std::string& path, const std::string& dataset = "data");
// Writes clouds [N, M, 3] (or one cloud [M, 3] as [1, M, 3]) as float32 to `dataset`.
void write_h5_clouds(const std::string& path, const Tensor& clouds, const std::string& dataset = "data");

struct CloudReadOptions {
  std::string dataset = "data";  // HDF5 only
  int64_t index = 0;             // HDF5 only
};

// True when the path ends in .h5 or .hdf5 (case-insensitive): an HDF5 cloud file.
bool is_h5_path(const std::string& path);

// Dispatches on the extension (case-insensitive): xyz/txt/pts, ply, off, h5/hdf5. Returns the
// vertices [M, 3] float32 (a mesh's faces are dropped).
Tensor read_point_cloud(const std::string& path, const CloudReadOptions& opts = {});
// Writes [M, 3] points by extension (xyz, ply binary, off without faces, h5 as [1, M, 3]).
void write_point_cloud(const std::string& path, const Tensor& points);

}  // namespace pg::datasets
