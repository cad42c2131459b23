// Model registry: rebuilds any registered model from a checkpoint file alone.
//
// * A model class derives from nn::Model and returns its nn::ModelConfig (registry name +
//   hyperparameters as strings); register_model(name, factory) maps the name to a factory that
//   builds the model from such a config. The zoo's models are registered on first use of the
//   registry (registry.cpp lists them); tests and users may register more at run time.
// * checkpoint_attributes(model) is what a trainer stores in CheckpointMeta::attributes:
//   the config ("model" = name, "model.<key>" = value) plus, per frozen child (module.h),
//   "frozen.<dotted name>.source" (the checkpoint it was loaded from) and
//   "frozen.<dotted name>.fingerprint" (state_fingerprint of its state, 16 hex digits).
// * load_model(path) reads the config from the file (attributes; checkpoints written before
//   attributes existed fall back to their "model=<name> key=value ..." config string), builds
//   the model with the registered factory (which loads frozen children from their own files),
//   checks every frozen child's fingerprint against the file, loads the state strictly, moves
//   it to `device` and sets eval mode.
// * Wrong model or config: load_model_as<M>(path, device, "pcae") and check_model_config raise
//   pg::Error naming both, e.g.
//     checkpoint 'run/best.h5' holds model 'pointnet' (variant=full, ...), expected 'pcae'
//     checkpoint 'run/last.h5' holds model 'pointnet' with variant=full (expected vanilla)
//   A checkpoint without a model config, an unregistered name and a changed frozen network
//   are errors naming the file.
// Thread safety: registration and lookup are guarded by a mutex.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/error.h"
#include "models/nn/checkpoint.h"
#include "models/nn/model_config.h"

namespace pg::models {

using ModelFactory = std::function<std::shared_ptr<nn::Model>(const nn::ModelConfig&)>;

// Registers `name` (a duplicate name throws). `summary` is a one-line description for listings.
void register_model(const std::string& name, ModelFactory factory, const std::string& summary = "");
bool is_registered(const std::string& name);
// name → summary of every registered model, sorted by name.
std::map<std::string, std::string> registered_models();

// Builds a fresh model (random initialisation) from `cfg` with the registered factory.
std::shared_ptr<nn::Model> build_model(const nn::ModelConfig& cfg);

// The attributes a checkpoint of `model` carries (see above). `model` must be an nn::Model.
std::map<std::string, std::string> checkpoint_attributes(const nn::Module& model);

// The model config stored in a checkpoint's meta data (attributes, else the legacy string).
nn::ModelConfig checkpoint_model_config(const std::string& path, const nn::CheckpointMeta& meta);

// Throws when `held` (from the file `path`) is not `expected`: another model name, or any key of
// `expected` with another value in `held` (all differences in one message).
void check_model_config(const std::string& path, const nn::ModelConfig& held, const nn::ModelConfig& expected);

// Compares the frozen children of `model` with the fingerprints recorded in `attributes`.
void check_frozen_children(const std::string& path, const nn::Module& model,
                           const std::map<std::string, std::string>& attributes);

// Rebuilds, loads and returns the model of checkpoint `path` (eval mode, on `device`). With
// `expected_name`, a checkpoint of another model is an error (before anything is built).
std::shared_ptr<nn::Model> load_model(const std::string& path, Device device = Device::cpu(),
                                      const std::string& expected_name = "");

// As load_model, but the checkpoint must hold the registered model `name`, built as class M.
template <class M>
std::shared_ptr<M> load_model_as(const std::string& path, Device device, const std::string& name) {
  std::shared_ptr<M> typed = std::dynamic_pointer_cast<M>(load_model(path, device, name));
  PG_CHECK(typed != nullptr, "checkpoint '", path, "': the factory registered for '", name,
           "' built a different class than requested");
  return typed;
}

}  // namespace pg::models
