#include "datasets/loader.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/error.h"
#include "datasets/host_rng.h"

namespace pg::datasets {

namespace {
constexpr uint64_t kTagPermutation = 0x5045524dULL;  // "PERM"
constexpr uint64_t kTagAugment = 0x41554721ULL;      // "AUG!"
}  // namespace

DataLoader::DataLoader(Tensor points, Tensor labels, LoaderOptions opts) : opts_(opts) {
  PG_CHECK(points.defined() && labels.defined(), "DataLoader: points and labels must be defined");
  PG_CHECK(points.dim() == 3 && points.size(2) == 3, "DataLoader: points must be [N, P, 3], got ",
           shape_str(points.shape()));
  PG_CHECK(points.dtype() == DType::f32, "DataLoader: points must be float32, got ", dtype_name(points.dtype()));
  PG_CHECK(labels.dim() == 1 && labels.size(0) == points.size(0),
           "DataLoader: labels must be [N] with N = ", points.size(0), ", got ", shape_str(labels.shape()));
  PG_CHECK(is_integral(labels.dtype()), "DataLoader: labels must be integers, got ", dtype_name(labels.dtype()));
  PG_CHECK(opts.batch_size >= 1, "DataLoader: batch_size must be >= 1, got ", opts.batch_size);
  PG_CHECK(opts.prefetch >= 0, "DataLoader: prefetch must be >= 0, got ", opts.prefetch);
  const Augment& a = opts.augment;
  PG_CHECK(a.jitter_sigma >= 0.0 && a.jitter_clip >= 0.0, "DataLoader: jitter sigma and clip must be >= 0");
  PG_CHECK(a.scale_lo > 0.0 && a.scale_lo <= a.scale_hi, "DataLoader: scale range [", a.scale_lo, ", ", a.scale_hi,
           "] must satisfy 0 < lo <= hi");
  PG_CHECK(a.shift >= 0.0, "DataLoader: shift must be >= 0, got ", a.shift);
  n_ = points.size(0);
  p_ = points.size(1);
  PG_CHECK(opts.num_points == -1 || (opts.num_points >= 1 && opts.num_points <= p_), "DataLoader: num_points ",
           opts.num_points, " is outside 1..", p_, " (the stored points per shape; -1 takes all)");
  k_ = opts.num_points == -1 ? p_ : opts.num_points;
  if (points.is_cpu() && points.is_contiguous()) {
    points_ = points;
  } else {
    points_ = empty(points.shape(), TensorOptions(DType::f32, Device::cpu()));
    detail::copy_raw(points_, points);
  }
  labels_ = empty({n_}, TensorOptions(DType::i64, Device::cpu()));
  detail::copy_raw(labels_, labels);
}

DataLoader::~DataLoader() {
  stop_worker();
}

int64_t DataLoader::batches_per_epoch() const {
  const int64_t full = n_ / opts_.batch_size;
  return opts_.drop_last ? full : full + (n_ % opts_.batch_size != 0 ? 1 : 0);
}

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order(static_cast<size_t>(n_));
  std::iota(order.begin(), order.end(), int64_t(0));
  if (opts_.shuffle) {
    HostRng rng(opts_.seed, {kTagPermutation, static_cast<uint64_t>(epoch)});
    for (int64_t i = n_ - 1; i > 0; --i) {
      const auto j = static_cast<int64_t>(rng.below(static_cast<uint64_t>(i + 1)));
      std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
    }
  }
  return order;
}

namespace {

// Applies the augmentations to one shape's k points in place.
void augment_shape(float* x, int64_t k, const Augment& a, HostRng& rng) {
  double c = 1.0, s = 0.0;
  if (a.rotate_y) {
    const double angle = rng.uniform() * 2.0 * M_PI;
    c = std::cos(angle);
    s = std::sin(angle);
  }
  const double scale = (a.scale_lo != 1.0 || a.scale_hi != 1.0) ? rng.uniform(a.scale_lo, a.scale_hi) : 1.0;
  double shift[3] = {0.0, 0.0, 0.0};
  if (a.shift > 0.0) {
    for (double& v : shift) v = rng.uniform(-a.shift, a.shift);
  }
  for (int64_t i = 0; i < k; ++i) {
    float* p = x + 3 * i;
    const double px = p[0], py = p[1], pz = p[2];
    double q[3] = {px * c - pz * s, py, px * s + pz * c};
    for (int d = 0; d < 3; ++d) {
      q[d] = q[d] * scale + shift[d];
      if (a.jitter_sigma > 0.0) q[d] += std::clamp(a.jitter_sigma * rng.normal(), -a.jitter_clip, a.jitter_clip);
      p[d] = static_cast<float>(q[d]);
    }
  }
}

}  // namespace

namespace {
Batch assemble(const Tensor& points, const Tensor& labels, const std::vector<int64_t>& order, int64_t epoch, int64_t b,
               int64_t batch_size, int64_t p, int64_t k, const LoaderOptions& opts) {
  const int64_t n = static_cast<int64_t>(order.size());
  const int64_t begin = b * batch_size;
  const int64_t bs = std::min(batch_size, n - begin);
  PG_CHECK(begin >= 0 && bs > 0, "DataLoader: batch ", b, " is outside the epoch");
  Batch out;
  out.epoch = epoch;
  out.index = b;
  out.points = empty({bs, k, 3}, TensorOptions(DType::f32, Device::cpu()));
  out.labels = empty({bs}, TensorOptions(DType::i64, Device::cpu()));
  out.indices = empty({bs}, TensorOptions(DType::i64, Device::cpu()));
  float* dst = out.points.data<float>();
  int64_t* dl = out.labels.data<int64_t>();
  int64_t* di = out.indices.data<int64_t>();
  const float* src = points.data<float>();
  const int64_t* sl = labels.data<int64_t>();
  const bool aug = opts.augment.any();
  for (int64_t j = 0; j < bs; ++j) {
    const int64_t pos = begin + j;
    const int64_t row = order[static_cast<size_t>(pos)];
    std::memcpy(dst + j * k * 3, src + row * p * 3, static_cast<size_t>(k * 3) * sizeof(float));
    dl[j] = sl[row];
    di[j] = row;
    if (aug) {
      HostRng rng(opts.seed, {kTagAugment, static_cast<uint64_t>(epoch), static_cast<uint64_t>(pos)});
      augment_shape(dst + j * k * 3, k, opts.augment, rng);
    }
  }
  return out;
}
}  // namespace

Batch DataLoader::make_batch(int64_t epoch, int64_t b) const {
  PG_CHECK(b >= 0 && b < batches_per_epoch(), "DataLoader::make_batch: batch ", b, " is outside 0..",
           batches_per_epoch() - 1);
  return assemble(points_, labels_, epoch_order(epoch), epoch, b, opts_.batch_size, p_, k_, opts_);
}

void DataLoader::stop_worker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  not_full_.notify_all();
  not_empty_.notify_all();
  if (worker_.joinable()) worker_.join();
  std::lock_guard<std::mutex> lock(mu_);
  queue_.clear();
  stop_ = false;
  worker_done_ = false;
  error_ = nullptr;
}

void DataLoader::start_worker(int64_t epoch) {
  next_epoch_ = epoch;
  next_index_ = 0;
  worker_ = std::thread([this, epoch] { worker_loop(epoch); });
}

void DataLoader::worker_loop(int64_t first_epoch) {
  try {
    const int64_t nb = batches_per_epoch();
    for (int64_t e = first_epoch;; ++e) {
      const std::vector<int64_t> order = epoch_order(e);
      for (int64_t b = 0; b < nb; ++b) {
        {
          std::unique_lock<std::mutex> lock(mu_);
          not_full_.wait(lock, [&] { return stop_ || static_cast<int>(queue_.size()) < opts_.prefetch; });
          if (stop_) return;
        }
        Batch batch = assemble(points_, labels_, order, e, b, opts_.batch_size, p_, k_, opts_);
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stop_) return;
          queue_.push_back(Item{e, b, std::move(batch)});
          next_epoch_ = b + 1 < nb ? e : e + 1;
          next_index_ = b + 1 < nb ? b + 1 : 0;
        }
        not_empty_.notify_one();
      }
      if (nb == 0) break;
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    worker_done_ = true;
  }
  not_empty_.notify_all();
}

void DataLoader::start_epoch(int64_t epoch) {
  PG_CHECK(epoch >= 0, "DataLoader::start_epoch: epoch must be >= 0, got ", epoch);
  cur_epoch_ = epoch;
  cur_batch_ = 0;
  if (opts_.prefetch == 0) return;
  if (worker_.joinable()) {
    std::lock_guard<std::mutex> lock(mu_);
    const bool aligned = queue_.empty() ? (next_epoch_ == epoch && next_index_ == 0)
                                        : (queue_.front().epoch == epoch && queue_.front().index == 0);
    if (aligned && !error_) return;
  }
  stop_worker();
  start_worker(epoch);
}

bool DataLoader::next(Batch& out) {
  if (cur_epoch_ < 0) start_epoch(0);
  if (cur_batch_ >= batches_per_epoch()) return false;
  if (opts_.prefetch == 0) {
    out = make_batch(cur_epoch_, cur_batch_++);
    return true;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  not_empty_.wait(lock, [&] { return !queue_.empty() || worker_done_; });
  wait_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (queue_.empty()) {
    std::exception_ptr err = error_;
    lock.unlock();
    if (err) std::rethrow_exception(err);
    PG_FAIL("DataLoader: the prefetch thread ended unexpectedly");
  }
  Item item = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  not_full_.notify_one();
  PG_CHECK(item.epoch == cur_epoch_ && item.index == cur_batch_, "DataLoader: internal error: expected batch ",
           cur_batch_, " of epoch ", cur_epoch_, ", the prefetcher produced batch ", item.index, " of epoch ",
           item.epoch);
  ++cur_batch_;
  out = std::move(item.batch);
  return true;
}

}  // namespace pg::datasets
