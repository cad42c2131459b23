// Plumbing shared by the stdin/stdout drivers that tools/compare/ scripts run beside a Python
// peer (emd_compare_io, fps_compare_io): the command loop, raw binary files and a wall clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tensor.h"

namespace pg::bench {

// Milliseconds on a monotonic clock.
inline double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// `count` values of T from the raw little-endian file `path`; throws naming `who` when the file
// cannot be opened or holds fewer values.
template <class T>
std::vector<T> read_raw(const std::string& path, int64_t count, const char* who) {
  std::vector<T> v(static_cast<size_t>(count));
  std::ifstream f(path, std::ios::binary);
  PG_CHECK(f.good(), who, ": cannot open ", path);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
  PG_CHECK(f.gcount() == static_cast<std::streamsize>(v.size() * sizeof(T)), who, ": ", path, " holds fewer than ",
           count, " values of ", sizeof(T), " bytes");
  return v;
}

// Writes an int64 tensor to `path` as raw int64.
inline void write_i64(const std::string& path, const Tensor& t, const char* who) {
  const std::vector<int64_t> v = t.contiguous().to_vector<int64_t>();
  std::ofstream f(path, std::ios::binary);
  PG_CHECK(f.good(), who, ": cannot write ", path);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(int64_t)));
}

// Reads commands from stdin, one per line, until "quit" or end of input. `handle(cmd, args)`
// answers on stdout and returns false for an unknown command ("error unknown command ..." is
// printed); an exception answers "error MESSAGE" (on one line) and the loop goes on.
inline int command_loop(const std::function<bool(const std::string&, std::istringstream&)>& handle) {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string cmd;
    if (!(in >> cmd)) continue;
    if (cmd == "quit") break;
    try {
      if (!handle(cmd, in)) std::cout << "error unknown command '" << cmd << "'" << std::endl;
    } catch (const std::exception& e) {
      std::string msg = e.what();
      for (char& ch : msg)
        if (ch == '\n') ch = ' ';
      std::cout << "error " << msg << std::endl;
    }
  }
  return 0;
}

}  // namespace pg::bench
