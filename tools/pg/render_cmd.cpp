// pg render: a PNG picture of a point cloud, optionally with a sample of it highlighted.
//   pg render IN OUT.png [--highlight SAMPLE] [--index I] [--highlight-index J] [--dataset NAME]
//             [--azimuth A,B,...] [--elevation E] [--size PX] [--point-radius R]
// IN and SAMPLE: .xyz/.txt/.pts, .ply, .off (vertices) or .h5/.hdf5 (one cloud by index; the
// sample's index defaults to IN's). One orthographic view per azimuth, side by side.
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/pointcloud_io.h"
#include "ops/view.h"
#include "tools/pg/commands.h"
#include "tools/pg/png_writer.h"
#include "tools/pg/splat_renderer.h"

namespace pg::cli {

namespace {

struct RenderCli {
  std::string in, out, highlight, dataset = "data";
  int64_t index = 0, highlight_index = -1;
  std::vector<float> azimuths = {-45.f, 45.f, 135.f};
  float elevation = 25.f, point_radius = 0.f;
  int size = 384;
};

std::vector<float> read_cloud(const std::string& path, const std::string& dataset, int64_t index) {
  datasets::CloudReadOptions ro;
  ro.dataset = dataset;
  ro.index = index;
  return datasets::read_point_cloud(path, ro).contiguous().to_vector<float>();
}

void run_render(const RenderCli& c) {
  const std::vector<float> base = read_cloud(c.in, c.dataset, c.index);
  std::vector<float> sample;
  if (!c.highlight.empty())
    sample = read_cloud(c.highlight, c.dataset, c.highlight_index >= 0 ? c.highlight_index : c.index);
  SplatStyle style;
  style.view_size = c.size;
  style.azimuths_deg = c.azimuths;
  style.elevation_deg = c.elevation;
  style.point_radius_px = c.point_radius;
  const RgbImage img = render_splats(base, sample, style);
  write_png(c.out, img);
  std::printf("pg render: %zu points", base.size() / 3);
  if (!sample.empty()) std::printf(", %zu highlighted", sample.size() / 3);
  std::printf(", %zu view(s) -> %s (%d x %d)\n", c.azimuths.size(), c.out.c_str(), img.width, img.height);
}

}  // namespace

void register_render(CLI::App& app) {
  static RenderCli c;
  auto* cmd = app.add_subcommand("render", "Draw a cloud (and a highlighted sample of it) into a PNG picture");
  cmd->add_option("IN", c.in, "input cloud (.xyz/.txt/.pts, .ply, .off, .h5)")->required();
  cmd->add_option("OUT", c.out, "output picture (.png)")->required();
  cmd->add_option("--highlight", c.highlight, "a cloud of sampled points to draw larger, in red");
  cmd->add_option("--index", c.index, "cloud index in an .h5 input")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--highlight-index", c.highlight_index, "cloud index in an .h5 highlight file (default: --index)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--dataset", c.dataset, "HDF5 dataset name of .h5 files")->capture_default_str();
  cmd->add_option("--azimuth", c.azimuths, "view azimuths in degrees about the vertical axis, one view each")
      ->delimiter(',')->capture_default_str();
  cmd->add_option("--elevation", c.elevation, "view elevation in degrees")->capture_default_str()
      ->check(CLI::Range(-90.f, 90.f));
  cmd->add_option("--size", c.size, "pixels per square view")->capture_default_str()->check(CLI::Range(16, 4096));
  cmd->add_option("--point-radius", c.point_radius, "splat radius in pixels (0: from size and point count)")
      ->capture_default_str()->check(CLI::Range(0.f, 64.f));
  cmd->callback([] {
    PG_CHECK(c.out.size() > 4 && c.out.substr(c.out.size() - 4) == ".png", "pg render: OUT '", c.out,
             "' must end in .png");
    run_render(c);
  });
}

}  // namespace pg::cli
