// HDF5 checkpoints: save → load round trips (model, buffers, optimizer state, meta), every
// mismatch listed in one error, atomic writes, missing/corrupt/truncated files.
#include <hdf5.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "datasets/h5_file.h"
#include "models/nn/nn.h"
#include "ops/nn.h"
#include "ops/ops.h"
#include "test_util.h"

namespace {

using namespace pg;
namespace fs = std::filesystem;

// A small classifier: shared MLP over points, max over points, FC head.
struct Net : nn::Module {
  std::shared_ptr<nn::SharedMLP> mlp;
  std::shared_ptr<nn::SharedMLP> head;
  std::shared_ptr<nn::Dropout> drop;
  std::shared_ptr<nn::Linear> out;
  Net(uint64_t seed, int64_t hidden = 16) : nn::Module("Net") {
    Generator g(seed);
    nn::SharedMLPConfig cfg;
    cfg.gen = &g;
    mlp = register_module("mlp", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{3, 8, hidden}, cfg));
    head = register_module("head", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{hidden, 12}, cfg));
    drop = register_module("drop", std::make_shared<nn::Dropout>(0.0));
    out = register_module("out",
                          std::make_shared<nn::Linear>(12, 4, nn::LinearOptions{true, nn::LinearInit::xavier, {}, &g}));
  }
  Tensor forward(const Tensor& x) const {
    Tensor h = mlp->forward(x);
    Tensor pooled = max(h, 1);
    return out->forward(drop->forward(head->forward(pooled)));
  }
};

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("pg_ckpt_test_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  // Files in the directory other than `keep`.
  std::vector<std::string> others(const std::string& keep) const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(path)) {
      if (e.path().filename() != keep) out.push_back(e.path().filename().string());
    }
    return out;
  }
};

void train_steps(Net& net, nn::Optimizer& opt, int steps, uint64_t seed) {
  for (int s = 0; s < steps; ++s) {
    Tensor x = test::uniform({4, 32, 3}, -1, 1, seed + s);
    Tensor y = from_vector(std::vector<int64_t>{0, 1, 2, 3}, {4});
    opt.zero_grad();
    Tensor loss = cross_entropy(net.forward(x), y);
    loss.backward();
    opt.step();
  }
}

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && a.to_vector<double>() == b.to_vector<double>();
}

using pg::test::error_of;

std::vector<char> read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& p, const std::vector<char>& b, size_t n) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(b.data(), static_cast<std::streamsize>(n));
}

}  // namespace

TEST_CASE("checkpoint: save → load gives identical tensors, optimizer state and meta", "[checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.h5");
  Net a(1);
  nn::Adam oa(a.trainable_parameters(), {0.01, 0.9, 0.999, 1e-8, 1e-4, true});
  train_steps(a, oa, 3, 10);
  nn::CheckpointMeta meta;
  meta.epoch = 7;
  meta.config = R"({"model": "pointnet", "lr": 0.01, "unicode": "π ≈ 3.14"})";
  meta.scalars = {{"best_acc", 0.9375}, {"samples_seen", 123456.0}};
  nn::save_checkpoint(path, a, &oa, meta);
  REQUIRE(dir.others("ckpt.h5").empty());  // no temporary file left behind

  Net b(99);  // different initial weights
  nn::Adam ob(b.trainable_parameters(), {0.01, 0.9, 0.999, 1e-8, 1e-4, true});
  REQUIRE_FALSE(bit_equal(a.mlp->layer(0)->conv->weight, b.mlp->layer(0)->conv->weight));
  const nn::CheckpointMeta got = nn::load_checkpoint(path, b, &ob);
  REQUIRE(got.epoch == 7);
  REQUIRE(got.config == meta.config);
  REQUIRE(got.scalars == meta.scalars);
  const auto sa = a.state_dict(), sb = b.state_dict();
  REQUIRE(sa.size() == sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    INFO(sa[i].first);
    REQUIRE(sa[i].first == sb[i].first);
    REQUIRE(bit_equal(sa[i].second, sb[i].second));
  }
  // Running statistics were trained (not the initial 0/1) and round-tripped.
  REQUIRE(max(abs(b.mlp->layer(0)->bn->running_mean)).item<double>() > 0.0);
  const auto osa = oa.state(), osb = ob.state();
  REQUIRE(osa.size() == osb.size());
  REQUIRE(osa.size() == a.trainable_parameters().size() * 4);  // step, exp_avg, exp_avg_sq, max_exp_avg_sq
  for (size_t i = 0; i < osa.size(); ++i) {
    INFO(osa[i].first);
    REQUIRE(osa[i].first == osb[i].first);
    REQUIRE(bit_equal(osa[i].second, osb[i].second));
  }
  REQUIRE(ob.step_count() == 3);
  REQUIRE(ob.lr() == 0.01);
  // Model-only load, and a float64 model loading float32 values (dtype converted exactly).
  Net c(5);
  c.to(DType::f64);
  REQUIRE(nn::load_checkpoint(path, c).epoch == 7);
  REQUIRE(c.out->bias.dtype() == DType::f64);
  test::require_close(c.out->bias, a.out->bias.detach().to(DType::f64), 0.0);
  // Identical logits in eval, and training continues identically.
  a.eval();
  b.eval();
  Tensor x = test::uniform({2, 32, 3}, -1, 1, 77);
  REQUIRE(bit_equal(a.forward(x), b.forward(x)));
  a.train();
  b.train();
  train_steps(a, oa, 2, 50);
  train_steps(b, ob, 2, 50);
  REQUIRE(bit_equal(a.out->weight, b.out->weight));
  REQUIRE(bit_equal(a.mlp->layer(1)->bn->running_var, b.mlp->layer(1)->bn->running_var));

  // Overwriting an existing checkpoint works (rename over it).
  nn::save_checkpoint(path, a, &oa, meta);
  nn::load_checkpoint(path, b, &ob);
  REQUIRE(bit_equal(a.out->weight, b.out->weight));
}

TEST_CASE("checkpoint: raw contents keep dtypes, 0-dim and empty tensors", "[checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("raw.h5");
  nn::CheckpointData d;
  d.parameters = {{"w", test::uniform({2, 3}, -1, 1, 1)},
                  {"w64", test::uniform({4}, -1, 1, 2, TensorOptions(DType::f64))}};
  d.buffers = {{"count", scalar_tensor(42, TensorOptions(DType::i64))},
               {"idx", from_vector(std::vector<int32_t>{-1, 7, 3}, {3})},
               {"mask", from_vector(std::vector<uint8_t>{1, 0, 1, 1}, {2, 2}).to(DType::b8)},
               {"bytes", from_vector(std::vector<uint8_t>{0, 255}, {2})},
               {"empty", zeros({0, 5})}};
  d.meta.epoch = -1;
  d.meta.config = "";
  nn::write_checkpoint(path, d);
  const nn::CheckpointData r = nn::read_checkpoint(path);
  REQUIRE(r.parameters.size() == 2);
  REQUIRE(r.buffers.size() == 5);
  REQUIRE_FALSE(r.has_optimizer);
  for (size_t i = 0; i < d.buffers.size(); ++i) {
    INFO(d.buffers[i].first);
    REQUIRE(r.buffers[i].first == d.buffers[i].first);  // creation order kept
    REQUIRE(bit_equal(r.buffers[i].second, d.buffers[i].second));
  }
  REQUIRE(r.buffers[0].second.dim() == 0);
  REQUIRE(r.buffers[2].second.dtype() == DType::b8);
  REQUIRE(bit_equal(r.parameters[1].second, d.parameters[1].second));
  REQUIRE(r.meta.epoch == -1);
  REQUIRE(r.meta.config.empty());
  // Plain HDF5 readers (h5py, the C API) read the file: the integrity header is a user block.
  {
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(f >= 0);
    hid_t ds = H5Dopen2(f, "buffers/idx", H5P_DEFAULT);
    REQUIRE(ds >= 0);
    int32_t v[3] = {0, 0, 0};
    REQUIRE(H5Dread(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    REQUIRE(v[1] == 7);
    H5Dclose(ds);
    H5Fclose(f);
  }
  // Names that cannot be HDF5 link names are rejected before anything is written.
  d.meta.scalars["a/b"] = 1.0;
  REQUIRE_THROWS_WITH(nn::write_checkpoint(dir.file("bad.h5"), d), Catch::Contains("'a/b'"));
  REQUIRE_FALSE(fs::exists(dir.file("bad.h5")));
}

TEST_CASE("checkpoint: every mismatch is listed in one error naming the file", "[checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("m.h5");
  Net a(1, 16);
  nn::Adam oa(a.trainable_parameters());
  train_steps(a, oa, 1, 3);
  nn::save_checkpoint(path, a, &oa);

  // Different hidden width: shapes differ in several places.
  Net wide(1, 20);
  nn::Adam ow(wide.trainable_parameters());
  const std::string msg = error_of([&] { nn::load_checkpoint(path, wide, &ow); });
  REQUIRE(msg.find(path) != std::string::npos);
  REQUIRE(msg.find("shape mismatch: mlp.1.conv.weight (expected [20, 8], got [16, 8])") != std::string::npos);
  REQUIRE(msg.find("shape mismatch: mlp.1.bn.running_var") != std::string::npos);
  REQUIRE(msg.find("shape mismatch: head.0.conv.weight (expected [12, 20], got [12, 16])") != std::string::npos);
  REQUIRE(msg.find("optimizer state shape mismatch: ") != std::string::npos);
  // Nothing was loaded.
  REQUIRE(max(abs(wide.mlp->layer(1)->bn->running_mean)).item<double>() == 0.0);

  // Missing and unexpected names: a model with one layer fewer and an extra module.
  struct Other : nn::Module {
    std::shared_ptr<nn::SharedMLP> mlp;
    std::shared_ptr<nn::Linear> extra;
    Other() : nn::Module("Other") {
      mlp = register_module("mlp", std::make_shared<nn::SharedMLP>(std::vector<int64_t>{3, 8}));
      extra = register_module("extra", std::make_shared<nn::Linear>(2, 2));
    }
  } other;
  const std::string msg2 = error_of([&] { nn::load_checkpoint(path, other); });
  REQUIRE(msg2.find("missing: extra.weight") != std::string::npos);
  REQUIRE(msg2.find("missing: extra.bias") != std::string::npos);
  REQUIRE(msg2.find("unexpected: mlp.1.conv.weight") != std::string::npos);
  REQUIRE(msg2.find("unexpected: head.0.bn.running_mean") != std::string::npos);
  REQUIRE(msg2.find("unexpected: out.bias") != std::string::npos);
  // Non-strict loading takes what matches.
  REQUIRE_NOTHROW(nn::load_checkpoint(path, other, nullptr, false));
  REQUIRE(bit_equal(other.mlp->layer(0)->conv->weight, a.mlp->layer(0)->conv->weight));

  // Optimizer type mismatch, and a file without optimizer state.
  Net same(1, 16);
  nn::SGD sgd(same.trainable_parameters());
  REQUIRE_THROWS_WITH(nn::load_checkpoint(path, same, &sgd),
                      Catch::Contains("holds Adam state but the optimizer is SGD"));
  const std::string model_only = dir.file("model_only.h5");
  nn::save_checkpoint(model_only, a);
  nn::Adam fresh(same.trainable_parameters());
  REQUIRE_THROWS_WITH(nn::load_checkpoint(model_only, same, &fresh), Catch::Contains("holds no optimizer state"));
}

TEST_CASE("checkpoint: a failed write leaves the old file intact", "[checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("atomic.h5");
  Net a(1);
  nn::save_checkpoint(path, a, nullptr, {3, "old", {}});
  const auto old_bytes = read_bytes(path);
  Net b(2);
  for (int after : {0, 1, 5, 17}) {
    nn::testing::checkpoint_fail_after_datasets(after);
    REQUIRE_THROWS_WITH(nn::save_checkpoint(path, b, nullptr, {4, "new", {}}), Catch::Contains("injected"));
    REQUIRE(read_bytes(path) == old_bytes);
    REQUIRE(dir.others("atomic.h5").empty());  // the temporary file was removed
  }
  Net c(3);
  REQUIRE(nn::load_checkpoint(path, c).config == "old");
  REQUIRE(bit_equal(c.out->weight, a.out->weight));
  // The fault injection disarmed itself: the next save works.
  nn::save_checkpoint(path, b, nullptr, {4, "new", {}});
  REQUIRE(nn::load_checkpoint(path, c).config == "new");
  // A directory that does not exist: a clear error naming the path, nothing created.
  const std::string nodir = dir.file("no/such/dir/x.h5");
  REQUIRE_THROWS_WITH(nn::save_checkpoint(nodir, a), Catch::Contains("no/such/dir/x.h5"));
}

TEST_CASE("checkpoint: missing, foreign, corrupt and truncated files raise errors", "[checkpoint]") {
  TempDir dir;
  Net net(1);
  REQUIRE_THROWS_WITH(nn::load_checkpoint(dir.file("nope.h5"), net), Catch::Contains("nope.h5': file not found"));

  const std::string junk = dir.file("junk.h5");
  write_bytes(junk, std::vector<char>(1000, 'x'), 1000);
  REQUIRE_THROWS_WITH(nn::load_checkpoint(junk, net), Catch::Contains("not a pointgrad checkpoint"));

  // A valid HDF5 file that is not a checkpoint.
  const std::string foreign = dir.file("foreign.h5");
  {
    hid_t f = H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[1] = {3};
    hid_t sp = H5Screate_simple(1, dims, nullptr);
    hid_t ds = H5Dcreate2(f, "data", H5T_IEEE_F32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(ds);
    H5Sclose(sp);
    H5Fclose(f);
  }
  REQUIRE_THROWS_WITH(nn::load_checkpoint(foreign, net), Catch::Contains("not a pointgrad checkpoint"));

  // Truncations at many lengths and byte corruptions anywhere: always a clean error (the
  // integrity header is checked before HDF5 parses the file), never a crash.
  const std::string good = dir.file("good.h5");
  nn::Adam opt(net.trainable_parameters());
  train_steps(net, opt, 1, 1);
  nn::save_checkpoint(good, net, &opt, {1, "cfg", {{"x", 1.0}}});
  const auto bytes = read_bytes(good);
  REQUIRE(bytes.size() > 2000);
  const std::string bad = dir.file("bad.h5");
  int errors = 0;
  for (double frac : {0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999}) {
    const size_t n = static_cast<size_t>(frac * static_cast<double>(bytes.size()));
    write_bytes(bad, bytes, n);
    Net m(2);
    nn::Adam o(m.trainable_parameters());
    const std::string msg = error_of([&] { nn::load_checkpoint(bad, m, &o); });
    INFO("truncated to " << n << " of " << bytes.size() << " bytes");
    REQUIRE_FALSE(msg.empty());
    REQUIRE(msg.find("bad.h5") != std::string::npos);
    ++errors;
  }
  REQUIRE(errors == 10);
  // Byte corruption fuzzing (deterministic positions).
  uint64_t s = 12345;
  int corrupt_errors = 0;
  for (int trial = 0; trial < 60; ++trial) {
    std::vector<char> c = bytes;
    for (int k = 0; k < 8; ++k) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      c[(s >> 33) % c.size()] ^= static_cast<char>(1 + ((s >> 20) & 0x7f));
    }
    write_bytes(bad, c, c.size());
    Net m(2);
    nn::Adam o(m.trainable_parameters());
    const std::string msg = error_of([&] { nn::load_checkpoint(bad, m, &o); });
    INFO("trial " << trial << ": " << msg);
    REQUIRE(msg.find("bad.h5") != std::string::npos);
    ++corrupt_errors;
  }
  REQUIRE(corrupt_errors == 60);
  // A single flipped bit in the middle of the tensor data is caught too.
  std::vector<char> one = bytes;
  one[one.size() / 2] ^= 1;
  write_bytes(bad, one, one.size());
  REQUIRE_THROWS_WITH(nn::load_checkpoint(bad, net), Catch::Contains("checksum mismatch"));
  // Appending bytes is detected as well.
  std::vector<char> longer = bytes;
  longer.push_back('!');
  write_bytes(bad, longer, longer.size());
  REQUIRE_THROWS_WITH(nn::load_checkpoint(bad, net), Catch::Contains("truncated or corrupt"));
}

TEST_CASE("checkpoint: model configuration attributes round trip as string attributes of /config", "[checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("cfg.h5");
  Net a(1);
  nn::CheckpointMeta meta;
  meta.epoch = 2;
  meta.config = "{}";
  meta.attributes = {{"model", "pointnet"},    {"variant", "full"}, {"widths", "64,64,128"},
                     {"unicode π", "∑ naïve"}, {"empty_value", ""}, {"dots.and spaces", "x y"}};
  nn::save_checkpoint(path, a, nullptr, meta);
  Net b(2);
  const nn::CheckpointMeta got = nn::load_checkpoint(path, b);
  CHECK(got.attributes == meta.attributes);
  CHECK(got.config == "{}");
  CHECK(nn::read_checkpoint(path).meta.attributes == meta.attributes);
  // Stored as plain HDF5 string attributes, readable without pointgrad's checkpoint code.
  const datasets::H5File f = datasets::H5File::open(path);
  CHECK(f.attr_string("config", "model") == "pointnet");
  CHECK(f.attr_string("config", "unicode π") == "∑ naïve");
  CHECK(f.attr_names("config").size() == meta.attributes.size());
  // No attributes: an empty map (as for files written before they existed).
  nn::save_checkpoint(path, a);
  CHECK(nn::load_checkpoint(path, b).attributes.empty());
  // An empty key is rejected before anything is written.
  meta.attributes[""] = "orphan";
  REQUIRE_THROWS_WITH(nn::save_checkpoint(dir.file("bad.h5"), a, nullptr, meta),
                      Catch::Contains("bad.h5") && Catch::Contains("empty attribute name"));
  REQUIRE_FALSE(fs::exists(dir.file("bad.h5")));
}

namespace {

// What the legacy fixture holds (written by tests/models/data/README.md's generator with the
// checkpoint writer of commit 1cf69fd, before checkpoints moved onto datasets/h5_file).
nn::CheckpointData legacy_contents() {
  nn::CheckpointData d;
  d.parameters = {{"fc.weight", from_vector(std::vector<float>{0.5f, -1.25f, 2.0f, 3.75f, -0.125f, 1e-3f}, {2, 3})},
                  {"fc.bias", from_vector(std::vector<float>{0.25f, -0.75f}, {2})}};
  d.buffers = {{"bn.running_mean", from_vector(std::vector<double>{1.5, -2.5, 3.25}, {3})},
               {"bn.num_batches", from_vector(std::vector<int64_t>{42}, {})},
               {"mask", from_vector(std::vector<uint8_t>{1, 0, 1, 1}, {2, 2}).to(DType::b8)},
               {"idx", from_vector(std::vector<int32_t>{-1, 7, 3}, {3})},
               {"bytes", from_vector(std::vector<uint8_t>{0, 255}, {2})},
               {"empty", zeros({0, 5})}};
  d.has_optimizer = true;
  d.optimizer_type = "Adam";
  d.optimizer_state = {{"0.exp_avg", from_vector(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, {2, 3})},
                       {"0.step", from_vector(std::vector<double>{3.0}, {})}};
  d.optimizer_hyperparameters = {{"lr", 0.001}, {"step_count", 3.0}};
  d.meta.epoch = 12;
  d.meta.config = "{\"model\": \"legacy\", \"pi\": \"\xcf\x80\"}";
  d.meta.scalars = {{"best_acc", 0.875}, {"samples_seen", 1024.0}};
  return d;
}

void require_same_tensors(const nn::NamedTensors& a, const nn::NamedTensors& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].first);
    CHECK(a[i].first == b[i].first);
    CHECK(bit_equal(a[i].second, b[i].second));
  }
}

// Every object of an HDF5 file: datasets with their stored type, shape and dtype attribute, and
// the attributes of the root, /config and /optimizer.
std::vector<std::string> layout_of(const std::string& path) {
  const datasets::H5File f = datasets::H5File::open(path);
  std::vector<std::string> out;
  for (const std::string& d : f.list_datasets()) {
    std::string row = d + " " + f.type(d).describe() + " " + shape_str(f.shape(d));
    if (f.has_attr(d, "dtype")) row += " dtype=" + f.attr_string(d, "dtype");
    out.push_back(row);
  }
  for (const char* obj : {"/", "config", "optimizer"}) {
    for (const std::string& k : f.attr_names(obj)) out.push_back(std::string("@") + obj + ":" + k);
  }
  out.push_back("root format=" + f.attr_string("/", "format") +
                " version=" + std::to_string(f.attr_int("/", "format_version")) +
                " epoch=" + std::to_string(f.attr_int("/", "epoch")));
  return out;
}

}  // namespace

TEST_CASE("checkpoint: files written before the move onto H5File load, and the layout is unchanged", "[checkpoint]") {
  const std::string legacy = (fs::path(PG_TESTS_SOURCE_DIR) / "models" / "data" / "checkpoint_v1_legacy.h5").string();
  REQUIRE(fs::exists(legacy));
  const nn::CheckpointData want = legacy_contents();
  const nn::CheckpointData got = nn::read_checkpoint(legacy);
  require_same_tensors(got.parameters, want.parameters);
  require_same_tensors(got.buffers, want.buffers);
  CHECK(got.buffers[2].second.dtype() == DType::b8);
  CHECK(got.has_optimizer);
  CHECK(got.optimizer_type == "Adam");
  require_same_tensors(got.optimizer_state, want.optimizer_state);
  CHECK(got.optimizer_hyperparameters == want.optimizer_hyperparameters);
  CHECK(got.meta.epoch == 12);
  CHECK(got.meta.config == want.meta.config);
  CHECK(got.meta.scalars == want.meta.scalars);
  CHECK(got.meta.attributes.empty());
  // The same contents written today have the same datasets, types, shapes and attributes.
  TempDir dir;
  const std::string now = dir.file("now.h5");
  nn::write_checkpoint(now, want);
  CHECK(layout_of(now) == layout_of(legacy));
  // And the same integrity header format: the file starts with the magic, then its size.
  const auto bytes = read_bytes(now);
  CHECK(std::string(bytes.data(), 8) == "PGCKPT01");
  uint64_t size = 0;
  for (int i = 7; i >= 0; --i) size = (size << 8) | static_cast<unsigned char>(bytes[8 + static_cast<size_t>(i)]);
  CHECK(size == bytes.size());
}
