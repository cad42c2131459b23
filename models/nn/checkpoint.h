// Checkpoints in HDF5, written and read through datasets/h5_file. One file holds a model's
// parameters and buffers, optionally an optimizer's state, the epoch, a config string (e.g. JSON
// of the run's settings), key = value string attributes (the model configuration: "model" =
// "pointnet", "variant" = "full", ...) and named scalars (best accuracy, samples seen, ...).
//
// File layout (format "pointgrad.checkpoint", version 1):
//   /                        attributes: format (string), format_version (int64), epoch (int64)
//   /config                  scalar string dataset (CheckpointMeta::config); its string
//                            attributes are CheckpointMeta::attributes
//   /parameters/<name>       one dataset per parameter (dotted state_dict names, e.g. "fc1.weight")
//   /buffers/<name>          one dataset per buffer ("bn1.running_mean", ...)
//   /optimizer               attribute type ("SGD", "Adam", "AdamW"); present only when saved
//   /optimizer/state/<key>   Optimizer::state() entries ("0.exp_avg", "0.step", ...)
//   /optimizer/hyperparameters/<key>   scalar float64 datasets (lr, betas, step_count, ...)
//   /scalars/<name>          scalar float64 datasets
// Groups record the creation order of their members, so names read back in the order written.
// Every tensor dataset carries a "dtype" attribute (pointgrad's dtype name); float32/float64/
// int32/int64/uint8 are stored as the matching little-endian HDF5 types, bool as uint8. Tensors
// are written from any device and always read into host memory: a checkpoint saved from CUDA
// loads on the CPU and vice versa (load copies into the model's tensors wherever they live).
// Files written before the config attributes existed read with empty attributes.
//
// Integrity: the file starts with a 512-byte HDF5 user block (ignored by HDF5 readers such as
// h5py) holding a magic, the file size and a 64-bit hash of the rest of the file
// (models/nn/checkpoint_seal.h); loading checks them before HDF5 parses anything, so truncated or
// corrupted files fail with a clear error (HDF5 itself can crash on some corrupt metadata).
//
// Writes are atomic (datasets/atomic_write.h): the file is written to a temporary file next to
// <path>, sealed, fsync'ed and renamed over <path>; on any error the temporary file is removed
// and an existing <path> is untouched.
//
// Loading checks before it changes anything: every missing, unexpected and shape-mismatched
// name of the model (and of the optimizer, when one is given) is listed in ONE pg::Error that
// names the file. Missing or unreadable files, files that are not HDF5 or not pointgrad
// checkpoints, and truncated/corrupt datasets raise pg::Error naming the file and the dataset;
// they never crash.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "models/nn/module.h"
#include "models/nn/optim.h"

namespace pg::nn {

struct CheckpointMeta {
  int64_t epoch = 0;
  std::string config;
  std::map<std::string, double> scalars;
  // Key = value strings (the model configuration), stored as string attributes of /config.
  // Keys must be non-empty.
  std::map<std::string, std::string> attributes;
};

// Everything a checkpoint file holds (tensors on the CPU when read).
struct CheckpointData {
  NamedTensors parameters;
  NamedTensors buffers;
  bool has_optimizer = false;
  std::string optimizer_type;
  NamedTensors optimizer_state;
  std::vector<std::pair<std::string, double>> optimizer_hyperparameters;
  CheckpointMeta meta;
};

// Saves model (+ optimizer when non-null) + meta atomically to `path`.
void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer = nullptr,
                     const CheckpointMeta& meta = {});

// Loads `path` into model (and optimizer when non-null) and returns the meta data.
// * strict: the model's names must match exactly (else missing/unexpected names are ignored;
//   shape mismatches are always errors).
// * With an optimizer: the file must hold optimizer state of the same type; the state is
//   checked like the model's, then loaded; of the hyperparameters only "lr" and "step_count"
//   are restored (the others come from the optimizer's construction, i.e. the run's config).
CheckpointMeta load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer = nullptr,
                               bool strict = true);

// Low-level access: the raw contents, and writing arbitrary contents (atomically).
CheckpointData read_checkpoint(const std::string& path);
void write_checkpoint(const std::string& path, const CheckpointData& data);

namespace testing {
// Fault injection for tests: the next write_checkpoint throws after writing `n` tensor datasets
// (n < 0 disables). Resets itself after firing.
void checkpoint_fail_after_datasets(int n);
}  // namespace testing

}  // namespace pg::nn
