#include "datasets/h5_file.h"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "datasets/atomic_write.h"

namespace pg::datasets {

namespace {

// Refuse to allocate more than this for one read, whatever a (possibly corrupt) file claims.
constexpr int64_t kMaxReadBytes = int64_t(1) << 40;

// ---- RAII over hid_t ----
class Hid {
 public:
  Hid() = default;
  Hid(hid_t id, herr_t (*closer)(hid_t)) : id_(id), closer_(closer) {}
  Hid(Hid&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = -1; }
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      closer_ = o.closer_;
      o.id_ = -1;
    }
    return *this;
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid() { reset(); }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  herr_t (*closer_)(hid_t) = nullptr;
};

herr_t collect_error(unsigned, const H5E_error2_t* e, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  if (e != nullptr && e->desc != nullptr && e->desc[0] != '\0') out->emplace_back(e->desc);
  return 0;
}

// HDF5's innermost error descriptions on this thread (then clears the stack), as " (HDF5: ...)".
std::string h5_detail() {
  std::vector<std::string> descs;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_error, &descs);
  H5Eclear2(H5E_DEFAULT);
  if (descs.empty()) return "";
  std::string s = descs.back();
  if (descs.size() >= 2 && descs[descs.size() - 2] != s) s = descs[descs.size() - 2] + ": " + s;
  return " (HDF5: " + s + ")";
}

std::string normalize(const std::string& name) {
  std::string n = name;
  while (!n.empty() && n.front() == '/') n.erase(n.begin());
  while (!n.empty() && n.back() == '/') n.pop_back();
  return n;
}

std::string obj_path(const std::string& obj) {
  const std::string n = normalize(obj);
  return n.empty() ? "/" : n;
}

bool checked_mul(int64_t a, int64_t b, int64_t& out) {
  if (a < 0 || b < 0) return false;
  if (a != 0 && b > std::numeric_limits<int64_t>::max() / a) return false;
  out = a * b;
  return true;
}

hid_t native_type(DType t) {
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
      return H5T_NATIVE_UINT8;
    case DType::b8:
      return H5T_NATIVE_UINT8;  // unused: booleans use bool_enum_type()
  }
  return H5T_NATIVE_UINT8;
}

hid_t file_type(DType t) {
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
      return H5T_STD_U8LE;
    case DType::b8:
      return H5T_STD_I8LE;  // unused: booleans use bool_enum_type()
  }
  return H5T_STD_U8LE;
}

// The h5py boolean: enum int8 {FALSE = 0, TRUE = 1}.
Hid bool_enum_type() {
  Hid t(H5Tenum_create(H5T_NATIVE_INT8), H5Tclose);
  int8_t v = 0;
  H5Tenum_insert(t.get(), "FALSE", &v);
  v = 1;
  H5Tenum_insert(t.get(), "TRUE", &v);
  return t;
}

H5TypeInfo describe_type(hid_t type) {
  H5TypeInfo info;
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  info.size = static_cast<int64_t>(size);
  switch (cls) {
    case H5T_FLOAT:
      info.kind = H5TypeInfo::Kind::floating;
      break;
    case H5T_INTEGER:
      info.kind = H5TypeInfo::Kind::integer;
      info.is_signed = H5Tget_sign(type) != H5T_SGN_NONE;
      break;
    case H5T_ENUM: {
      const int n = H5Tget_nmembers(type);
      if (n == 2 && size == 1) {
        char* a = H5Tget_member_name(type, 0);
        char* b = H5Tget_member_name(type, 1);
        const bool is_bool = a != nullptr && b != nullptr && std::string(a) == "FALSE" && std::string(b) == "TRUE";
        H5free_memory(a);
        H5free_memory(b);
        if (is_bool) info.kind = H5TypeInfo::Kind::boolean;
      }
      break;
    }
    case H5T_STRING:
      info.kind = H5TypeInfo::Kind::string;
      if (H5Tis_variable_str(type) > 0) info.size = 0;
      break;
    default:
      break;
  }
  return info;
}

const char* class_name(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_COMPOUND:
      return "compound";
    case H5T_ARRAY:
      return "array";
    case H5T_VLEN:
      return "variable-length sequence";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_REFERENCE:
      return "reference";
    case H5T_ENUM:
      return "enum";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_TIME:
      return "time";
    default:
      return "unknown";
  }
}

// pg dtype that read() returns for a stored type; false when there is none.
bool natural_dtype(const H5TypeInfo& info, DType& out) {
  switch (info.kind) {
    case H5TypeInfo::Kind::floating:
      if (info.size == 4)
        out = DType::f32;
      else if (info.size == 8)
        out = DType::f64;
      else
        return false;
      return true;
    case H5TypeInfo::Kind::integer:
      if (!info.is_signed && info.size == 1)
        out = DType::u8;
      else if (info.is_signed && info.size == 4)
        out = DType::i32;
      else
        out = DType::i64;
      return true;
    case H5TypeInfo::Kind::boolean:
      out = DType::b8;
      return true;
    default:
      return false;
  }
}

struct ThreadSilencer {
  ThreadSilencer() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};

// HDF5 1.10 loops forever (allocating until the process is killed) on a local heap whose free
// list has a cycle, and reads past the heap on a free block at its very end. Files with a
// version 0/1 superblock at offset 0 (h5py's default, the official ModelNet40 shards) keep the
// root group's heap address in the superblock: check that heap's free list before HDF5 parses
// it. Returns an empty string when fine (or not applicable), else what is wrong.
std::string check_root_local_heap(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  auto read_at = [&](uint64_t pos, size_t n, std::vector<unsigned char>& out) {
    out.assign(n, 0);
    f.clear();
    f.seekg(static_cast<std::streamoff>(pos));
    f.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(n));
    return static_cast<size_t>(f.gcount()) == n;
  };
  auto uint_le = [](const unsigned char* p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  };
  std::error_code ec;
  const uint64_t fsize = std::filesystem::file_size(path, ec);
  if (ec) return "";
  std::vector<unsigned char> sb;
  if (!read_at(0, 8 + 20 + 8 * 4 + 40, sb)) return "";
  static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (std::memcmp(sb.data(), sig, 8) != 0) return "";
  const int version = sb[8];
  if (version > 1) return "";  // v2/v3 superblocks: checksummed metadata, other layout
  const int O = sb[13], L = sb[14];
  if ((O != 2 && O != 4 && O != 8) || (L != 2 && L != 4 && L != 8))
    return "superblock has invalid address/length sizes";
  size_t pos = version == 0 ? 24 : 28;
  const uint64_t base = uint_le(&sb[pos], O);
  pos += 4 * static_cast<size_t>(O);      // base, free-space, EOF, driver-info addresses
  pos += 2 * static_cast<size_t>(O) + 8;  // root entry: link name offset, object header address, cache type, reserved
  if (pos + 2 * static_cast<size_t>(O) > sb.size()) return "";
  const uint32_t cache_type = static_cast<uint32_t>(uint_le(&sb[pos - 8], 4));
  if (cache_type != 1) return "";  // no scratch pad: nothing to check here
  const uint64_t heap_addr = base + uint_le(&sb[pos + static_cast<size_t>(O)], O);
  std::vector<unsigned char> hh;
  const size_t hsize = 8 + 2 * static_cast<size_t>(L) + static_cast<size_t>(O);
  if (heap_addr >= fsize || !read_at(heap_addr, hsize, hh)) return "root group heap address is outside the file";
  if (std::memcmp(hh.data(), "HEAP", 4) != 0) return "";  // HDF5 reports a bad signature itself
  const uint64_t dsize = uint_le(&hh[8], L);
  uint64_t free_off = uint_le(&hh[8 + L], L);
  const uint64_t daddr = base + uint_le(&hh[8 + 2 * L], O);
  if (daddr > fsize || dsize > fsize - daddr) return "root group heap data lies outside the file";
  const uint64_t kNull = 1;  // H5HL_FREE_NULL
  std::vector<unsigned char> blk;
  for (uint64_t steps = 0; free_off != kNull; ++steps) {
    if (steps > dsize / (2 * static_cast<uint64_t>(L)) + 1) return "root group heap free list has a cycle";
    if (free_off >= dsize || dsize - free_off < 2 * static_cast<uint64_t>(L)) {
      return "root group heap free list points outside the heap";
    }
    if (!read_at(daddr + free_off, 2 * static_cast<size_t>(L), blk)) return "root group heap is truncated";
    const uint64_t next = uint_le(blk.data(), L);
    const uint64_t size = uint_le(blk.data() + L, L);
    if (size > dsize - free_off) return "root group heap free block exceeds the heap";
    free_off = next;
  }
  return "";
}

}  // namespace

std::string H5TypeInfo::describe() const {
  switch (kind) {
    case Kind::floating:
      return size == 2 ? "float16" : "float" + std::to_string(size * 8);
    case Kind::integer:
      return std::string(is_signed ? "int" : "uint") + std::to_string(size * 8);
    case Kind::boolean:
      return "bool";
    case Kind::string:
      return "string";
    default:
      return "unsupported type";
  }
}

void h5_silence_errors() {
  thread_local ThreadSilencer silencer;
  (void)silencer;
}

bool is_hdf5_file(const std::string& path) {
  h5_silence_errors();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  const htri_t r = H5Fis_hdf5(path.c_str());
  H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

// ---- H5File ----

H5File::H5File(const std::string& path, Mode mode, const H5CreateOptions& create_opts) : path_(path), mode_(mode) {
  h5_silence_errors();
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
#if H5_VERSION_GE(1, 10, 7)
  // No POSIX file locks: they fail on some network file systems and buy nothing here.
  H5Pset_file_locking(fapl.get(), false, true);
#endif
  if (mode == Mode::create) {
    const int64_t ub = create_opts.user_block;
    PG_CHECK(ub == 0 || (ub >= 512 && (ub & (ub - 1)) == 0), "cannot create HDF5 file '", path, "': user block of ", ub,
             " bytes (must be 0 or a power of two ≥ 512)");
    Hid fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
    PG_CHECK(fcpl.valid() && H5Pset_userblock(fcpl.get(), static_cast<hsize_t>(ub)) >= 0, "cannot create HDF5 file '",
             path, "': cannot set the user block", h5_detail());
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
    PG_CHECK(f >= 0, "cannot create HDF5 file '", path, "'", h5_detail());
    id_ = f;
    return;
  }
  std::error_code ec;
  PG_CHECK(std::filesystem::exists(path, ec), "HDF5 file '", path, "' not found");
  PG_CHECK(std::filesystem::is_regular_file(path, ec), "'", path, "' is not a regular file");
  const htri_t sig = H5Fis_hdf5(path.c_str());
  const std::string sig_detail = sig < 0 ? h5_detail() : "";
  PG_CHECK(sig > 0, "'", path, "' is not an HDF5 file (no HDF5 signature; empty, truncated or another format)",
           sig_detail);
  const hid_t f = H5Fopen(path.c_str(), mode == Mode::read ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl.get());
  PG_CHECK(f >= 0, "cannot open HDF5 file '", path, "': the file is corrupt or truncated", h5_detail());
  id_ = f;
  const std::string heap_problem = check_root_local_heap(path);
  if (!heap_problem.empty()) {
    H5Fclose(id_);
    H5Eclear2(H5E_DEFAULT);
    id_ = -1;
    PG_FAIL("cannot open HDF5 file '", path, "': the file is corrupt (", heap_problem, ")");
  }
}

H5File::H5File(H5File&& o) noexcept : path_(std::move(o.path_)), id_(o.id_), mode_(o.mode_) {
  o.id_ = -1;
}

H5File& H5File::operator=(H5File&& o) noexcept {
  if (this != &o) {
    if (id_ >= 0) H5Fclose(id_);
    path_ = std::move(o.path_);
    id_ = o.id_;
    mode_ = o.mode_;
    o.id_ = -1;
  }
  return *this;
}

H5File::~H5File() {
  if (id_ >= 0) {
    h5_silence_errors();
    H5Fclose(id_);
    H5Eclear2(H5E_DEFAULT);
  }
}

void H5File::close() {
  if (id_ < 0) return;
  h5_silence_errors();
  if (mode_ != Mode::read) H5Fflush(id_, H5F_SCOPE_LOCAL);
  const herr_t r = H5Fclose(id_);
  id_ = -1;
  PG_CHECK(r >= 0, "error closing HDF5 file '", path_, "'", h5_detail());
}

std::string H5File::where(const std::string& name) const {
  return "file '" + path_ + "', dataset '" + normalize(name) + "'";
}

void H5File::require_open(const char* op) const {
  PG_CHECK(id_ >= 0, "H5File::", op, ": file '", path_, "' is closed");
  h5_silence_errors();
}

void H5File::require_writable(const char* op) const {
  require_open(op);
  PG_CHECK(mode_ != Mode::read, "H5File::", op, ": file '", path_, "' is open read-only");
}

bool H5File::exists(const std::string& name) const {
  require_open("exists");
  const std::string n = normalize(name);
  if (n.empty()) return true;
  size_t pos = 0;
  while (true) {
    const size_t next = n.find('/', pos);
    const std::string prefix = n.substr(0, next);
    const htri_t r = H5Lexists(id_, prefix.c_str(), H5P_DEFAULT);
    if (r <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
    if (next == std::string::npos) break;
    pos = next + 1;
  }
  const htri_t r = H5Oexists_by_name(id_, n.c_str(), H5P_DEFAULT);
  H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

namespace {
// The kind of object at `name` of an open file (H5I_BADID when there is none or it cannot be opened).
H5I_type_t object_kind(hid_t file, const std::string& name) {
  Hid o(H5Oopen(file, name.c_str(), H5P_DEFAULT), H5Oclose);
  if (!o.valid()) {
    H5Eclear2(H5E_DEFAULT);
    return H5I_BADID;
  }
  return H5Iget_type(o.get());
}
}  // namespace

bool H5File::is_dataset(const std::string& name) const {
  return exists(name) && object_kind(id_, obj_path(name)) == H5I_DATASET;
}

bool H5File::is_group(const std::string& name) const {
  return exists(name) && object_kind(id_, obj_path(name)) == H5I_GROUP;
}

std::vector<std::string> H5File::list(const std::string& group, H5Order order) const {
  require_open("list");
  const std::string g = obj_path(group);
  PG_CHECK(exists(g), "file '", path_, "': group '", g, "' not found");
  Hid gid(H5Gopen2(id_, g.c_str(), H5P_DEFAULT), H5Gclose);
  PG_CHECK(gid.valid(), "file '", path_, "': '", g, "' is not a group", h5_detail());
  H5G_info_t info;
  PG_CHECK(H5Gget_info(gid.get(), &info) >= 0, "file '", path_, "': cannot read group '", g, "'", h5_detail());
  H5_index_t index = H5_INDEX_NAME;
  if (order == H5Order::creation) {
    Hid gcpl(H5Gget_create_plist(gid.get()), H5Pclose);
    unsigned flags = 0;
    if (gcpl.valid() && H5Pget_link_creation_order(gcpl.get(), &flags) >= 0 && (flags & H5P_CRT_ORDER_TRACKED) != 0 &&
        (flags & H5P_CRT_ORDER_INDEXED) != 0) {
      index = H5_INDEX_CRT_ORDER;
    }
    H5Eclear2(H5E_DEFAULT);
  }
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(gid.get(), ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    PG_CHECK(len >= 0, "file '", path_, "': cannot read the members of group '", g, "' (corrupt file?)", h5_detail());
    std::string s(static_cast<size_t>(len) + 1, '\0');
    PG_CHECK(H5Lget_name_by_idx(gid.get(), ".", index, H5_ITER_INC, i, s.data(), s.size(), H5P_DEFAULT) >= 0, "file '",
             path_, "': cannot read the members of group '", g, "' (corrupt file?)", h5_detail());
    s.resize(static_cast<size_t>(len));
    names.push_back(s);
  }
  if (index == H5_INDEX_NAME) std::sort(names.begin(), names.end());
  return names;
}

void H5File::create_group(const std::string& name, bool track_order) {
  require_writable("create_group");
  const std::string n = normalize(name);
  PG_CHECK(!n.empty(), "file '", path_, "': empty group name");
  PG_CHECK(!exists(n), "file '", path_, "': cannot create group '", n, "': the name exists");
  ensure_parent_groups(n);
  Hid gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  if (track_order) H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  Hid gid(H5Gcreate2(id_, n.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose);
  PG_CHECK(gid.valid(), "file '", path_, "': cannot create group '", n, "'", h5_detail());
}

std::vector<std::string> H5File::list_datasets() const {
  require_open("list_datasets");
  std::vector<std::string> out;
  std::vector<std::string> stack{""};
  int guard = 0;
  while (!stack.empty()) {
    const std::string g = stack.back();
    stack.pop_back();
    PG_CHECK(++guard < 1000000, "file '", path_, "': too many groups (cyclic links?)");
    for (const std::string& m : list(g.empty() ? "/" : g)) {
      const std::string p = g.empty() ? m : g + "/" + m;
      if (!exists(p)) continue;  // dangling link
      Hid o(H5Oopen(id_, p.c_str(), H5P_DEFAULT), H5Oclose);
      if (!o.valid()) {
        H5Eclear2(H5E_DEFAULT);
        continue;
      }
      const H5I_type_t t = H5Iget_type(o.get());
      if (t == H5I_DATASET) out.push_back(p);
      if (t == H5I_GROUP) stack.push_back(p);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// An open dataset with its type and extent.
struct OpenDataset {
  Hid ds, type, space;
  Shape shape;
  H5TypeInfo info;
};

OpenDataset open_dataset(const H5File& f, const std::string& name, const std::string& where) {
  PG_CHECK(
      f.exists(name), where, ": not found (the file has ",
      [&] {
        std::string s;
        for (const std::string& d : f.list_datasets()) s += (s.empty() ? "" : ", ") + d;
        return s.empty() ? std::string("no datasets") : "datasets: " + s;
      }(),
      ")");
  OpenDataset d;
  d.ds = Hid(H5Dopen2(static_cast<hid_t>(f.id()), normalize(name).c_str(), H5P_DEFAULT), H5Dclose);
  PG_CHECK(d.ds.valid(), where, ": cannot open as a dataset (a group, or a corrupt object header)", h5_detail());
  d.type = Hid(H5Dget_type(d.ds.get()), H5Tclose);
  PG_CHECK(d.type.valid(), where, ": cannot read its datatype (corrupt file?)", h5_detail());
  d.space = Hid(H5Dget_space(d.ds.get()), H5Sclose);
  PG_CHECK(d.space.valid(), where, ": cannot read its dataspace (corrupt file?)", h5_detail());
  const H5S_class_t cls = H5Sget_simple_extent_type(d.space.get());
  PG_CHECK(cls != H5S_NO_CLASS, where, ": invalid dataspace (corrupt file?)", h5_detail());
  PG_CHECK(cls != H5S_NULL, where, ": the dataset is empty (null dataspace)");
  if (cls == H5S_SIMPLE) {
    const int rank = H5Sget_simple_extent_ndims(d.space.get());
    PG_CHECK(rank >= 0 && rank <= 32, where, ": invalid rank ", rank, " (corrupt file?)", h5_detail());
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    PG_CHECK(H5Sget_simple_extent_dims(d.space.get(), dims.data(), nullptr) >= 0, where,
             ": cannot read its extent (corrupt file?)", h5_detail());
    for (hsize_t x : dims) {
      PG_CHECK(x <= static_cast<hsize_t>(std::numeric_limits<int64_t>::max()), where, ": absurd extent ", x,
               " (corrupt file?)");
      d.shape.push_back(static_cast<int64_t>(x));
    }
  }
  d.info = describe_type(d.type.get());
  return d;
}

std::string type_desc(const OpenDataset& d) {
  if (d.info.kind == H5TypeInfo::Kind::other) return std::string(class_name(d.type.get())) + " (unsupported)";
  return d.info.describe();
}

// Checks that `count` elements of the stored type can really be in the file before reading.
void check_storage(const OpenDataset& d, int64_t count, const std::string& where, const std::string& path) {
  int64_t stored_bytes = 0;
  PG_CHECK(checked_mul(count, std::max<int64_t>(d.info.size, 1), stored_bytes) && stored_bytes <= kMaxReadBytes, where,
           ": absurd size ", shape_str(d.shape), " (corrupt file?)");
  Hid dcpl(H5Dget_create_plist(d.ds.get()), H5Pclose);
  PG_CHECK(dcpl.valid(), where, ": cannot read its creation properties (corrupt file?)", h5_detail());
  const int nfilters = H5Pget_nfilters(dcpl.get());
  PG_CHECK(nfilters >= 0, where, ": cannot read its filters (corrupt file?)", h5_detail());
  const H5D_layout_t layout = H5Pget_layout(dcpl.get());
  PG_CHECK(layout >= 0, where, ": cannot read its storage layout (corrupt file?)", h5_detail());
  if (layout == H5D_CHUNKED) {
    // HDF5 1.10 trusts the chunk dims of the layout message when it copies chunks out: chunk
    // dims beyond a fixed extent (impossible in a valid file) make it read past its buffers.
    const int rank = static_cast<int>(d.shape.size());
    std::vector<hsize_t> chunk(static_cast<size_t>(std::max(rank, 1))), dims(chunk.size()), maxdims(chunk.size());
    PG_CHECK(rank >= 1 && H5Pget_chunk(dcpl.get(), rank, chunk.data()) == rank, where,
             ": corrupt chunked layout (corrupt file?)", h5_detail());
    PG_CHECK(H5Sget_simple_extent_dims(d.space.get(), dims.data(), maxdims.data()) == rank, where,
             ": cannot read its extent (corrupt file?)", h5_detail());
    int64_t chunk_bytes = std::max<int64_t>(d.info.size, 1);
    for (int i = 0; i < rank; ++i) {
      PG_CHECK(chunk[i] >= 1 && (maxdims[i] == H5S_UNLIMITED || chunk[i] <= maxdims[i]), where,
               ": corrupt chunked layout: chunk extent ", chunk[i], " in dim ", i, " exceeds the dataset extent ",
               maxdims[i], " (corrupt file?)");
      PG_CHECK(
          checked_mul(chunk_bytes, static_cast<int64_t>(chunk[i]), chunk_bytes) && chunk_bytes <= int64_t(0xFFFFFFFF),
          where, ": corrupt chunked layout: chunks larger than 4 GiB (corrupt file?)");
    }
    // A dataset written in full has every chunk stored; missing chunks would silently read as
    // fill values (and a corrupt extent would make HDF5 iterate over millions of them).
    int64_t expected_chunks = 1;
    for (int i = 0; i < rank; ++i) {
      const int64_t per_dim =
          (static_cast<int64_t>(dims[i]) + static_cast<int64_t>(chunk[i]) - 1) / static_cast<int64_t>(chunk[i]);
      if (!checked_mul(expected_chunks, per_dim, expected_chunks))
        expected_chunks = std::numeric_limits<int64_t>::max();
    }
    Hid all(H5Scopy(d.space.get()), H5Sclose);
    PG_CHECK(all.valid() && H5Sselect_all(all.get()) >= 0, where, ": cannot copy its dataspace", h5_detail());
    hsize_t nchunks = 0;
    PG_CHECK(H5Dget_num_chunks(d.ds.get(), all.get(), &nchunks) >= 0, where, ": corrupt chunk index (corrupt file?)",
             h5_detail());
    PG_CHECK(static_cast<int64_t>(nchunks) == expected_chunks, where, ": the file is truncated or corrupt (", nchunks,
             " of the ", expected_chunks, " chunks of ", shape_str(d.shape), " are stored)");
    // Every stored chunk must lie inside the file (checked for small chunk counts only: the
    // lookup is linear per chunk in HDF5 1.10).
    if (nchunks <= 256) {
      std::error_code ec;
      const auto fsize = std::filesystem::file_size(path, ec);
      std::vector<hsize_t> coord(static_cast<size_t>(rank));
      for (hsize_t c = 0; c < nchunks && !ec; ++c) {
        unsigned mask = 0;
        haddr_t addr = HADDR_UNDEF;
        hsize_t size = 0;
        PG_CHECK(H5Dget_chunk_info(d.ds.get(), all.get(), c, coord.data(), &mask, &addr, &size) >= 0, where,
                 ": corrupt chunk index (corrupt file?)", h5_detail());
        PG_CHECK(addr != HADDR_UNDEF && addr <= fsize && size <= fsize - addr, where,
                 ": the file is truncated or corrupt (chunk ", c, " at offset ", addr, " + ", size,
                 " bytes exceeds the file size ", fsize, ")");
        PG_CHECK(nfilters > 0 || static_cast<int64_t>(size) == chunk_bytes, where, ": corrupt chunk ", c, " (", size,
                 " bytes stored, ", chunk_bytes, " expected)");
        for (int i = 0; i < rank; ++i) {
          PG_CHECK(coord[static_cast<size_t>(i)] < std::max<hsize_t>(dims[static_cast<size_t>(i)], 1), where,
                   ": corrupt chunk index (chunk offset outside the dataset)");
        }
      }
    }
    H5Eclear2(H5E_DEFAULT);
  }
  int64_t full_bytes = 0;
  checked_mul(shape_numel(d.shape), std::max<int64_t>(d.info.size, 1), full_bytes);
  if (nfilters == 0 && layout == H5D_CONTIGUOUS && d.info.size > 0 && full_bytes > 0) {
    const hsize_t storage = H5Dget_storage_size(d.ds.get());
    H5Eclear2(H5E_DEFAULT);
    PG_CHECK(static_cast<int64_t>(storage) >= full_bytes, where, ": the file is truncated or corrupt (the dataset ",
             shape_str(d.shape), " needs ", full_bytes, " bytes, ", storage, " are stored)");
    const haddr_t off = H5Dget_offset(d.ds.get());
    H5Eclear2(H5E_DEFAULT);
    std::error_code ec;
    const auto fsize = std::filesystem::file_size(path, ec);
    if (!ec && off != HADDR_UNDEF) {
      PG_CHECK(off <= fsize && fsize - off >= static_cast<uint64_t>(full_bytes), where,
               ": the file is truncated or corrupt (raw data at offset ", off, " + ", full_bytes,
               " bytes exceeds the file size ", fsize, ")");
    }
  }
}

Hid mem_type_for(DType t) {
  if (t == DType::b8) return bool_enum_type();
  return Hid(H5Tcopy(native_type(t)), H5Tclose);
}

void check_convertible(const OpenDataset& d, DType as, const std::string& where) {
  const bool numeric_src = d.info.kind == H5TypeInfo::Kind::floating || d.info.kind == H5TypeInfo::Kind::integer;
  if (as == DType::b8) {
    PG_CHECK(d.info.kind == H5TypeInfo::Kind::boolean, where, ": stored as ", type_desc(d), ", cannot be read as bool");
  } else {
    PG_CHECK(numeric_src, where, ": stored as ", type_desc(d), ", expected a numeric type (read as ", dtype_name(as),
             ")");
    PG_CHECK(!(d.info.kind == H5TypeInfo::Kind::floating && d.info.size != 4 && d.info.size != 8), where,
             ": stored as ", type_desc(d), ", which pointgrad does not read");
    PG_CHECK(!(d.info.kind == H5TypeInfo::Kind::integer && d.info.size != 1 && d.info.size != 2 && d.info.size != 4 &&
               d.info.size != 8),
             where, ": integer elements of ", d.info.size, " bytes (corrupt file?)");
  }
}

}  // namespace

Shape H5File::shape(const std::string& name) const {
  require_open("shape");
  return open_dataset(*this, name, where(name)).shape;
}

H5TypeInfo H5File::type(const std::string& name) const {
  require_open("type");
  return open_dataset(*this, name, where(name)).info;
}

DType H5File::dtype(const std::string& name) const {
  require_open("dtype");
  OpenDataset d = open_dataset(*this, name, where(name));
  DType t;
  PG_CHECK(natural_dtype(d.info, t), where(name), ": stored as ", type_desc(d), ", which has no pointgrad dtype");
  return t;
}

Tensor H5File::read(const std::string& name) const {
  require_open("read");
  OpenDataset d = open_dataset(*this, name, where(name));
  DType t;
  PG_CHECK(natural_dtype(d.info, t), where(name), ": stored as ", type_desc(d), ", which has no pointgrad dtype");
  return read_as(name, t);
}

Tensor H5File::read(const std::string& name, DType expected, const Shape& shape) const {
  require_open("read");
  OpenDataset d = open_dataset(*this, name, where(name));
  DType t;
  const bool has = natural_dtype(d.info, t);
  PG_CHECK(has && t == expected, where(name), ": wrong dtype: stored as ", type_desc(d), ", expected ",
           dtype_name(expected));
  bool ok = d.shape.size() == shape.size();
  for (size_t i = 0; ok && i < shape.size(); ++i) ok = shape[i] < 0 || shape[i] == d.shape[i];
  if (!ok) {
    std::string want = "[";
    for (size_t i = 0; i < shape.size(); ++i) want += (i ? ", " : "") + (shape[i] < 0 ? "*" : std::to_string(shape[i]));
    want += "]";
    PG_FAIL(where(name), ": wrong ", d.shape.size() != shape.size() ? "rank" : "shape", ": ", shape_str(d.shape),
            ", expected ", want);
  }
  return read_as(name, expected);
}

Tensor H5File::read_as(const std::string& name, DType as) const {
  require_open("read_as");
  OpenDataset d = open_dataset(*this, name, where(name));
  check_convertible(d, as, where(name));
  const int64_t n = shape_numel(d.shape);
  check_storage(d, n, where(name), path_);
  int64_t bytes = 0;
  PG_CHECK(checked_mul(n, dtype_size(as), bytes) && bytes <= kMaxReadBytes, where(name), ": absurd size ",
           shape_str(d.shape));
  Tensor out = empty(d.shape, TensorOptions(as, Device::cpu()));
  if (n == 0) return out;
  Hid mt = mem_type_for(as);
  const herr_t r = H5Dread(d.ds.get(), mt.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.raw_data());
  PG_CHECK(r >= 0, where(name), ": read failed: the file is truncated or corrupt", h5_detail());
  if (as == DType::b8) {
    auto* p = static_cast<uint8_t*>(out.raw_data());
    for (int64_t i = 0; i < n; ++i) p[i] = p[i] != 0;
  }
  return out;
}

Tensor H5File::read_slab(const std::string& name, const Shape& start, const Shape& count, DType as) const {
  require_open("read_slab");
  OpenDataset d = open_dataset(*this, name, where(name));
  check_convertible(d, as, where(name));
  PG_CHECK(start.size() == d.shape.size() && count.size() == d.shape.size(), where(name), ": slab start ",
           shape_str(start), " / count ", shape_str(count), " do not match the rank of ", shape_str(d.shape));
  for (size_t i = 0; i < start.size(); ++i) {
    PG_CHECK(start[i] >= 0 && count[i] >= 0 && start[i] <= d.shape[i] && count[i] <= d.shape[i] - start[i], where(name),
             ": slab start ", shape_str(start), " count ", shape_str(count), " is outside ", shape_str(d.shape));
  }
  check_storage(d, shape_numel(count), where(name), path_);
  Tensor out = empty(count, TensorOptions(as, Device::cpu()));
  const int64_t n = shape_numel(count);
  if (n == 0) return out;
  if (!d.shape.empty()) {
    std::vector<hsize_t> st(start.begin(), start.end()), ct(count.begin(), count.end());
    PG_CHECK(H5Sselect_hyperslab(d.space.get(), H5S_SELECT_SET, st.data(), nullptr, ct.data(), nullptr) >= 0,
             where(name), ": cannot select the slab", h5_detail());
  }
  std::vector<hsize_t> mdims(count.begin(), count.end());
  Hid mspace(
      d.shape.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(mdims.size()), mdims.data(), nullptr),
      H5Sclose);
  Hid mt = mem_type_for(as);
  const herr_t r = H5Dread(d.ds.get(), mt.get(), mspace.get(), d.space.get(), H5P_DEFAULT, out.raw_data());
  PG_CHECK(r >= 0, where(name), ": read failed: the file is truncated or corrupt", h5_detail());
  if (as == DType::b8) {
    auto* p = static_cast<uint8_t*>(out.raw_data());
    for (int64_t i = 0; i < n; ++i) p[i] = p[i] != 0;
  }
  return out;
}

void H5File::ensure_parent_groups(const std::string& name) {
  const std::string n = normalize(name);
  size_t pos = 0;
  while (true) {
    const size_t next = n.find('/', pos);
    if (next == std::string::npos) break;
    const std::string g = n.substr(0, next);
    if (!exists(g)) {
      Hid gid(H5Gcreate2(id_, g.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
      PG_CHECK(gid.valid(), "file '", path_, "': cannot create group '", g, "'", h5_detail());
    }
    pos = next + 1;
  }
}

void H5File::remove_if_exists(const std::string& name) {
  const std::string n = normalize(name);
  if (exists(n)) {
    PG_CHECK(H5Ldelete(id_, n.c_str(), H5P_DEFAULT) >= 0, where(n), ": cannot replace the existing object",
             h5_detail());
  }
}

void H5File::write(const std::string& name, const Tensor& t, const H5WriteOptions& opts) {
  require_writable("write");
  PG_CHECK(t.defined(), where(name), ": cannot write an undefined tensor");
  PG_CHECK(!normalize(name).empty(), "file '", path_, "': empty dataset name");
  PG_CHECK(opts.compression >= 0 && opts.compression <= 9, where(name), ": compression level ", opts.compression,
           " is outside 0..9");
  Tensor host = t;
  if (!t.is_cpu() || !t.is_contiguous()) {
    host = empty(t.shape(), TensorOptions(t.dtype(), Device::cpu()));
    detail::copy_raw(host, t);
  }
  ensure_parent_groups(name);
  remove_if_exists(name);
  const Shape& shp = host.shape();
  std::vector<hsize_t> dims(shp.begin(), shp.end());
  Hid space(shp.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
            H5Sclose);
  PG_CHECK(space.valid(), where(name), ": cannot create a dataspace for ", shape_str(shp), h5_detail());
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  const bool chunked = (opts.compression > 0 || opts.checksum) && !shp.empty() && host.numel() > 0;
  if (chunked) {
    // Chunks of at most ~1 MiB, cut along the leading dims.
    std::vector<hsize_t> chunk = dims;
    const int64_t esize = host.element_size();
    for (size_t i = 0; i < chunk.size(); ++i) {
      int64_t rest = esize;
      for (size_t j = i + 1; j < chunk.size(); ++j) rest *= static_cast<int64_t>(chunk[j]);
      const int64_t fit = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(rest, 1));
      chunk[i] = static_cast<hsize_t>(std::min<int64_t>(static_cast<int64_t>(chunk[i]), fit));
      if (rest <= (int64_t(1) << 20)) break;
    }
    H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
    if (opts.checksum) H5Pset_fletcher32(dcpl.get());
    if (opts.compression > 0) {
      H5Pset_shuffle(dcpl.get());
      H5Pset_deflate(dcpl.get(), static_cast<unsigned>(opts.compression));
    }
  }
  Hid ftype = t.dtype() == DType::b8 ? bool_enum_type() : Hid(H5Tcopy(file_type(t.dtype())), H5Tclose);
  Hid mtype = mem_type_for(t.dtype());
  Hid ds(H5Dcreate2(id_, normalize(name).c_str(), ftype.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
         H5Dclose);
  PG_CHECK(ds.valid(), where(name), ": cannot create the dataset", h5_detail());
  if (host.numel() > 0) {
    std::vector<uint8_t> bools;
    const void* src = host.raw_data();
    if (t.dtype() == DType::b8) {
      const auto* p = static_cast<const uint8_t*>(host.raw_data());
      bools.assign(p, p + host.numel());
      for (auto& b : bools) b = b != 0;
      src = bools.data();
    }
    PG_CHECK(H5Dwrite(ds.get(), mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, src) >= 0, where(name),
             ": write failed (disk full?)", h5_detail());
  }
}

namespace {
Hid vlen_utf8_type() {
  Hid t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

// Reads `n` strings of the (string) type `ftype` from a dataset or attribute via `read_fn`.
template <class ReadFn>
std::vector<std::string> read_string_values(hid_t ftype, hid_t space, int64_t n, const std::string& where,
                                            ReadFn read_fn) {
  std::vector<std::string> out;
  if (H5Tis_variable_str(ftype) > 0) {
    Hid mt = vlen_utf8_type();
    H5Tset_cset(mt.get(), H5Tget_cset(ftype));
    std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
    PG_CHECK(read_fn(mt.get(), ptrs.data()) >= 0, where, ": cannot read strings (corrupt file?)", h5_detail());
    for (char* p : ptrs) out.emplace_back(p == nullptr ? "" : p);
    H5Dvlen_reclaim(mt.get(), space, H5P_DEFAULT, ptrs.data());
  } else {
    const size_t len = H5Tget_size(ftype);
    PG_CHECK(len > 0 && len < (size_t(1) << 24), where, ": absurd string length ", len);
    int64_t total = 0;
    PG_CHECK(checked_mul(n, static_cast<int64_t>(len), total) && total <= kMaxReadBytes, where,
             ": absurd string data size");
    Hid mt(H5Tcopy(ftype), H5Tclose);
    std::vector<char> buf(static_cast<size_t>(total));
    PG_CHECK(read_fn(mt.get(), buf.data()) >= 0, where, ": cannot read strings (corrupt file?)", h5_detail());
    const bool space_pad = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
    for (int64_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * static_cast<int64_t>(len), len);
      const size_t nul = s.find('\0');
      if (nul != std::string::npos) s.resize(nul);
      if (space_pad) {
        while (!s.empty() && s.back() == ' ') s.pop_back();
      }
      out.push_back(s);
    }
  }
  return out;
}
}  // namespace

void H5File::write_strings(const std::string& name, const std::vector<std::string>& values) {
  require_writable("write_strings");
  ensure_parent_groups(name);
  remove_if_exists(name);
  hsize_t n = values.size();
  Hid space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Hid t = vlen_utf8_type();
  Hid ds(H5Dcreate2(id_, normalize(name).c_str(), t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
         H5Dclose);
  PG_CHECK(ds.valid(), where(name), ": cannot create the string dataset", h5_detail());
  std::vector<const char*> ptrs;
  for (const auto& s : values) ptrs.push_back(s.c_str());
  if (n > 0) {
    PG_CHECK(H5Dwrite(ds.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) >= 0, where(name),
             ": write failed", h5_detail());
  }
}

void H5File::write_string(const std::string& name, const std::string& value) {
  require_writable("write_string");
  ensure_parent_groups(name);
  remove_if_exists(name);
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  Hid t = vlen_utf8_type();
  Hid ds(H5Dcreate2(id_, normalize(name).c_str(), t.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
         H5Dclose);
  PG_CHECK(ds.valid(), where(name), ": cannot create the string dataset", h5_detail());
  const char* p = value.c_str();
  PG_CHECK(H5Dwrite(ds.get(), t.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p) >= 0, where(name), ": write failed",
           h5_detail());
}

std::vector<std::string> H5File::read_strings(const std::string& name) const {
  require_open("read_strings");
  OpenDataset d = open_dataset(*this, name, where(name));
  PG_CHECK(d.info.kind == H5TypeInfo::Kind::string, where(name), ": stored as ", type_desc(d), ", expected strings");
  PG_CHECK(d.shape.size() <= 1, where(name), ": expected a 1-D list of strings, got shape ", shape_str(d.shape));
  const int64_t n = shape_numel(d.shape);
  if (n == 0) return {};
  return read_string_values(d.type.get(), d.space.get(), n, where(name), [&](hid_t mt, void* buf) {
    return H5Dread(d.ds.get(), mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  });
}

// ---- attributes ----

bool H5File::has_attr(const std::string& obj, const std::string& key) const {
  require_open("has_attr");
  if (!exists(obj)) return false;
  const htri_t r = H5Aexists_by_name(id_, obj_path(obj).c_str(), key.c_str(), H5P_DEFAULT);
  H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

std::vector<std::string> H5File::attr_names(const std::string& obj) const {
  require_open("attr_names");
  PG_CHECK(exists(obj), "file '", path_, "': object '", obj_path(obj), "' not found");
  Hid o(H5Oopen(id_, obj_path(obj).c_str(), H5P_DEFAULT), H5Oclose);
  PG_CHECK(o.valid(), "file '", path_, "': cannot open object '", obj_path(obj), "'", h5_detail());
  const int n = H5Aget_num_attrs(o.get());
  PG_CHECK(n >= 0, "file '", path_, "': cannot list the attributes of '", obj_path(obj), "'", h5_detail());
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) {
    const ssize_t len =
        H5Aget_name_by_idx(o.get(), ".", H5_INDEX_NAME, H5_ITER_INC, static_cast<hsize_t>(i), nullptr, 0, H5P_DEFAULT);
    PG_CHECK(len >= 0, "file '", path_, "': cannot read attribute names of '", obj_path(obj), "'", h5_detail());
    std::string s(static_cast<size_t>(len) + 1, '\0');
    H5Aget_name_by_idx(o.get(), ".", H5_INDEX_NAME, H5_ITER_INC, static_cast<hsize_t>(i), s.data(), s.size(),
                       H5P_DEFAULT);
    s.resize(static_cast<size_t>(len));
    names.push_back(s);
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

struct AttrTarget {
  std::string obj, key, where;
};

void write_attr(hid_t file, const AttrTarget& a, hid_t ftype, hid_t mtype, hid_t space, const void* buf) {
  PG_CHECK(H5Oexists_by_name(file, a.obj.c_str(), H5P_DEFAULT) > 0 || a.obj == "/", a.where, ": object not found");
  if (H5Aexists_by_name(file, a.obj.c_str(), a.key.c_str(), H5P_DEFAULT) > 0) {
    PG_CHECK(H5Adelete_by_name(file, a.obj.c_str(), a.key.c_str(), H5P_DEFAULT) >= 0, a.where,
             ": cannot replace the attribute", h5_detail());
  }
  H5Eclear2(H5E_DEFAULT);
  Hid at(H5Acreate_by_name(file, a.obj.c_str(), a.key.c_str(), ftype, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
         H5Aclose);
  PG_CHECK(at.valid(), a.where, ": cannot create the attribute", h5_detail());
  PG_CHECK(H5Awrite(at.get(), mtype, buf) >= 0, a.where, ": cannot write the attribute", h5_detail());
}

struct OpenAttr {
  Hid attr, type, space;
  int64_t n = 0;
};

OpenAttr open_attr(hid_t file, const AttrTarget& a) {
  PG_CHECK(H5Aexists_by_name(file, a.obj.c_str(), a.key.c_str(), H5P_DEFAULT) > 0, a.where, ": not found", [] {
    H5Eclear2(H5E_DEFAULT);
    return "";
  }());
  OpenAttr o;
  o.attr = Hid(H5Aopen_by_name(file, a.obj.c_str(), a.key.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  PG_CHECK(o.attr.valid(), a.where, ": cannot open", h5_detail());
  o.type = Hid(H5Aget_type(o.attr.get()), H5Tclose);
  o.space = Hid(H5Aget_space(o.attr.get()), H5Sclose);
  PG_CHECK(o.type.valid() && o.space.valid(), a.where, ": corrupt attribute", h5_detail());
  const hssize_t n = H5Sget_simple_extent_npoints(o.space.get());
  PG_CHECK(n >= 0 && n < (hssize_t(1) << 32), a.where, ": corrupt attribute extent", h5_detail());
  o.n = static_cast<int64_t>(n);
  return o;
}

}  // namespace

void H5File::set_attr(const std::string& obj, const std::string& key, const std::string& value) {
  require_writable("set_attr");
  const AttrTarget a{obj_path(obj), key, "file '" + path_ + "', attribute '" + key + "' of '" + obj_path(obj) + "'"};
  Hid t = vlen_utf8_type();
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  const char* p = value.c_str();
  write_attr(id_, a, t.get(), t.get(), space.get(), &p);
}

void H5File::set_attr(const std::string& obj, const std::string& key, double value) {
  require_writable("set_attr");
  const AttrTarget a{obj_path(obj), key, "file '" + path_ + "', attribute '" + key + "' of '" + obj_path(obj) + "'"};
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  write_attr(id_, a, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.get(), &value);
}

void H5File::set_attr(const std::string& obj, const std::string& key, int64_t value) {
  require_writable("set_attr");
  const AttrTarget a{obj_path(obj), key, "file '" + path_ + "', attribute '" + key + "' of '" + obj_path(obj) + "'"};
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  write_attr(id_, a, H5T_STD_I64LE, H5T_NATIVE_INT64, space.get(), &value);
}

void H5File::set_attr(const std::string& obj, const std::string& key, const std::vector<double>& values) {
  require_writable("set_attr");
  const AttrTarget a{obj_path(obj), key, "file '" + path_ + "', attribute '" + key + "' of '" + obj_path(obj) + "'"};
  hsize_t n = values.size();
  Hid space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  write_attr(id_, a, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.get(), values.data());
}

std::string H5File::attr_string(const std::string& obj, const std::string& key) const {
  require_open("attr_string");
  const AttrTarget a{obj_path(obj), key, "file '" + path_ + "', attribute '" + key + "' of '" + obj_path(obj) + "'"};
  OpenAttr o = open_attr(id_, a);
  PG_CHECK(H5Tget_class(o.type.get()) == H5T_STRING, a.where, ": not a string");
  PG_CHECK(o.n == 1, a.where, ": expected one string, found ", o.n);
  auto v = read_string_values(o.type.get(), o.space.get(), 1, a.where,
                              [&](hid_t mt, void* buf) { return H5Aread(o.attr.get(), mt, buf); });
  return v.at(0);
}

std::vector<double> H5File::attr_doubles(const std::string& obj, const std::string& key) const {
  require_open("attr_doubles");
  const AttrTarget a{obj_path(obj), key, "file '" + path_ + "', attribute '" + key + "' of '" + obj_path(obj) + "'"};
  OpenAttr o = open_attr(id_, a);
  const H5T_class_t c = H5Tget_class(o.type.get());
  PG_CHECK(c == H5T_FLOAT || c == H5T_INTEGER, a.where, ": not numeric");
  std::vector<double> v(static_cast<size_t>(o.n));
  if (o.n > 0) {
    PG_CHECK(H5Aread(o.attr.get(), H5T_NATIVE_DOUBLE, v.data()) >= 0, a.where, ": cannot read", h5_detail());
  }
  return v;
}

double H5File::attr_double(const std::string& obj, const std::string& key) const {
  const auto v = attr_doubles(obj, key);
  PG_CHECK(v.size() == 1, "file '", path_, "', attribute '", key, "' of '", obj_path(obj),
           "': expected one value, found ", v.size());
  return v[0];
}

int64_t H5File::attr_int(const std::string& obj, const std::string& key) const {
  require_open("attr_int");
  const AttrTarget a{obj_path(obj), key, "file '" + path_ + "', attribute '" + key + "' of '" + obj_path(obj) + "'"};
  OpenAttr o = open_attr(id_, a);
  PG_CHECK(H5Tget_class(o.type.get()) == H5T_INTEGER, a.where, ": not an integer");
  PG_CHECK(o.n == 1, a.where, ": expected one value, found ", o.n);
  int64_t v = 0;
  PG_CHECK(H5Aread(o.attr.get(), H5T_NATIVE_INT64, &v) >= 0, a.where, ": cannot read", h5_detail());
  return v;
}

// ---- atomic writes ----

void write_h5_atomic(const std::string& path, const std::function<void(H5File&)>& fill, const H5CreateOptions& opts,
                     const std::function<void(const std::string& tmp)>& seal) {
  write_file_atomic(path, [&](const std::string& tmp) {
    H5File f = H5File::create(tmp, opts);
    fill(f);
    f.close();
    if (seal) seal(tmp);
  });
}

}  // namespace pg::datasets
