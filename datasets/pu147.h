// PU-147 (PU-GAN's upsampling data set) as datasets of (sparse input, dense ground truth) pairs.
//
// Layouts read:
//   training patches   one HDF5 file (PU-GAN's PUGAN_poisson_256_poisson_1024.h5):
//                      `poisson_256`  float [N, 256, 3]   sparse input patches
//                      `poisson_1024` float [N, 1024, 3]  dense ground-truth patches
//   test set, .h5      one HDF5 file (as ../shared/data/pu_gan_test/pu_gan_test.h5):
//                      `input_2048` float [N, 2048, 3], `gt_8192` float [N, 8192, 3],
//                      `name` strings [N] (optional: names become "0", "1", ... without it)
//   test set, folders  an input folder and a ground-truth folder of point files (.xyz, also
//                      .txt/.pts/.ply/.off vertices), paired by file name without extension
//                      ("camel.xyz" ↔ "camel.xyz"); pairs are sorted by name.
// Dataset names and item keys are configurable (PuOptions); "float" means float32 or float64
// storage, read as float32.
//
// Items: {input_key: [Pin, 3] float32, gt_key: [Pgt, 3] float32} (defaults "input", "gt"), host
// copies; names() gives the pair names in item order.
//
// Validation (pg::Error naming the file and dataset, or the folder and file): missing file or
// folder, missing dataset, wrong dtype/rank/shape, input and ground-truth counts that differ,
// names count ≠ N, NaN/Inf, truncated/corrupt files; for folders: no point files, an input
// without a ground truth or the reverse (all such names listed), two files with the same name,
// clouds with a different point count than the first one of their folder.
//
// Normalisation (opt-in, PuOptions::normalize): each pair is centred on the ground truth's
// centroid and divided by the ground truth's largest distance from it (PU-GAN's loader does
// this for training patches), so the ground truth lies in the unit sphere.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace pg::datasets {

struct PuOptions {
  std::string input_dataset;           // empty: the reader's default (poisson_256 / input_2048)
  std::string gt_dataset;              // empty: the reader's default (poisson_1024 / gt_8192)
  std::string names_dataset = "name";  // test .h5 only
  std::string input_key = "input";
  std::string gt_key = "gt";
  bool normalize = false;
  bool check_finite = true;
};

class PuPairDataset : public Dataset {
 public:
  // inputs [N, Pin, 3], gts [N, Pgt, 3] float32 on the CPU; names empty or N entries.
  PuPairDataset(Tensor inputs, Tensor gts, std::vector<std::string> names, std::string description,
                const PuOptions& opts);

  int64_t size() const override { return inputs_.size(0); }
  Example get(int64_t i) const override;
  std::string describe() const override;

  const std::vector<std::string>& names() const { return names_; }
  const Tensor& inputs() const { return inputs_; }
  const Tensor& gts() const { return gts_; }

 private:
  Tensor inputs_, gts_;
  std::vector<std::string> names_;
  std::string description_;
  std::string input_key_, gt_key_;
};

// PU-GAN's training patch file.
std::shared_ptr<PuPairDataset> read_pu_patches(const std::string& path, const PuOptions& opts = {});
// The test set from one HDF5 file.
std::shared_ptr<PuPairDataset> read_pu_test_h5(const std::string& path, const PuOptions& opts = {});
// The test set from an input folder and a ground-truth folder.
std::shared_ptr<PuPairDataset> read_pu_test_folders(const std::string& input_dir, const std::string& gt_dir,
                                                    const PuOptions& opts = {});

}  // namespace pg::datasets
