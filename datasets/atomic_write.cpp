#include "datasets/atomic_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace pg::datasets {

std::string atomic_temp_path(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(static_cast<long long>(::getpid())) + "." +
         std::to_string(counter.fetch_add(1));
}

void write_file_atomic(const std::string& path, const std::function<void(const std::string& tmp)>& write) {
  PG_CHECK(!path.empty(), "write_file_atomic: empty path");
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    PG_CHECK(std::filesystem::is_directory(parent, ec), "cannot write '", path, "': folder '", parent.string(),
             "' does not exist");
  }
  const std::string tmp = atomic_temp_path(path);
  try {
    write(tmp);
    // The data must be on disk before the rename makes it visible under `path`.
    const int fd = ::open(tmp.c_str(), O_RDONLY);
    PG_CHECK(fd >= 0, "cannot write '", path, "': the temporary file '", tmp, "' is missing after writing");
    const bool synced = ::fsync(fd) == 0;
    const int err = errno;
    ::close(fd);
    PG_CHECK(synced, "cannot write '", path, "': fsync of the temporary file failed: ", std::strerror(err));
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    PG_FAIL("cannot write '", path, "': rename of the temporary file failed: ", std::strerror(err));
  }
  // Best effort: make the rename itself durable.
  const int dfd = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_text_atomic(const std::string& path, const std::string& content) {
  write_file_atomic(path, [&](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    PG_CHECK(f.good(), "cannot write '", path, "': cannot open '", tmp, "' for writing");
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    f.flush();
    PG_CHECK(f.good(), "cannot write '", path, "': write failed (disk full?)");
  });
}

}  // namespace pg::datasets
