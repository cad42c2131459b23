// The PointNet trainer: files it writes, evaluation, exact resume, errors. Runs on a tiny data
// set written by datagen into a temporary folder.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "datasets/datagen.h"
#include "datasets/ds_test_util.h"
#include "models/nn/checkpoint.h"
#include "models/train/classifier_trainer.h"
#include "test_util.h"

using namespace pg;
namespace fs = std::filesystem;

namespace {

std::string make_tiny_dataset(const test::TempDir& dir) {
  datasets::DatagenOptions o;
  o.out_dir = dir.file("data");
  o.train_per_class = 6;
  o.test_per_class = 3;
  o.points = 160;
  o.seed = 5;
  o.classes = datasets::parse_class_selection("4");
  datasets::generate_dataset(o);
  return o.out_dir;
}

train::ClassifierTrainOptions tiny_options(const std::string& data, const std::string& out) {
  train::ClassifierTrainOptions o;
  o.data_dir = data;
  o.out_dir = out;
  o.epochs = 2;
  o.batch_size = 8;
  o.num_points = 128;
  o.seed = 3;
  o.prefetch = 2;
  return o;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  return lines;
}

}  // namespace

TEST_CASE("trainer: writes checkpoints and a CSV log, and evaluation agrees with them", "[train][models][slow]") {
  test::TempDir dir("pg_trainer");
  const std::string data = make_tiny_dataset(dir);
  train::ClassifierTrainOptions o = tiny_options(data, dir.file("run"));
  int64_t batches_seen = 0, epochs_seen = 0;
  train::TrainCallbacks cb;
  cb.on_batch = [&](const train::BatchProgress& p) {
    ++batches_seen;
    CHECK(p.batches == 3);  // 24 shapes / batch 8, drop_last
    CHECK(p.eta_seconds >= 0.0);
  };
  cb.on_epoch = [&](const train::EpochRecord&) { ++epochs_seen; };
  const train::TrainSummary s = train::train_pointnet_classifier(o, cb);
  CHECK(batches_seen == 6);
  CHECK(epochs_seen == 2);
  REQUIRE(s.epochs.size() == 2);
  CHECK(s.epochs[1].evaluated);
  CHECK(s.final_eval.num_shapes == 12);
  CHECK(fs::exists(dir.file("run/last.h5")));
  CHECK(fs::exists(dir.file("run/best.h5")));
  const std::vector<std::string> csv = read_lines(dir.file("run/log.csv"));
  REQUIRE(csv.size() == 3);
  CHECK(csv[0].rfind("epoch,lr,bn_momentum,train_loss,train_acc,test_loss,test_acc", 0) == 0);
  CHECK(csv[1].rfind("1,", 0) == 0);
  CHECK(csv[2].rfind("2,", 0) == 0);

  // The last checkpoint re-evaluates to the recorded final accuracy.
  auto model = train::load_pointnet_checkpoint(dir.file("run/last.h5"), Device::cpu());
  datasets::ModelNetReadOptions ro;
  ro.max_points = 128;
  const datasets::PointCloudSet test_set = datasets::read_modelnet40(data, datasets::Split::test, ro);
  const train::ClassEvaluation ev = train::evaluate_classifier(*model, test_set, Device::cpu(), 5, 128);
  CHECK(ev.accuracy == s.final_eval.accuracy);
  CHECK(ev.loss == Approx(s.final_eval.loss).epsilon(1e-5));
  int64_t total = 0, correct = 0;
  for (size_t c = 0; c < ev.class_total.size(); ++c) {
    CHECK(ev.class_total[c] == 3);
    total += ev.class_total[c];
    correct += ev.class_correct[c];
  }
  CHECK(total == 12);
  CHECK(static_cast<double>(correct) / 12.0 == ev.accuracy);
  const nn::CheckpointData ck = nn::read_checkpoint(dir.file("run/last.h5"));
  CHECK(ck.meta.epoch == 2);
  CHECK(ck.has_optimizer);
  CHECK(ck.meta.scalars.at("samples_seen") == 48.0);
}

TEST_CASE("trainer: resuming reproduces the uninterrupted run exactly", "[train][models][slow]") {
  test::TempDir dir("pg_trainer_resume");
  const std::string data = make_tiny_dataset(dir);
  train::ClassifierTrainOptions full = tiny_options(data, dir.file("full"));
  full.variant = models::PointNetVariant::full;  // dropout twice + T-Nets: the harder case
  train::train_pointnet_classifier(full);

  train::ClassifierTrainOptions part = tiny_options(data, dir.file("part"));
  part.variant = models::PointNetVariant::full;
  part.epochs = 1;
  train::train_pointnet_classifier(part);
  part.epochs = 2;
  part.resume = true;
  const train::TrainSummary resumed = train::train_pointnet_classifier(part);
  CHECK(resumed.start_epoch == 1);
  CHECK(resumed.epochs.size() == 1);

  const nn::CheckpointData a = nn::read_checkpoint(dir.file("full/last.h5"));
  const nn::CheckpointData b = nn::read_checkpoint(dir.file("part/last.h5"));
  REQUIRE(a.parameters.size() == b.parameters.size());
  for (size_t i = 0; i < a.parameters.size(); ++i) {
    INFO(a.parameters[i].first);
    CHECK(a.parameters[i].first == b.parameters[i].first);
    CHECK(test::max_abs_diff(a.parameters[i].second, b.parameters[i].second) == 0.0);
  }
  for (size_t i = 0; i < a.buffers.size(); ++i) CHECK(test::max_abs_diff(a.buffers[i].second, b.buffers[i].second) == 0.0);
  // The log of the resumed run has both epochs once.
  CHECK(read_lines(dir.file("part/log.csv")).size() == 3);

  // Resuming a finished run says how to go on.
  CHECK_THROWS_WITH(train::train_pointnet_classifier(part), Catch::Contains("raise --epochs"));
}

TEST_CASE("trainer: bad options raise clear errors", "[train][models][errors]") {
  test::TempDir dir("pg_trainer_err");
  train::ClassifierTrainOptions o = tiny_options(dir.file("nowhere"), dir.file("run"));
  CHECK_THROWS_AS(train::train_pointnet_classifier(o), Error);
  o.batch_size = 1;
  CHECK_THROWS_WITH(train::train_pointnet_classifier(o), Catch::Contains("at least 2"));
  const std::string data = make_tiny_dataset(dir);
  o = tiny_options(data, dir.file("run"));
  o.resume = true;
  CHECK_THROWS_WITH(train::train_pointnet_classifier(o), Catch::Contains("no checkpoint"));
  o = tiny_options(data, dir.file("run"));
  o.num_points = 4096;
  CHECK_THROWS_WITH(train::train_pointnet_classifier(o), Catch::Contains("asked for the first 4096 points"));
  o = tiny_options(data, dir.file("run"));
  o.optimizer = "lbfgs";
  CHECK_THROWS_WITH(train::train_pointnet_classifier(o), Catch::Contains("unknown optimizer"));
}
