// Terminal progress for long runs. On a terminal, one line redrawn in place (at most 10 times a
// second) with a bar, the running loss/accuracy, throughput and ETA; when stdout is not a
// terminal (logs, CI), a plain line at most every `plain_interval` seconds, so logs stay short.
#pragma once

#include <chrono>
#include <string>

namespace pg::cli {

class ProgressLine {
 public:
  explicit ProgressLine(double plain_interval_seconds = 15.0);
  // fraction in [0, 1]; `prefix` before the bar ("epoch 3/20"), `suffix` after it.
  void update(const std::string& prefix, double fraction, const std::string& suffix);
  // Ends the in-place line (if any) and prints `line` on its own line.
  void print(const std::string& line);
  bool is_tty() const { return tty_; }

 private:
  bool tty_;
  double plain_interval_;
  bool line_open_ = false;
  std::chrono::steady_clock::time_point last_;
  bool drawn_once_ = false;
};

// "1:02:03" / "4:05" for a duration in seconds.
std::string format_duration(double seconds);

}  // namespace pg::cli
