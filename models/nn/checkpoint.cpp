#include "models/nn/checkpoint.h"

#include <sys/stat.h>

#include <atomic>
#include <set>
#include <sstream>

#include "datasets/h5_file.h"
#include "models/nn/checkpoint_seal.h"

namespace pg::nn {

namespace {

using datasets::H5File;
using datasets::H5Order;
using datasets::H5TypeInfo;

constexpr const char* kFormat = "pointgrad.checkpoint";
constexpr int64_t kFormatVersion = 1;

std::atomic<int> g_fail_after{-1};

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

void maybe_inject_fault() {
  int left = g_fail_after.load();
  if (left < 0) return;
  if (left == 0) {
    g_fail_after.store(-1);
    PG_FAIL("checkpoint: injected write fault (testing)");
  }
  g_fail_after.store(left - 1);
}

// ---- tensors ----
// Stored as the matching little-endian HDF5 type, bool as uint8, each with a "dtype" attribute
// holding pointgrad's dtype name (which decides the dtype on reading).

void write_tensor(H5File& f, const std::string& name, const Tensor& t, const Ctx& ctx) {
  if (!t.defined()) ctx.fail(name, "undefined tensor");
  maybe_inject_fault();
  if (t.dtype() == DType::b8) {
    Tensor u8 = empty(t.shape(), TensorOptions(DType::u8, Device::cpu()));
    pg::detail::copy_raw(u8, t);
    f.write(name, u8);
  } else {
    f.write(name, t);
  }
  f.set_attr(name, "dtype", dtype_name(t.dtype()));
}

Tensor read_tensor(const H5File& f, const std::string& name, const Ctx& ctx) {
  if (!f.is_dataset(name)) ctx.fail(name, "is not a dataset (corrupt file?)");
  const H5TypeInfo info = f.type(name);
  if (info.kind != H5TypeInfo::Kind::floating && info.kind != H5TypeInfo::Kind::integer &&
      info.kind != H5TypeInfo::Kind::boolean) {
    ctx.fail(name, "not a numeric dataset (stored as " + info.describe() + ")");
  }
  DType dtype = DType::f32;
  if (f.has_attr(name, "dtype")) {
    const std::string dn = f.attr_string(name, "dtype");
    try {
      dtype = dtype_from_name(dn);
    } catch (const Error&) {
      ctx.fail(name, "unknown dtype attribute '" + dn + "'");
    }
  } else {
    dtype = f.dtype(name);
  }
  if (dtype != DType::b8 || info.kind == H5TypeInfo::Kind::boolean) return f.read_as(name, dtype);
  const Tensor raw = f.read_as(name, DType::u8);
  Tensor b = empty(raw.shape(), TensorOptions(DType::b8, Device::cpu()));
  pg::detail::copy_raw(b, raw);
  return b;
}

// The datasets of `group` in creation order.
NamedTensors read_tensor_group(const H5File& f, const std::string& group, const Ctx& ctx) {
  if (!f.is_group(group)) ctx.fail(group, "missing group");
  NamedTensors out;
  for (const std::string& n : f.list(group, H5Order::creation))
    out.emplace_back(n, read_tensor(f, group + "/" + n, ctx));
  return out;
}

void write_tensor_group(H5File& f, const std::string& group, const NamedTensors& list, const Ctx& ctx) {
  f.create_group(group, /*track_order=*/true);
  for (const auto& [n, t] : list) write_tensor(f, group + "/" + n, t, ctx);
}

// Scalar float64 datasets of a group.
std::vector<std::pair<std::string, double>> read_doubles(const H5File& f, const std::string& group, const Ctx& ctx) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [n, t] : read_tensor_group(f, group, ctx)) {
    if (t.numel() != 1) ctx.fail(group + "/" + n, "expected a scalar, got shape " + shape_str(t.shape()));
    out.emplace_back(n, t.item<double>());
  }
  return out;
}

template <class List>
void write_doubles(H5File& f, const std::string& group, const List& values) {
  f.create_group(group, /*track_order=*/true);
  for (const auto& [k, v] : values) f.write(group + "/" + k, scalar_tensor(v, TensorOptions(DType::f64)));
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

void write_contents(H5File& f, const CheckpointData& d, const Ctx& ctx) {
  f.set_attr("/", "format", kFormat);
  f.set_attr("/", "format_version", kFormatVersion);
  f.set_attr("/", "epoch", d.meta.epoch);
  f.write_string("config", d.meta.config);
  for (const auto& [k, v] : d.meta.attributes) f.set_attr("config", k, v);
  write_tensor_group(f, "parameters", d.parameters, ctx);
  write_tensor_group(f, "buffers", d.buffers, ctx);
  if (d.has_optimizer) {
    f.create_group("optimizer", /*track_order=*/true);
    f.set_attr("optimizer", "type", d.optimizer_type);
    write_tensor_group(f, "optimizer/state", d.optimizer_state, ctx);
    write_doubles(f, "optimizer/hyperparameters", d.optimizer_hyperparameters);
  }
  write_doubles(f, "scalars", d.meta.scalars);
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
    if (k.empty()) ctx.fail("", "empty attribute name (attribute value '" + v + "')");
  }
  datasets::write_h5_atomic(
      path, [&](H5File& f) { write_contents(f, data, ctx); }, {kCheckpointUserBlock},
      [&](const std::string& tmp) { seal_checkpoint_file(tmp, path); });
}

CheckpointData read_checkpoint(const std::string& path) {
  const Ctx ctx{path};
  if (!file_exists(path)) PG_FAIL("checkpoint '", path, "': file not found");
  verify_checkpoint_file(path);
  const H5File f = H5File::open(path);
  if (!f.has_attr("/", "format")) ctx.fail("", "not a pointgrad checkpoint (no 'format' attribute)");
  const std::string format = f.attr_string("/", "format");
  if (format != kFormat) ctx.fail("", "not a pointgrad checkpoint (format '" + format + "')");
  const int64_t version = f.has_attr("/", "format_version") ? f.attr_int("/", "format_version") : 0;
  if (version < 1 || version > kFormatVersion) {
    ctx.fail("", "unsupported checkpoint format version " + std::to_string(version) + " (this build reads up to " +
                     std::to_string(kFormatVersion) + ")");
  }
  CheckpointData d;
  d.meta.epoch = f.has_attr("/", "epoch") ? f.attr_int("/", "epoch") : 0;
  if (f.exists("config")) {
    const std::vector<std::string> config = f.read_strings("config");
    if (config.size() != 1) ctx.fail("config", "expected one string, found " + std::to_string(config.size()));
    d.meta.config = config[0];
    for (const std::string& k : f.attr_names("config")) d.meta.attributes[k] = f.attr_string("config", k);
  }
  d.parameters = read_tensor_group(f, "parameters", ctx);
  d.buffers = f.exists("buffers") ? read_tensor_group(f, "buffers", ctx) : NamedTensors{};
  if (f.exists("optimizer")) {
    d.has_optimizer = true;
    if (!f.has_attr("optimizer", "type")) ctx.fail("optimizer", "missing 'type' attribute");
    d.optimizer_type = f.attr_string("optimizer", "type");
    d.optimizer_state = read_tensor_group(f, "optimizer/state", ctx);
    if (f.exists("optimizer/hyperparameters")) {
      d.optimizer_hyperparameters = read_doubles(f, "optimizer/hyperparameters", ctx);
    }
  }
  if (f.exists("scalars")) {
    for (auto& [k, v] : read_doubles(f, "scalars", ctx)) d.meta.scalars[k] = v;
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
