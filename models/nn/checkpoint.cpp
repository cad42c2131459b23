#include "models/nn/checkpoint.h"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <sstream>

namespace pg::nn {

namespace {

constexpr const char* kFormat = "pointgrad.checkpoint";
constexpr int64_t kFormatVersion = 1;

std::atomic<int> g_fail_after{-1};

// ---- integrity header (HDF5 user block) ----
// HDF5 parses corrupt metadata unsafely (crashes inside the library are possible), so every
// checkpoint starts with a 512-byte user block (ignored by HDF5 and h5py) holding
//   bytes 0..7   magic "PGCKPT01"
//   bytes 8..15  total file size (uint64, little endian)
//   bytes 16..23 64-bit hash of bytes [24, size) (the rest of the user block and the HDF5 data)
// and loading verifies size and hash BEFORE the file is handed to HDF5: truncated or corrupted
// files fail cleanly.
constexpr size_t kUserBlock = 512;
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

// Writes the integrity header into the user block of the closed file `p`.
void seal_file(const std::string& p, const std::string& ckpt) {
  const int fd = ::open(p.c_str(), O_RDWR);
  if (fd < 0) PG_FAIL("checkpoint '", ckpt, "': cannot reopen '", p, "' to seal it: ", std::strerror(errno));
  struct stat st {};
  uint64_t hash = 0;
  bool ok = ::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) >= kUserBlock;
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
void verify_file(const std::string& path) {
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

// ---- small RAII and error helpers ----

class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id() = default;
  H5Id(hid_t id, Closer c) : id_(id), close_(c) {}
  ~H5Id() { reset(); }
  H5Id(H5Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  H5Id& operator=(H5Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = -1;
    }
    return *this;
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and reports whether closing succeeded.
  bool close() {
    if (id_ < 0) return true;
    const herr_t r = close_(id_);
    id_ = -1;
    return r >= 0;
  }

 private:
  void reset() {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
    id_ = -1;
  }
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

// Turns off HDF5's automatic error-stack printing for the scope (errors become pg::Error).
class QuietH5 {
 public:
  QuietH5() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietH5() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

struct Ctx {
  std::string path;
  [[noreturn]] void fail(const std::string& dataset, const std::string& msg) const {
    if (dataset.empty()) PG_FAIL("checkpoint '", path, "': ", msg);
    PG_FAIL("checkpoint '", path, "': dataset '", dataset, "': ", msg);
  }
};

bool file_exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// ---- dtypes ----

hid_t file_type_of(DType t) {
  switch (t) {
    case DType::f32:
      return H5T_IEEE_F32LE;
    case DType::f64:
      return H5T_IEEE_F64LE;
    case DType::i32:
      return H5T_STD_I32LE;
    case DType::i64:
      return H5T_STD_I64LE;
    case DType::u8:
    case DType::b8:
      return H5T_STD_U8LE;
  }
  return H5T_STD_U8LE;
}

hid_t mem_type_of(DType t) {
  switch (t) {
    case DType::f32:
      return H5T_NATIVE_FLOAT;
    case DType::f64:
      return H5T_NATIVE_DOUBLE;
    case DType::i32:
      return H5T_NATIVE_INT32;
    case DType::i64:
      return H5T_NATIVE_INT64;
    case DType::u8:
    case DType::b8:
      return H5T_NATIVE_UINT8;
  }
  return H5T_NATIVE_UINT8;
}

// ---- attributes and string datasets ----

H5Id string_type(size_t len) {
  H5Id t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), std::max<size_t>(1, len));
  H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

void write_string_attr(hid_t loc, const char* name, const std::string& value, const Ctx& ctx,
                       const std::string& where) {
  H5Id type = string_type(value.size());
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id attr(H5Acreate2(loc, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) ctx.fail(where, std::string("cannot create attribute '") + name + "'");
  std::string buf = value;
  buf.resize(std::max<size_t>(1, value.size()), '\0');
  if (H5Awrite(attr.get(), type.get(), buf.data()) < 0)
    ctx.fail(where, std::string("cannot write attribute '") + name + "'");
}

void write_int_attr(hid_t loc, const char* name, int64_t value, const Ctx& ctx) {
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id attr(H5Acreate2(loc, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attr.valid() || H5Awrite(attr.get(), H5T_NATIVE_INT64, &value) < 0) {
    ctx.fail("", std::string("cannot write attribute '") + name + "'");
  }
}

// Reads a string from an attribute or dataset whose type is `ftype` (fixed or variable length).
template <class ReadFn>
std::string read_string_value(hid_t ftype, ReadFn read, const Ctx& ctx, const std::string& where) {
  if (H5Tget_class(ftype) != H5T_STRING) ctx.fail(where, "expected a string");
  if (H5Tis_variable_str(ftype) > 0) {
    H5Id mtype(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(mtype.get(), H5T_VARIABLE);
    char* p = nullptr;
    if (read(mtype.get(), static_cast<void*>(&p)) < 0) ctx.fail(where, "cannot read the string (corrupt file?)");
    std::string s = p != nullptr ? std::string(p) : std::string();
    if (p != nullptr) H5free_memory(p);
    return s;
  }
  const size_t size = H5Tget_size(ftype);
  if (size == 0 || size > (size_t(1) << 30)) ctx.fail(where, "invalid string size");
  std::string buf(size, '\0');
  H5Id mtype(H5Tcopy(ftype), H5Tclose);
  if (read(mtype.get(), static_cast<void*>(buf.data())) < 0) ctx.fail(where, "cannot read the string (corrupt file?)");
  const size_t end = buf.find('\0');
  if (end != std::string::npos) buf.resize(end);
  return buf;
}

bool has_attr(hid_t loc, const char* name) {
  return H5Aexists(loc, name) > 0;
}

std::string read_string_attr(hid_t loc, const char* name, const Ctx& ctx, const std::string& where) {
  H5Id attr(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
  if (!attr.valid()) ctx.fail(where, std::string("cannot open attribute '") + name + "'");
  H5Id ftype(H5Aget_type(attr.get()), H5Tclose);
  return read_string_value(
      ftype.get(), [&](hid_t mt, void* buf) { return H5Aread(attr.get(), mt, buf); }, ctx,
      where.empty() ? std::string("@") + name : where + "@" + name);
}

int64_t read_int_attr(hid_t loc, const char* name, const Ctx& ctx) {
  H5Id attr(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
  int64_t v = 0;
  if (!attr.valid() || H5Aread(attr.get(), H5T_NATIVE_INT64, &v) < 0) {
    ctx.fail("", std::string("cannot read attribute '") + name + "'");
  }
  return v;
}

void write_string_dataset(hid_t loc, const std::string& name, const std::string& value, const Ctx& ctx) {
  H5Id type = string_type(value.size());
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id ds(H5Dcreate2(loc, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) ctx.fail(name, "cannot create dataset");
  std::string buf = value;
  buf.resize(std::max<size_t>(1, value.size()), '\0');
  if (H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0) ctx.fail(name, "cannot write");
}

std::string read_string_dataset(hid_t loc, const std::string& name, const Ctx& ctx) {
  H5Id ds(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) ctx.fail(name, "cannot open dataset");
  H5Id ftype(H5Dget_type(ds.get()), H5Tclose);
  if (!ftype.valid()) ctx.fail(name, "cannot read the datatype (corrupt file?)");
  return read_string_value(
      ftype.get(), [&](hid_t mt, void* buf) { return H5Dread(ds.get(), mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); }, ctx,
      name);
}

// Every string attribute of the object `name` (a dataset or group), by attribute name.
std::map<std::string, std::string> read_string_attrs(hid_t loc, const std::string& name, const Ctx& ctx) {
  H5Id obj(H5Oopen(loc, name.c_str(), H5P_DEFAULT), H5Oclose);
  if (!obj.valid()) ctx.fail(name, "cannot open (corrupt file?)");
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* attr_name, const H5A_info_t*, void* op) -> herr_t {
    static_cast<std::vector<std::string>*>(op)->push_back(attr_name);
    return 0;
  };
  hsize_t idx = 0;
  if (H5Aiterate2(obj.get(), H5_INDEX_NAME, H5_ITER_INC, &idx, collect, &names) < 0) {
    ctx.fail(name, "cannot list the attributes (corrupt file?)");
  }
  std::map<std::string, std::string> out;
  for (const std::string& a : names) out[a] = read_string_attr(obj.get(), a.c_str(), ctx, name);
  return out;
}

// ---- groups ----

H5Id create_group(hid_t loc, const std::string& name, const Ctx& ctx) {
  H5Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  H5Id g(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose);
  if (!g.valid()) ctx.fail(name, "cannot create group");
  return g;
}

bool link_exists(hid_t loc, const std::string& name) {
  return H5Lexists(loc, name.c_str(), H5P_DEFAULT) > 0;
}

H5Id open_group(hid_t loc, const std::string& name, const Ctx& ctx) {
  if (!link_exists(loc, name)) ctx.fail(name, "missing group");
  H5Id g(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), H5Gclose);
  if (!g.valid()) ctx.fail(name, "cannot open group (corrupt file?)");
  return g;
}

// Link names of a group, in creation order when tracked, else by name.
std::vector<std::string> list_names(hid_t group, const Ctx& ctx, const std::string& where) {
  H5G_info_t info{};
  if (H5Gget_info(group, &info) < 0) ctx.fail(where, "cannot list the group (corrupt file?)");
  H5_index_t index = H5_INDEX_NAME;
  {
    H5Id gcpl(H5Gget_create_plist(group), H5Pclose);
    unsigned flags = 0;
    if (gcpl.valid() && H5Pget_link_creation_order(gcpl.get(), &flags) >= 0 && (flags & H5P_CRT_ORDER_TRACKED) &&
        (flags & H5P_CRT_ORDER_INDEXED)) {
      index = H5_INDEX_CRT_ORDER;
    }
  }
  std::vector<std::string> out;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) ctx.fail(where, "cannot read a link name (corrupt file?)");
    std::string name(static_cast<size_t>(n) + 1, '\0');
    if (H5Lget_name_by_idx(group, ".", index, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT) < 0) {
      ctx.fail(where, "cannot read a link name (corrupt file?)");
    }
    name.resize(static_cast<size_t>(n));
    out.push_back(name);
  }
  return out;
}

// ---- tensors ----

void maybe_inject_fault() {
  int left = g_fail_after.load();
  if (left < 0) return;
  if (left == 0) {
    g_fail_after.store(-1);
    PG_FAIL("checkpoint: injected write fault (testing)");
  }
  g_fail_after.store(left - 1);
}

void write_tensor(hid_t group, const std::string& group_name, const std::string& name, const Tensor& t,
                  const Ctx& ctx) {
  const std::string where = group_name + "/" + name;
  if (!t.defined()) ctx.fail(where, "undefined tensor");
  maybe_inject_fault();
  Tensor host = t;
  if (!t.is_cpu() || !t.is_contiguous()) {
    host = empty(t.shape(), TensorOptions(t.dtype(), Device::cpu()));
    pg::detail::copy_raw(host, t);
  }
  std::vector<hsize_t> dims(t.shape().begin(), t.shape().end());
  H5Id space(
      t.dim() == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
      H5Sclose);
  if (!space.valid()) ctx.fail(where, "cannot create the dataspace for shape " + shape_str(t.shape()));
  H5Id ds(H5Dcreate2(group, name.c_str(), file_type_of(t.dtype()), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
          H5Dclose);
  if (!ds.valid()) ctx.fail(where, "cannot create dataset");
  if (t.numel() > 0 && H5Dwrite(ds.get(), mem_type_of(t.dtype()), H5S_ALL, H5S_ALL, H5P_DEFAULT, host.raw_data()) < 0) {
    ctx.fail(where, "cannot write dataset");
  }
  write_string_attr(ds.get(), "dtype", dtype_name(t.dtype()), ctx, where);
}

DType infer_dtype(hid_t ftype, const Ctx& ctx, const std::string& where) {
  const H5T_class_t cls = H5Tget_class(ftype);
  const size_t size = H5Tget_size(ftype);
  if (cls == H5T_FLOAT) {
    if (size == 4) return DType::f32;
    if (size == 8) return DType::f64;
  } else if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(ftype) == H5T_SGN_2;
    if (size == 1 && !is_signed) return DType::u8;
    if (size == 4 && is_signed) return DType::i32;
    if (size == 8 && is_signed) return DType::i64;
  }
  ctx.fail(where, "unsupported datatype (class " + std::to_string(static_cast<int>(cls)) + ", " + std::to_string(size) +
                      " bytes)");
}

Tensor read_tensor(hid_t group, const std::string& group_name, const std::string& name, const Ctx& ctx) {
  const std::string where = group_name + "/" + name;
  {
    H5Id obj(H5Oopen(group, name.c_str(), H5P_DEFAULT), H5Oclose);
    if (!obj.valid() || H5Iget_type(obj.get()) != H5I_DATASET) ctx.fail(where, "is not a dataset (corrupt file?)");
  }
  H5Id ds(H5Dopen2(group, name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) ctx.fail(where, "cannot open dataset (corrupt file?)");
  H5Id space(H5Dget_space(ds.get()), H5Sclose);
  H5Id ftype(H5Dget_type(ds.get()), H5Tclose);
  if (!space.valid() || !ftype.valid()) ctx.fail(where, "cannot read the dataspace or datatype (corrupt file?)");
  Shape shape;
  const H5S_class_t scls = H5Sget_simple_extent_type(space.get());
  if (scls == H5S_SIMPLE) {
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > 32) ctx.fail(where, "invalid rank");
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    if (H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) ctx.fail(where, "cannot read the shape");
    for (hsize_t d : dims) {
      if (d > static_cast<hsize_t>(std::numeric_limits<int64_t>::max() / 2)) ctx.fail(where, "invalid dimension");
      shape.push_back(static_cast<int64_t>(d));
    }
  } else if (scls != H5S_SCALAR) {
    ctx.fail(where, "null or unknown dataspace");
  }
  DType dtype = DType::f32;
  if (has_attr(ds.get(), "dtype")) {
    const std::string dn = read_string_attr(ds.get(), "dtype", ctx, where);
    try {
      dtype = dtype_from_name(dn);
    } catch (const Error&) {
      ctx.fail(where, "unknown dtype attribute '" + dn + "'");
    }
  } else {
    dtype = infer_dtype(ftype.get(), ctx, where);
  }
  const H5T_class_t fcls = H5Tget_class(ftype.get());
  if (fcls != H5T_FLOAT && fcls != H5T_INTEGER) ctx.fail(where, "not a numeric dataset");
  // Guard against absurd sizes from a corrupt header before allocating.
  int64_t numel = 1;
  for (int64_t d : shape) {
    if (d != 0 && numel > std::numeric_limits<int64_t>::max() / d) ctx.fail(where, "shape overflows");
    numel *= d;
  }
  const int64_t esize = dtype_size(dtype == DType::b8 ? DType::u8 : dtype);
  if (numel > (int64_t(1) << 40) / esize) ctx.fail(where, "implausibly large shape " + shape_str(shape));
  {
    H5Id dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
    if (dcpl.valid() && H5Pget_layout(dcpl.get()) == H5D_CONTIGUOUS && numel > 0) {
      const hsize_t stored = H5Dget_storage_size(ds.get());
      if (stored < static_cast<hsize_t>(numel) * H5Tget_size(ftype.get())) {
        ctx.fail(where, "holds " + std::to_string(stored) + " bytes but shape " + shape_str(shape) +
                            " needs more (truncated or corrupt file)");
      }
    }
  }
  const DType read_as = dtype == DType::b8 ? DType::u8 : dtype;
  Tensor out = empty(shape, TensorOptions(read_as));
  if (numel > 0 && H5Dread(ds.get(), mem_type_of(read_as), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.raw_data()) < 0) {
    ctx.fail(where, "cannot read the data (truncated or corrupt file)");
  }
  if (dtype == DType::b8) {
    Tensor b = empty(shape, TensorOptions(DType::b8));
    pg::detail::copy_raw(b, out);
    out = b;
  }
  return out;
}

NamedTensors read_tensor_group(hid_t loc, const std::string& group_name, const Ctx& ctx) {
  H5Id g = open_group(loc, group_name, ctx);
  NamedTensors out;
  for (const std::string& n : list_names(g.get(), ctx, group_name))
    out.emplace_back(n, read_tensor(g.get(), group_name, n, ctx));
  return out;
}

void write_tensor_group(hid_t loc, const std::string& group_name, const NamedTensors& list, const Ctx& ctx) {
  H5Id g = create_group(loc, group_name, ctx);
  for (const auto& [n, t] : list) write_tensor(g.get(), group_name, n, t, ctx);
}

void write_double(hid_t loc, const std::string& group_name, const std::string& name, double v, const Ctx& ctx) {
  const std::string where = group_name + "/" + name;
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  H5Id ds(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
  if (!ds.valid() || H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) < 0) {
    ctx.fail(where, "cannot write");
  }
}

std::vector<std::pair<std::string, double>> read_doubles(hid_t loc, const std::string& group_name, const Ctx& ctx) {
  H5Id g = open_group(loc, group_name, ctx);
  std::vector<std::pair<std::string, double>> out;
  for (const std::string& n : list_names(g.get(), ctx, group_name)) {
    const Tensor t = read_tensor(g.get(), group_name, n, ctx);
    if (t.numel() != 1) ctx.fail(group_name + "/" + n, "expected a scalar, got shape " + shape_str(t.shape()));
    out.emplace_back(n, t.item<double>());
  }
  return out;
}

// Names become HDF5 link names: non-empty, no '/', not "." and unique within their group.
void check_names(const std::vector<std::string>& names, const std::string& what, const Ctx& ctx) {
  std::set<std::string> seen;
  for (const auto& n : names) {
    if (n.empty() || n == "." || n.find('/') != std::string::npos) {
      ctx.fail("", what + " name '" + n + "' is not allowed (empty, '.', or containing '/')");
    }
    if (!seen.insert(n).second) ctx.fail("", what + " name '" + n + "' appears twice");
  }
}

template <class List>
std::vector<std::string> names_of(const List& l) {
  std::vector<std::string> out;
  for (const auto& p : l) out.push_back(p.first);
  return out;
}

void fsync_path(const std::string& p, int flags) {
  const int fd = ::open(p.c_str(), flags);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

void write_contents(hid_t file, const CheckpointData& d, const Ctx& ctx) {
  hid_t root = file;
  write_string_attr(root, "format", kFormat, ctx, "");
  write_int_attr(root, "format_version", kFormatVersion, ctx);
  write_int_attr(root, "epoch", d.meta.epoch, ctx);
  write_string_dataset(root, "config", d.meta.config, ctx);
  if (!d.meta.attributes.empty()) {
    H5Id cfg(H5Dopen2(root, "config", H5P_DEFAULT), H5Dclose);
    if (!cfg.valid()) ctx.fail("config", "cannot reopen dataset");
    for (const auto& [k, v] : d.meta.attributes) write_string_attr(cfg.get(), k.c_str(), v, ctx, "config");
  }
  write_tensor_group(root, "parameters", d.parameters, ctx);
  write_tensor_group(root, "buffers", d.buffers, ctx);
  if (d.has_optimizer) {
    H5Id og = create_group(root, "optimizer", ctx);
    write_string_attr(og.get(), "type", d.optimizer_type, ctx, "optimizer");
    write_tensor_group(og.get(), "state", d.optimizer_state, ctx);
    H5Id hg = create_group(og.get(), "hyperparameters", ctx);
    for (const auto& [k, v] : d.optimizer_hyperparameters)
      write_double(hg.get(), "optimizer/hyperparameters", k, v, ctx);
  }
  H5Id sg = create_group(root, "scalars", ctx);
  for (const auto& [k, v] : d.meta.scalars) write_double(sg.get(), "scalars", k, v, ctx);
}

}  // namespace

namespace testing {
void checkpoint_fail_after_datasets(int n) {
  g_fail_after.store(n < 0 ? -1 : n);
}
}  // namespace testing

void write_checkpoint(const std::string& path, const CheckpointData& data) {
  const Ctx ctx{path};
  PG_CHECK(!path.empty(), "checkpoint: empty path");
  check_names(names_of(data.parameters), "parameter", ctx);
  check_names(names_of(data.buffers), "buffer", ctx);
  check_names(names_of(data.optimizer_state), "optimizer state", ctx);
  check_names(names_of(data.optimizer_hyperparameters), "optimizer hyperparameter", ctx);
  check_names(names_of(data.meta.scalars), "scalar", ctx);
  for (const auto& [k, v] : data.meta.attributes) {
    if (k.empty()) ctx.fail("config", "attribute names must not be empty");
  }

  const std::string tmp = path + ".tmp." + std::to_string(static_cast<long>(::getpid()));
  QuietH5 quiet;
  try {
    H5Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
    if (!fcpl.valid() || H5Pset_userblock(fcpl.get(), kUserBlock) < 0) ctx.fail("", "cannot set up the user block");
    H5Id file(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT), H5Fclose);
    if (!file.valid()) {
      PG_FAIL("checkpoint '", path, "': cannot create the temporary file '", tmp,
              "' (does the directory exist and is it writable?)");
    }
    write_contents(file.get(), data, ctx);
    if (H5Fflush(file.get(), H5F_SCOPE_GLOBAL) < 0 || !file.close()) {
      ctx.fail("", "cannot flush/close the temporary file '" + tmp + "' (disk full?)");
    }
    seal_file(tmp, path);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
      ctx.fail("", "cannot rename '" + tmp + "' to the checkpoint path: " + std::strerror(errno));
    }
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  fsync_path(dir_of(path), O_RDONLY | O_DIRECTORY);
}

CheckpointData read_checkpoint(const std::string& path) {
  const Ctx ctx{path};
  if (!file_exists(path)) PG_FAIL("checkpoint '", path, "': file not found");
  verify_file(path);
  QuietH5 quiet;
  if (H5Fis_hdf5(path.c_str()) <= 0) ctx.fail("", "not an HDF5 file (corrupt or truncated?)");
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) ctx.fail("", "cannot open the HDF5 file (truncated or corrupt?)");
  const hid_t root = file.get();
  if (!has_attr(root, "format")) ctx.fail("", "not a pointgrad checkpoint (no 'format' attribute)");
  const std::string format = read_string_attr(root, "format", ctx, "");
  if (format != kFormat) ctx.fail("", "not a pointgrad checkpoint (format '" + format + "')");
  const int64_t version = has_attr(root, "format_version") ? read_int_attr(root, "format_version", ctx) : 0;
  if (version < 1 || version > kFormatVersion) {
    ctx.fail("", "unsupported checkpoint format version " + std::to_string(version) + " (this build reads up to " +
                     std::to_string(kFormatVersion) + ")");
  }
  CheckpointData d;
  d.meta.epoch = has_attr(root, "epoch") ? read_int_attr(root, "epoch", ctx) : 0;
  d.meta.config = link_exists(root, "config") ? read_string_dataset(root, "config", ctx) : std::string();
  if (link_exists(root, "config")) d.meta.attributes = read_string_attrs(root, "config", ctx);
  d.parameters = read_tensor_group(root, "parameters", ctx);
  d.buffers = link_exists(root, "buffers") ? read_tensor_group(root, "buffers", ctx) : NamedTensors{};
  if (link_exists(root, "optimizer")) {
    d.has_optimizer = true;
    H5Id og = open_group(root, "optimizer", ctx);
    if (!has_attr(og.get(), "type")) ctx.fail("optimizer", "missing 'type' attribute");
    d.optimizer_type = read_string_attr(og.get(), "type", ctx, "optimizer");
    d.optimizer_state = read_tensor_group(og.get(), "state", ctx);
    if (link_exists(og.get(), "hyperparameters")) {
      d.optimizer_hyperparameters = read_doubles(og.get(), "hyperparameters", ctx);
    }
  }
  if (link_exists(root, "scalars")) {
    for (auto& [k, v] : read_doubles(root, "scalars", ctx)) d.meta.scalars[k] = v;
  }
  return d;
}

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const CheckpointMeta& meta) {
  CheckpointData d;
  d.parameters = model.named_parameters();
  d.buffers = model.named_buffers();
  if (optimizer != nullptr) {
    d.has_optimizer = true;
    d.optimizer_type = optimizer->name();
    d.optimizer_state = optimizer->state();
    d.optimizer_hyperparameters = optimizer->hyperparameters();
  }
  d.meta = meta;
  write_checkpoint(path, d);
}

CheckpointMeta load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer, bool strict) {
  CheckpointData d = read_checkpoint(path);
  NamedTensors model_state = d.parameters;
  model_state.insert(model_state.end(), d.buffers.begin(), d.buffers.end());
  std::vector<std::string> problems = model.state_dict_problems(model_state, strict);
  if (optimizer != nullptr) {
    if (!d.has_optimizer) {
      problems.push_back("optimizer: the file holds no optimizer state");
    } else if (d.optimizer_type != optimizer->name()) {
      problems.push_back("optimizer: the file holds " + d.optimizer_type + " state but the optimizer is " +
                         optimizer->name());
    } else {
      for (const auto& p : optimizer->state_problems(d.optimizer_state)) problems.push_back("optimizer state " + p);
    }
  }
  if (!problems.empty()) {
    std::ostringstream os;
    os << "checkpoint '" << path << "' does not match the " << model.type_name()
       << (optimizer != nullptr ? " and its optimizer" : "") << " (" << problems.size() << " problems):";
    for (const auto& p : problems) os << "\n  " << p;
    PG_FAIL(os.str());
  }
  model.load_state_dict(model_state, strict);
  if (optimizer != nullptr) {
    optimizer->load_state(d.optimizer_state);
    for (const auto& [k, v] : d.optimizer_hyperparameters) {
      if (k == "lr" || k == "step_count") optimizer->set_hyperparameter(k, v);
    }
  }
  return d.meta;
}

}  // namespace pg::nn
