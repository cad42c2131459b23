// ModelConfig: a model's registry name and hyperparameters as string key = value pairs, and
// Model, the base of every model that can be rebuilt from a checkpoint alone.
//
// A model writes its ModelConfig (model_config()) into each checkpoint (as CheckpointMeta::
// attributes: "model" = name, "model.<key>" = value); models/zoo/registry.h rebuilds any
// registered model from those attributes and reports a wrong model or a mismatching config by
// name and value.
//
// Values are strings; the typed setters and getters convert: integers in decimal, doubles in
// the shortest form that reads back to the same double ("0.3", "1e-05"), booleans as "true" /
// "false". Getters throw pg::Error naming the model, the key and the value (or the keys
// present, when the key is missing). Keys: non-empty, no '=' and no whitespace.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/nn/module.h"

namespace pg::nn {

class ModelConfig {
 public:
  ModelConfig() = default;
  explicit ModelConfig(std::string name);

  const std::string& name() const { return name_; }
  const std::map<std::string, std::string>& values() const { return values_; }
  bool has(const std::string& key) const { return values_.count(key) != 0; }

  ModelConfig& set(const std::string& key, const std::string& value);
  ModelConfig& set_int(const std::string& key, int64_t value);
  ModelConfig& set_double(const std::string& key, double value);
  ModelConfig& set_bool(const std::string& key, bool value);

  const std::string& get(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_double(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  // With a default for keys the config does not hold (e.g. configs written by older versions).
  std::string get_or(const std::string& key, const std::string& fallback) const;

  // "pointnet (variant=full, num_classes=40)"; just the name when there are no values.
  std::string describe() const;

  // Checkpoint attributes: {"model": name, "model.<key>": value, ...}.
  std::map<std::string, std::string> to_attributes() const;
  // Inverse of to_attributes (other attributes are ignored); nullopt without a "model" entry.
  static std::optional<ModelConfig> from_attributes(const std::map<std::string, std::string>& attributes);
  // The config strings of checkpoints written before attributes existed: whitespace-separated
  // "key=value" tokens with a "model=<name>" token (nullopt without one).
  static std::optional<ModelConfig> from_legacy_string(const std::string& config);

  // For every key of `expected`: "key=<mine> (expected <theirs>)" when the values differ (numbers
  // compare by value: "0.3" equals "0.29999999999999999") or
  // "key missing (expected <theirs>)" when this config lacks it. Keys only this config has are
  // not compared (settings added later, or legacy run settings). Empty when they agree.
  std::vector<std::string> differences_from(const ModelConfig& expected) const;

 private:
  std::string name_;
  std::map<std::string, std::string> values_;
};

// The shortest decimal that parses back to exactly `v` (std::to_chars).
std::string format_double(double v);

// A model: a Module that can describe itself for the registry.
class Model : public Module {
 public:
  explicit Model(std::string type_name) : Module(std::move(type_name)) {}
  virtual ModelConfig model_config() const = 0;
};

}  // namespace pg::nn
