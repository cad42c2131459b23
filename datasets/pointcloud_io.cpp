#include "datasets/pointcloud_io.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/error.h"
#include "datasets/atomic_write.h"
#include "datasets/h5_file.h"

namespace pg::datasets {

namespace fs = std::filesystem;

namespace {

std::string read_all(const std::string& path) {
  std::error_code ec;
  PG_CHECK(fs::exists(path, ec), "point-cloud file '", path, "' not found");
  PG_CHECK(fs::is_regular_file(path, ec), "'", path, "' is not a regular file");
  std::ifstream f(path, std::ios::binary);
  PG_CHECK(f.good(), "cannot open '", path, "' for reading");
  std::ostringstream ss;
  ss << f.rdbuf();
  PG_CHECK(!f.bad(), "error reading '", path, "'");
  return ss.str();
}

bool is_sep(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == ',';
}

// Parses one number at p (skipping separators first, not newlines); advances p.
bool parse_number(const char*& p, const char* end, double& out) {
  while (p < end && is_sep(*p)) ++p;
  if (p >= end) return false;
  if (*p == '+') ++p;
  const auto r = std::from_chars(p, end, out);
  if (r.ec != std::errc()) return false;
  p = r.ptr;
  return p == end || is_sep(*p) || *p == '\n';
}

// Splits into lines (without '\n'); `strip_hash` cuts everything from '#'.
std::vector<std::pair<int64_t, std::string_view>> significant_lines(const std::string& text, bool strip_hash) {
  std::vector<std::pair<int64_t, std::string_view>> out;
  size_t pos = 0;
  int64_t lineno = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    ++lineno;
    std::string_view line(text.data() + pos, nl - pos);
    if (strip_hash) {
      const size_t h = line.find('#');
      if (h != std::string_view::npos) line = line.substr(0, h);
    }
    size_t b = 0;
    while (b < line.size() && is_sep(line[b])) ++b;
    size_t e = line.size();
    while (e > b && is_sep(line[e - 1])) --e;
    if (e > b) out.emplace_back(lineno, line.substr(b, e - b));
    if (nl >= text.size()) break;
    pos = nl + 1;
  }
  return out;
}

void check_points_arg(const Tensor& points, const char* op, const std::string& path) {
  PG_CHECK(points.defined() && points.dim() == 2 && points.size(1) == 3, op, " '", path,
           "': points must be [M, 3], got ", points.defined() ? shape_str(points.shape()) : std::string("undefined"));
  PG_CHECK(is_floating(points.dtype()), op, " '", path, "': points must be float32 or float64");
}

std::vector<float> host_floats(const Tensor& t) {
  return t.to_vector<float>();
}

Tensor make_points(std::vector<float>&& v, const std::string& path) {
  for (size_t i = 0; i < v.size(); ++i) {
    PG_CHECK(std::isfinite(v[i]), "'", path, "': non-finite coordinate in point ", i / 3);
  }
  const int64_t n = static_cast<int64_t>(v.size() / 3);
  return from_vector(v, {n, 3});
}

std::string fmt_float(float x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(x));
  return buf;
}

std::string lower_ext(const std::string& path) {
  std::string e = fs::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}

}  // namespace

bool is_h5_path(const std::string& path) {
  const std::string e = lower_ext(path);
  return e == ".h5" || e == ".hdf5";
}

// ---------------------------------------------------------------- XYZ

Tensor read_xyz(const std::string& path) {
  const std::string text = read_all(path);
  std::vector<float> v;
  int64_t lineno = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    ++lineno;
    const char* p = text.data() + pos;
    const char* end = text.data() + nl;
    pos = nl + 1;
    while (p < end && is_sep(*p)) ++p;
    if (p == end || *p == '#') continue;
    double xyz[3];
    for (double& c : xyz) {
      PG_CHECK(parse_number(p, end, c), "'", path, "', line ", lineno, ": expected at least 3 numbers (x y z), got '",
               std::string(text.data() + (p - text.data()), std::min<size_t>(40, static_cast<size_t>(end - p))), "'");
    }
    for (double c : xyz) {
      PG_CHECK(std::isfinite(c), "'", path, "', line ", lineno, ": non-finite coordinate");
      v.push_back(static_cast<float>(c));
    }
  }
  PG_CHECK(!v.empty(), "'", path, "': no points found");
  return make_points(std::move(v), path);
}

void write_xyz(const std::string& path, const Tensor& points) {
  check_points_arg(points, "write_xyz", path);
  const std::vector<float> v = host_floats(points);
  std::string s;
  s.reserve(v.size() * 12);
  for (size_t i = 0; i < v.size(); i += 3) {
    s += fmt_float(v[i]) + " " + fmt_float(v[i + 1]) + " " + fmt_float(v[i + 2]) + "\n";
  }
  write_text_atomic(path, s);
}

// ---------------------------------------------------------------- PLY

namespace {

enum class PlyType { i8, u8, i16, u16, i32, u32, f32, f64 };

int ply_size(PlyType t) {
  switch (t) {
    case PlyType::i8:
    case PlyType::u8:
      return 1;
    case PlyType::i16:
    case PlyType::u16:
      return 2;
    case PlyType::i32:
    case PlyType::u32:
    case PlyType::f32:
      return 4;
    case PlyType::f64:
      return 8;
  }
  return 1;
}

bool parse_ply_type(const std::string& s, PlyType& t) {
  static const std::pair<const char*, PlyType> table[] = {
      {"char", PlyType::i8},   {"int8", PlyType::i8},     {"uchar", PlyType::u8},   {"uint8", PlyType::u8},
      {"short", PlyType::i16}, {"int16", PlyType::i16},   {"ushort", PlyType::u16}, {"uint16", PlyType::u16},
      {"int", PlyType::i32},   {"int32", PlyType::i32},   {"uint", PlyType::u32},   {"uint32", PlyType::u32},
      {"float", PlyType::f32}, {"float32", PlyType::f32}, {"double", PlyType::f64}, {"float64", PlyType::f64}};
  for (const auto& [name, type] : table) {
    if (s == name) {
      t = type;
      return true;
    }
  }
  return false;
}

struct PlyProp {
  std::string name;
  bool is_list = false;
  PlyType type = PlyType::f32;
  PlyType count_type = PlyType::u8;
};

struct PlyElement {
  std::string name;
  int64_t count = 0;
  std::vector<PlyProp> props;
};

enum class PlyFormat { ascii, binary_le, binary_be };

// Sequential value reader over the PLY body.
class PlyBody {
 public:
  PlyBody(const std::string& path, const std::string& text, size_t start, PlyFormat fmt)
      : path_(path), p_(text.data() + start), end_(text.data() + text.size()), fmt_(fmt) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }

  double value(PlyType t, const char* what) {
    if (fmt_ == PlyFormat::ascii) {
      while (p_ < end_ && (is_sep(*p_) || *p_ == '\n')) ++p_;
      PG_CHECK(p_ < end_, "PLY file '", path_, "': truncated while reading ", what);
      double v = 0.0;
      const char* q = p_;
      if (*q == '+') ++q;
      const auto r = std::from_chars(q, end_, v);
      PG_CHECK(r.ec == std::errc() && (r.ptr == end_ || is_sep(*r.ptr) || *r.ptr == '\n'), "PLY file '", path_,
               "': malformed number '", std::string(p_, std::min<size_t>(20, remaining())), "' in ", what);
      p_ = r.ptr;
      return v;
    }
    const int n = ply_size(t);
    PG_CHECK(remaining() >= static_cast<size_t>(n), "PLY file '", path_, "': truncated while reading ", what);
    unsigned char b[8];
    std::memcpy(b, p_, static_cast<size_t>(n));
    p_ += n;
    const bool swap = (fmt_ == PlyFormat::binary_be) == (std::endian::native == std::endian::little);
    if (swap) std::reverse(b, b + n);
    switch (t) {
      case PlyType::i8:
        return static_cast<int8_t>(b[0]);
      case PlyType::u8:
        return b[0];
      case PlyType::i16: {
        int16_t v;
        std::memcpy(&v, b, 2);
        return v;
      }
      case PlyType::u16: {
        uint16_t v;
        std::memcpy(&v, b, 2);
        return v;
      }
      case PlyType::i32: {
        int32_t v;
        std::memcpy(&v, b, 4);
        return v;
      }
      case PlyType::u32: {
        uint32_t v;
        std::memcpy(&v, b, 4);
        return v;
      }
      case PlyType::f32: {
        float v;
        std::memcpy(&v, b, 4);
        return v;
      }
      case PlyType::f64: {
        double v;
        std::memcpy(&v, b, 8);
        return v;
      }
    }
    return 0.0;
  }

  // Reads a list count and validates it.
  int64_t list_count(PlyType t, const char* what) {
    const double c = value(t, what);
    PG_CHECK(c >= 0 && c <= 1e7 && c == std::floor(c), "PLY file '", path_, "': invalid list length ", c, " in ", what);
    return static_cast<int64_t>(c);
  }

 private:
  const std::string& path_;
  const char* p_;
  const char* end_;
  PlyFormat fmt_;
};

}  // namespace

Mesh read_ply(const std::string& path) {
  const std::string text = read_all(path);
  // ---- header ----
  PG_CHECK(text.rfind("ply", 0) == 0 && text.size() > 3 && (text[3] == '\n' || text[3] == '\r'), "'", path,
           "' is not a PLY file (no 'ply' magic line)");
  const size_t hend = text.find("end_header");
  PG_CHECK(hend != std::string::npos, "PLY file '", path, "': no 'end_header' line (truncated header?)");
  size_t body = text.find('\n', hend);
  PG_CHECK(body != std::string::npos, "PLY file '", path, "': truncated after 'end_header'");
  ++body;
  std::istringstream hs(text.substr(0, hend));
  std::string line;
  std::getline(hs, line);  // "ply"
  PlyFormat fmt = PlyFormat::ascii;
  bool have_format = false;
  std::vector<PlyElement> elements;
  int64_t lineno = 1;
  while (std::getline(hs, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream ls(line);
    std::string kw;
    if (!(ls >> kw)) continue;
    if (kw == "comment" || kw == "obj_info") continue;
    if (kw == "format") {
      std::string f, ver;
      ls >> f >> ver;
      if (f == "ascii")
        fmt = PlyFormat::ascii;
      else if (f == "binary_little_endian")
        fmt = PlyFormat::binary_le;
      else if (f == "binary_big_endian")
        fmt = PlyFormat::binary_be;
      else
        PG_FAIL("PLY file '", path, "', header line ", lineno, ": unknown format '", f, "'");
      have_format = true;
    } else if (kw == "element") {
      PlyElement e;
      std::string count;
      ls >> e.name >> count;
      int64_t c = -1;
      const auto r = std::from_chars(count.data(), count.data() + count.size(), c);
      PG_CHECK(!e.name.empty() && r.ec == std::errc() && r.ptr == count.data() + count.size() && c >= 0, "PLY file '",
               path, "', header line ", lineno, ": malformed element line '", line, "'");
      e.count = c;
      elements.push_back(e);
    } else if (kw == "property") {
      PG_CHECK(!elements.empty(), "PLY file '", path, "', header line ", lineno, ": property before any element");
      PlyProp p;
      std::string t;
      ls >> t;
      if (t == "list") {
        std::string ct, it;
        ls >> ct >> it >> p.name;
        p.is_list = true;
        PG_CHECK(parse_ply_type(ct, p.count_type) && parse_ply_type(it, p.type) && !p.name.empty(), "PLY file '", path,
                 "', header line ", lineno, ": malformed list property '", line, "'");
      } else {
        ls >> p.name;
        PG_CHECK(parse_ply_type(t, p.type) && !p.name.empty(), "PLY file '", path, "', header line ", lineno,
                 ": malformed property '", line, "'");
      }
      elements.back().props.push_back(p);
    } else {
      PG_FAIL("PLY file '", path, "', header line ", lineno, ": unknown keyword '", kw, "'");
    }
  }
  PG_CHECK(have_format, "PLY file '", path, "': the header has no 'format' line");

  // ---- body ----
  PlyBody in(path, text, body, fmt);
  Mesh mesh;
  std::vector<float> verts;
  int64_t nverts = -1;
  for (const PlyElement& e : elements) {
    // Every element needs at least one byte (binary) or two characters (ASCII) per property.
    int64_t min_bytes = 0;
    for (const PlyProp& p : e.props) {
      min_bytes += fmt == PlyFormat::ascii ? 2 : (p.is_list ? ply_size(p.count_type) : ply_size(p.type));
    }
    PG_CHECK(min_bytes == 0 || e.count <= static_cast<int64_t>(in.remaining()) / std::max<int64_t>(min_bytes, 1) + 1,
             "PLY file '", path, "': element '", e.name, "' declares ", e.count, " entries but only ", in.remaining(),
             " bytes follow (truncated file?)");
    const std::string what = "element '" + e.name + "'";
    if (e.name == "vertex") {
      int ix = -1, iy = -1, iz = -1;
      for (size_t i = 0; i < e.props.size(); ++i) {
        if (e.props[i].is_list) continue;
        if (e.props[i].name == "x") ix = static_cast<int>(i);
        if (e.props[i].name == "y") iy = static_cast<int>(i);
        if (e.props[i].name == "z") iz = static_cast<int>(i);
      }
      PG_CHECK(ix >= 0 && iy >= 0 && iz >= 0, "PLY file '", path, "': the vertex element has no x, y, z properties");
      nverts = e.count;
      verts.resize(static_cast<size_t>(e.count * 3));
      for (int64_t v = 0; v < e.count; ++v) {
        for (size_t i = 0; i < e.props.size(); ++i) {
          const PlyProp& p = e.props[i];
          if (p.is_list) {
            const int64_t n = in.list_count(p.count_type, what.c_str());
            for (int64_t k = 0; k < n; ++k) in.value(p.type, what.c_str());
            continue;
          }
          const double x = in.value(p.type, what.c_str());
          const int si = static_cast<int>(i);
          if (si == ix) verts[static_cast<size_t>(3 * v)] = static_cast<float>(x);
          if (si == iy) verts[static_cast<size_t>(3 * v + 1)] = static_cast<float>(x);
          if (si == iz) verts[static_cast<size_t>(3 * v + 2)] = static_cast<float>(x);
        }
      }
    } else if (e.name == "face") {
      int fi = -1;
      for (size_t i = 0; i < e.props.size(); ++i) {
        if (e.props[i].is_list && (e.props[i].name == "vertex_indices" || e.props[i].name == "vertex_index")) {
          fi = static_cast<int>(i);
        }
      }
      for (int64_t f = 0; f < e.count; ++f) {
        for (size_t i = 0; i < e.props.size(); ++i) {
          const PlyProp& p = e.props[i];
          if (!p.is_list) {
            in.value(p.type, what.c_str());
            continue;
          }
          const int64_t n = in.list_count(p.count_type, what.c_str());
          std::vector<int64_t> face;
          for (int64_t k = 0; k < n; ++k) {
            const double idx = in.value(p.type, what.c_str());
            if (static_cast<int>(i) == fi) face.push_back(static_cast<int64_t>(idx));
          }
          if (static_cast<int>(i) == fi) mesh.faces.push_back(std::move(face));
        }
      }
    } else {
      for (int64_t k = 0; k < e.count; ++k) {
        for (const PlyProp& p : e.props) {
          if (p.is_list) {
            const int64_t n = in.list_count(p.count_type, what.c_str());
            for (int64_t j = 0; j < n; ++j) in.value(p.type, what.c_str());
          } else {
            in.value(p.type, what.c_str());
          }
        }
      }
    }
  }
  PG_CHECK(nverts >= 0, "PLY file '", path, "': no vertex element");
  for (size_t f = 0; f < mesh.faces.size(); ++f) {
    for (int64_t idx : mesh.faces[f]) {
      PG_CHECK(idx >= 0 && idx < nverts, "PLY file '", path, "': face ", f, " refers to vertex ", idx, " of ", nverts);
    }
  }
  mesh.vertices = make_points(std::move(verts), path);
  return mesh;
}

void write_ply(const std::string& path, const Tensor& points, bool binary,
               const std::vector<std::vector<int64_t>>& faces) {
  check_points_arg(points, "write_ply", path);
  const std::vector<float> v = host_floats(points);
  const int64_t n = points.size(0);
  bool wide = false;
  for (const auto& f : faces) {
    for (int64_t idx : f) {
      PG_CHECK(idx >= 0 && idx < n && idx <= std::numeric_limits<int32_t>::max(), "write_ply '", path, "': face index ",
               idx, " is outside 0..", n - 1);
    }
    wide = wide || f.size() > 255;
  }
  std::string s = "ply\nformat ";
  s += binary ? "binary_little_endian 1.0\n" : "ascii 1.0\n";
  s += "comment written by pointgrad\n";
  s += "element vertex " + std::to_string(n) + "\nproperty float x\nproperty float y\nproperty float z\n";
  if (!faces.empty()) {
    s += "element face " + std::to_string(faces.size()) + "\nproperty list " + (wide ? "int" : "uchar") +
         " int vertex_indices\n";
  }
  s += "end_header\n";
  static_assert(std::endian::native == std::endian::little, "write_ply assumes a little-endian host");
  if (binary) {
    s.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
    for (const auto& f : faces) {
      if (wide) {
        const int32_t c = static_cast<int32_t>(f.size());
        s.append(reinterpret_cast<const char*>(&c), 4);
      } else {
        s.push_back(static_cast<char>(static_cast<uint8_t>(f.size())));
      }
      for (int64_t idx : f) {
        const int32_t i32 = static_cast<int32_t>(idx);
        s.append(reinterpret_cast<const char*>(&i32), 4);
      }
    }
  } else {
    for (size_t i = 0; i < v.size(); i += 3) {
      s += fmt_float(v[i]) + " " + fmt_float(v[i + 1]) + " " + fmt_float(v[i + 2]) + "\n";
    }
    for (const auto& f : faces) {
      s += std::to_string(f.size());
      for (int64_t idx : f) {
        s += ' ';
        s += std::to_string(idx);
      }
      s += "\n";
    }
  }
  write_text_atomic(path, s);
}

// ---------------------------------------------------------------- OFF

Mesh read_off(const std::string& path) {
  const std::string text = read_all(path);
  const auto lines = significant_lines(text, true);
  PG_CHECK(!lines.empty(), "OFF file '", path, "' is empty");
  size_t li = 0;
  std::string_view first = lines[0].second;
  const size_t off = first.find("OFF");
  PG_CHECK(off != std::string_view::npos && off <= 4, "'", path, "' is not an OFF file (first line '",
           std::string(first.substr(0, 40)), "')");
  // Counts follow "OFF" on the same line ("OFF 8 6 0" or ModelNet's "OFF8 6 0") or on the next line.
  std::string_view rest = first.substr(off + 3);
  while (!rest.empty() && std::isalpha(static_cast<unsigned char>(rest.front()))) rest.remove_prefix(1);
  int64_t counts_line = lines[0].first;
  ++li;
  std::string_view counts = rest;
  {
    size_t b = 0;
    while (b < counts.size() && is_sep(counts[b])) ++b;
    counts = counts.substr(b);
  }
  if (counts.empty()) {
    PG_CHECK(li < lines.size(), "OFF file '", path, "': truncated (no vertex/face counts)");
    counts = lines[li].second;
    counts_line = lines[li].first;
    ++li;
  }
  double c[2];
  const char* p = counts.data();
  const char* end = counts.data() + counts.size();
  for (double& x : c) {
    PG_CHECK(parse_number(p, end, x) && x >= 0 && x == std::floor(x) && x < 1e10, "OFF file '", path, "', line ",
             counts_line, ": malformed counts '", std::string(counts), "' (expected 'V F E')");
  }
  const auto nv = static_cast<int64_t>(c[0]);
  const auto nf = static_cast<int64_t>(c[1]);
  PG_CHECK(static_cast<int64_t>(lines.size() - li) >= nv, "OFF file '", path, "': truncated: ", nv,
           " vertices declared, ", lines.size() - li, " lines follow");
  std::vector<float> verts(static_cast<size_t>(nv * 3));
  for (int64_t v = 0; v < nv; ++v, ++li) {
    const auto& [ln, s] = lines[li];
    const char* q = s.data();
    const char* qe = s.data() + s.size();
    for (int d = 0; d < 3; ++d) {
      double x;
      PG_CHECK(parse_number(q, qe, x), "OFF file '", path, "', line ", ln, ": expected a vertex 'x y z', got '",
               std::string(s.substr(0, 60)), "'");
      PG_CHECK(std::isfinite(x), "OFF file '", path, "', line ", ln, ": non-finite coordinate");
      verts[static_cast<size_t>(3 * v + d)] = static_cast<float>(x);
    }
  }
  PG_CHECK(static_cast<int64_t>(lines.size() - li) >= nf, "OFF file '", path, "': truncated: ", nf, " faces declared, ",
           lines.size() - li, " lines follow");
  Mesh mesh;
  mesh.faces.reserve(static_cast<size_t>(nf));
  for (int64_t f = 0; f < nf; ++f, ++li) {
    const auto& [ln, s] = lines[li];
    const char* q = s.data();
    const char* qe = s.data() + s.size();
    double k;
    PG_CHECK(parse_number(q, qe, k) && k >= 1 && k == std::floor(k) && k <= 1e6, "OFF file '", path, "', line ", ln,
             ": malformed face '", std::string(s.substr(0, 60)), "'");
    std::vector<int64_t> face(static_cast<size_t>(k));
    for (auto& idx : face) {
      double x;
      PG_CHECK(parse_number(q, qe, x) && x == std::floor(x), "OFF file '", path, "', line ", ln,
               ": face has fewer indices than its count ", k);
      PG_CHECK(x >= 0 && x < static_cast<double>(nv), "OFF file '", path, "', line ", ln, ": vertex index ", x,
               " is outside 0..", nv - 1);
      idx = static_cast<int64_t>(x);
    }
    mesh.faces.push_back(std::move(face));
  }
  mesh.vertices = make_points(std::move(verts), path);
  return mesh;
}

void write_off(const std::string& path, const Mesh& mesh) {
  check_points_arg(mesh.vertices, "write_off", path);
  const std::vector<float> v = host_floats(mesh.vertices);
  const int64_t n = mesh.vertices.size(0);
  std::string s = "OFF\n" + std::to_string(n) + " " + std::to_string(mesh.faces.size()) + " 0\n";
  for (size_t i = 0; i < v.size(); i += 3) {
    s += fmt_float(v[i]) + " " + fmt_float(v[i + 1]) + " " + fmt_float(v[i + 2]) + "\n";
  }
  for (const auto& f : mesh.faces) {
    s += std::to_string(f.size());
    for (int64_t idx : f) {
      PG_CHECK(idx >= 0 && idx < n, "write_off '", path, "': face index ", idx, " is outside 0..", n - 1);
      s += ' ';
      s += std::to_string(idx);
    }
    s += "\n";
  }
  write_text_atomic(path, s);
}

// ---------------------------------------------------------------- HDF5

namespace {
// Validates a cloud dataset: float type, [N, M, 3] or [M, 3]. Returns the shape.
Shape check_cloud_dataset(const H5File& f, const std::string& dataset) {
  const std::string where = "file '" + f.path() + "', dataset '" + dataset + "'";
  PG_CHECK(f.is_dataset(dataset), where, ": not found");
  const H5TypeInfo t = f.type(dataset);
  PG_CHECK(t.kind == H5TypeInfo::Kind::floating && (t.size == 4 || t.size == 8), where, ": wrong dtype: stored as ",
           t.describe(), ", expected float32 or float64");
  const Shape s = f.shape(dataset);
  PG_CHECK((s.size() == 3 || s.size() == 2) && s.back() == 3, where, ": wrong shape ", shape_str(s),
           ", expected [N, M, 3] or [M, 3]");
  return s;
}
}  // namespace

int64_t count_h5_clouds(const std::string& path, const std::string& dataset) {
  H5File f = H5File::open(path);
  const Shape s = check_cloud_dataset(f, dataset);
  return s.size() == 3 ? s[0] : 1;
}

Tensor read_h5_cloud(const std::string& path, const std::string& dataset, int64_t index) {
  H5File f = H5File::open(path);
  const Shape s = check_cloud_dataset(f, dataset);
  const std::string where = "file '" + path + "', dataset '" + dataset + "'";
  const int64_t n = s.size() == 3 ? s[0] : 1;
  PG_CHECK(index >= 0 && index < n, where, ": cloud index ", index, " is outside 0..", n - 1);
  Tensor t =
      s.size() == 3 ? f.read_slab(dataset, {index, 0, 0}, {1, s[1], 3}, DType::f32) : f.read_as(dataset, DType::f32);
  Tensor out = detail::make_view(t, {s[s.size() - 2], 3}, {3, 1}, 0);
  const float* x = out.data<float>();
  for (int64_t i = 0; i < out.numel(); ++i) {
    PG_CHECK(std::isfinite(x[i]), where, ": non-finite coordinate in cloud ", index, ", point ", i / 3);
  }
  return out;
}

void write_h5_clouds(const std::string& path, const Tensor& clouds, const std::string& dataset) {
  PG_CHECK(clouds.defined() && (clouds.dim() == 3 || clouds.dim() == 2) && clouds.size(-1) == 3 &&
               is_floating(clouds.dtype()),
           "write_h5_clouds '", path, "': clouds must be float [N, M, 3] or [M, 3]");
  Shape shape = clouds.shape();
  if (shape.size() == 2) shape.insert(shape.begin(), 1);
  Tensor host = empty(shape, TensorOptions(DType::f32, Device::cpu()));
  detail::copy_raw(
      host, detail::make_view(clouds, shape,
                              clouds.dim() == 2 ? Shape{0, clouds.stride(0), clouds.stride(1)} : clouds.strides(),
                              clouds.offset()));
  write_h5_atomic(path, [&](H5File& f) { f.write(dataset, host); });
}

// ---------------------------------------------------------------- dispatch

Tensor read_point_cloud(const std::string& path, const CloudReadOptions& opts) {
  const std::string e = lower_ext(path);
  if (e == ".xyz" || e == ".txt" || e == ".pts" || e == ".xyzn") return read_xyz(path);
  if (e == ".ply") return read_ply(path).vertices;
  if (e == ".off") return read_off(path).vertices;
  if (e == ".h5" || e == ".hdf5") return read_h5_cloud(path, opts.dataset, opts.index);
  PG_FAIL("'", path, "': unknown point-cloud format '", e, "' (expected .xyz, .txt, .pts, .ply, .off, .h5)");
}

void write_point_cloud(const std::string& path, const Tensor& points) {
  const std::string e = lower_ext(path);
  if (e == ".xyz" || e == ".txt" || e == ".pts") return write_xyz(path, points);
  if (e == ".ply") return write_ply(path, points, true);
  if (e == ".off") {
    check_points_arg(points, "write_off", path);
    return write_off(path, Mesh{points, {}});
  }
  if (e == ".h5" || e == ".hdf5") {
    check_points_arg(points, "write_h5_clouds", path);
    return write_h5_clouds(path, points);
  }
  PG_FAIL("'", path, "': unknown point-cloud format '", e, "' (expected .xyz, .txt, .pts, .ply, .off, .h5)");
}

}  // namespace pg::datasets
