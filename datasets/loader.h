// DataLoader: batches of labelled point clouds from a PointCloudSet, with seeded shuffling,
// PointNet-style augmentations and a background prefetch thread.
//
// Contract:
// * A batch is {points [B, k, 3] float32, labels [B] int64, indices [B] int64 (rows of the
//   set)} on the CPU, contiguous; the trainer moves it to its device. k = num_points (the first
//   k of the stored points, as every ModelNet40 classifier does; -1 takes all).
// * Epoch e visits the rows in a permutation drawn from (seed, e) (identity order when
//   shuffle is off). With drop_last the final incomplete batch is skipped, else it is yielded
//   with B < batch_size.
// * Augmentations (training only; all default off), per shape in this order:
//     rotation about the up (y) axis by an angle uniform in [0, 2π):
//       (x, y, z) → (x cos a − z sin a, y, x sin a + z cos a)   (PointNet's rotate_point_cloud)
//     isotropic scale uniform in [scale_lo, scale_hi],
//     shift: each axis uniform in [−shift, shift],
//     jitter: every coordinate + N(0, jitter_sigma²) clipped to ±jitter_clip.
// * Determinism: the random numbers of the sample at position i of epoch e come from a stream
//   named by (seed, e, i), so the batches are bit-identical for any prefetch depth and any
//   thread timing.
// * Prefetch: with prefetch > 0 a background thread assembles batches ahead into a bounded
//   queue of `prefetch` batches and runs on into the next epoch, so a trainer that computes
//   while the thread works never waits. Errors in the thread are rethrown by next().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "core/tensor.h"
#include "datasets/modelnet40.h"

namespace pg::datasets {

struct Augment {
  bool rotate_y = false;
  double jitter_sigma = 0.0;
  double jitter_clip = 0.05;
  double scale_lo = 1.0, scale_hi = 1.0;
  double shift = 0.0;

  bool any() const { return rotate_y || jitter_sigma > 0.0 || scale_lo != 1.0 || scale_hi != 1.0 || shift != 0.0; }
  // The PointNet / SampleNet classifier recipe: rotation about y, jitter σ = 0.01 clipped at 0.05.
  static Augment pointnet() {
    Augment a;
    a.rotate_y = true;
    a.jitter_sigma = 0.01;
    a.jitter_clip = 0.05;
    return a;
  }
};

struct LoaderOptions {
  int64_t batch_size = 32;
  int64_t num_points = 1024;  // first k points; -1 = all stored points
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  Augment augment;
  int prefetch = 4;  // queue depth of the background thread; 0 = assemble on the caller's thread
};

struct Batch {
  Tensor points;   // [B, k, 3] float32
  Tensor labels;   // [B] int64
  Tensor indices;  // [B] int64, rows of the set
  int64_t epoch = 0;
  int64_t index = 0;  // batch number within the epoch
  int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

class DataLoader {
 public:
  // points: [N, P, 3] float32 (CPU); labels: [N] integer. The loader keeps references to them.
  DataLoader(Tensor points, Tensor labels, LoaderOptions opts);
  DataLoader(const PointCloudSet& set, LoaderOptions opts) : DataLoader(set.points, set.labels, opts) {}
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

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
  void stop_worker();
  void start_worker(int64_t epoch);
  void worker_loop(int64_t first_epoch);

  Tensor points_, labels_;
  LoaderOptions opts_;
  int64_t n_ = 0, p_ = 0, k_ = 0;

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
