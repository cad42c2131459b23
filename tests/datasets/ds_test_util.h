// Helpers for the datasets tests: a self-deleting temporary folder, file-byte utilities and
// coded point tensors.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg::test {

class TempDir {
 public:
  explicit TempDir(const std::string& tag = "pg_ds") {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             (tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }

 private:
  std::string path_;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline void write_text(const std::string& path, const std::string& s) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << s;
}

// Points [n, p, 3] whose value encodes (shape, point, coordinate) as base + i + 0.001 j + 0.0001 d,
// so order mistakes show.
inline Tensor coded_points(int64_t n, int64_t p, float base) {
  std::vector<float> v(static_cast<size_t>(n * p * 3));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < p; ++j)
      for (int64_t d = 0; d < 3; ++d)
        v[static_cast<size_t>((i * p + j) * 3 + d)] = base + static_cast<float>(i) + 0.001f * j + 0.0001f * d;
  return from_vector(v, {n, p, 3});
}

// Files in `dir` whose names contain ".tmp." (left-over temporaries of atomic writes).
inline int count_temporaries(const std::string& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) ++n;
  }
  return n;
}

// True when `path` exists; otherwise prints "skipping: PATH not found (optional: WHAT)" and
// returns false, so a test of the real data in ../shared/data skips cleanly without it.
inline bool shared_data_present(const std::string& path, const std::string& what) {
  if (std::filesystem::exists(path)) return true;
  std::cout << "skipping: " << path << " not found (optional: " << what << ")\n";
  return false;
}

}  // namespace pg::test

#include <catch2/catch.hpp>
#include <functional>
#include <initializer_list>

#include "core/error.h"

namespace pg::test {

// Runs f, requires a pg::Error whose message contains every one of `parts`.
inline void require_error(const std::function<void()>& f, std::initializer_list<std::string> parts) {
  bool thrown = false;
  try {
    f();
  } catch (const pg::Error& e) {
    thrown = true;
    const std::string msg = e.what();
    INFO("error message: " << msg);
    for (const std::string& p : parts) {
      INFO("expected to contain: " << p);
      CHECK(msg.find(p) != std::string::npos);
    }
  }
  INFO("expected a pg::Error");
  REQUIRE(thrown);
}

}  // namespace pg::test
