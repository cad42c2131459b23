// H5File: a small RAII wrapper over the HDF5 C API for reading and writing tensors, string
// lists and attributes (data sets, checkpoints).
//
// Contract:
// * Every failure throws pg::Error naming the file and, where there is one, the dataset or
//   attribute, plus HDF5's innermost error description when HDF5 gave one. HDF5's automatic
//   error printing is switched off (on every thread that uses this wrapper).
// * Object names are HDF5 paths ("data", "model/fc1/weight"); writing creates intermediate
//   groups. Reading returns contiguous CPU tensors.
// * DType mapping on write: f32/f64 → IEEE float, i32/i64 → signed int, u8 → unsigned char,
//   b8 → the h5py boolean enum (int8 {FALSE, TRUE}). On read the natural pg dtype of the stored
//   type is returned; integer types without a pg dtype (int8, int16, uint16, uint32, uint64) are
//   read as int64 (values converted by HDF5).
// * Datasets whose raw storage is smaller than their shape claims (truncated files) or whose
//   size is absurd are rejected before any allocation. Chunked datasets must have every chunk
//   stored (a partially written dataset would read fill values: reported as truncated).
// * Hardening against corrupt files beyond HDF5 1.10's own checks (found by fuzzing: HDF5
//   would crash, hang or allocate without bound on these): chunk extents larger than a fixed
//   dataset extent, integer elements not of 1/2/4/8 bytes, chunks outside the file, and a
//   cyclic free list in the root group's local heap (v0/v1 superblocks) all raise pg::Error.
// * Not safe to share one H5File between threads; distinct files on distinct threads are fine
//   (the system HDF5 is built thread-safe).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pg::datasets {

// Stored element type of a dataset, as far as pg cares.
struct H5TypeInfo {
  enum class Kind { floating, integer, boolean, string, other } kind = Kind::other;
  int64_t size = 0;              // bytes per element (strings: fixed length, or 0 for variable length)
  bool is_signed = true;         // integers
  std::string describe() const;  // e.g. "float32", "uint8", "string", "compound"
};

struct H5WriteOptions {
  // Chunked + deflate (level 1..9) when > 0; 0 writes contiguous raw data.
  int compression = 0;
  // Adds HDF5's Fletcher-32 checksum filter (chunked), so corrupt raw data is detected on read.
  bool checksum = false;
};

struct H5CreateOptions {
  // Bytes reserved at the start of the file for the caller (an HDF5 "user block", which HDF5
  // readers skip): 0, or a power of two ≥ 512.
  int64_t user_block = 0;
};

// Member order of list().
enum class H5Order { name, creation };

class H5File {
 public:
  enum class Mode { read, create, read_write };

  // Opens an existing file read-only. Errors: missing file, not an HDF5 file, truncated.
  static H5File open(const std::string& path) { return H5File(path, Mode::read); }
  // Creates (truncating) a file for writing.
  static H5File create(const std::string& path, const H5CreateOptions& opts = {}) {
    return H5File(path, Mode::create, opts);
  }

  H5File(const std::string& path, Mode mode, const H5CreateOptions& create_opts = {});
  H5File(H5File&& o) noexcept;
  H5File& operator=(H5File&& o) noexcept;
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;
  ~H5File();

  const std::string& path() const { return path_; }
  bool is_open() const { return id_ >= 0; }
  // Flushes and closes; errors while closing are reported (the destructor swallows them).
  void close();

  // ---- structure ----
  bool exists(const std::string& name) const;  // any object (dataset or group) at this path
  bool is_dataset(const std::string& name) const;
  bool is_group(const std::string& name) const;
  // Direct member names of a group ("/" for the root), sorted by name; with H5Order::creation in
  // the order they were created when the group tracks it (create_group(name, true)), else by name.
  std::vector<std::string> list(const std::string& group = "/", H5Order order = H5Order::name) const;
  // Paths of every dataset in the file (recursive, "a/b/c" form), sorted.
  std::vector<std::string> list_datasets() const;

  // Creates a group (and missing parents). With track_order the group records the creation order
  // of its members, which list(group, H5Order::creation) returns. An existing group is an error.
  void create_group(const std::string& name, bool track_order = false);

  // ---- datasets ----
  Shape shape(const std::string& name) const;
  H5TypeInfo type(const std::string& name) const;
  // The pg dtype read() would return; throws for strings and unsupported types.
  DType dtype(const std::string& name) const;

  Tensor read(const std::string& name) const;
  // Reads and checks the stored dtype (exactly) and the shape: `shape` entries of -1 match any
  // extent, the rank must match. Errors name the file, dataset, expected and actual values.
  Tensor read(const std::string& name, DType expected, const Shape& shape) const;
  // Reads any numeric dataset converted to `as` (e.g. integer labels of any width as int64).
  Tensor read_as(const std::string& name, DType as) const;
  // Reads the hyperslab [start, start + count) along every dim (sizes as the dataset's rank),
  // converted to `as`.
  Tensor read_slab(const std::string& name, const Shape& start, const Shape& count, DType as) const;

  // Writes (creating or replacing) a dataset from any tensor (any device; copied to the host).
  void write(const std::string& name, const Tensor& t, const H5WriteOptions& opts = {});
  // Strings: a 1-D variable-length UTF-8 string dataset (the h5py layout).
  void write_strings(const std::string& name, const std::vector<std::string>& values);
  // One string: a scalar variable-length UTF-8 string dataset (read back by read_strings).
  void write_string(const std::string& name, const std::string& value);
  // Reads 1-D (or scalar) string datasets, variable or fixed length.
  std::vector<std::string> read_strings(const std::string& name) const;

  // ---- attributes (on the object at `obj`, "/" = the file) ----
  bool has_attr(const std::string& obj, const std::string& key) const;
  std::vector<std::string> attr_names(const std::string& obj) const;
  void set_attr(const std::string& obj, const std::string& key, const std::string& value);
  void set_attr(const std::string& obj, const std::string& key, const char* value) {
    set_attr(obj, key, std::string(value));
  }
  void set_attr(const std::string& obj, const std::string& key, double value);
  void set_attr(const std::string& obj, const std::string& key, int64_t value);
  void set_attr(const std::string& obj, const std::string& key, const std::vector<double>& values);
  std::string attr_string(const std::string& obj, const std::string& key) const;
  double attr_double(const std::string& obj, const std::string& key) const;
  int64_t attr_int(const std::string& obj, const std::string& key) const;
  std::vector<double> attr_doubles(const std::string& obj, const std::string& key) const;

  // Low-level: the hid_t of the open file (for callers that need the C API directly).
  int64_t id() const { return id_; }

 private:
  H5File() = default;
  std::string where(const std::string& name) const;  // "file 'p', dataset 'name'"
  void require_open(const char* op) const;
  void require_writable(const char* op) const;
  void ensure_parent_groups(const std::string& name);
  void remove_if_exists(const std::string& name);

  std::string path_;
  int64_t id_ = -1;
  Mode mode_ = Mode::read;
};

// Switches off HDF5's automatic error printing on the calling thread (idempotent).
void h5_silence_errors();

// True when `path` exists and has an HDF5 signature.
bool is_hdf5_file(const std::string& path);

// Writes an HDF5 file atomically: `fill` writes into a temporary file next to `path`, which is
// closed, passed to `seal` (when given: final byte-level edits of the closed file, e.g. a
// checksum in the user block) and renamed over `path` only when everything returned normally
// (a failure removes it; see write_file_atomic).
void write_h5_atomic(const std::string& path, const std::function<void(H5File&)>& fill,
                     const H5CreateOptions& opts = {}, const std::function<void(const std::string& tmp)>& seal = {});

}  // namespace pg::datasets
