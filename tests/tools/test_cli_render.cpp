// pg render end to end: the picture decodes, has one square view per azimuth, and the highlight
// obeys the depth test (a sampled point in front is drawn, one behind the cloud is hidden).
#include <png.h>

#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <unistd.h>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tools/cli_test_util.h"

#ifdef PG_CLI_BINARY

namespace {

struct Decoded {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;
};

Decoded decode_png(const std::string& path) {
  png_image img{};
  img.version = PNG_IMAGE_VERSION;
  Decoded d;
  if (!png_image_begin_read_from_file(&img, path.c_str())) return d;
  img.format = PNG_FORMAT_RGB;
  d.rgb.resize(PNG_IMAGE_SIZE(img));
  if (!png_image_finish_read(&img, nullptr, d.rgb.data(), 0, nullptr)) return {};
  d.width = static_cast<int>(img.width);
  d.height = static_cast<int>(img.height);
  return d;
}

// Strongly red pixels: the highlight colour, never produced by the grey cloud or the background.
int red_pixels(const Decoded& d) {
  int n = 0;
  for (size_t i = 0; i + 2 < d.rgb.size(); i += 3)
    if (d.rgb[i] > 100 && d.rgb[i + 1] < 80 && d.rgb[i + 2] < 80) ++n;
  return n;
}

void write_xyz(const std::filesystem::path& p, const std::vector<std::array<float, 3>>& pts) {
  std::ofstream f(p);
  for (const auto& q : pts) f << q[0] << ' ' << q[1] << ' ' << q[2] << '\n';
}

// Points on the unit sphere (a Fibonacci lattice), so both poles of z are covered.
std::vector<std::array<float, 3>> sphere(int n) {
  std::vector<std::array<float, 3>> pts;
  for (int i = 0; i < n; ++i) {
    const float y = 1.f - 2.f * (i + 0.5f) / n, r = std::sqrt(1.f - y * y), phi = 2.39996323f * i;
    pts.push_back({r * std::cos(phi), y, r * std::sin(phi)});
  }
  return pts;
}

}  // namespace

TEST_CASE("pg render draws views and depth-tests the highlight", "[cli][render]") {
  const auto dir = std::filesystem::temp_directory_path() / ("pg_render_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_xyz(dir / "cloud.xyz", sphere(2000));
  write_xyz(dir / "front.xyz", {{0.f, 0.f, 1.f}});
  write_xyz(dir / "back.xyz", {{0.f, 0.f, -1.f}});
  const std::string out = (dir / "a.png").string();

  auto r = pg::test::run_pg({"render", (dir / "cloud.xyz").string(), out, "--azimuth", "0,90", "--size", "96"});
  REQUIRE(r.exit_code == 0);
  Decoded plain = decode_png(out);
  REQUIRE(plain.width == 192);
  REQUIRE(plain.height == 96);
  CHECK(red_pixels(plain) == 0);
  int drawn = 0;  // the cloud covers a good part of each view and leaves a white border
  for (size_t i = 0; i < plain.rgb.size(); i += 3) drawn += plain.rgb[i] < 250;
  CHECK(drawn > 192 * 96 / 5);
  CHECK(plain.rgb[0] == 255);

  r = pg::test::run_pg({"render", (dir / "cloud.xyz").string(), out, "--azimuth", "0", "--elevation", "0", "--size",
                        "96", "--highlight", (dir / "front.xyz").string()});
  REQUIRE(r.exit_code == 0);
  const Decoded front = decode_png(out);
  CHECK(red_pixels(front) > 10);
  // The front point projects to the view's centre.
  const size_t centre = (48u * 96u + 48u) * 3u;
  CHECK(front.rgb[centre] > 100);
  CHECK(front.rgb[centre + 1] < 80);

  r = pg::test::run_pg({"render", (dir / "cloud.xyz").string(), out, "--azimuth", "0", "--elevation", "0", "--size",
                        "96", "--highlight", (dir / "back.xyz").string()});
  REQUIRE(r.exit_code == 0);
  CHECK(red_pixels(decode_png(out)) == 0);
  // Turned half-way round, the same point faces the viewer.
  r = pg::test::run_pg({"render", (dir / "cloud.xyz").string(), out, "--azimuth", "180", "--elevation", "0",
                        "--size", "96", "--highlight", (dir / "back.xyz").string()});
  REQUIRE(r.exit_code == 0);
  CHECK(red_pixels(decode_png(out)) > 10);

  r = pg::test::run_pg({"render", (dir / "cloud.xyz").string(), (dir / "a.jpg").string()});
  CHECK(r.exit_code != 0);
  CHECK(r.all().find(".png") != std::string::npos);
  r = pg::test::run_pg({"render", (dir / "missing.xyz").string(), out});
  CHECK(r.exit_code != 0);
  CHECK(r.all().find("missing.xyz") != std::string::npos);
  std::filesystem::remove_all(dir);
}

#endif
