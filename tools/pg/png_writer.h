// Writes an 8-bit RGB image as PNG through libpng, atomically (temporary file + rename), so a
// failed or interrupted write never leaves a truncated picture under the final name.
#pragma once

#include <string>

#include "tools/pg/splat_renderer.h"

namespace pg::cli {

// Throws pg::Error naming the path when the file cannot be written or libpng reports an error.
void write_png(const std::string& path, const RgbImage& image);

}  // namespace pg::cli
