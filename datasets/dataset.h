// Dataset: the interface every data source implements, and the item type the DataLoader
// batches. An item ("Example") is a set of named tensors, e.g. a classification shape is
//   {"points": [P, 3] float32, "label": [] int64}
// and a registration pair is
//   {"template": [P, 3], "source": [P, 3], "rotation": [4] (unit quaternion w, x, y, z),
//    "translation": [3]}.
//
// Contract:
// * get(i) for 0 <= i < size() returns host (CPU) tensors; the DataLoader stacks the tensors of
//   one name across a batch (so every item of a dataset has the same names, dtypes and shapes)
//   and adds "index" [B] int64 (the rows the batch came from).
// * get() must be safe to call concurrently from several threads (the loader's prefetch
//   thread calls it while the trainer may call it for evaluation) and must be deterministic:
//   the same i gives the same tensors. Randomness belongs in transforms, which receive a
//   HostRng named by (seed, epoch, position in the epoch) from the loader.
// * Readers validate at construction and name the file and HDF5 dataset in every error.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "datasets/host_rng.h"

namespace pg::datasets {

// One item: named host tensors.
using Example = std::map<std::string, Tensor>;

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // Item i (0 <= i < size(); out of range throws pg::Error naming the dataset).
  virtual Example get(int64_t i) const = 0;
  // A short description for messages and logs, e.g. "ModelNet40 train (9840 shapes, 2048 points)".
  virtual std::string describe() const = 0;
  // Class names when the items carry a "label"; empty otherwise.
  virtual std::vector<std::string> class_names() const { return {}; }
};

using DatasetPtr = std::shared_ptr<const Dataset>;

// A transform edits one item in place with the item's own random stream. Transforms compose by
// running in order (see datasets/transforms.h).
using Transform = std::function<void(Example&, HostRng&)>;

}  // namespace pg::datasets
