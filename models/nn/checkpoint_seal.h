// The integrity user block of checkpoint files. HDF5 1.10 parses corrupt metadata unsafely
// (crashes inside the library are possible), so every checkpoint starts with a 512-byte HDF5
// user block (skipped by HDF5 readers such as h5py) holding
//   bytes 0..7    magic "PGCKPT01"
//   bytes 8..15   total file size (uint64, little endian)
//   bytes 16..23  a 64-bit hash of bytes [24, size) (the rest of the user block and the HDF5 data)
// seal_checkpoint_file() writes it into a closed file; verify_checkpoint_file() checks it before
// the file is handed to HDF5, so truncated, extended or corrupted files fail cleanly.
#pragma once

#include <cstdint>
#include <string>

namespace pg::nn {

// Size of the user block reserved in every checkpoint.
constexpr int64_t kCheckpointUserBlock = 512;

// Writes the header into the user block of the closed file `file` (and fsyncs it). `label` is
// the checkpoint path named in errors.
void seal_checkpoint_file(const std::string& file, const std::string& label);

// Throws pg::Error naming `path` when the header is missing, the size differs or the hash does
// not match.
void verify_checkpoint_file(const std::string& path);

}  // namespace pg::nn
