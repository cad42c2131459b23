#include "tools/pg/splat_renderer.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace pg::cli {

namespace {

constexpr float kPi = 3.14159265358979f;
constexpr float kMargin = 1.08f;  // the unit ball plus a little space fills a view

struct Normaliser {
  float centre[3] = {0, 0, 0};
  float inv_radius = 1;
};

Normaliser fit_unit_ball(const std::vector<float>& pts) {
  float lo[3], hi[3];
  for (int d = 0; d < 3; ++d) {
    lo[d] = std::numeric_limits<float>::infinity();
    hi[d] = -lo[d];
  }
  for (size_t i = 0; i < pts.size(); i += 3)
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::min(lo[d], pts[i + d]);
      hi[d] = std::max(hi[d], pts[i + d]);
    }
  Normaliser n;
  for (int d = 0; d < 3; ++d) n.centre[d] = 0.5f * (lo[d] + hi[d]);
  float r2 = 0;
  for (size_t i = 0; i < pts.size(); i += 3) {
    float s = 0;
    for (int d = 0; d < 3; ++d) s += (pts[i + d] - n.centre[d]) * (pts[i + d] - n.centre[d]);
    r2 = std::max(r2, s);
  }
  n.inv_radius = r2 > 0 ? 1.f / std::sqrt(r2) : 1.f;  // a single point (or all equal) stays put
  return n;
}

void check_points(const std::vector<float>& pts, const char* what) {
  PG_CHECK(pts.size() % 3 == 0, "render: the ", what, " cloud must hold xyz triples");
  for (const float v : pts) PG_CHECK(std::isfinite(v), "render: the ", what, " cloud has a non-finite coordinate");
}

// A point in view space: pixel centre, depth (larger is nearer).
struct Projected {
  float px, py, z;
};

class ViewProjector {
 public:
  ViewProjector(const Normaliser& n, float azimuth_deg, float elevation_deg, int size)
      : n_(n), size_(size) {
    const float a = azimuth_deg * kPi / 180.f, e = elevation_deg * kPi / 180.f;
    ca_ = std::cos(a), sa_ = std::sin(a), ce_ = std::cos(e), se_ = std::sin(e);
    scale_ = 0.5f * static_cast<float>(size) / kMargin;
  }
  Projected operator()(const float* p) const {
    const float x = (p[0] - n_.centre[0]) * n_.inv_radius, y = (p[1] - n_.centre[1]) * n_.inv_radius,
                z = (p[2] - n_.centre[2]) * n_.inv_radius;
    const float x1 = ca_ * x + sa_ * z, z1 = -sa_ * x + ca_ * z;  // azimuth about y
    const float y2 = ce_ * y - se_ * z1, z2 = se_ * y + ce_ * z1;  // elevation about x
    const float half = 0.5f * static_cast<float>(size_);
    return {half + x1 * scale_, half - y2 * scale_, z2};
  }
  float pixels_per_unit() const { return scale_; }

 private:
  Normaliser n_;
  int size_;
  float ca_, sa_, ce_, se_, scale_;
};

// The pixels of a disc of `radius` around p, with their squared distance in radii.
template <class Visit>
void for_disc(const Projected& p, float radius, int size, Visit&& visit) {
  const int xmin = std::max(0, static_cast<int>(std::floor(p.px - radius)));
  const int xmax = std::min(size - 1, static_cast<int>(std::ceil(p.px + radius)));
  const int ymin = std::max(0, static_cast<int>(std::floor(p.py - radius)));
  const int ymax = std::min(size - 1, static_cast<int>(std::ceil(p.py + radius)));
  for (int y = ymin; y <= ymax; ++y)
    for (int x = xmin; x <= xmax; ++x) {
      const float dx = static_cast<float>(x) + 0.5f - p.px, dy = static_cast<float>(y) + 0.5f - p.py;
      const float d2 = (dx * dx + dy * dy) / (radius * radius);
      if (d2 <= 1.f) visit(static_cast<size_t>(y) * size + x, d2);
    }
}

// One view's square inside the whole image.
struct Canvas {
  int size, stride, x0;
  RgbImage* img;

  // Colours pixel `at` as a lit sphere of colour `rgb`, darker when farther from the viewer.
  void shade(size_t at, float d2, float z, const uint8_t rgb[3]) {
    const float light = (0.55f + 0.45f * std::clamp(0.5f * (z + 1.f), 0.f, 1.f)) * (0.72f + 0.28f * std::sqrt(1.f - d2));
    const size_t y = at / size, x = at % size;
    uint8_t* px = &img->rgb[(y * stride + x0 + x) * 3];
    for (int c = 0; c < 3; ++c) px[c] = static_cast<uint8_t>(std::lround(std::min(255.f, rgb[c] * light)));
  }
};

}  // namespace

RgbImage render_splats(const std::vector<float>& base, const std::vector<float>& highlight, const SplatStyle& style) {
  check_points(base, "input");
  check_points(highlight, "highlight");
  PG_CHECK(!base.empty(), "render: the input cloud is empty");
  PG_CHECK(style.view_size >= 16 && style.view_size <= 4096, "render: view size ", style.view_size,
           " is outside 16..4096 pixels");
  PG_CHECK(!style.azimuths_deg.empty() && style.azimuths_deg.size() <= 16, "render: between 1 and 16 views, not ",
           style.azimuths_deg.size());
  const int64_t n = static_cast<int64_t>(base.size() / 3);
  const float auto_radius =
      std::clamp(static_cast<float>(style.view_size) / (2.5f * std::sqrt(static_cast<float>(n))), 1.2f,
                 static_cast<float>(style.view_size) / 80.f);
  const float r_base = style.point_radius_px > 0 ? style.point_radius_px : auto_radius;
  const float r_high = style.highlight_radius_px > 0 ? style.highlight_radius_px : 2.2f * r_base;

  const Normaliser norm = fit_unit_ball(base);
  RgbImage img;
  img.width = style.view_size * static_cast<int>(style.azimuths_deg.size());
  img.height = style.view_size;
  img.rgb.assign(static_cast<size_t>(img.width) * img.height * 3, 255);

  const float inf = std::numeric_limits<float>::infinity();
  const size_t pixels = static_cast<size_t>(style.view_size) * style.view_size;
  for (size_t v = 0; v < style.azimuths_deg.size(); ++v) {
    const ViewProjector project(norm, style.azimuths_deg[v], style.elevation_deg, style.view_size);
    Canvas canvas{style.view_size, img.width, static_cast<int>(v) * style.view_size, &img};
    std::vector<Projected> proj(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) proj[i] = project(&base[3 * i]);

    std::vector<float> zbuf(pixels, -inf);
    for (const Projected& p : proj)
      for_disc(p, r_base, style.view_size, [&](size_t at, float d2) {
        if (p.z < zbuf[at]) return;
        zbuf[at] = p.z;
        canvas.shade(at, d2, p.z, style.base_rgb);
      });
    if (highlight.empty()) continue;

    // Occlusion of highlights: the cloud as a closed surface. Small splats leave gaps through
    // which points on the far side would show, so the cloud is drawn again into a depth-only
    // buffer with discs as wide as the mean spacing of the visible half of the points.
    const float spacing = std::sqrt(2.f * kPi / static_cast<float>(n)) * project.pixels_per_unit();
    const float r_occlude = std::max(r_base, spacing);
    std::vector<float> occlusion(pixels, -inf);
    for (const Projected& p : proj)
      for_disc(p, r_occlude, style.view_size, [&](size_t at, float) { occlusion[at] = std::max(occlusion[at], p.z); });
    // Highlights may sit exactly on input points: they win against the cloud within their radius.
    const float tolerance = r_high / project.pixels_per_unit();
    std::vector<float> hbuf(pixels, -inf);
    for (size_t i = 0; i < highlight.size(); i += 3) {
      const Projected p = project(&highlight[i]);
      for_disc(p, r_high, style.view_size, [&](size_t at, float d2) {
        if (p.z + tolerance < occlusion[at] || p.z < hbuf[at]) return;
        hbuf[at] = p.z;
        canvas.shade(at, d2, p.z, style.highlight_rgb);
      });
    }
  }
  return img;
}

}  // namespace pg::cli
