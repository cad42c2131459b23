// The shared benchmark harness of pointgrad's bench/ binaries.
//
// A bench binary builds a Harness from argv, then for each case: checks `selected()`, builds
// inputs (random, never zeros), times the op with `time()` and emits one JSON line with
// `emit()`. Timing policy (docs: bench/README.md):
// * warm-up runs first (a minimum count and a minimum time), then timed repeats until both a
//   minimum count and a minimum total time are reached (or a cap on either is hit);
// * CPU: std::chrono::steady_clock around each repeat; CUDA: cudaEvent pairs recorded on the
//   current stream around each repeat, in batches between synchronisations, so the events
//   measure device time and host launch gaps only where the device waited for the host;
// * median, min, p90 and mean of the per-repeat times;
// * the timed body gets the global repeat index, so a case can rotate between several input
//   sets (`rotation_sets()`) to keep data that would fit in the last-level cache cold.
// Ceilings are measured on the machine itself (copy bandwidth per device) and emitted as their
// own rows the first time a case needs them.
//
// stdout carries only JSON lines (one per case); notes and skip reasons go to stderr.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"

namespace pg::bench {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Options {
  std::string filter;        // --filter SUBSTR: run cases whose id contains it
  bool want_cpu = true;      // --device cpu|cuda|all
  bool want_cuda = true;
  bool quick = false;        // --quick: fewer repeats, smaller sizes (smoke runs)
  int threads = 0;           // --threads N (0 = library default: all cores)
  // Timing policy (set from --quick; --min-time / --min-repeats override).
  int warmup_min = 3;
  double warmup_min_s = 0.1;
  int repeats_min = 10;
  double min_time_s = 0.5;
  int repeats_max = 100000;
  double max_time_s = 30.0;  // per case; stops earlier only after 3 repeats
};

struct Stats {
  double median_ms = kNaN;
  double min_ms = kNaN;
  double p90_ms = kNaN;
  double mean_ms = kNaN;
  int repeats = 0;
};

// Median, min, p90 (nearest rank) and mean of per-repeat times in milliseconds.
Stats summarize(std::vector<double> times_ms);

// One result row. Unset numbers (NaN) and empty strings are written as null / left out.
struct Record {
  std::string name;   // case name, e.g. "elementwise.add"
  Device device = Device::cpu();
  std::string dtype;  // dtype_name(): "float32", "float64", "uint8" (raw byte copies)
  std::string shape;  // e.g. "[4096,4096]+[4096]"
  Stats t;
  double gbps = kNaN;    // (bytes read + written) / median time, 1e9 B/s
  double gflops = kNaN;  // flops / median time, 1e9 /s
  double ceiling = kNaN;  // same unit as gbps / gflops
  std::string ceiling_name;
  std::string baseline;   // name of the baseline case
  double baseline_ms = kNaN;  // its median; ratio_to_baseline = median_ms / baseline_ms
  double check_rel_err = kNaN;  // ‖pg − baseline‖/‖baseline‖ where checked
  double check_tol = kNaN;      // the row fails (exit code 1) when check_rel_err > check_tol
  std::vector<std::pair<std::string, std::string>> extra;  // more fields, values already JSON
};

class Harness {
 public:
  // Parses the common flags (see usage()); prints usage and exits 0 on --help, exits 2 on a
  // bad flag. Applies --threads. Resolves CUDA availability (a CPU-only build or no device
  // turns CUDA cases off with a note on stderr naming the reason).
  Harness(int argc, char** argv, std::string bench_name);
  ~Harness();
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  const Options& options() const { return opt_; }
  bool quick() const { return opt_.quick; }
  const std::string& bench_name() const { return bench_; }

  // The devices to run on (selected by --device and available), CPU first.
  std::vector<Device> devices() const { return devices_; }

  // Case id "<bench>/<case>/<device>/<dtype>"; true when it contains --filter.
  std::string case_id(const std::string& name, Device d, const std::string& dtype) const;
  bool selected(const std::string& name, Device d, const std::string& dtype) const;

  // Times fn(rep) on `device` with the policy in options(); `rep` counts every call, warm-up
  // included. CUDA: fn must enqueue its work on pg::cuda::current_stream().
  Stats time(Device device, const std::function<void(int64_t rep)>& fn) const;
  // Times several functions in round-robin (one call of each per round, all with the same rep)
  // until every one meets the policy, so that e.g. an op and its baseline see the same machine
  // conditions; their ratio stays meaningful on a shared, noisy machine. On the CPU the order
  // within a round rotates each round, so no function always runs second on warm caches.
  std::vector<Stats> time_interleaved(Device device,
                                      const std::vector<std::function<void(int64_t rep)>>& fns) const;

  // Bytes of the largest cache a repeated input could stay in: the CPU's last-level cache
  // (from sysfs), the GPU's L2.
  size_t cache_bytes(Device device) const;
  // How many input sets of `bytes_per_set` to rotate between so the working set is at least
  // twice cache_bytes(device); capped so the sets take at most `max_total_bytes`. At least 1.
  int rotation_sets(Device device, size_t bytes_per_set, size_t max_total_bytes = size_t(1) << 30) const;

  // Measured copy bandwidth of the device (read + written bytes per second, 1e9 B/s): CPU the
  // best of a single-thread memcpy and an OpenMP copy with the library's thread count over
  // buffers of at least 256 MiB; CUDA a device-to-device cudaMemcpyAsync of at least 256 MiB.
  // Measured once per device; the measurement rows are emitted when first measured.
  double copy_ceiling_gbps(Device device);

  // Fills in bench, host, date, threads, pct_of_ceiling and ratio_to_baseline, prints the JSON
  // line to stdout (flushed) and records a failed check.
  void emit(const Record& r);

  // The process exit code: 1 when any emitted row failed its check, else 0. Notes on stderr
  // when --filter matched nothing.
  int finish() const;

  static std::string usage(const std::string& bench_name);

 private:
  std::string bench_;
  Options opt_;
  std::vector<Device> devices_;
  std::map<int, double> ceiling_cache_;  // key: -1 for CPU, CUDA index otherwise
  std::string date_;
  bool failed_ = false;
  int emitted_ = 0;
};

// ---- small helpers for cases ----
std::string host_name(Device device);  // CPU model from /proc/cpuinfo, or the GPU's name
std::string iso_date();                // UTC date, YYYY-MM-DD
std::string shape_string(const std::vector<int64_t>& shape);  // "[4096,4096]"
std::string json_string(const std::string& s);               // quoted and escaped
std::string json_number(double v);                            // null for NaN/inf

}  // namespace pg::bench
