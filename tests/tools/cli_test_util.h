// Helpers for the end-to-end tests of the pg command line: run the binary (PG_CLI_BINARY, set by
// tests/CMakeLists.txt) with arguments, capture stdout, stderr and the exit code; read numbers,
// strings and booleans out of the flat one-line JSON objects that `--json` prints.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg::test {

struct CliResult {
  int exit_code = -1;  // the process's exit status; 128 + signal when it was killed by one
  std::string out;     // stdout
  std::string err;     // stderr
  std::string all() const { return out + err; }
};

// Single-quotes an argument for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) {
    if (c == '\'')
      q += "'\\''";
    else
      q += c;
  }
  return q + "'";
}

// Runs `binary args...` through /bin/sh with a wall-clock limit (coreutils `timeout`, when
// present; an expired limit gives exit code 124). stderr goes to a temporary file.
inline CliResult run_command(const std::string& binary, const std::vector<std::string>& args, int timeout_s = 600) {
  static std::atomic<int> counter{0};
  const std::string err_path = (std::filesystem::temp_directory_path() /
                                ("pg_cli_err_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                                   .string();
  std::string cmd;
  if (timeout_s > 0 && std::filesystem::exists("/usr/bin/timeout")) cmd = "/usr/bin/timeout " + std::to_string(timeout_s) + " ";
  cmd += shell_quote(binary);
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  cmd += " 2>" + shell_quote(err_path) + " </dev/null";
  CliResult r;
  std::fflush(nullptr);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    r.err = "popen failed for: " + cmd;
    return r;
  }
  char buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, got);
  const int status = ::pclose(p);
  if (status != -1 && WIFEXITED(status))
    r.exit_code = WEXITSTATUS(status);
  else if (status != -1 && WIFSIGNALED(status))
    r.exit_code = 128 + WTERMSIG(status);
  std::ifstream ef(err_path, std::ios::binary);
  std::ostringstream ss;
  ss << ef.rdbuf();
  r.err = ss.str();
  std::error_code ec;
  std::filesystem::remove(err_path, ec);
  return r;
}

#ifdef PG_CLI_BINARY
// Runs the pg binary built with the tests.
inline CliResult run_pg(const std::vector<std::string>& args, int timeout_s = 600) {
  return run_command(PG_CLI_BINARY, args, timeout_s);
}

// run_pg that must succeed: a non-zero exit fails the test with the command and its output.
inline CliResult run_pg_ok(const std::vector<std::string>& args) {
  const CliResult r = run_pg(args);
  INFO("pg " << args[0] << " " << (args.size() > 1 ? args[1] : "") << "\n" << r.all());
  REQUIRE(r.exit_code == 0);
  return r;
}

// Every output cloud [S, m, 3] consists of m distinct points of the matching input cloud
// [S, n, 3] (exact float equality: samplers copy input points).
inline void require_distinct_subsets(const Tensor& in, const Tensor& out) {
  REQUIRE((in.dim() == 3 && out.dim() == 3 && in.size(0) == out.size(0)));
  const int64_t shapes = in.size(0), n = in.size(1), m = out.size(1);
  const auto pi = in.to_vector<float>(), po = out.to_vector<float>();
  for (int64_t s = 0; s < shapes; ++s) {
    std::set<int64_t> used;
    for (int64_t j = 0; j < m; ++j) {
      int64_t found = -1;
      for (int64_t i = 0; i < n && found < 0; ++i) {
        const size_t a = static_cast<size_t>((s * n + i) * 3), b = static_cast<size_t>((s * m + j) * 3);
        if (pi[a] == po[b] && pi[a + 1] == po[b + 1] && pi[a + 2] == po[b + 2]) found = i;
      }
      CHECK(found >= 0);
      used.insert(found);
    }
    CHECK(static_cast<int64_t>(used.size()) == m);
  }
}

// `pg datagen` of the tiny classification set the sampler CLI tests share (3 classes, 6 train /
// 2 test shapes each, 128 points) into `out`.
inline void datagen_tiny(const std::string& out) {
  run_pg_ok({"datagen", "--out", out, "--classes", "3", "--train-per-class", "6", "--test-per-class", "2", "--points",
             "128"});
}

// `pg train ARGS` on `data` for one epoch, batch 6, one thread; must succeed.
inline CliResult train_tiny(std::vector<std::string> args, const std::string& data) {
  args.insert(args.begin(), "train");
  for (const char* a : {"--data", data.c_str(), "--epochs", "1", "--batch-size", "6", "--threads", "1"}) args.push_back(a);
  return run_pg_ok(args);
}
#endif

// The raw text of `"key": value` in a flat JSON object (up to the next ',' or '}' outside a
// string); empty when the key is absent.
inline std::string json_raw(const std::string& json, const std::string& key) {
  const std::string pat = "\"" + key + "\":";
  size_t p = json.find(pat);
  if (p == std::string::npos) return {};
  p += pat.size();
  while (p < json.size() && json[p] == ' ') ++p;
  size_t e = p;
  bool in_str = false;
  for (; e < json.size(); ++e) {
    const char c = json[e];
    if (in_str) {
      if (c == '\\')
        ++e;
      else if (c == '"')
        in_str = false;
    } else if (c == '"') {
      in_str = true;
    } else if (c == ',' || c == '}') {
      break;
    }
  }
  return json.substr(p, e - p);
}

// A numeric field (NaN when absent or not a number).
inline double json_number(const std::string& json, const std::string& key) {
  const std::string raw = json_raw(json, key);
  if (raw.empty()) return std::numeric_limits<double>::quiet_NaN();
  char* end = nullptr;
  const double v = std::strtod(raw.c_str(), &end);
  return end == raw.c_str() ? std::numeric_limits<double>::quiet_NaN() : v;
}

// A string field without its quotes (escapes other than \" and \\ kept as written).
inline std::string json_string(const std::string& json, const std::string& key) {
  const std::string raw = json_raw(json, key);
  if (raw.size() < 2 || raw.front() != '"') return {};
  std::string s;
  for (size_t i = 1; i + 1 < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 2 < raw.size() && (raw[i + 1] == '"' || raw[i + 1] == '\\')) ++i;
    s += raw[i];
  }
  return s;
}

// A boolean field: 1 true, 0 false, -1 absent or not a boolean.
inline int json_bool(const std::string& json, const std::string& key) {
  const std::string raw = json_raw(json, key);
  return raw == "true" ? 1 : raw == "false" ? 0 : -1;
}

}  // namespace pg::test
