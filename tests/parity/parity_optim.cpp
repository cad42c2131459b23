// CUDA vs CPU parity of the optimizer kernels (kernels/cuda/optim.cu) through the nn
// optimizers: SGD (momentum, dampening, nesterov, weight decay) and Adam/AdamW/AMSGrad, float32
// and float64, on both CUDA launch paths:
//   per-tensor:   one grid-stride launch per parameter
//   multi-tensor: parameter lists that overflow the tensor table (> 24 tensors), tensors larger
//                 than one launch's blocks (> 320 chunks of 16384 elements) that continue in
//                 the next launch, empty tensors, and parameters without gradients.
// Also gradient clipping on CUDA, Module::to(cuda) identity, and checkpoints across devices.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/nn/nn.h"
#include "ops/ops.h"
#include "test_util.h"

namespace {

using namespace pg;

std::vector<double> host_values(int64_t n, double lo, double hi, uint64_t seed) {
  std::vector<double> v(static_cast<size_t>(n));
  uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 7;
  for (auto& x : v) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    x = lo + (hi - lo) * static_cast<double>(s >> 11) * (1.0 / 9007199254740992.0);
  }
  return v;
}

Tensor make(const Shape& shape, DType dt, uint64_t seed, Device dev) {
  return from_vector(host_values(shape_numel(shape), -1, 1, seed), shape).to(dt, dev);
}

void require_match(const Tensor& gpu, const Tensor& cpu, double rtol, const std::string& what) {
  INFO(what);
  REQUIRE(gpu.is_cuda());
  REQUIRE(cpu.is_cpu());
  REQUIRE(gpu.shape() == cpu.shape());
  const auto g = gpu.to(Device::cpu()).to_vector<double>();
  const auto c = cpu.to_vector<double>();
  double worst = 0.0;
  size_t at = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    const double err = std::fabs(g[i] - c[i]) / (1e-3 + std::fabs(c[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  INFO("worst relative error " << worst << " at element " << at);
  REQUIRE(worst <= rtol);
}

// Parameter shapes exercising the multi-tensor packing.
std::vector<Shape> shapes(bool large) {
  std::vector<Shape> s;
  for (int i = 0; i < 30; ++i) s.push_back({1 + (i * 37) % 300});  // 30 small tensors: > 24 per table
  s.push_back({0});                                                // empty
  s.push_back({64, 1024});                                         // 4 chunks
  s.push_back({16384});                                            // exactly one chunk
  if (large) s.push_back({6 * 1000 * 1000});                       // > 320 chunks: spans launches
  s.push_back({3, 5});
  return s;
}

using MakeOpt = std::function<std::unique_ptr<nn::Optimizer>(std::vector<Tensor>)>;

void run_parity(const MakeOpt& make_opt, DType dt, kernels::OptimImpl impl, bool large, const std::string& what) {
  const auto sh = shapes(large);
  std::vector<Tensor> pc, pg_;
  for (size_t i = 0; i < sh.size(); ++i) {
    pc.push_back(make(sh[i], dt, 100 + i, Device::cpu()));
    pg_.push_back(make(sh[i], dt, 100 + i, Device::cuda(0)));
    pc.back().requires_grad_(true);
    pg_.back().requires_grad_(true);
  }
  auto oc = make_opt(pc);
  auto og = make_opt(pg_);
  og->set_impl(impl);
  for (int step = 0; step < 3; ++step) {
    for (size_t i = 0; i < sh.size(); ++i) {
      // Parameter 3 never gets a gradient, parameter 5 only from step 1 on.
      if (i == 3 || (i == 5 && step == 0)) continue;
      pc[i].set_grad(make(sh[i], dt, 1000 * (step + 1) + i, Device::cpu()));
      pg_[i].set_grad(make(sh[i], dt, 1000 * (step + 1) + i, Device::cuda(0)));
    }
    oc->step();
    og->step();
  }
  const double rtol = dt == DType::f32 ? 2e-5 : 1e-11;
  for (size_t i = 0; i < sh.size(); ++i) {
    require_match(pg_[i], pc[i], rtol, what + " param " + std::to_string(i) + " " + shape_str(sh[i]));
  }
  const auto sc = oc->state(), sg = og->state();
  REQUIRE(sc.size() == sg.size());
  for (size_t k = 0; k < sc.size(); ++k) {
    REQUIRE(sc[k].first == sg[k].first);
    if (sc[k].second.dtype() == DType::i64) {
      REQUIRE(sc[k].second.item_int() == sg[k].second.item_int());
    } else {
      require_match(sg[k].second, sc[k].second, rtol, what + " state " + sc[k].first);
    }
  }
}

}  // namespace

TEST_CASE("parity: SGD kernels CUDA vs CPU", "[optim][parity]") {
  const std::vector<std::pair<std::string, nn::SGDOptions>> configs = {
      {"plain", {0.1, 0, 0, 0, false}},
      {"momentum+wd", {0.05, 0.9, 0, 1e-3, false}},
      {"nesterov", {0.05, 0.9, 0, 0, true}},
      {"dampening", {0.05, 0.8, 0.3, 1e-2, false}},
  };
  int large_runs = 0;
  for (const auto& [name, o] : configs) {
    for (DType dt : {DType::f32, DType::f64}) {
      for (auto impl : {kernels::OptimImpl::PerTensor, kernels::OptimImpl::MultiTensor}) {
        // The 6M-element tensor that spans launches: every config on a GPU, the first on the
        // emulator.
        const bool large = dt == DType::f32 && impl == kernels::OptimImpl::MultiTensor &&
                           (!test::kEmulatedCuda || large_runs++ == 0);
        const std::string what = "SGD " + name + " " + dtype_name(dt) +
                                 (impl == kernels::OptimImpl::PerTensor ? " per-tensor" : " multi-tensor");
        const nn::SGDOptions opts = o;
        run_parity([opts](std::vector<Tensor> ps) { return std::make_unique<nn::SGD>(ps, opts); }, dt, impl, large,
                   what);
      }
    }
  }
}

TEST_CASE("parity: Adam/AdamW kernels CUDA vs CPU", "[optim][parity]") {
  struct Cfg {
    std::string name;
    nn::AdamOptions o;
    bool decoupled;
  };
  const std::vector<Cfg> configs = {
      {"adam", {1e-3, 0.9, 0.999, 1e-8, 0, false}, false},
      {"adam l2", {1e-2, 0.8, 0.99, 1e-6, 1e-2, false}, false},
      {"adamw", {1e-2, 0.9, 0.999, 1e-8, 0.05, false}, true},
      {"amsgrad", {1e-2, 0.9, 0.99, 1e-8, 0, true}, false},
  };
  int large_runs = 0;
  for (const auto& c : configs) {
    for (DType dt : {DType::f32, DType::f64}) {
      for (auto impl : {kernels::OptimImpl::PerTensor, kernels::OptimImpl::MultiTensor}) {
        // The 6M-element tensor that spans launches: every config on a GPU, the first on the
        // emulator.
        const bool large = dt == DType::f32 && impl == kernels::OptimImpl::MultiTensor &&
                           (!test::kEmulatedCuda || large_runs++ == 0);
        const std::string what =
            c.name + " " + dtype_name(dt) + (impl == kernels::OptimImpl::PerTensor ? " per-tensor" : " multi-tensor");
        const nn::AdamOptions opts = c.o;
        const bool decoupled = c.decoupled;
        run_parity(
            [opts, decoupled](std::vector<Tensor> ps) -> std::unique_ptr<nn::Optimizer> {
              if (decoupled) return std::make_unique<nn::AdamW>(ps, opts);
              return std::make_unique<nn::Adam>(ps, opts);
            },
            dt, impl, large, what);
      }
    }
  }
}

TEST_CASE("parity: gradient clipping on CUDA", "[optim][parity]") {
  for (double norm_type : {2.0, 1.0, 3.0, static_cast<double>(INFINITY)}) {
    std::vector<Tensor> pc, pg_;
    for (int i = 0; i < 5; ++i) {
      const Shape s{100 + 1000 * i};
      pc.push_back(zeros(s));
      pg_.push_back(zeros(s, Device::cuda(0)));
      pc.back().requires_grad_(true);
      pg_.back().requires_grad_(true);
      pc.back().set_grad(make(s, DType::f32, 7 + i, Device::cpu()));
      pg_.back().set_grad(make(s, DType::f32, 7 + i, Device::cuda(0)));
    }
    const double nc = nn::clip_grad_norm_(pc, 0.5, norm_type);
    const double ng = nn::clip_grad_norm_(pg_, 0.5, norm_type);
    INFO("norm " << norm_type);
    REQUIRE(ng == Approx(nc).epsilon(1e-6));
    for (int i = 0; i < 5; ++i) require_match(pg_[i].grad(), pc[i].grad(), 1e-6, "clipped grad");
    REQUIRE(nn::grad_norm(pg_, norm_type) == Approx(0.5).epsilon(1e-5));
    nn::clip_grad_value_(pc, 0.001);
    nn::clip_grad_value_(pg_, 0.001);
    for (int i = 0; i < 5; ++i) require_match(pg_[i].grad(), pc[i].grad(), 0.0, "value-clipped grad");
  }
}

TEST_CASE("parity: Module::to(cuda) keeps identity; optimizer state follows; checkpoints cross devices",
          "[optim][checkpoint][parity]") {
  Generator g1(3), g2(3);
  nn::SharedMLPConfig cfg;
  cfg.gen = &g1;
  nn::SharedMLP cpu_net({3, 16, 8}, cfg);
  cfg.gen = &g2;
  nn::SharedMLP gpu_net({3, 16, 8}, cfg);
  nn::Adam oc(cpu_net.trainable_parameters(), {0.01});
  nn::Adam og(gpu_net.trainable_parameters(), {0.01});  // built BEFORE the move
  Tensor w = gpu_net.layer(0)->conv->weight;
  gpu_net.to(Device::cuda(0));
  REQUIRE(w.same(gpu_net.layer(0)->conv->weight));
  REQUIRE(w.is_cuda());
  REQUIRE(w.is_leaf());
  REQUIRE(w.requires_grad());
  REQUIRE(gpu_net.layer(1)->bn->running_var.is_cuda());
  for (int step = 0; step < 3; ++step) {
    Tensor x = make({4, 64, 3}, DType::f32, 50 + step, Device::cpu());
    oc.zero_grad();
    og.zero_grad();
    sum(square(cpu_net.forward(x))).backward();
    sum(square(gpu_net.forward(x.to(Device::cuda(0))))).backward();
    oc.step();
    og.step();
  }
  const auto sc = cpu_net.state_dict(), sg = gpu_net.state_dict();
  for (size_t i = 0; i < sc.size(); ++i) require_match(sg[i].second, sc[i].second, 1e-4, sc[i].first);

  // Save from CUDA, load on the CPU (and the reverse); optimizer state included.
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("pg_ckpt_parity_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string from_gpu = (dir / "gpu.h5").string(), from_cpu = (dir / "cpu.h5").string();
  nn::save_checkpoint(from_gpu, gpu_net, &og, {2, "{}", {}});
  nn::save_checkpoint(from_cpu, cpu_net, &oc, {2, "{}", {}});
  Generator g3(9), g4(9);
  cfg.gen = &g3;
  nn::SharedMLP cpu_twin({3, 16, 8}, cfg);
  cfg.gen = &g4;
  nn::SharedMLP gpu_twin({3, 16, 8}, cfg);
  gpu_twin.to(Device::cuda(0));
  nn::Adam oct(cpu_twin.trainable_parameters(), {0.01});
  nn::Adam ogt(gpu_twin.trainable_parameters(), {0.01});
  nn::load_checkpoint(from_gpu, cpu_twin, &oct);
  nn::load_checkpoint(from_cpu, gpu_twin, &ogt);
  const auto a = cpu_twin.state_dict(), b = gpu_net.state_dict(), c = gpu_twin.state_dict();
  for (size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].second.is_cpu());
    REQUIRE(c[i].second.is_cuda());
    REQUIRE(a[i].second.to_vector<float>() == b[i].second.to_vector<float>());  // exact copy
    REQUIRE(c[i].second.to_vector<float>() == sc[i].second.to_vector<float>());
  }
  const auto so = ogt.state();
  REQUIRE(!so.empty());
  for (const auto& [n, t] : so) {
    if (t.dtype() != DType::i64) REQUIRE(t.is_cuda());
  }
  fs::remove_all(dir);
}

TEST_CASE("parity: Embedding + row-sparse (lazy) Adam on CUDA vs CPU", "[optim][embedding][parity]") {
  // Touched rows are found on the device (row magnitudes read back) and updated as per-row
  // entries of the multi-tensor launch; untouched rows must stay bit-identical.
  const int64_t rows = test::emu_size<int64_t>(300, 40), dim = 16;
  for (DType dt : {DType::f32, DType::f64}) {
    INFO(dtype_name(dt));
    std::vector<std::shared_ptr<nn::Embedding>> tables;
    std::vector<std::unique_ptr<nn::Adam>> opts;
    for (Device dev : {Device::cpu(), Device::cuda(0)}) {
      nn::EmbeddingOptions eo;
      eo.tensor = TensorOptions(dt, Device::cpu());
      eo.init_std = 1.0;
      auto t = std::make_shared<nn::Embedding>(rows, dim, eo);
      NoGradGuard ng;
      detail::copy_raw(t->weight, make({rows, dim}, dt, 61, Device::cpu()));
      t->to(dev);
      tables.push_back(t);
      opts.push_back(std::make_unique<nn::Adam>(std::vector<Tensor>{t->weight}, nn::AdamOptions{0.01, 0.9, 0.999, 1e-8, 0.01, false}));
      REQUIRE(nn::mark_row_sparse_parameters(*opts.back(), *t) == 1);
    }
    const Tensor w0 = tables[0]->weight.detach().clone();
    const std::vector<std::vector<int64_t>> batches = {{0, 5, 5, 7}, {rows - 1, 5}, {7, 2}};
    for (size_t s = 0; s < batches.size(); ++s) {
      const int64_t b = static_cast<int64_t>(batches[s].size());
      for (size_t d = 0; d < 2; ++d) {
        const Device dev = d == 0 ? Device::cpu() : Device::cuda(0);
        opts[d]->zero_grad();
        const Tensor idx = from_vector(batches[s], {b}).to(dev);
        sum(mul(tables[d]->forward(idx), make({b, dim}, dt, 70 + s, dev))).backward();
        opts[d]->step();
      }
    }
    require_match(tables[1]->weight, tables[0]->weight, dt == DType::f32 ? 1e-5 : 1e-12, "table after 3 lazy steps");
    const Tensor back = tables[1]->weight.to(Device::cpu());
    for (int64_t r : std::vector<int64_t>{1, 3, rows - 2}) {
      INFO("untouched row " << r);
      REQUIRE(back.select(0, r).to_vector<double>() == w0.select(0, r).to_vector<double>());
    }
    const auto sc = opts[0]->state(), sg = opts[1]->state();
    REQUIRE(sg.back().first == "0.row_step");
    REQUIRE(sg.back().second.to_vector<int64_t>() == sc.back().second.to_vector<int64_t>());
  }
}
