// GroupedLinear (one batched GEMM over K groups) against a per-group loop of ordinary linears,
// float64 gradchecks, and PatchMLP: shapes, parameter counts, k-d patches, the decoder against
// a per-patch loop with the concatenated first layer, errors and a checkpoint round trip.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "models/nn/nn.h"
#include "ops/ops.h"
#include "test_util.h"

namespace {

using namespace pg;

using pg::test::error_of;

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector<double>() == b.to_vector<double>();
}

// The per-group loop: y[k] = linear(x[k], weight[k]ᵀ, bias[k]).
Tensor loop_grouped(const Tensor& x, const Tensor& w, const Tensor& b) {
  std::vector<Tensor> ys;
  for (int64_t k = 0; k < w.size(0); ++k) {
    ys.push_back(linear(x.select(0, k), w.select(0, k).transpose(0, 1), b.select(0, k)));
  }
  return stack(ys, 0);
}

std::shared_ptr<nn::PatchMLP> make_mlp(const Tensor& tmpl, int64_t k, int64_t latent, uint64_t seed) {
  Generator g(seed);
  nn::PatchMLPConfig c;
  c.latent = latent;
  c.patches = k;
  c.shared_widths = {8, 6};
  c.patch_widths = {7, 3};
  c.tensor = TensorOptions(DType::f64);
  c.gen = &g;
  return std::make_shared<nn::PatchMLP>(c, tmpl);
}

// The decoder written out per patch and per shape with ordinary linears on [q, l].
Tensor loop_decoder(const nn::PatchMLP& m, const Tensor& codes) {
  const int64_t k = m.config().patches, p = m.points_per_patch(), b = codes.size(0);
  const Tensor w0 = cat({m.in_q->weight, m.in_code->weight}, 1);  // [h0, 3 + L]
  std::vector<Tensor> shapes;
  for (int64_t s = 0; s < b; ++s) {
    std::vector<Tensor> patches;
    for (int64_t kk = 0; kk < k; ++kk) {
      const Tensor q = m.Q.slice(0, kk * p, (kk + 1) * p);  // [P, 3]
      const Tensor l = expand(codes.select(0, s).unsqueeze(0), {p, codes.size(1)});
      Tensor h = selu(linear(cat({q, l}, 1), w0, m.in_q->bias));
      for (size_t i = 0; i < m.shared->size(); ++i) {
        const auto lin = m.shared->at<nn::Linear>(i);
        h = selu(linear(h, lin->weight, lin->bias));
      }
      Tensor g = cat({h, q}, 1);
      for (size_t j = 0; j < m.patch->size(); ++j) {
        const auto gl = m.patch->at<nn::GroupedLinear>(j);
        g = linear(g, gl->weight.select(0, kk).transpose(0, 1), gl->bias.select(0, kk));
        if (j + 1 < m.patch->size()) g = selu(g);
      }
      patches.push_back(g);
    }
    shapes.push_back(cat(patches, 0));
  }
  return stack(shapes, 0);
}

}  // namespace

TEST_CASE("grouped_linear: one batched GEMM equals a per-group loop (forward and gradients)", "[patch_mlp]") {
  const Tensor x = test::leaf64({3, 5, 4}, -1.0, 1.0, 1);
  const Tensor w = test::leaf64({3, 4, 2}, -1.0, 1.0, 2);
  const Tensor b = test::leaf64({3, 2}, -1.0, 1.0, 3);
  const Tensor coef = test::uniform({3, 5, 2}, -1.0, 1.0, 4, TensorOptions(DType::f64));
  const Tensor y = nn::grouped_linear(x, w, b);
  const Tensor y_ref = loop_grouped(x, w, b);
  test::require_close(y, y_ref, 1e-14);
  sum(mul(y, coef)).backward();
  const Tensor gx = x.grad().clone(), gw = w.grad().clone(), gb = b.grad().clone();
  x.zero_grad();
  w.zero_grad();
  b.zero_grad();
  sum(mul(y_ref, coef)).backward();
  test::require_close(gx, x.grad(), 1e-14);
  test::require_close(gw, w.grad(), 1e-14);
  test::require_close(gb, b.grad(), 1e-14);
  // Groups really are independent: group 1's weights do not reach group 0's output.
  REQUIRE(std::fabs(gw.select(0, 1).to_vector<double>()[0]) > 0.0);

  test::check_grad([](const std::vector<Tensor>& in) { return nn::grouped_linear(in[0], in[1], in[2]); },
                   {test::leaf64({2, 3, 4}, -1.0, 1.0, 5), test::leaf64({2, 4, 3}, -1.0, 1.0, 6),
                    test::leaf64({2, 3}, -1.0, 1.0, 7)});
  test::check_grad([](const std::vector<Tensor>& in) { return nn::grouped_linear(in[0], in[1]); },
                   {test::leaf64({3, 2, 2}, -1.0, 1.0, 8), test::leaf64({3, 2, 5}, -1.0, 1.0, 9)});

  REQUIRE(error_of([&] { nn::grouped_linear(x, w.select(0, 0), b); }).find("[K, in, out]") != std::string::npos);
  REQUIRE(error_of([&] { nn::grouped_linear(x.select(0, 0), w, b); }).find("expected input [3, M, 4]") !=
          std::string::npos);
  nn::GroupedLinear gl(3, 4, 2);
  REQUIRE(gl.weight.shape() == Shape{3, 4, 2});
  REQUIRE(gl.bias.shape() == Shape{3, 2});
  REQUIRE(gl.forward(x.detach().to(DType::f32)).shape() == Shape{3, 5, 2});
}

TEST_CASE("GroupedLinear: LeCun-normal init per group (std 1/sqrt(in)), zero bias", "[patch_mlp]") {
  Generator g(11);
  nn::LinearOptions o;
  o.init = nn::LinearInit::lecun_normal;
  o.gen = &g;
  nn::GroupedLinear gl(8, 64, 128, o);
  const auto w = gl.weight.to_vector<double>();
  double s2 = 0.0;
  for (double v : w) s2 += v * v;
  const double std_got = std::sqrt(s2 / static_cast<double>(w.size()));
  REQUIRE(std_got == Approx(1.0 / 8.0).epsilon(0.02));  // 65,536 draws: ~0.3 % standard error
  for (double v : gl.bias.to_vector<double>()) REQUIRE(v == 0.0);
}

TEST_CASE("PatchMLP: shapes, parameter counts, k-d patches and the per-patch loop", "[patch_mlp]") {
  // Template: x spread over [0, 10), y and z over [0, 1): the first k-d split is along x.
  Tensor tmpl = test::uniform({32, 3}, 0.0, 1.0, 21, TensorOptions(DType::f64));
  tmpl = mul(tmpl, from_vector(std::vector<double>{10.0, 1.0, 1.0}, {1, 3}));
  auto mp = make_mlp(tmpl, 4, 5, 1);
  const nn::PatchMLP& m = *mp;
  REQUIRE(m.num_points() == 32);
  REQUIRE(m.points_per_patch() == 8);
  // Hand counts: shared = (3·8 + 8) + 5·8 + (8·6 + 6); per patch = K·((6 + 3)·7 + 7 + 7·3 + 3).
  REQUIRE(m.shared_parameter_count() == 32 + 40 + 54);
  REQUIRE(m.patch_parameter_count() == 4 * (70 + 24));
  REQUIRE(m.num_parameters() == 126 + 376 + 32 * 3);

  // Q is the template reordered (a permutation of its rows) and patch-major by k-d leaves: the
  // two halves (patches 0-1 and 2-3) are separated along x.
  const auto q = m.Q.to_vector<double>();
  const auto t = tmpl.to_vector<double>();
  std::vector<int> used(32, 0);
  for (int r = 0; r < 32; ++r) {
    for (int u = 0; u < 32; ++u) {
      if (!used[u] && q[r * 3] == t[u * 3] && q[r * 3 + 1] == t[u * 3 + 1] && q[r * 3 + 2] == t[u * 3 + 2]) {
        used[u] = 1;
        break;
      }
    }
  }
  REQUIRE(std::count(used.begin(), used.end(), 1) == 32);
  double left_max = -1e9, right_min = 1e9;
  for (int r = 0; r < 16; ++r) left_max = std::max(left_max, q[r * 3]);
  for (int r = 16; r < 32; ++r) right_min = std::min(right_min, q[r * 3]);
  REQUIRE(left_max <= right_min);

  const Tensor codes = test::uniform({2, 5}, -1.0, 1.0, 22, TensorOptions(DType::f64));
  const Tensor out = m.forward(codes);
  REQUIRE(out.shape() == Shape{2, 32, 3});
  test::require_close(out, loop_decoder(m, codes), 1e-12);

  // A per-patch sample: template_points picks rows k·P + local.
  const Tensor local = from_vector(std::vector<int64_t>{0, 7, 3, 3, 1, 2, 6, 5}, {4, 2});
  const Tensor qs = m.template_points(local);
  REQUIRE(qs.shape() == Shape{4, 2, 3});
  REQUIRE(bit_equal(qs.select(0, 3).select(0, 0), m.Q.select(0, 3 * 8 + 6)));  // local[3][0] = 6
  const Tensor sub = m.forward_patches(codes, qs);
  REQUIRE(sub.shape() == Shape{2, 4, 2, 3});
  test::require_close(sub.select(1, 3).select(1, 0), out.select(1, 3 * 8 + 6), 1e-12);
}

TEST_CASE("PatchMLP: float64 gradcheck through SELU, the shared and the grouped layers", "[patch_mlp]") {
  Tensor tmpl = test::uniform({8, 3}, -1.0, 1.0, 31, TensorOptions(DType::f64));
  auto mp = make_mlp(tmpl, 2, 3, 2);
  const nn::PatchMLP& m = *mp;
  const Tensor codes = test::leaf64({2, 3}, -1.0, 1.0, 32);
  const Tensor q = test::leaf64({2, 3, 3}, -1.0, 1.0, 33);
  test::check_grad([&](const std::vector<Tensor>& in) { return m.forward_patches(in[0], in[1]); }, {codes, q});
  // Weights get gradients too (every parameter, Q included through forward()).
  sum(square(m.forward(codes.detach()))).backward();
  for (const auto& [name, p] : m.named_parameters()) {
    INFO(name);
    REQUIRE(p.grad().defined());
    REQUIRE(max(abs(p.grad())).item<double>() > 0.0);
  }
}

TEST_CASE("PatchMLP: bad configurations and inputs are named", "[patch_mlp]") {
  const Tensor t32 = test::uniform({32, 3}, 0.0, 1.0, 41, TensorOptions(DType::f64));
  REQUIRE(error_of([&] { make_mlp(t32, 3, 5, 1); }).find("power of two, got 3") != std::string::npos);
  REQUIRE(error_of([&] { make_mlp(test::uniform({30, 3}, 0.0, 1.0, 42), 4, 5, 1); })
              .find("4 patches do not divide 30 points") != std::string::npos);
  Tensor bad = t32.clone();
  bad.data<double>()[7] = NAN;
  REQUIRE(error_of([&] { make_mlp(bad, 4, 5, 1); }).find("point 2 has a non-finite coordinate") != std::string::npos);
  auto mp = make_mlp(t32, 4, 5, 1);
  REQUIRE(error_of([&] { mp->forward(zeros({2, 4}, TensorOptions(DType::f64))); }).find("codes must be [B, 5]") !=
          std::string::npos);
  REQUIRE(error_of([&] { mp->template_points(from_vector(std::vector<int64_t>{0, 8, 0, 0}, {4, 1})); })
              .find("local template index 8 (patch 1) is out of range [0, 8)") != std::string::npos);
  nn::PatchMLPConfig c;
  c.latent = 5;
  c.patches = 4;
  c.patch_widths = {7, 2};
  REQUIRE(error_of([&] { nn::PatchMLP(c, t32); }).find("last per-patch width must be 3") != std::string::npos);
}

TEST_CASE("PatchMLP + Embedding: save → load gives identical outputs", "[patch_mlp][embedding][checkpoint]") {
  struct Decoder : nn::Module {
    Decoder(const Tensor& tmpl, uint64_t seed) : nn::Module("Decoder") {
      Generator g(seed);
      nn::EmbeddingOptions eo;
      eo.tensor = TensorOptions(DType::f64);
      eo.gen = &g;
      codes = register_module("codes", std::make_shared<nn::Embedding>(3, 5, eo));
      mlp = register_module("mlp", make_mlp(tmpl, 4, 5, seed));
    }
    Tensor forward(const Tensor& idx) const { return mlp->forward(codes->forward(idx)); }
    std::shared_ptr<nn::Embedding> codes;
    std::shared_ptr<nn::PatchMLP> mlp;
  };
  const std::string path =
      (std::filesystem::temp_directory_path() / ("pg_patch_mlp_ckpt_" + std::to_string(::getpid()) + ".h5")).string();
  const Tensor t32 = test::uniform({32, 3}, 0.0, 1.0, 51, TensorOptions(DType::f64));
  auto a = std::make_shared<Decoder>(t32, 1);
  // Train a little so nothing is at its initial value (Q and the codes included).
  nn::Adam opt(a->trainable_parameters(), {0.01});
  REQUIRE(nn::mark_row_sparse_parameters(opt, *a) == 1);
  const Tensor idx = from_vector(std::vector<int64_t>{2, 0}, {2});
  const Tensor target = test::uniform({2, 32, 3}, -1.0, 1.0, 52, TensorOptions(DType::f64));
  double first = 0.0, last = 0.0;
  for (int s = 0; s < 30; ++s) {
    opt.zero_grad();
    const Tensor loss = mean(square(sub(a->forward(idx), target)));
    loss.backward();
    opt.step();
    (s == 0 ? first : last) = loss.item<double>();
  }
  REQUIRE(last < 0.5 * first);
  nn::save_checkpoint(path, *a, &opt);
  auto b = std::make_shared<Decoder>(test::uniform({32, 3}, 0.0, 1.0, 53, TensorOptions(DType::f64)), 2);
  const Tensor all = from_vector(std::vector<int64_t>{0, 1, 2}, {3});
  REQUIRE_FALSE(bit_equal(a->forward(all), b->forward(all)));
  nn::load_checkpoint(path, *b);
  REQUIRE(bit_equal(a->forward(all), b->forward(all)));
  REQUIRE(bit_equal(a->mlp->Q, b->mlp->Q));
  // Row 1 was never in a batch: its code is still the initial one.
  REQUIRE(bit_equal(a->codes->weight.select(0, 1), std::make_shared<Decoder>(t32, 1)->codes->weight.select(0, 1)));
  std::remove(path.c_str());
}

TEST_CASE("PatchMLP without shared layers (the AtlasNetV2 decoder) equals a per-patch loop on [l, q]", "[patch_mlp]") {
  const Tensor tmpl = test::uniform({16, 3}, -1.0, 1.0, 51, TensorOptions(DType::f64));
  Generator g(52);
  nn::PatchMLPConfig c;
  c.latent = 5;
  c.patches = 4;
  c.shared_widths = {};
  c.patch_widths = {7, 6, 3};
  c.tensor = TensorOptions(DType::f64);
  c.gen = &g;
  const nn::PatchMLP m(c, tmpl);
  REQUIRE(m.in_q == nullptr);
  REQUIRE(m.shared_parameter_count() == 0);
  REQUIRE(m.patch_parameter_count() == 4 * ((8 * 7 + 7) + (7 * 6 + 6) + (6 * 3 + 3)));
  const Tensor codes = test::uniform({3, 5}, -1.0, 1.0, 53, TensorOptions(DType::f64));
  const Tensor out = m.forward(codes);
  REQUIRE(out.shape() == Shape{3, 16, 3});
  for (int64_t s = 0; s < 3; ++s) {
    for (int64_t kk = 0; kk < 4; ++kk) {
      const Tensor q = m.Q.slice(0, kk * 4, (kk + 1) * 4);
      Tensor h = cat({expand(codes.select(0, s).unsqueeze(0), {4, 5}), q}, 1);  // [l, q]
      for (size_t j = 0; j < m.patch->size(); ++j) {
        const auto gl = m.patch->at<nn::GroupedLinear>(j);
        h = linear(h, gl->weight.select(0, kk).transpose(0, 1), gl->bias.select(0, kk));
        if (j + 1 < m.patch->size()) h = selu(h);
      }
      test::require_close(out.select(0, s).slice(0, kk * 4, (kk + 1) * 4), h, 1e-12);
    }
  }
}
