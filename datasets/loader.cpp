#include "datasets/loader.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>

#include "core/error.h"
#include "datasets/host_rng.h"

namespace pg::datasets {

namespace {
constexpr uint64_t kTagPermutation = 0x5045524dULL;  // "PERM"
constexpr uint64_t kTagAugment = 0x41554721ULL;      // "AUG!" (the item streams of the transforms)
constexpr const char* kIndexName = "index";

std::string names_of(const std::map<std::string, Tensor>& m) {
  std::string out;
  for (const auto& [n, t] : m) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? std::string("none") : out;
}
}  // namespace

const Tensor& Batch::operator[](const std::string& name) const {
  auto it = tensors.find(name);
  PG_CHECK(it != tensors.end(), "Batch: no tensor named '", name, "' (the batch holds: ", names_of(tensors), ")");
  return it->second;
}

int64_t Batch::size() const {
  auto it = tensors.find(kIndexName);
  return it == tensors.end() ? 0 : it->second.size(0);
}

DataLoader::DataLoader(DatasetPtr dataset, LoaderOptions opts) : dataset_(std::move(dataset)), opts_(std::move(opts)) {
  PG_CHECK(dataset_ != nullptr, "DataLoader: the dataset is null");
  PG_CHECK(opts_.batch_size >= 1, "DataLoader: batch_size must be >= 1, got ", opts_.batch_size);
  PG_CHECK(opts_.prefetch >= 0, "DataLoader: prefetch must be >= 0, got ", opts_.prefetch);
  for (size_t i = 0; i < opts_.transforms.size(); ++i) {
    PG_CHECK(opts_.transforms[i] != nullptr, "DataLoader: transform ", i, " is empty");
  }
  n_ = dataset_->size();
  PG_CHECK(n_ >= 0, "DataLoader: ", dataset_->describe(), " reports a negative size ", n_);
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

Batch DataLoader::assemble(const std::vector<int64_t>& order, int64_t epoch, int64_t b) const {
  const int64_t begin = b * opts_.batch_size;
  const int64_t bs = std::min(opts_.batch_size, n_ - begin);
  PG_CHECK(begin >= 0 && bs > 0, "DataLoader: batch ", b, " is outside the epoch");
  Batch out;
  out.epoch = epoch;
  out.index = b;
  Tensor index = empty({bs}, TensorOptions(DType::i64, Device::cpu()));
  int64_t* di = index.data<int64_t>();
  // Stacked outputs, created from the first item's names, shapes and dtypes.
  std::map<std::string, Tensor>& stacked = out.tensors;
  std::map<std::string, int64_t> item_bytes;
  for (int64_t j = 0; j < bs; ++j) {
    const int64_t pos = begin + j;
    const int64_t row = order[static_cast<size_t>(pos)];
    Example item = dataset_->get(row);
    if (!opts_.transforms.empty()) {
      HostRng rng(opts_.seed, {kTagAugment, static_cast<uint64_t>(epoch), static_cast<uint64_t>(pos)});
      for (const Transform& t : opts_.transforms) t(item, rng);
    }
    PG_CHECK(item.count(kIndexName) == 0, "DataLoader: ", dataset_->describe(), " item ", row,
             " has a tensor named 'index', which the loader reserves for the rows of a batch");
    if (j == 0) {
      for (const auto& [name, t] : item) {
        PG_CHECK(t.defined(), "DataLoader: ", dataset_->describe(), " item ", row, ": tensor '", name,
                 "' is undefined");
        Shape s{bs};
        s.insert(s.end(), t.shape().begin(), t.shape().end());
        stacked[name] = empty(s, TensorOptions(t.dtype(), Device::cpu()));
        item_bytes[name] = t.numel() * dtype_size(t.dtype());
      }
    } else {
      PG_CHECK(item.size() == stacked.size(), "DataLoader: ", dataset_->describe(), " item ", row,
               " has the tensors {", names_of(item), "} but the batch started with {", names_of(stacked), "}");
    }
    for (const auto& [name, t] : item) {
      auto it = stacked.find(name);
      PG_CHECK(it != stacked.end(), "DataLoader: ", dataset_->describe(), " item ", row, " has a tensor '", name,
               "' the batch's first item lacks (it holds: ", names_of(stacked), ")");
      const Tensor& dst = it->second;
      const Shape want(dst.shape().begin() + 1, dst.shape().end());
      PG_CHECK(t.defined() && t.shape() == want && t.dtype() == dst.dtype(), "DataLoader: ", dataset_->describe(),
               " item ", row, ": tensor '", name, "' is ",
               t.defined() ? dtype_name(t.dtype()) + std::string(" ") + shape_str(t.shape()) : std::string("undefined"),
               " but the batch's first item had ", dtype_name(dst.dtype()), " ", shape_str(want));
      PG_CHECK(t.is_cpu(), "DataLoader: ", dataset_->describe(), " item ", row, ": tensor '", name,
               "' is on ", t.device().str(), " (items must be host tensors)");
      const int64_t bytes = item_bytes[name];
      auto* base = static_cast<unsigned char*>(dst.raw_data()) + j * bytes;
      if (t.is_contiguous()) {
        if (bytes > 0) std::memcpy(base, t.raw_data(), static_cast<size_t>(bytes));
      } else {
        Tensor c = empty(t.shape(), TensorOptions(t.dtype(), Device::cpu()));
        detail::copy_raw(c, t);
        if (bytes > 0) std::memcpy(base, c.raw_data(), static_cast<size_t>(bytes));
      }
    }
    di[j] = row;
  }
  stacked[kIndexName] = index;
  return out;
}

Batch DataLoader::make_batch(int64_t epoch, int64_t b) const {
  PG_CHECK(b >= 0 && b < batches_per_epoch(), "DataLoader::make_batch: batch ", b, " is outside 0..",
           batches_per_epoch() - 1);
  return assemble(epoch_order(epoch), epoch, b);
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
        Batch batch = assemble(order, e, b);
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
