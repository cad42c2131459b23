#include "tools/pg/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace pg::cli {

ProgressLine::ProgressLine(double plain_interval_seconds)
    : tty_(isatty(fileno(stdout)) != 0), plain_interval_(plain_interval_seconds) {}

void ProgressLine::update(const std::string& prefix, double fraction, const std::string& suffix) {
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  const double interval = tty_ ? 0.1 : plain_interval_;
  if (drawn_once_ && since < interval && fraction < 1.0) return;
  drawn_once_ = true;
  last_ = now;
  fraction = std::clamp(fraction, 0.0, 1.0);
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(std::lround(fraction * kWidth));
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  if (tty_) {
    std::printf("\r\033[K%s [%s] %3d%%  %s", prefix.c_str(), bar.c_str(), static_cast<int>(fraction * 100.0),
                suffix.c_str());
    line_open_ = true;
  } else {
    std::printf("%s [%s] %3d%%  %s\n", prefix.c_str(), bar.c_str(), static_cast<int>(fraction * 100.0),
                suffix.c_str());
  }
  std::fflush(stdout);
}

void ProgressLine::print(const std::string& line) {
  if (line_open_) std::printf("\r\033[K");
  line_open_ = false;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  const long long s = std::llround(seconds);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  }
  return buf;
}

}  // namespace pg::cli
