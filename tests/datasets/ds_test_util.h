// Helpers for the datasets tests: a self-deleting temporary folder and file-byte utilities.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

// Files in `dir` whose names contain ".tmp." (left-over temporaries of atomic writes).
inline int count_temporaries(const std::string& dir) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) ++n;
  }
  return n;
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
