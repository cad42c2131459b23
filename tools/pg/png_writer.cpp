#include "tools/pg/png_writer.h"

#include <png.h>

#include <chrono>
#include <csetjmp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"

namespace pg::cli {

namespace {

// libpng reports errors by longjmp; everything that needs cleanup is owned outside the jump.
bool encode(FILE* f, const RgbImage& image, std::string& message) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (!png) {
    message = "libpng could not allocate a writer";
    return false;
  }
  png_infop info = png_create_info_struct(png);
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (int y = 0; y < image.height; ++y)
    rows[y] = const_cast<png_bytep>(&image.rgb[static_cast<size_t>(y) * image.width * 3]);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, info ? &info : nullptr);
    message = "libpng failed while encoding";
    return false;
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image.width), static_cast<png_uint_32>(image.height), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

void write_png(const std::string& path, const RgbImage& image) {
  PG_CHECK(image.width > 0 && image.height > 0 &&
               image.rgb.size() == static_cast<size_t>(image.width) * image.height * 3,
           "write_png: '", path, "': the image is empty or its pixel buffer has the wrong size");
  const std::string tmp =
      path + ".tmp." + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  PG_CHECK(f != nullptr, "write_png: cannot open '", path, "' for writing");
  std::string message;
  const bool ok = encode(f, image, message);
  const bool closed = std::fclose(f) == 0;
  std::error_code ec;
  if (!ok || !closed) {
    std::filesystem::remove(tmp, ec);
    PG_CHECK(false, "write_png: '", path, "': ", ok ? std::string("error closing the file") : message);
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::filesystem::remove(tmp);
  PG_CHECK(!ec, "write_png: cannot write '", path, "': ", ec.message());
}

}  // namespace pg::cli
