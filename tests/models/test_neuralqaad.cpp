// NeuralQAAD (models/zoo/neuralqaad.h) and the compression library (models/train/
// compress_trainer.h): decoding, the augmented Chamfer loss, the registry, compress → decompress,
// exact resume, assignments that stay bijections, and bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "datasets/ds_test_util.h"
#include "datasets/pointcloud_io.h"
#include "models/nn/checkpoint.h"
#include "models/train/compress_trainer.h"
#include "models/zoo/neuralqaad.h"
#include "models/zoo/neuralqaad_assign.h"
#include "models/zoo/pcae.h"
#include "ops/ops.h"
#include "test_util.h"

using namespace pg;
namespace fs = std::filesystem;

namespace {

// N shapes of M points in correspondence: one random ellipsoid surface, scaled per shape along
// the axes and bent (x += bend·y²), so point j is the same surface point on every shape.
Tensor toy_collection(int64_t n, int64_t m, uint64_t seed) {
  const Tensor dir = test::uniform({m, 3}, -1.0, 1.0, seed);
  const Tensor unit = div(dir, sqrt(sum(square(dir), {1}, true)));
  std::vector<Tensor> shapes;
  for (int64_t i = 0; i < n; ++i) {
    const double sx = 1.0 + 0.2 * static_cast<double>(i), sy = 0.6, sz = 0.4 + 0.1 * static_cast<double>(i % 2);
    Tensor s = mul(unit, from_vector(std::vector<float>{static_cast<float>(sx), static_cast<float>(sy),
                                                        static_cast<float>(sz)}, {1, 3}));
    const Tensor y = s.slice(1, 1, 2);
    s = add(s, mul(cat({square(y), zeros_like(y), zeros_like(y)}, 1), 0.3 * static_cast<double>(i)));
    shapes.push_back(s);
  }
  return stack(shapes, 0).contiguous();
}

train::CompressOptions small_options(const std::string& data, const std::string& out) {
  train::CompressOptions o;
  o.inputs = {data};
  o.out = out;
  o.latent = 8;
  o.patches = 4;
  o.atlas_width = 16;
  o.warmup_epochs = 3;
  o.epochs = 6;
  o.repeat = 4;
  o.batch_size = 4;
  o.sample_points = 64;
  o.emkd_leaf = 64;
  o.prefetch = 0;
  o.seed = 3;
  return o;
}

}  // namespace

TEST_CASE("NeuralQAAD: decode, decode_rows, template rows, registry round trip", "[neuralqaad]") {
  test::TempDir dir("pg_qaad_model");
  const Tensor tmpl = toy_collection(1, 32, 5).select(0, 0);
  Generator g(6);
  models::NeuralQAADConfig c;
  c.shapes = 3;
  c.points = 32;
  c.latent = 4;
  c.patches = 4;
  c.gen = &g;
  models::NeuralQAAD m(c, tmpl);
  const Tensor all = m.decode_shapes(from_vector(std::vector<int64_t>{2, 0}, {2}));
  REQUIRE(all.shape() == Shape{2, 32, 3});
  const Tensor local = from_vector(std::vector<int64_t>{0, 5, 7, 1, 2, 2 + 1, 6, 4}, {4, 2});
  const Tensor rows = m.template_rows(local);
  REQUIRE(rows.to_vector<int64_t>() == std::vector<int64_t>{0, 5, 15, 9, 18, 19, 30, 28});
  const Tensor part = m.decode_rows(m.codes->forward(from_vector(std::vector<int64_t>{2, 0}, {2})), local);
  REQUIRE(part.shape() == Shape{2, 8, 3});
  test::require_close(part, index_select(all, 1, rows), 1e-6);
  // Stored parameters: table + Q + decoder (shared 256-128-128-128, per patch 64-3).
  const int64_t shared = (3 * 256 + 256) + 4 * 256 + (256 * 128 + 128) + 2 * (128 * 128 + 128);
  const int64_t patch = 4 * ((131 * 64 + 64) + (64 * 3 + 3));
  REQUIRE(m.stored_parameter_count() == 3 * 4 + 32 * 3 + shared + patch);

  nn::CheckpointMeta meta;
  meta.attributes = models::checkpoint_attributes(m);
  nn::save_checkpoint(dir.file("m.h5"), m, nullptr, meta);
  auto back = models::load_model_as<models::NeuralQAAD>(dir.file("m.h5"), Device::cpu(), "neuralqaad");
  REQUIRE(test::same_tensor(back->decode_shapes(from_vector(std::vector<int64_t>{2, 0}, {2})), all));

  c.decoder = "foo";
  REQUIRE(test::error_of([&] { models::NeuralQAAD(c, tmpl); }).find("decoder must be 'shared' or 'atlas'") != std::string::npos);
  c.decoder = "shared";
  REQUIRE(test::error_of([&] { m.encode(zeros({2, 5, 3})); }).find("needs the warm-up encoder") != std::string::npos);
}

TEST_CASE("augmented_chamfer: max of the two directional means of Euclidean NN distances", "[neuralqaad]") {
  const Tensor a = test::uniform({2, 7, 3}, -1.0, 1.0, 11, TensorOptions(DType::f64));
  const Tensor b = test::uniform({2, 5, 3}, -1.0, 1.0, 12, TensorOptions(DType::f64));
  const Tensor v = models::augmented_chamfer(a, b);
  REQUIRE(v.shape() == Shape{2});
  const auto av = a.to_vector<double>(), bv = b.to_vector<double>();
  for (int s = 0; s < 2; ++s) {
    auto dmean = [&](const std::vector<double>& x, int nx, const std::vector<double>& y, int ny) {
      double acc = 0.0;
      for (int i = 0; i < nx; ++i) {
        double best = 1e300;
        for (int j = 0; j < ny; ++j) {
          double d = 0.0;
          for (int c = 0; c < 3; ++c) {
            const double e = x[(s * nx + i) * 3 + c] - y[(s * ny + j) * 3 + c];
            d += e * e;
          }
          best = std::min(best, d);
        }
        acc += std::sqrt(best + 1e-12);
      }
      return acc / nx;
    };
    const double ref = std::max(dmean(av, 7, bv, 5), dmean(bv, 5, av, 7));
    REQUIRE(std::abs(v.to_vector<double>()[s] - ref) < 1e-12);
  }
}

TEST_CASE("compress (qaad): decompress round trip, ratio, EM-kD, bijective assignment, exact resume",
          "[neuralqaad][compress][slow]") {
  test::TempDir dir("pg_qaad_compress");
  const Tensor data = toy_collection(4, 256, 7);
  datasets::write_h5_clouds(dir.file("shapes.h5"), data);
  train::CompressOptions o = small_options(dir.file("shapes.h5"), dir.file("q.h5"));
  const train::CompressSummary s = train::compress_collection(o);
  REQUIRE(s.shapes == 4);
  REQUIRE(s.points == 256);
  REQUIRE(s.file_bytes == static_cast<int64_t>(fs::file_size(dir.file("q.h5"))));
  REQUIRE(s.ratio == Approx(4.0 * 256 * 12 / static_cast<double>(s.file_bytes)).epsilon(1e-12));
  REQUIRE(s.greedy_kept + s.greedy_repaired == 4 * 256);
  REQUIRE(s.emkd.size() == 4);

  // The compressed file decodes to the shapes whose EM-kD was reported.
  const Tensor back = train::decompress_collection(dir.file("q.h5"), {});
  REQUIRE(back.shape() == Shape{4, 256, 3});
  auto model = models::load_model_as<models::NeuralQAAD>(dir.file("q.h5"), Device::cpu(), "neuralqaad");
  REQUIRE(!model->config().assignment);
  REQUIRE(model->encoder == nullptr);
  const Tensor e = train::collection_emkd(*model, data, train::compress_emkd_options(data, 64, 100, 0.01));
  for (int i = 0; i < 4; ++i) REQUIRE(e.to_vector<double>()[i] == Approx(s.emkd[i]).epsilon(1e-9));
  const Tensor one = train::decompress_collection(dir.file("q.h5"), {2});
  REQUIRE(test::same_tensor(one.select(0, 0), back.select(0, 2)));

  // Training reduced the EM-kD well below the untrained decoder's.
  Generator g(1);
  models::NeuralQAADConfig fresh = model->config();
  fresh.gen = &g;
  const models::NeuralQAAD untrained(fresh, data.select(0, 0));
  const double e0 = mean(train::collection_emkd(untrained, data, train::compress_emkd_options(data, 64, 100, 0.01))).item<double>();
  INFO("EM-kD untrained " << e0 << ", trained " << s.emkd_mean);
  REQUIRE(s.emkd_mean < 0.5 * e0);

  // QAAD_REASSIGNMENT changed the assignment, by disjoint swaps.
  REQUIRE(s.swaps > 0);
  REQUIRE(s.reassigned > 0);
  REQUIRE(s.reassigned <= 2 * s.swaps);

  // The training assignment stayed a permutation per shape through reassignment.
  const nn::CheckpointData ck = nn::read_checkpoint(dir.file("q.h5.run/train/last.h5"));
  Tensor perm;
  for (const auto& [name, t] : ck.buffers)
    if (name == "assignment") perm = t;
  REQUIRE(perm.defined());
  REQUIRE(perm.shape() == Shape{4, 256});
  REQUIRE(models::is_permutation_rows(perm));

  // Resume: 3 epochs, then --resume to 6, equals the uninterrupted 6 epochs bit for bit.
  train::CompressOptions a = small_options(dir.file("shapes.h5"), dir.file("r.h5"));
  a.epochs = 3;
  train::compress_collection(a);
  a.epochs = 6;
  a.resume = true;
  train::compress_collection(a);
  REQUIRE(test::same_tensor(train::decompress_collection(dir.file("r.h5"), {}), back));
}

TEST_CASE("compress: units do not matter (the network works on normalised coordinates)", "[neuralqaad][compress][slow]") {
  test::TempDir dir("pg_qaad_units");
  const Tensor data = toy_collection(4, 256, 7);
  // The same collection in millimetres, far from the origin.
  const Tensor mm = add(mul(data, 1000.0), from_vector(std::vector<float>{5000.0f, -3000.0f, 2000.0f}, {1, 1, 3}));
  datasets::write_h5_clouds(dir.file("m.h5"), data);
  datasets::write_h5_clouds(dir.file("mm.h5"), mm);
  const train::CompressSummary a = train::compress_collection(small_options(dir.file("m.h5"), dir.file("a.h5")));
  const train::CompressSummary b = train::compress_collection(small_options(dir.file("mm.h5"), dir.file("b.h5")));
  INFO("EM-kD " << a.emkd_mean << " (m) vs " << b.emkd_mean << " (mm)");
  REQUIRE(b.emkd_mean / a.emkd_mean == Approx(1000.0).epsilon(0.2));  // short runs: rounding drifts apart
  // Decoded shapes come back in the input's units and place.
  const Tensor back = train::decompress_collection(dir.file("b.h5"), {0});
  REQUIRE(std::abs(mean(back.select(2, 0)).item<double>() - mean(mm.select(0, 0).select(1, 0)).item<double>()) < 100.0);
}

TEST_CASE("compress: mse-random and the chamfer (AtlasNetV2) baseline", "[neuralqaad][compress][slow]") {
  test::TempDir dir("pg_qaad_base");
  const Tensor data = toy_collection(4, 256, 8);
  datasets::write_h5_clouds(dir.file("shapes.h5"), data);
  train::CompressOptions o = small_options(dir.file("shapes.h5"), dir.file("m.h5"));
  o.method = "mse-random";
  const train::CompressSummary r = train::compress_collection(o);
  REQUIRE(r.greedy_kept == 0);
  REQUIRE(r.swaps == 0);  // no reassignment in the ablation
  const nn::CheckpointData ck = nn::read_checkpoint(dir.file("m.h5.run/train/last.h5"));
  for (const auto& [name, t] : ck.buffers)
    if (name == "assignment") REQUIRE(models::is_permutation_rows(t));
  o.method = "chamfer";
  o.out = dir.file("c.h5");
  const train::CompressSummary c = train::compress_collection(o);
  auto model = models::load_model_as<models::NeuralQAAD>(dir.file("c.h5"), Device::cpu(), "neuralqaad");
  REQUIRE(model->config().decoder == "atlas");
  REQUIRE(model->decoder->shared_parameter_count() == 0);
  REQUIRE(std::isfinite(c.emkd_mean));
  REQUIRE(std::isfinite(r.emkd_mean));
}

TEST_CASE("compress / decompress: bad input is named and nothing is written", "[neuralqaad][compress]") {
  test::TempDir dir("pg_qaad_bad");
  const Tensor data = toy_collection(2, 64, 9);
  datasets::write_point_cloud(dir.file("a.xyz"), data.select(0, 0));
  datasets::write_point_cloud(dir.file("b.xyz"), data.select(0, 1).slice(0, 0, 60));
  train::CompressOptions o = small_options(dir.file("a.xyz"), dir.file("out.h5"));
  o.inputs = {dir.file("a.xyz"), dir.file("b.xyz")};
  REQUIRE(test::error_of([&] { train::compress_collection(o); }).find("same number of points") != std::string::npos);
  {
    std::ofstream f(dir.file("nan.xyz"));
    for (int i = 0; i < 64; ++i) f << (i == 5 ? "nan" : "0.5") << " 0.1 0.2\n";
  }
  o.inputs = {dir.file("a.xyz"), dir.file("nan.xyz")};
  REQUIRE(!test::error_of([&] { train::compress_collection(o); }).empty());
  o.inputs = {dir.file("a.xyz"), dir.file("a.xyz")};
  o.patches = 3;
  REQUIRE(test::error_of([&] { train::compress_collection(o); }).find("power of two") != std::string::npos);
  o.patches = 4;
  o.sample_points = 66;
  REQUIRE(test::error_of([&] { train::compress_collection(o); }).find("multiple of the 4 patches") != std::string::npos);
  o.sample_points = 64;
  o.method = "pca";
  REQUIRE(test::error_of([&] { train::compress_collection(o); }).find("method must be") != std::string::npos);
  REQUIRE(!fs::exists(dir.file("out.h5")));

  // A model file of another method; an index out of range.
  models::PCAEConfig pc;
  pc.points = 16;
  models::PCAE ae(pc);
  nn::CheckpointMeta meta;
  meta.attributes = models::checkpoint_attributes(ae);
  nn::save_checkpoint(dir.file("ae.h5"), ae, nullptr, meta);
  REQUIRE(test::error_of([&] { train::decompress_collection(dir.file("ae.h5"), {}); }).find("pcae") != std::string::npos);
  Generator g(1);
  models::NeuralQAADConfig c;
  c.shapes = 2;
  c.points = 64;
  c.latent = 4;
  c.patches = 4;
  c.gen = &g;
  models::NeuralQAAD m(c, data.select(0, 0));
  meta.attributes = models::checkpoint_attributes(m);
  nn::save_checkpoint(dir.file("q.h5"), m, nullptr, meta);
  REQUIRE(test::error_of([&] { train::decompress_collection(dir.file("q.h5"), {0, 2}); })
              .find("shape index 2 is out of range") != std::string::npos);
}
