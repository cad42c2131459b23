// A point-cloud autoencoder trained with the Chamfer distance, written against the public API
// only (pointgrad.h). Usage: autoencoder [OUT_DIR] [EPOCHS]. Exits 1 if training did not lower
// the test Chamfer distance.
#include <cstdio>
#include <string>

#include "pointgrad.h"

using namespace pg;

// Shared MLP per point, max pool to a code, MLP decoder to N points.
class AutoEncoder : public nn::Module {
 public:
  explicit AutoEncoder(int64_t n) : nn::Module("AutoEncoder"), n_(n) {
    nn::MLPOptions enc;
    enc.batch_norm = enc.last_batch_norm = enc.last_activation = true;
    encoder = register_module("encoder", nn::make_shared_mlp({3, 64, 128, 128}, enc));
    decoder = register_module("decoder", nn::make_mlp({128, 256, 256, n * 3}));
  }
  Tensor forward(const Tensor& points) const {  // [B, N, 3] → [B, n, 3]
    const Tensor code = max_pool_points(encoder->forward(points)).values;
    return decoder->forward(code).reshape({points.size(0), n_, 3});
  }
  std::shared_ptr<nn::SharedMLP> encoder;
  std::shared_ptr<nn::Sequential> decoder;

 private:
  int64_t n_;
};

// `count` generated shapes of 256 points each (the built-in procedural classes).
datasets::DatasetPtr make_shapes(int64_t count, uint64_t seed) {
  datasets::PointCloudSet set;
  set.class_names = datasets::shape_classes();
  std::vector<float> xyz;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t cls = i % static_cast<int64_t>(set.class_names.size());
    const auto shape = datasets::generate_shape(set.class_names[cls], 256, datasets::stream_key(seed, {uint64_t(i)}));
    xyz.insert(xyz.end(), shape.points.begin(), shape.points.end());
    labels.push_back(cls);
  }
  set.points = from_vector(xyz, {count, 256, 3});
  set.labels = from_vector(labels, {count});
  return std::make_shared<datasets::CloudSetDataset>(std::move(set), "generated shapes");
}

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : "runs/autoencoder";
  const int64_t epochs = argc > 2 ? std::stoll(argv[2]) : 20;
  auto model = std::make_shared<AutoEncoder>(256);
  const auto train_set = make_shapes(192, 1), test_set = make_shapes(48, 2);
  auto test_chamfer = [&](nn::Module&) {
    NoGradGuard no_grad;
    datasets::DataLoader loader(test_set, {.batch_size = 16, .shuffle = false, .prefetch = 0});
    double total = 0.0;
    for (datasets::Batch b; loader.next(b);) total += chamfer(model->forward(b["points"]), b["points"]).loss.item() * b.size();
    return train::Metrics{{"test_chamfer", total / test_set->size()}};
  };
  const double before = train::metric_value(test_chamfer(*model), "test_chamfer");
  train::TrainerOptions opts;
  opts.out_dir = out, opts.epochs = epochs, opts.batch_size = 16, opts.optimizer.lr = 1e-3;
  opts.transforms = {datasets::point_transform({datasets::rotate_y()})};
  opts.eval_metrics = {"test_chamfer"}, opts.best_metric = "test_chamfer", opts.best_goal = train::Goal::minimize;
  train::TrainCallbacks callbacks;
  callbacks.on_epoch = [](const train::EpochRecord& r) {
    std::printf("epoch %3lld  train chamfer %.5f  test chamfer %.5f\n", static_cast<long long>(r.epoch),
                train::metric_value(r.train, "loss"), train::metric_value(r.eval, "test_chamfer"));
  };
  auto step = [&](const datasets::Batch& b) {
    return train::StepOutput{chamfer(model->forward(b["points"]), b["points"]).loss, {}};
  };
  const train::RunSummary run = train::Trainer(model, train_set, step, test_chamfer, opts, callbacks).fit();
  const double after = run.best_value;  // best.h5 holds that model
  std::printf("test chamfer: %.5f before training, best %.5f (epoch %lld) in %s\n", before, after,
              static_cast<long long>(run.best_epoch), run.best_checkpoint.c_str());
  return after < before ? 0 : 1;
}
