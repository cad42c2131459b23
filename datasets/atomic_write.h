// Atomic file writes: write a temporary file next to the target, then rename it over the target,
// so a crash or an error never leaves a half-written data set, checkpoint or list file.
#pragma once

#include <functional>
#include <string>

namespace pg::datasets {

// A unique temporary path in the same folder as `path` (same file system, so rename is atomic).
std::string atomic_temp_path(const std::string& path);

// Calls `write(tmp)` to produce the file at a temporary path, fsyncs it, renames it to `path`
// and fsyncs the folder (best effort). When `write` (or the fsync) throws, the temporary file is
// removed and the exception propagates; `path` keeps its previous content (or stays absent).
// The folder of `path` must exist (an error names it otherwise).
void write_file_atomic(const std::string& path, const std::function<void(const std::string& tmp)>& write);

// Writes `content` to `path` atomically (text or binary, byte for byte).
void write_text_atomic(const std::string& path, const std::string& content);

}  // namespace pg::datasets
