#include "tools/pg/train_progress.h"

#include <cstdio>

namespace pg::cli {

namespace {

bool is_accuracy(const std::string& name) {
  auto ends_with = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return name == "acc" || ends_with("_acc") || ends_with("accuracy");
}

}  // namespace

std::string format_metric(const std::string& name, double value, bool wide) {
  char buf[64];
  if (is_accuracy(name)) {
    std::snprintf(buf, sizeof buf, wide ? "%5.1f%%" : "%.2f%%", 100.0 * value);
  } else {
    std::snprintf(buf, sizeof buf, "%.4f", value);
  }
  return buf;
}

void render_batch(ProgressLine& progress, const train::BatchProgress& p, const std::string& unit) {
  char prefix[64];
  const int width = p.epochs >= 1000 ? 4 : p.epochs >= 100 ? 3 : p.epochs >= 10 ? 2 : 1;
  std::snprintf(prefix, sizeof prefix, "epoch %*lld/%lld", width, static_cast<long long>(p.epoch),
                static_cast<long long>(p.epochs));
  std::string suffix;
  for (const auto& [name, v] : p.running) suffix += name + " " + format_metric(name, v, true) + "  ";
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.1f %s/s", p.samples_per_second, unit.c_str());
  suffix += rate;
  suffix += "  ETA " + format_duration(p.eta_seconds);
  progress.update(prefix, static_cast<double>(p.batch) / static_cast<double>(p.batches), suffix);
}

std::string epoch_line(const train::EpochRecord& r, int64_t epochs, const std::string& unit) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "epoch %lld/%lld  lr %.3g  train", static_cast<long long>(r.epoch),
                static_cast<long long>(epochs), r.lr);
  std::string line = buf;
  for (const auto& [name, v] : r.train) line += "  " + name + " " + format_metric(name, v, false);
  if (r.evaluated) {
    line += "  |";
    for (const auto& [name, v] : r.eval) line += "  " + name + " " + format_metric(name, v, false);
  }
  std::snprintf(buf, sizeof buf, "  | %.1f s, %.1f %s/s", r.seconds, r.samples_per_second, unit.c_str());
  return line + buf;
}

train::TrainCallbacks terminal_callbacks(ProgressLine& progress, int64_t epochs, const std::string& unit) {
  train::TrainCallbacks cb;
  cb.message = [&progress](const std::string& s) { progress.print("pg train: " + s); };
  cb.on_batch = [&progress, unit](const train::BatchProgress& p) { render_batch(progress, p, unit); };
  cb.on_epoch = [&progress, epochs, unit](const train::EpochRecord& r) { progress.print(epoch_line(r, epochs, unit)); };
  return cb;
}

}  // namespace pg::cli
