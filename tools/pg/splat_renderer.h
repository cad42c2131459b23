// Orthographic splat rendering of point clouds, for figures like the sampling papers' (a grey
// cloud with the sampled points drawn larger in a strong colour).
//
// Contract: points are float xyz triples (x right, y up, z towards the viewer before rotation).
// Both sets are normalised together (bounding-box centre to the origin, the farthest base point
// to radius 1), so a subset lands exactly on the cloud it came from. Each view rotates the
// cloud by an azimuth about y and then an elevation about x, projects orthographically, and
// draws depth-tested discs; nearer points are drawn brighter. Highlighted points are tested
// against the base cloud drawn as a closed surface (discs as wide as the mean point spacing)
// with a tolerance of their own radius, so a sampled point that coincides with an input point
// is drawn on top of it, while one on the far side stays hidden even behind a sparse cloud.
#pragma once

#include <cstdint>
#include <vector>

namespace pg::cli {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // row-major, 3 bytes per pixel, top row first
};

struct SplatStyle {
  int view_size = 384;               // pixels per (square) view
  std::vector<float> azimuths_deg = {-45.f, 45.f, 135.f};  // one view per entry, left to right
  float elevation_deg = 25.f;
  float point_radius_px = 0.f;       // 0: chosen from view_size and the number of points
  float highlight_radius_px = 0.f;   // 0: 2.2 × point radius
  uint8_t base_rgb[3] = {150, 156, 166};
  uint8_t highlight_rgb[3] = {214, 39, 40};
};

// Renders one row of views. `base` and `highlight` hold 3·n floats; `highlight` may be empty.
// Throws pg::Error on an empty base cloud, non-finite coordinates or a bad style.
RgbImage render_splats(const std::vector<float>& base, const std::vector<float>& highlight, const SplatStyle& style);

}  // namespace pg::cli
