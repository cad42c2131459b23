#include "models/train/compress_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "autograd/grad_mode.h"
#include "core/error.h"
#include "datasets/consistent_shapes.h"
#include "datasets/h5_clouds.h"
#include "datasets/host_rng.h"
#include "datasets/pointcloud_io.h"
#include "models/nn/checkpoint.h"
#include "models/zoo/neuralqaad_assign.h"
#include "models/zoo/neuralqaad_reassign.h"
#include "ops/ops.h"

namespace pg::train {

namespace {

using models::NeuralQAAD;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Items {"shape": [] int64}: shape i mod N, so an epoch visits every shape `repeat` times.
class ShapeIndexDataset : public datasets::Dataset {
 public:
  ShapeIndexDataset(int64_t shapes, int64_t repeat) : n_(shapes), repeat_(repeat) {}
  int64_t size() const override { return n_ * repeat_; }
  datasets::Example get(int64_t i) const override {
    PG_CHECK(i >= 0 && i < size(), "shape index dataset: item ", i, " out of range [0, ", size(), ")");
    return {{"shape", full({}, static_cast<double>(i % n_), TensorOptions(DType::i64))}};
  }
  std::string describe() const override {
    return std::to_string(n_) + " shapes" + (repeat_ > 1 ? " x " + std::to_string(repeat_) + " per epoch" : "");
  }

 private:
  int64_t n_, repeat_;
};

// `count` distinct values of [0, n) (partial Fisher–Yates on `scratch`), appended to `out`.
void draw_distinct(datasets::HostRng& rng, int64_t n, int64_t count, std::vector<int64_t>& scratch,
                   std::vector<int64_t>& out) {
  scratch.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) scratch[static_cast<size_t>(i)] = i;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t j = i + static_cast<int64_t>(rng.next_u32() % static_cast<uint32_t>(n - i));
    std::swap(scratch[static_cast<size_t>(i)], scratch[static_cast<size_t>(j)]);
    out.push_back(scratch[static_cast<size_t>(i)]);
  }
}

// The randomness of one step: a stream named by (the epoch's generator seed, a step counter).
datasets::HostRng step_rng(Generator& gen) { return datasets::HostRng(gen.seed(), {gen.reserve(1)}); }

// local [K, S/K] int64: distinct template points per patch of P.
Tensor draw_local(datasets::HostRng& rng, int64_t k, int64_t per_patch, int64_t p) {
  std::vector<int64_t> out, scratch;
  out.reserve(static_cast<size_t>(k * per_patch));
  for (int64_t i = 0; i < k; ++i) draw_distinct(rng, p, per_patch, scratch, out);
  return from_vector(out, {k, per_patch});
}

// Random point samples of the shapes `shape` [B]: [B, S, 3] on data's device.
Tensor sample_shapes(datasets::HostRng& rng, const Tensor& flat_data, const std::vector<int64_t>& shape, int64_t m,
                     int64_t s) {
  std::vector<int64_t> rows, scratch;
  rows.reserve(shape.size() * static_cast<size_t>(s));
  for (int64_t b : shape) {
    const size_t first = rows.size();
    draw_distinct(rng, m, s, scratch, rows);
    for (size_t i = first; i < rows.size(); ++i) rows[i] += b * m;
  }
  const Tensor idx = from_vector(rows, {static_cast<int64_t>(rows.size())}).to(flat_data.device());
  return index_select(flat_data, 0, idx).reshape({static_cast<int64_t>(shape.size()), s, 3});
}

std::vector<int64_t> to_vector_i64(const Tensor& t) {
  const Tensor h = t.to(DType::i64, Device::cpu()).contiguous();
  return std::vector<int64_t>(h.data<int64_t>(), h.data<int64_t>() + h.numel());
}

std::string default_work_dir(const CompressOptions& o) { return o.work_dir.empty() ? o.out + ".run" : o.work_dir; }

TrainerOptions stage_options(const CompressOptions& o, const std::string& dir, int64_t epochs, int64_t batch) {
  TrainerOptions t;
  t.out_dir = dir;
  t.epochs = epochs;
  t.seed = o.seed;
  t.resume = o.resume;
  t.batch_size = batch;
  t.drop_last = false;
  t.prefetch = o.prefetch;
  t.optimizer = {"adam", o.lr};
  t.sample_unit = "shapes";
  t.attributes = {{"compress.method", o.method}, {"compress.seed", std::to_string(o.seed)}};
  return t;
}

// Copies every tensor of `from` whose name `to` also has (shapes must agree).
void copy_common_state(const nn::Module& from, nn::Module& to) {
  const auto src = from.state_dict();
  NoGradGuard ng;
  for (auto& [name, t] : to.state_dict()) {
    for (const auto& [sname, st] : src) {
      if (sname == name) {
        PG_CHECK(st.shape() == t.shape(), "compress: state '", name, "' changed shape between stages");
        t.copy_(st);
      }
    }
  }
}

}  // namespace

Tensor load_collection(const std::vector<std::string>& inputs, const std::string& dataset) {
  PG_CHECK(!inputs.empty(), "compress: no input collection given");
  if (inputs.size() == 1 && datasets::is_h5_path(inputs[0]) && datasets::count_h5_clouds(inputs[0], dataset) >= 1) {
    datasets::ConsistentShapesOptions co;
    co.dataset = dataset;
    const datasets::ConsistentShapesDataset d(inputs[0], co);
    return d.points().contiguous();
  }
  std::vector<Tensor> clouds;
  for (const std::string& p : inputs) {
    datasets::CloudReadOptions ro;
    ro.dataset = dataset;
    Tensor c = datasets::read_point_cloud(p, ro).to(DType::f32, Device::cpu()).contiguous();
    PG_CHECK(c.dim() == 2 && c.size(1) == 3 && c.size(0) >= 1, "compress: '", p, "' is not a point cloud [M, 3]");
    PG_CHECK(clouds.empty() || c.size(0) == clouds[0].size(0), "compress: the shapes of a collection must have the same "
             "number of points: '", inputs[0], "' has ", clouds.empty() ? 0 : clouds[0].size(0), ", '", p, "' has ",
             c.size(0));
    clouds.push_back(c);
  }
  Tensor all = stack(clouds, 0).contiguous();
  datasets::check_finite_clouds(all, "compress input");
  return all;
}

namespace {

// The bounding box of every point of the collection: its centre and diagonal.
struct Box {
  std::vector<double> center;
  double diagonal = 0.0;
};

Box bounding_box(const Tensor& data) {
  const Tensor flat = data.reshape({-1, 3});
  const Tensor lo = min(flat, 0).to(DType::f64, Device::cpu()).contiguous();
  const Tensor hi = max(flat, 0).to(DType::f64, Device::cpu()).contiguous();
  Box b;
  double d2 = 0.0;
  for (int i = 0; i < 3; ++i) {
    const double l = lo.data<double>()[i], h = hi.data<double>()[i];
    b.center.push_back(0.5 * (l + h));
    d2 += (h - l) * (h - l);
  }
  b.diagonal = std::max(std::sqrt(d2), 1e-12);
  return b;
}

}  // namespace

EmkdOptions compress_emkd_options(const Tensor& data, int64_t leaf, int64_t iters, double eps_rel) {
  PG_CHECK(leaf >= 2 && iters >= 1 && eps_rel > 0.0, "compress: EM-kD needs leaf >= 2, iterations >= 1 and eps > 0, got ",
           leaf, ", ", iters, ", ", eps_rel);
  return EmkdOptions{leaf, EmdOptions::msn(eps_rel * bounding_box(data).diagonal, iters)};
}

Tensor collection_emkd(const NeuralQAAD& model, const Tensor& data, const EmkdOptions& eo, int64_t chunk) {
  NoGradGuard ng;
  const int64_t n = data.size(0);
  std::vector<double> out;
  const Device dev = model.decoder->Q.device();
  for (int64_t i = 0; i < n; i += chunk) {
    const int64_t b = std::min(chunk, n - i);
    std::vector<int64_t> idx(static_cast<size_t>(b));
    for (int64_t j = 0; j < b; ++j) idx[static_cast<size_t>(j)] = i + j;
    const Tensor rows = from_vector(idx, {b});
    const Tensor pred = model.decode_shapes(rows.to(dev));
    const Tensor tgt = index_select(data, 0, rows.to(data.device())).to(pred.dtype(), dev);
    const Tensor v = emkd(pred, tgt, eo).value.to(DType::f64, Device::cpu()).contiguous();
    for (int64_t j = 0; j < b; ++j) out.push_back(v.data<double>()[j]);
  }
  return from_vector(out, {n});
}

CompressSummary compress_collection(const CompressOptions& o, const TrainCallbacks& cb) {
  PG_CHECK(o.method == "qaad" || o.method == "mse-random" || o.method == "chamfer",
           "compress: method must be qaad, mse-random or chamfer, got '", o.method, "'");
  PG_CHECK(!o.out.empty(), "compress: no output file given");
  PG_CHECK(o.warmup_epochs >= 0 && o.epochs >= 1 && o.repeat >= 1 && o.batch_size >= 1 && o.lr > 0.0,
           "compress: warmup epochs >= 0, epochs >= 1, repeat >= 1, batch >= 1 and lr > 0 required, got ", o.warmup_epochs,
           ", ", o.epochs, ", ", o.repeat, ", ", o.batch_size, ", ", o.lr);
  const Tensor host_data = load_collection(o.inputs, o.dataset);
  const int64_t n = host_data.size(0), m = host_data.size(1);
  const int64_t k = o.patches > 0 ? o.patches : (o.method == "chamfer" ? 4 : 16);
  PG_CHECK(k > 0 && (k & (k - 1)) == 0 && m % k == 0, "compress: ", k, " patches must be a power of two dividing the ", m,
           " points of every shape (resample the collection, e.g. pg convert consistent)");
  PG_CHECK(o.sample_points >= k && o.sample_points % k == 0 && o.sample_points <= m, "compress: sample points (", o.sample_points,
           ") must be a multiple of the ", k, " patches and at most the ", m, " points per shape");
  const int64_t batch = std::min(o.batch_size, n), per_patch = o.sample_points / k, p = m / k;
  PG_CHECK(o.warmup_epochs == 0 || batch >= 2, "compress: the warm-up encoder (BatchNorm) needs batches of at least 2 "
           "shapes; the collection has ", n);
  const std::string work = default_work_dir(o);
  std::filesystem::create_directories(work);
  const Tensor data = host_data.to(o.device);
  const Tensor flat = data.reshape({n * m, 3});
  const EmkdOptions eo = compress_emkd_options(host_data, o.emkd_leaf, o.emkd_iters, o.emkd_eps_rel);
  auto msg = [&](const std::string& s) {
    if (cb.message) cb.message(s);
  };
  {
    std::ostringstream s;
    s << "collection " << o.inputs[0] << (o.inputs.size() > 1 ? " (+" + std::to_string(o.inputs.size() - 1) + " files)" : "")
      << ": " << n << " shapes x " << m << " points; method " << o.method << ", " << k << " patches of " << p
      << " points, latent " << o.latent;
    msg(s.str());
  }
  CompressSummary res;
  res.shapes = n;
  res.points = m;
  res.patches = k;
  auto data_set = std::make_shared<ShapeIndexDataset>(n, o.repeat);

  models::NeuralQAADConfig mc;
  mc.shapes = n;
  mc.points = m;
  mc.latent = o.latent;
  mc.patches = k;
  mc.decoder = o.method == "chamfer" ? "atlas" : "shared";
  mc.atlas_width = o.atlas_width;
  mc.tensor = TensorOptions(DType::f32, o.device);
  Generator init_gen(o.seed);
  mc.gen = &init_gen;

  // The template: a random training shape (§12.1).
  const int64_t tmpl_shape = static_cast<int64_t>(datasets::mix64(o.seed ^ 0x7E4D1A7EULL) % static_cast<uint64_t>(n));
  // The network sees coordinates normalised by the collection's bounding box (centre, half
  // diagonal); decode() returns data units.
  const Box box = bounding_box(host_data);
  const double unit = 0.5 * box.diagonal;
  const Tensor tmpl =
      div(sub(host_data.select(0, tmpl_shape), from_vector(box.center, {1, 3}).to(DType::f32)), unit).contiguous();

  models::NeuralQAADConfig tc = mc;
  tc.assignment = true;
  auto model = std::make_shared<NeuralQAAD>(tc, tmpl);  // the stage-3 model
  model->set_normalisation(box.center, unit);
  const std::string train_dir = work + "/train", warm_dir = work + "/warmup";
  const bool train_started = o.resume && std::filesystem::exists(train_dir + "/last.h5");
  Generator step_gen(o.seed);

  // ---- stage 1: warm-up with the encoder (skipped when stage 3 already started) ----
  if (!train_started) {
    const auto t0 = Clock::now();
    models::NeuralQAADConfig wc = mc;
    wc.encoder = true;
    Generator wgen(o.seed);
    wc.gen = &wgen;
    auto warm = std::make_shared<NeuralQAAD>(wc, tmpl);
    warm->set_normalisation(box.center, unit);
    if (o.warmup_epochs > 0) {
      msg("stage 1/3: warm-up, " + std::to_string(o.warmup_epochs) + " epochs with the PointNet encoder (augmented Chamfer)");
      TrainerOptions t = stage_options(o, warm_dir, o.warmup_epochs, batch);
      t.resume = o.resume && std::filesystem::exists(warm_dir + "/last.h5");
      t.drop_last = true;  // BatchNorm: never a last batch of one shape
      t.generators = {&step_gen};
      t.config = "neuralqaad warmup method=" + o.method;
      auto step = [&](const datasets::Batch& b) {
        datasets::HostRng rng = step_rng(step_gen);
        const std::vector<int64_t> shapes = to_vector_i64(b["shape"]);
        const Tensor target = sample_shapes(rng, flat, shapes, m, o.sample_points);
        const Tensor local = draw_local(rng, k, per_patch, p);
        const Tensor pred = warm->decode_rows(warm->encode(target), local);
        return StepOutput{mean(models::augmented_chamfer(pred, target)), {}};
      };
      Trainer(warm, data_set, step, EvalFn(), t, cb).fit();
    }
    // ---- stage 2: codes from the encoder, the assignment ----
    warm->eval();
    NoGradGuard ng;
    copy_common_state(*warm, *model);
    datasets::HostRng rng(o.seed, {0xC0DEULL});
    for (int64_t i = 0; i < n; ++i) {
      const Tensor pts = sample_shapes(rng, flat, {i}, m, o.sample_points);
      model->codes->weight.select(0, i).copy_(warm->encode(pts).select(0, 0));
    }
    res.warmup_seconds = seconds_since(t0);
    const auto t1 = Clock::now();
    Tensor perm;
    if (o.method == "qaad") {
      msg("stage 2/3: QAAD_GREEDY assignment (EM-kD leaves of " + std::to_string(eo.leaf_size) + ")");
      std::vector<Tensor> rows;
      for (int64_t i = 0; i < n; i += 4) {
        const int64_t bsz = std::min<int64_t>(4, n - i);
        const Tensor idx = arange(static_cast<double>(i), static_cast<double>(i + bsz), 1.0, TensorOptions(DType::i64));
        models::QaadGreedyOptions go;
        go.emkd = eo;
        go.seed = o.seed + static_cast<uint64_t>(i);
        const models::QaadGreedyResult g =
            models::qaad_greedy(model->decode_shapes(idx.to(o.device)), index_select(data, 0, idx.to(o.device)), go);
        for (int64_t j = 0; j < bsz; ++j) {
          res.greedy_kept += g.kept.data<int64_t>()[j];
          res.greedy_repaired += g.repaired.data<int64_t>()[j];
        }
        rows.push_back(g.perm);
      }
      perm = cat(rows, 0);
      msg("  kept " + std::to_string(res.greedy_kept) + " auction claims, repaired " + std::to_string(res.greedy_repaired));
    } else if (o.method == "mse-random") {
      std::vector<int64_t> all, scratch;
      for (int64_t i = 0; i < n; ++i) {
        datasets::HostRng r(o.seed, {0xA55ULL, static_cast<uint64_t>(i)});
        draw_distinct(r, m, m, scratch, all);
      }
      perm = from_vector(all, {n, m});
    }
    if (perm.defined()) model->assignment.copy_(perm);
    res.assign_seconds = seconds_since(t1);
  } else {
    msg("resuming stage 3 from " + train_dir + "/last.h5");
  }

  // ---- stage 3 ----
  const auto t2 = Clock::now();
  TrainerOptions t = stage_options(o, train_dir, o.epochs, batch);
  t.resume = train_started;
  t.generators = {&step_gen};
  t.config = "neuralqaad train method=" + o.method;
  const bool assigned = o.method != "chamfer", reassign = o.method == "qaad";
  if (reassign) t.train_metrics = {"swaps"};
  const int64_t eval_every = o.eval_every > 0 ? o.eval_every : o.epochs;
  t.eval_every = eval_every;
  t.eval_metrics = {"emkd"};
  t.best_metric = "";
  Tensor last_emkd;
  auto evaluate = [&](nn::Module&) {
    const auto te = Clock::now();
    last_emkd = collection_emkd(*model, data, eo);
    res.eval_seconds += seconds_since(te);
    return Metrics{{"emkd", mean(last_emkd).item<double>()}};
  };
  auto step = [&](const datasets::Batch& b) {
    datasets::HostRng rng = step_rng(step_gen);
    const std::vector<int64_t> shapes = to_vector_i64(b["shape"]);
    const int64_t bs = static_cast<int64_t>(shapes.size());
    const Tensor idx = from_vector(shapes, {bs}).to(o.device);
    const Tensor local = draw_local(rng, k, per_patch, p);
    const Tensor pred = model->decode_rows(model->codes->forward(idx), local);  // [B, S, 3]
    if (!assigned) {
      const Tensor target = sample_shapes(rng, flat, shapes, m, o.sample_points);
      return StepOutput{mean(models::augmented_chamfer(pred, target)), {}};
    }
    const std::vector<int64_t> rows = to_vector_i64(model->template_rows(local));
    const Tensor perm_b = index_select(model->assignment, 0, idx).to(Device::cpu()).contiguous();  // [B, M]
    const int64_t s = static_cast<int64_t>(rows.size());
    std::vector<int64_t> tgt(static_cast<size_t>(bs * s)), sample(static_cast<size_t>(bs * s));
    for (int64_t bi = 0; bi < bs; ++bi) {
      for (int64_t j = 0; j < s; ++j) {
        const int64_t r = rows[static_cast<size_t>(j)];
        sample[static_cast<size_t>(bi * s + j)] = r;
        tgt[static_cast<size_t>(bi * s + j)] = shapes[static_cast<size_t>(bi)] * m + perm_b.data<int64_t>()[bi * m + r];
      }
    }
    const Tensor target = index_select(flat, 0, from_vector(tgt, {bs * s}).to(o.device)).reshape({bs, s, 3});
    const Tensor loss = mean(sum(square(sub(pred, target)), {2}));
    Metrics metrics;
    if (reassign) {
      const models::QaadReassignResult r =
          models::qaad_reassign(pred.detach().to(Device::cpu()), index_select(host_data, 0, from_vector(shapes, {bs})),
                                perm_b, from_vector(sample, {bs, s}), models::QaadReassignOptions{rng.next_u32()});
      NoGradGuard ng;
      for (int64_t bi = 0; bi < bs; ++bi)
        model->assignment.select(0, shapes[static_cast<size_t>(bi)]).copy_(r.perm.select(0, bi));
      for (int64_t bi = 0; bi < bs; ++bi) res.swaps += r.swaps.data<int64_t>()[bi];
      metrics.push_back({"swaps", mean(r.swaps.to(DType::f64)).item<double>()});
    }
    return StepOutput{loss, metrics};
  };
  msg("stage 3/3: " + std::string(o.method == "chamfer" ? "augmented-Chamfer auto-decoding" : "MSE against the assignment") +
      (reassign ? " with QAAD_REASSIGNMENT" : "") + ", " + std::to_string(o.epochs) + " epochs");
  Trainer trainer(model, data_set, step, evaluate, t, cb);
  nn::mark_row_sparse_parameters(trainer.optimizer(), *model);
  const Tensor assignment_before = model->assignment.to(Device::cpu()).clone();
  trainer.fit();
  if (assigned) {
    const Tensor after = model->assignment.to(Device::cpu()).contiguous();
    const Tensor before = assignment_before.contiguous();
    for (int64_t i = 0; i < n * m; ++i) res.reassigned += before.data<int64_t>()[i] != after.data<int64_t>()[i];
  }
  if (!last_emkd.defined()) last_emkd = collection_emkd(*model, data, eo);
  res.train_seconds = seconds_since(t2) - res.eval_seconds;

  // ---- the compressed file: codes, Q, decoder ----
  models::NeuralQAADConfig ec = mc;
  ec.gen = nullptr;
  NeuralQAAD exported(ec, tmpl);
  copy_common_state(*model, exported);
  nn::CheckpointMeta meta;
  meta.config = "neuralqaad compressed collection method=" + o.method;
  meta.attributes = models::checkpoint_attributes(exported);
  meta.attributes["compress.method"] = o.method;
  meta.attributes["compress.source"] = o.inputs[0];
  nn::save_checkpoint(o.out, exported, nullptr, meta);
  res.stored_parameters = exported.stored_parameter_count();
  res.file_bytes = static_cast<int64_t>(std::filesystem::file_size(o.out));
  res.raw_bytes = static_cast<double>(n) * static_cast<double>(m) * 12.0;
  res.ratio = res.raw_bytes / static_cast<double>(res.file_bytes);
  const Tensor e = last_emkd.to(DType::f64, Device::cpu()).contiguous();
  res.emkd.assign(e.data<double>(), e.data<double>() + e.numel());
  double acc = 0.0;
  for (double v : res.emkd) acc += v;
  res.emkd_mean = acc / static_cast<double>(res.emkd.size());
  return res;
}

Tensor decompress_collection(const std::string& path, const std::vector<int64_t>& indices, Device device) {
  auto model = models::load_model_as<NeuralQAAD>(path, device, "neuralqaad");
  const int64_t n = model->config().shapes;
  std::vector<int64_t> idx = indices;
  if (idx.empty()) {
    for (int64_t i = 0; i < n; ++i) idx.push_back(i);
  }
  for (int64_t i : idx)
    PG_CHECK(i >= 0 && i < n, "decompress: shape index ", i, " is out of range: '", path, "' holds ", n, " shapes");
  NoGradGuard ng;
  std::vector<Tensor> out;
  // One shape per decode: a GEMM's blocking depends on its size, so decoding shapes together
  // could change the last bits of a shape depending on which others were requested.
  for (int64_t i : idx) {
    out.push_back(model->decode_shapes(from_vector(std::vector<int64_t>{i}, {1}).to(device)).to(DType::f32, Device::cpu()));
  }
  return cat(out, 0).contiguous();
}

}  // namespace pg::train
