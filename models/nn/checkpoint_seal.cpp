#include "models/nn/checkpoint_seal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace pg::nn {

namespace {

constexpr char kMagic[9] = "PGCKPT01";

struct Hasher {
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  uint64_t pending = 0;
  int npending = 0;
  static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
  }
  void word(uint64_t w) { h = (h ^ mix(w)) * 0x100000001b3ULL + 0x7f4a7c15ULL; }
  void bytes(const unsigned char* p, size_t n) {
    size_t i = 0;
    while (i < n && npending != 0) {
      pending |= static_cast<uint64_t>(p[i++]) << (8 * npending);
      if (++npending == 8) {
        word(pending);
        pending = 0;
        npending = 0;
      }
    }
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      word(w);
    }
    for (; i < n; ++i) {
      pending |= static_cast<uint64_t>(p[i]) << (8 * npending);
      ++npending;
    }
  }
  uint64_t finish(uint64_t total) {
    if (npending != 0) word(pending);
    word(total);
    return mix(h);
  }
};

void put_u64(unsigned char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint64_t get_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// Hashes bytes [24, size) of an open file descriptor (size = its length). Returns false on I/O
// errors.
bool hash_file(int fd, uint64_t size, uint64_t& out) {
  std::vector<unsigned char> buf(1 << 20);
  Hasher h;
  uint64_t pos = 24;
  while (pos < size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - pos));
    const ssize_t got = ::pread(fd, buf.data(), want, static_cast<off_t>(pos));
    if (got <= 0) return false;
    h.bytes(buf.data(), static_cast<size_t>(got));
    pos += static_cast<uint64_t>(got);
  }
  out = h.finish(size);
  return true;
}

}  // namespace

// Writes the integrity header into the user block of the closed file `p`.
void seal_checkpoint_file(const std::string& p, const std::string& ckpt) {
  const int fd = ::open(p.c_str(), O_RDWR);
  if (fd < 0) PG_FAIL("checkpoint '", ckpt, "': cannot reopen '", p, "' to seal it: ", std::strerror(errno));
  struct stat st {};
  uint64_t hash = 0;
  bool ok = ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) >= static_cast<uint64_t>(kCheckpointUserBlock);
  unsigned char head[24];
  if (ok) {
    std::memcpy(head, kMagic, 8);
    put_u64(head + 8, static_cast<uint64_t>(st.st_size));
    ok = hash_file(fd, static_cast<uint64_t>(st.st_size), hash);
  }
  if (ok) {
    put_u64(head + 16, hash);
    ok = ::pwrite(fd, head, sizeof(head), 0) == static_cast<ssize_t>(sizeof(head)) && ::fsync(fd) == 0;
  }
  const int err = errno;
  ::close(fd);
  if (!ok) PG_FAIL("checkpoint '", ckpt, "': cannot seal '", p, "': ", std::strerror(err));
}

// Verifies the integrity header of `path` (throws naming the file when it does not hold).
void verify_checkpoint_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) PG_FAIL("checkpoint '", path, "': cannot open: ", std::strerror(errno));
  struct stat st {};
  unsigned char head[24];
  const bool got_head =
      ::fstat(fd, &st) == 0 && ::pread(fd, head, sizeof(head), 0) == static_cast<ssize_t>(sizeof(head));
  const uint64_t actual = static_cast<uint64_t>(st.st_size);
  if (!got_head || std::memcmp(head, kMagic, 8) != 0) {
    ::close(fd);
    PG_FAIL("checkpoint '", path,
            "': not a pointgrad checkpoint (no integrity header; corrupt, truncated or a "
            "different kind of file)");
  }
  const uint64_t expected = get_u64(head + 8);
  if (expected != actual) {
    ::close(fd);
    PG_FAIL("checkpoint '", path, "': truncated or corrupt file (", actual, " bytes, the header says ", expected, ")");
  }
  uint64_t hash = 0;
  const bool ok = hash_file(fd, actual, hash);
  ::close(fd);
  if (!ok) PG_FAIL("checkpoint '", path, "': read error while verifying the file");
  if (hash != get_u64(head + 16)) PG_FAIL("checkpoint '", path, "': checksum mismatch (the file is corrupt)");
}

}  // namespace pg::nn
