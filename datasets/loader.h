// DataLoader: batches of any Dataset (datasets/dataset.h), with seeded shuffling, per-item
// transforms and a background prefetch thread.
//
// Contract:
// * A batch stacks the items' tensors by name: an item tensor of shape S becomes [B, S...] (the
//   items of one dataset share names, dtypes and shapes; a mismatch raises pg::Error naming the
//   dataset, the name and the two shapes/dtypes). The loader adds "index" [B] int64: the dataset
//   rows the batch came from (a name the dataset itself must not use). Everything is on the CPU
//   and contiguous; the trainer moves what it needs to its device.
// * Epoch e visits the rows in a permutation drawn from (seed, e) (the identity order when
//   shuffle is off). With drop_last the final incomplete batch is skipped, else it is yielded
//   with B < batch_size.
// * Transforms (datasets/transforms.h) run per item, in the order given, after get() and before
//   stacking, all with ONE random stream per item named by (seed, e, i) for the item at position
//   i of epoch e. The batches are therefore bit-identical for any prefetch depth and any thread
//   timing: the batch of epoch e at position b depends only on (seed, e, b).
// * Prefetch: with prefetch > 0 a background thread assembles batches ahead into a bounded
//   queue of `prefetch` batches and runs on into the next epoch, so a trainer that computes
//   while the thread works never waits. Errors in the thread (a failing get(), a transform, a
//   shape mismatch) are rethrown by next().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/tensor.h"
#include "datasets/dataset.h"

namespace pg::datasets {

struct LoaderOptions {
  int64_t batch_size = 32;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  std::vector<Transform> transforms;  // per item, in order
  int prefetch = 4;  // queue depth of the background thread; 0 = assemble on the caller's thread
};

// Named batch tensors (+ "index"), with the epoch and the batch number within it.
struct Batch {
  std::map<std::string, Tensor> tensors;
  int64_t epoch = 0;
  int64_t index = 0;

  // The tensor called `name`; throws naming the available names when absent.
  const Tensor& operator[](const std::string& name) const;
  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  // Number of items (the length of "index"; 0 for an empty batch).
  int64_t size() const;
};

class DataLoader {
 public:
  DataLoader(DatasetPtr dataset, LoaderOptions opts);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  const Dataset& dataset() const { return *dataset_; }
  int64_t dataset_size() const { return n_; }
  int64_t batches_per_epoch() const;
  const LoaderOptions& options() const { return opts_; }

  // Positions the loader at the start of epoch `epoch` (reuses the prefetched batches when the
  // background thread already runs ahead into exactly that epoch).
  void start_epoch(int64_t epoch);
  // The next batch of the current epoch; false at its end. Starts epoch 0 if none was started.
  bool next(Batch& out);

  // Assembles batch `b` of epoch `e` directly (no thread): the reference the prefetcher matches.
  Batch make_batch(int64_t epoch, int64_t b) const;
  // The row order of epoch `e`.
  std::vector<int64_t> epoch_order(int64_t epoch) const;

  // Seconds next() spent waiting for the background thread (a well-fed trainer sees ~0).
  double wait_seconds() const { return wait_seconds_; }

 private:
  struct Item {
    int64_t epoch, index;
    Batch batch;
  };
  Batch assemble(const std::vector<int64_t>& order, int64_t epoch, int64_t b) const;
  void stop_worker();
  void start_worker(int64_t epoch);
  void worker_loop(int64_t first_epoch);

  DatasetPtr dataset_;
  LoaderOptions opts_;
  int64_t n_ = 0;

  int64_t cur_epoch_ = -1, cur_batch_ = 0;

  std::thread worker_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Item> queue_;
  bool stop_ = false;
  bool worker_done_ = false;
  std::exception_ptr error_;
  int64_t next_epoch_ = 0, next_index_ = 0;  // what the worker produces next
  double wait_seconds_ = 0.0;
};

}  // namespace pg::datasets
