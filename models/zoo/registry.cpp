#include "models/zoo/registry.h"

#include <cstdio>
#include <mutex>
#include <sstream>

#include "models/zoo/neuralqaad.h"
#include "models/zoo/pcae.h"
#include "models/zoo/pcrnet.h"
#include "models/zoo/pointnet.h"
#include "models/zoo/samplenet.h"

namespace pg::models {

namespace {

struct Entry {
  ModelFactory factory;
  std::string summary;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, Entry> entries;
  bool builtins_done = false;
};

Registry& registry() {
  static Registry r;
  return r;
}

void add_locked(Registry& r, const std::string& name, ModelFactory factory, const std::string& summary) {
  PG_CHECK(!name.empty(), "register_model: empty model name");
  PG_CHECK(factory != nullptr, "register_model: null factory for '", name, "'");
  PG_CHECK(r.entries.count(name) == 0, "register_model: a model named '", name, "' is already registered");
  r.entries[name] = Entry{std::move(factory), summary};
}

// The zoo: one line per model family.
void add_builtins_locked(Registry& r) {
  if (r.builtins_done) return;
  r.builtins_done = true;
  add_locked(r, "pointnet", pointnet_factory(), "PointNet classifier (Qi et al. 2017), vanilla or full");
  add_locked(r, "pcae", pcae_factory(), "point-cloud autoencoder (Achlioptas et al. 2018), Chamfer loss");
  add_locked(r, "pcrnet", pcrnet_factory(), "PCRNet registration, single pass (Sarode et al. 2019)");
  add_locked(r, "samplenet", sampler_factory(), "SampleNet learned sampler (Lang et al. 2020), fixed or progressive");
  add_locked(r, "snet", sampler_factory(), "S-NET learned sampler (Dovrat et al. 2019)");
  add_locked(r, "progressivenet", sampler_factory(), "ProgressiveNet ordered learned sampler (Dovrat et al. 2019)");
  add_locked(r, "apsnet", sampler_factory(), "APSNet attention-based point cloud sampler (Ye, Yang, Ji)");
  add_locked(r, "neuralqaad", neuralqaad_factory(),
             "NeuralQAAD auto-decoder of a shape collection (Wagner & Schwanecke 2022), or its AtlasNetV2-style baseline");
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string registered_list(const Registry& r) {
  std::string out;
  for (const auto& [n, e] : r.entries) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

void register_model(const std::string& name, ModelFactory factory, const std::string& summary) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  add_builtins_locked(r);
  add_locked(r, name, std::move(factory), summary);
}

bool is_registered(const std::string& name) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  add_builtins_locked(r);
  return r.entries.count(name) != 0;
}

std::map<std::string, std::string> registered_models() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  add_builtins_locked(r);
  std::map<std::string, std::string> out;
  for (const auto& [n, e] : r.entries) out[n] = e.summary;
  return out;
}

std::shared_ptr<nn::Model> build_model(const nn::ModelConfig& cfg) {
  ModelFactory f;
  {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    add_builtins_locked(r);
    auto it = r.entries.find(cfg.name());
    PG_CHECK(it != r.entries.end(), "model registry: no model named '", cfg.name(),
             "' is registered (registered: ", registered_list(r), ")");
    f = it->second.factory;
  }
  std::shared_ptr<nn::Model> m = f(cfg);
  PG_CHECK(m != nullptr, "model registry: the factory of '", cfg.name(), "' returned null");
  return m;
}

std::map<std::string, std::string> checkpoint_attributes(const nn::Module& model) {
  const auto* m = dynamic_cast<const nn::Model*>(&model);
  PG_CHECK(m != nullptr, "checkpoint_attributes: ", model.type_name(),
           " is not an nn::Model (it cannot describe its configuration)");
  std::map<std::string, std::string> out = m->model_config().to_attributes();
  for (const nn::Module::FrozenChild& f : model.frozen_children()) {
    out["frozen." + f.name + ".source"] = f.source;
    out["frozen." + f.name + ".fingerprint"] = hex64(nn::state_fingerprint(f.module->state_dict()));
  }
  return out;
}

nn::ModelConfig checkpoint_model_config(const std::string& path, const nn::CheckpointMeta& meta) {
  if (auto c = nn::ModelConfig::from_attributes(meta.attributes)) return *c;
  if (auto c = nn::ModelConfig::from_legacy_string(meta.config)) return *c;
  PG_FAIL("checkpoint '", path, "' holds no model configuration (no 'model' attribute and no 'model=' in its config ",
          "string); it cannot be rebuilt from the file alone");
}

void check_model_config(const std::string& path, const nn::ModelConfig& held, const nn::ModelConfig& expected) {
  PG_CHECK(held.name() == expected.name(), "checkpoint '", path, "' holds model '", held.name(), "'",
           held.values().empty() ? std::string() : held.describe().substr(held.name().size()),
           ", expected '", expected.name(), "'");
  const std::vector<std::string> diff = held.differences_from(expected);
  if (diff.empty()) return;
  std::string list;
  for (const auto& d : diff) list += (list.empty() ? "" : ", ") + d;
  PG_FAIL("checkpoint '", path, "' holds model '", held.name(), "' with ", list);
}

void check_frozen_children(const std::string& path, const nn::Module& model,
                           const std::map<std::string, std::string>& attributes) {
  for (const nn::Module::FrozenChild& f : model.frozen_children()) {
    auto it = attributes.find("frozen." + f.name + ".fingerprint");
    PG_CHECK(it != attributes.end(), "checkpoint '", path, "' records no frozen network '", f.name,
             "' (the model has one, loaded from '", f.source, "')");
    const std::string now = hex64(nn::state_fingerprint(f.module->state_dict()));
    PG_CHECK(it->second == now, "checkpoint '", path, "': the frozen network '", f.name, "' loaded from '", f.source,
             "' is not the one it was trained with (fingerprint ", now, ", recorded ", it->second, ")");
  }
}

std::shared_ptr<nn::Model> load_model(const std::string& path, Device device, const std::string& expected_name) {
  const nn::CheckpointData data = nn::read_checkpoint(path);
  const nn::ModelConfig cfg = checkpoint_model_config(path, data.meta);
  if (!expected_name.empty()) check_model_config(path, cfg, nn::ModelConfig(expected_name));
  std::shared_ptr<nn::Model> model = build_model(cfg);
  check_frozen_children(path, *model, data.meta.attributes);
  nn::NamedTensors state = data.parameters;
  state.insert(state.end(), data.buffers.begin(), data.buffers.end());
  const std::vector<std::string> problems = model->state_dict_problems(state, /*strict=*/true);
  if (!problems.empty()) {
    std::ostringstream os;
    os << "checkpoint '" << path << "' does not match the " << cfg.describe() << " its config describes ("
       << problems.size() << " problems):";
    for (const auto& p : problems) os << "\n  " << p;
    PG_FAIL(os.str());
  }
  model->load_state_dict(state, true);
  model->to(device);
  model->eval();
  return model;
}

}  // namespace pg::models
