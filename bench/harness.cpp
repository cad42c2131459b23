#include "harness.h"

#include <omp.h>
#include <sys/utsname.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/cuda_context.h"
#include "core/error.h"
#include "core/parallel_for.h"

#if PG_WITH_CUDA
#include <cuda_runtime.h>

#include "core/cuda_check.h"
#endif

namespace pg::bench {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

[[noreturn]] void usage_error(const std::string& bench, const std::string& msg) {
  std::cerr << bench << ": " << msg << "\n" << Harness::usage(bench);
  std::exit(2);
}

size_t parse_cache_size(const std::string& s) {
  // sysfs writes e.g. "49152K" or "480M".
  size_t pos = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(s, &pos);
  } catch (...) {
    return 0;
  }
  const char unit = pos < s.size() ? s[pos] : ' ';
  if (unit == 'K' || unit == 'k') v <<= 10;
  if (unit == 'M' || unit == 'm') v <<= 20;
  if (unit == 'G' || unit == 'g') v <<= 30;
  return static_cast<size_t>(v);
}

size_t cpu_llc_bytes() {
  size_t best = 0;
  for (int i = 0; i < 16; ++i) {
    std::ifstream f("/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/size");
    if (!f) continue;
    std::string s;
    f >> s;
    best = std::max(best, parse_cache_size(s));
  }
  return best > 0 ? best : (size_t(32) << 20);
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        return v;
      }
    }
  }
  struct utsname u {};
  if (uname(&u) == 0) return u.machine;
  return "unknown cpu";
}

double load_average_1min() {
  std::ifstream f("/proc/loadavg");
  double v = kNaN;
  if (!(f >> v)) return kNaN;
  return v;
}

#if PG_WITH_CUDA
cudaStream_t current_cuda_stream() { return static_cast<cudaStream_t>(pg::cuda::current_stream()); }
#endif

}  // namespace

// ---------------------------------------------------------------------------------------------
// Helpers

std::string iso_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string host_name(Device device) {
  if (device.is_cpu()) {
    static const std::string model = cpu_model();
    return model;
  }
#if PG_WITH_CUDA
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device.index) == cudaSuccess) return prop.name;
#endif
  return "unknown gpu";
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  s += ']';
  return s;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

Stats summarize(std::vector<double> t) {
  Stats s;
  if (t.empty()) return s;
  std::sort(t.begin(), t.end());
  const size_t n = t.size();
  s.repeats = static_cast<int>(n);
  s.min_ms = t.front();
  s.median_ms = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  const size_t rank = static_cast<size_t>(std::ceil(0.9 * static_cast<double>(n)));  // nearest rank
  s.p90_ms = t[std::clamp<size_t>(rank, 1, n) - 1];
  double sum = 0;
  for (const double v : t) sum += v;
  s.mean_ms = sum / static_cast<double>(n);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Harness

std::string Harness::usage(const std::string& bench) {
  return "usage: " + bench +
         " [--filter SUBSTR] [--device cpu|cuda|all] [--quick] [--threads N]\n"
         "       [--min-time SECONDS] [--min-repeats N]\n"
         "  Prints one JSON line per case on stdout; notes go to stderr.\n"
         "  --filter SUBSTR  run cases whose id \"" +
         bench +
         "/<case>/<device>/<dtype>\" contains SUBSTR\n"
         "  --device         cpu, cuda or all (default: all available)\n"
         "  --quick          fewer repeats and smaller sizes (smoke runs)\n"
         "  --threads N      CPU threads for the library (pg::set_cpu_num_threads)\n";
}

Harness::Harness(int argc, char** argv, std::string bench_name) : bench_(std::move(bench_name)) {
  std::string device = "all";
  double min_time = -1;
  int min_repeats = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    bool has_inline = false;
    if (a.rfind("--", 0) == 0) {
      const auto eq = a.find('=');
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        has_inline = true;
      }
    }
    auto need_value = [&]() -> std::string {
      if (has_inline) return value;
      if (i + 1 >= argc) usage_error(bench_, "missing value after " + a);
      return argv[++i];
    };
    auto to_int = [&](const std::string& v) {
      try {
        size_t pos = 0;
        const int n = std::stoi(v, &pos);
        if (pos != v.size()) throw std::invalid_argument(v);
        return n;
      } catch (...) {
        usage_error(bench_, a + " expects an integer, got '" + v + "'");
      }
    };
    if (a == "--help" || a == "-h") {
      std::cout << usage(bench_);
      std::exit(0);
    } else if (a == "--filter") {
      opt_.filter = need_value();
    } else if (a == "--device") {
      device = need_value();
      if (device != "cpu" && device != "cuda" && device != "all")
        usage_error(bench_, "--device expects cpu, cuda or all, got '" + device + "'");
    } else if (a == "--quick") {
      opt_.quick = true;
    } else if (a == "--threads") {
      opt_.threads = to_int(need_value());
      if (opt_.threads < 1) usage_error(bench_, "--threads expects N >= 1");
    } else if (a == "--min-time") {
      const std::string v = need_value();
      char* end = nullptr;
      min_time = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || min_time < 0) usage_error(bench_, "--min-time expects seconds >= 0");
    } else if (a == "--min-repeats") {
      min_repeats = to_int(need_value());
      if (min_repeats < 1) usage_error(bench_, "--min-repeats expects N >= 1");
    } else {
      usage_error(bench_, "unknown argument '" + a + "'");
    }
  }
  if (opt_.quick) {
    opt_.warmup_min = 1;
    opt_.warmup_min_s = 0.0;
    opt_.repeats_min = 3;
    opt_.min_time_s = 0.02;
    opt_.max_time_s = 5.0;
  }
  if (min_time >= 0) opt_.min_time_s = min_time;
  if (min_repeats > 0) opt_.repeats_min = min_repeats;
  opt_.want_cpu = device == "cpu" || device == "all";
  opt_.want_cuda = device == "cuda" || device == "all";
  if (opt_.threads > 0) pg::set_cpu_num_threads(opt_.threads);

  if (opt_.want_cpu) devices_.push_back(Device::cpu());
  if (opt_.want_cuda) {
    if (pg::cuda::is_available()) {
      devices_.push_back(Device::cuda(0));
    } else {
      std::string why = pg::cuda::unavailable_reason();
      if (why.empty()) why = "no CUDA device";
      std::cerr << bench_ << ": skipping CUDA cases: " << why << "\n";
    }
  }
  date_ = iso_date();
}

Harness::~Harness() = default;

std::string Harness::case_id(const std::string& name, Device d, const std::string& dtype) const {
  return bench_ + "/" + name + "/" + d.str() + "/" + dtype;
}

bool Harness::selected(const std::string& name, Device d, const std::string& dtype) const {
  return opt_.filter.empty() || case_id(name, d, dtype).find(opt_.filter) != std::string::npos;
}

Stats Harness::time(Device device, const std::function<void(int64_t)>& fn) const {
  return time_interleaved(device, {fn}).front();
}

namespace {
// Stop rule for the timed phase, on the slowest-progressing function.
bool timing_done(const Options& o, const std::vector<std::vector<double>>& times,
                 const std::vector<double>& total_s, Clock::time_point start) {
  bool all_enough = true;
  size_t fewest = SIZE_MAX;
  for (size_t f = 0; f < times.size(); ++f) {
    const int n = static_cast<int>(times[f].size());
    fewest = std::min(fewest, times[f].size());
    if (n < o.repeats_max && !(n >= o.repeats_min && total_s[f] >= o.min_time_s)) all_enough = false;
  }
  return all_enough || (fewest >= 3 && seconds_since(start) >= o.max_time_s);
}
}  // namespace

std::vector<Stats> Harness::time_interleaved(Device device,
                                             const std::vector<std::function<void(int64_t)>>& fns) const {
  const size_t nf = fns.size();
  std::vector<std::vector<double>> times(nf);
  std::vector<double> total_s(nf, 0.0);
  std::vector<Stats> out;
  if (nf == 0) return out;
  int64_t rep = 0;
  auto finish = [&]() {
    for (auto& t : times) out.push_back(summarize(std::move(t)));
    return out;
  };
  if (device.is_cpu()) {
    const auto w0 = Clock::now();
    for (int i = 0; i < opt_.warmup_min || seconds_since(w0) < opt_.warmup_min_s; ++i) {
      for (const auto& fn : fns) fn(rep);
      ++rep;
      if (seconds_since(w0) > opt_.max_time_s) break;
    }
    const auto start = Clock::now();
    while (!timing_done(opt_, times, total_s, start)) {
      // The first function of a round rotates: a function called right after another on the
      // same (cache-resident) inputs would otherwise always find them warm.
      for (size_t i = 0; i < nf; ++i) {
        const size_t f = (i + static_cast<size_t>(rep)) % nf;
        const auto t0 = Clock::now();
        fns[f](rep);
        const double s = seconds_since(t0);
        times[f].push_back(s * 1e3);
        total_s[f] += s;
      }
      ++rep;
    }
    return finish();
  }
#if PG_WITH_CUDA
  pg::cuda::set_device(device.index);
  const cudaStream_t stream = current_cuda_stream();
  const auto w0 = Clock::now();
  for (int i = 0; i < opt_.warmup_min || seconds_since(w0) < opt_.warmup_min_s; ++i) {
    for (const auto& fn : fns) fn(rep);
    ++rep;
    PG_CUDA_CHECK(cudaStreamSynchronize(stream));
    if (seconds_since(w0) > opt_.max_time_s) break;
  }
  // Batches of rounds between synchronisations; in a batch, events k and k+1 bracket the k-th
  // call (round-major, one call per function per round).
  constexpr size_t kMaxCalls = 128;
  const int max_rounds = static_cast<int>(std::max<size_t>(1, kMaxCalls / nf));
  std::vector<cudaEvent_t> ev(static_cast<size_t>(max_rounds) * nf + 1);
  for (auto& e : ev) PG_CUDA_CHECK(cudaEventCreate(&e));
  const auto start = Clock::now();
  int rounds = 1;
  while (!timing_done(opt_, times, total_s, start)) {
    PG_CUDA_CHECK(cudaEventRecord(ev[0], stream));
    size_t k = 0;
    for (int r = 0; r < rounds; ++r, ++rep) {
      for (size_t f = 0; f < nf; ++f, ++k) {
        fns[f](rep);
        PG_CUDA_CHECK(cudaEventRecord(ev[k + 1], stream));
      }
    }
    PG_CUDA_CHECK(cudaEventSynchronize(ev[k]));
    double batch_s = 0;
    for (size_t c = 0; c < k; ++c) {
      float ms = 0;
      PG_CUDA_CHECK(cudaEventElapsedTime(&ms, ev[c], ev[c + 1]));
      times[c % nf].push_back(ms);
      total_s[c % nf] += ms * 1e-3;
      batch_s += ms * 1e-3;
    }
    // Aim for ~10 ms of device work per batch.
    const double per_round = batch_s / rounds;
    rounds = per_round > 0 ? static_cast<int>(std::clamp(0.01 / per_round, 1.0, double(max_rounds))) : max_rounds;
  }
  for (auto& e : ev) cudaEventDestroy(e);
  return finish();
#else
  pg::cuda::throw_no_cuda("bench::Harness::time_interleaved");
#endif
}

size_t Harness::cache_bytes(Device device) const {
  if (device.is_cpu()) {
    static const size_t llc = cpu_llc_bytes();
    return llc;
  }
#if PG_WITH_CUDA
  int l2 = 0;
  PG_CUDA_CHECK(cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, device.index));
  return static_cast<size_t>(l2);
#else
  pg::cuda::throw_no_cuda("bench::Harness::cache_bytes");
#endif
}

int Harness::rotation_sets(Device device, size_t bytes_per_set, size_t max_total_bytes) const {
  if (bytes_per_set == 0) return 1;
  const size_t want = 2 * cache_bytes(device);
  size_t n = (want + bytes_per_set - 1) / bytes_per_set;
  n = std::min(n, std::max<size_t>(1, max_total_bytes / bytes_per_set));
  return static_cast<int>(std::max<size_t>(1, n));
}

double Harness::copy_ceiling_gbps(Device device) {
  const int key = device.is_cpu() ? -1 : device.index;
  if (auto it = ceiling_cache_.find(key); it != ceiling_cache_.end()) return it->second;

  double best = 0;
  if (device.is_cpu()) {
    // Buffers at least 256 MiB and at least the LLC each (so the pair is twice the LLC),
    // at most 1 GiB; first touched before timing. --quick keeps the size (a smaller copy
    // would measure the cache), only the repeats drop.
    const size_t mib = size_t(1) << 20;
    size_t bytes = std::max<size_t>(256 * mib, cache_bytes(device));
    bytes = std::min<size_t>((bytes + mib - 1) / mib * mib, 1024 * mib);
    auto* src = static_cast<unsigned char*>(std::aligned_alloc(64, bytes));
    auto* dst = static_cast<unsigned char*>(std::aligned_alloc(64, bytes));
    PG_CHECK(src && dst, "copy_ceiling_gbps: cannot allocate 2 x ", bytes, " bytes");
    std::memset(src, 1, bytes);
    std::memset(dst, 0, bytes);
    const int threads = pg::cpu_num_threads();
    const std::string shape = shape_string({static_cast<int64_t>(bytes)});

    Record r1;
    r1.name = "ceiling.copy_memcpy_1t";
    r1.device = device;
    r1.dtype = dtype_name(DType::u8);
    r1.shape = shape;
    r1.t = time(device, [&](int64_t) { std::memcpy(dst, src, bytes); });
    r1.gbps = 2.0 * static_cast<double>(bytes) / (r1.t.median_ms * 1e-3) / 1e9;
    r1.extra.push_back({"copy_threads", "1"});

    Record rn = r1;
    rn.name = "ceiling.copy_omp";
    rn.t = time(device, [&](int64_t) {
#pragma omp parallel num_threads(threads)
      {
        const size_t nt = static_cast<size_t>(omp_get_num_threads());
        const size_t t = static_cast<size_t>(omp_get_thread_num());
        const size_t lines = bytes / 64;
        const size_t b = lines * t / nt * 64, e = lines * (t + 1) / nt * 64;
        std::memcpy(dst + b, src + b, e - b);
      }
    });
    rn.gbps = 2.0 * static_cast<double>(bytes) / (rn.t.median_ms * 1e-3) / 1e9;
    rn.extra = {{"copy_threads", std::to_string(threads)}};
    std::free(src);
    std::free(dst);
    best = std::max(r1.gbps, rn.gbps);
    r1.ceiling = rn.ceiling = best;
    r1.ceiling_name = rn.ceiling_name = "copy_bandwidth";
    ceiling_cache_[key] = best;
    emit(r1);
    emit(rn);
    return best;
  }
#if PG_WITH_CUDA
  pg::cuda::set_device(device.index);
  const size_t mib = size_t(1) << 20;
  size_t bytes = std::max<size_t>(256 * mib, 2 * cache_bytes(device));
  bytes = (bytes + mib - 1) / mib * mib;
  void* src = nullptr;
  void* dst = nullptr;
  PG_CUDA_CHECK(cudaMalloc(&src, bytes));
  PG_CUDA_CHECK(cudaMalloc(&dst, bytes));
  const cudaStream_t stream = current_cuda_stream();
  PG_CUDA_CHECK(cudaMemsetAsync(src, 1, bytes, stream));
  PG_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream));
  Record r;
  r.name = "ceiling.copy_d2d";
  r.device = device;
  r.dtype = dtype_name(DType::u8);
  r.shape = shape_string({static_cast<int64_t>(bytes)});
  r.t = time(device, [&](int64_t) {
    PG_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
  });
  PG_CUDA_CHECK(cudaStreamSynchronize(stream));
  PG_CUDA_CHECK(cudaFree(src));
  PG_CUDA_CHECK(cudaFree(dst));
  r.gbps = 2.0 * static_cast<double>(bytes) / (r.t.median_ms * 1e-3) / 1e9;
  best = r.gbps;
  r.ceiling = best;
  r.ceiling_name = "copy_bandwidth";
  ceiling_cache_[key] = best;
  emit(r);
  return best;
#else
  pg::cuda::throw_no_cuda("bench::Harness::copy_ceiling_gbps");
#endif
}

void Harness::emit(const Record& r) {
  std::ostringstream o;
  o << "{\"bench\":" << json_string(bench_) << ",\"case\":" << json_string(r.name)
    << ",\"device\":" << json_string(r.device.str()) << ",\"dtype\":" << json_string(r.dtype)
    << ",\"shape\":" << json_string(r.shape) << ",\"median_ms\":" << json_number(r.t.median_ms)
    << ",\"min_ms\":" << json_number(r.t.min_ms) << ",\"p90_ms\":" << json_number(r.t.p90_ms)
    << ",\"repeats\":" << r.t.repeats;
  double value = kNaN;
  if (std::isfinite(r.gbps)) {
    o << ",\"gbps\":" << json_number(r.gbps);
    value = r.gbps;
  }
  if (std::isfinite(r.gflops)) {
    o << ",\"gflops\":" << json_number(r.gflops);
    value = r.gflops;
  }
  o << ",\"ceiling\":" << json_number(r.ceiling);
  if (!r.ceiling_name.empty()) o << ",\"ceiling_name\":" << json_string(r.ceiling_name);
  o << ",\"pct_of_ceiling\":" << json_number(100.0 * value / r.ceiling);
  o << ",\"baseline\":" << (r.baseline.empty() ? std::string("null") : json_string(r.baseline));
  o << ",\"ratio_to_baseline\":" << json_number(r.t.median_ms / r.baseline_ms);
  if (std::isfinite(r.baseline_ms)) o << ",\"baseline_ms\":" << json_number(r.baseline_ms);
  if (std::isfinite(r.check_rel_err) || std::isfinite(r.check_tol)) {
    const bool ok = std::isfinite(r.check_rel_err) && !(r.check_rel_err > r.check_tol);
    o << ",\"check_rel_err\":" << json_number(r.check_rel_err) << ",\"check\":" << (ok ? "\"ok\"" : "\"FAIL\"");
    if (!ok) {
      failed_ = true;
      std::cerr << bench_ << ": CHECK FAILED " << r.name << " on " << r.device.str() << ": rel err "
                << r.check_rel_err << " > " << r.check_tol << "\n";
    }
  }
  if (r.device.is_cpu()) {
    // The 1-minute load average: on a shared machine a load above the core count means the
    // row was timed while other work competed for the cores.
    o << ",\"threads\":" << pg::cpu_num_threads() << ",\"load1\":" << json_number(load_average_1min());
  }
  for (const auto& [k, v] : r.extra) o << "," << json_string(k) << ":" << v;
  o << ",\"date\":" << json_string(date_) << ",\"host\":" << json_string(host_name(r.device)) << "}";
  std::cout << o.str() << std::endl;
  ++emitted_;
}

int Harness::finish() const {
  if (emitted_ == 0 && !opt_.filter.empty())
    std::cerr << bench_ << ": no case matched --filter '" << opt_.filter << "'\n";
  return failed_ ? 1 : 0;
}

}  // namespace pg::bench
