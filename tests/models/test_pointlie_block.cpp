// PointLIE's PI block and Rescale Layer (models/zoo/pointlie_block.h): inversion through a stack
// of blocks (float32 1e-6, float64 1e-12), the log-det against log|det J| of a numerical Jacobian,
// float64 gradcheck through one block (w.r.t. x, and finite differences for parameters of F, G
// and H), reversible-mode gradients equal to the stored-activation ones and its tape memory flat
// in depth, the Rescale Layer's shapes and its blocks' inverse, state names and errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "autograd/grad.h"
#include "autograd/gradcheck.h"
#include "models/zoo/pointlie_block.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/view.h"
#include "flow_test_util.h"
#include "jacobian_util.h"
#include "test_util.h"

using namespace pg;
using pg::test::max_abs_diff;
using pg::test::uniform;

namespace {

models::PIBlockOptions opts(DType dt, Generator* gen) {
  models::PIBlockOptions o;
  o.f_hidden = {16, 16};
  o.g_hidden = {16};
  o.h_growth = 6;
  o.h_layers = 2;
  o.clamp = 1.5;  // not the default, so a dropped clamp argument shows
  o.tensor = TensorOptions(dt);
  o.gen = gen;
  return o;
}

std::shared_ptr<nn::InvertibleSequence> pi_stack(int64_t d, int64_t k, int64_t blocks, DType dt, uint64_t seed) {
  Generator gen(seed);
  auto seq = std::make_shared<nn::InvertibleSequence>();
  for (int64_t i = 0; i < blocks; ++i) seq->push_back(std::make_shared<models::PIBlock>(d, k, opts(dt, &gen)));
  return seq;
}

using pg::test::flow_probe;

using pg::test::log_abs_det;
using pg::test::numerical_jacobian;

}  // namespace

TEST_CASE("PI block: inverse(forward(x)) = x through a stack of blocks", "[pointlie][piblock]") {
  for (DType dt : {DType::f32, DType::f64}) {
    for (auto [d, k] : {std::pair<int64_t, int64_t>{3, 3}, {2, 1}, {4, 2}}) {
      INFO("dtype " << dtype_name(dt) << " d " << d << " k " << k);
      const int64_t C = d * (k + 1);
      auto f = pi_stack(d, k, 6, dt, 40 + C);
      const Tensor x = uniform({2, 40, C}, -1, 1, 3, TensorOptions(dt));
      NoGradGuard ng;
      const nn::FlowResult r = f->forward(x);
      // Both branches are transformed: Q_s by F's additive update, Q_r by the affine coupling.
      REQUIRE(max_abs_diff(slice(r.y, 2, 0, d), slice(x, 2, 0, d)) > 0.05);
      REQUIRE(max_abs_diff(slice(r.y, 2, d, C), slice(x, 2, d, C)) > 0.05);
      REQUIRE(r.logdet.shape() == Shape{2});
      const Tensor back = f->inverse(r.y);
      REQUIRE(max_abs_diff(back, x) < (dt == DType::f32 ? 1e-6 : 1e-12));
    }
  }
}

TEST_CASE("PI block: log-det equals log|det J| of a numerical Jacobian", "[pointlie][piblock]") {
  // One sample, 2 points, d = 2, k = 2: J is 12×12. Single block and a stack of two.
  for (int64_t blocks : {1, 2}) {
    INFO("blocks " << blocks);
    auto f = pi_stack(2, 2, blocks, DType::f64, 70 + blocks);
    const Shape sh{1, 2, 6};
    const Tensor x = uniform(sh, -1, 1, 9, TensorOptions(DType::f64));
    NoGradGuard ng;
    const int64_t n = 12;
    const std::vector<double> jac = numerical_jacobian(
        [&](const std::vector<double>& v) { return f->forward(from_vector(v, sh)).y.to_vector<double>(); },
        x.to_vector<double>());
    // Q_s' depends on Q_r (F) and Q_r' on Q_s (G, H): both off-diagonal blocks are non-zero, so
    // the determinant is not just the product of the diagonal.
    double qs_from_qr = 0.0, qr_from_qs = 0.0;
    for (int64_t p = 0; p < 2; ++p)
      for (int64_t a = 0; a < 6; ++a)
        for (int64_t b = 0; b < 6; ++b) {
          const double v = std::fabs(jac[(p * 6 + a) * n + p * 6 + b]);
          if (a < 2 && b >= 2) qs_from_qr = std::max(qs_from_qr, v);
          if (a >= 2 && b < 2) qr_from_qs = std::max(qr_from_qs, v);
        }
    REQUIRE(qs_from_qr > 1e-3);
    REQUIRE(qr_from_qs > 1e-3);
    const double got = f->forward(x).logdet.to_vector<double>()[0];
    REQUIRE(std::fabs(got - log_abs_det(jac, n)) < 1e-7);
    REQUIRE(std::fabs(got) > 1e-2);
  }
}

TEST_CASE("PI block: float64 gradcheck through one block", "[pointlie][piblock]") {
  Generator gen(5);
  auto blk = std::make_shared<models::PIBlock>(3, 2, opts(DType::f64, &gen));
  const Tensor x = pg::test::leaf64({2, 3, 9}, -1, 1, 6);
  pg::test::check_grad([&](const std::vector<Tensor>& v) { return flow_probe(blk->forward(v[0]), 7); }, {x});
  pg::test::check_grad([&](const std::vector<Tensor>& v) { return flow_probe({blk->inverse(v[0]), zeros({2}, v[0].options())}, 8); },
                       {x});

  // Parameters of F, G and H: analytic gradient against central differences on a few entries.
  blk->zero_grad();
  flow_probe(blk->forward(x.detach()), 7).backward();
  int64_t checked = 0;
  for (const auto& [name, p] : blk->named_parameters()) {
    const bool pick = name == "F.0.conv.weight" || name == "G.1.conv.bias" || name == "H.0.conv.weight" ||
                      name == "H.out.conv.weight" || name == "H.out.conv.bias";
    if (!pick) continue;
    INFO("parameter " << name);
    REQUIRE(p.grad().defined());
    const auto g = p.grad().to_vector<double>();
    auto v = p.detach().to_vector<double>();
    for (size_t i = 0; i < v.size(); i += 5) {
      const double h = 1e-6, orig = v[i];
      auto eval = [&](double val) {
        NoGradGuard ng;
        v[i] = val;
        copy_into(p, from_vector(v, p.shape()));
        return flow_probe(blk->forward(x.detach()), 7).item<double>();
      };
      const double num = (eval(orig + h) - eval(orig - h)) / (2 * h);
      eval(orig);
      REQUIRE(std::fabs(num - g[i]) < 1e-6 + 1e-5 * std::fabs(num));
      ++checked;
    }
  }
  REQUIRE(checked > 20);
}

TEST_CASE("PI block: reversible gradients equal the stored-activation gradients", "[pointlie][piblock]") {
  for (DType dt : {DType::f64, DType::f32}) {
    INFO("dtype " << dtype_name(dt));
    auto f = pi_stack(3, 3, 4, dt, 90);
    Tensor x = uniform({2, 30, 12}, -1, 1, 4, TensorOptions(dt));
    x.requires_grad_(true);
    // Every block's F, G and H parameters are compared.
    REQUIRE(pg::test::require_reversible_grads_match(*f, x, 6) > 3 + 4 * 10);
  }
}

TEST_CASE("PI block: reversible mode keeps the tape's memory flat in the number of blocks", "[pointlie][piblock]") {
  const Tensor x = uniform({2, 128, 12}, -1, 1, 15, TensorOptions(DType::f32));
  auto held = [&](int64_t M, bool rev) {
    auto f = pi_stack(3, 3, M, DType::f32, 16);
    f->set_reversible(rev);
    const nn::FlowResult r = f->forward(x);
    const autograd::GraphStats st = autograd::graph_stats({r.y, r.logdet});
    flow_probe(r, 17).backward();
    REQUIRE(f->parameters().front().grad().defined());  // the backward reaches the first block
    return st.saved_bytes;
  };
  const int64_t rev2 = held(2, true), rev8 = held(8, true), st2 = held(2, false), st8 = held(8, false);
  INFO("saved bytes: reversible M=2 " << rev2 << ", M=8 " << rev8 << "; stored M=2 " << st2 << ", M=8 " << st8);
  REQUIRE(rev2 > 0);
  REQUIRE(rev8 == rev2);
  REQUIRE(st8 > 3 * st2);
  REQUIRE(rev8 * 4 < st8);
}

TEST_CASE("PointLIE Rescale Layer: decomposition + PI blocks", "[pointlie][piblock]") {
  Generator gen(12);
  models::PointLIERescale layer(3, 3, 4, opts(DType::f64, &gen));
  REQUIRE(layer.blocks->size() == 4);
  Tensor pts = uniform({2, 32, 3}, -1, 1, 13, TensorOptions(DType::f64));
  pts.requires_grad_(true);
  const models::RescaleResult r = layer.forward(pts);
  REQUIRE(r.features.shape() == Shape{2, 16, 12});
  REQUIRE(r.logdet.shape() == Shape{2});
  const models::Decomposition& dec = r.decomposition;
  const Tensor q0 = cat({dec.sampled, dec.offsets}, 2);
  {
    NoGradGuard ng;
    REQUIRE(max_abs_diff(r.features, q0) > 0.05);
    REQUIRE(max_abs_diff(layer.inverse_blocks(r.features), q0) < 1e-12);
  }
  // Gradients reach the input points through the blocks and the decomposition's gathers.
  flow_probe({r.features, r.logdet}, 14).backward();
  REQUIRE(pts.grad().defined());
  REQUIRE(max(abs(pts.grad())).item<double>() > 1e-3);
  // Output width d·(k+1) feeds a next layer with d' = 12.
  models::PointLIERescale next(12, 3, 1, opts(DType::f64, &gen));
  NoGradGuard ng;
  REQUIRE(next.forward(r.features.detach()).features.shape() == Shape{2, 8, 48});
}

TEST_CASE("PI block: state names", "[pointlie][piblock]") {
  models::PointLIERescale layer(3, 3, 2);
  std::vector<std::string> names;
  for (const auto& [n, p] : layer.named_parameters()) names.push_back(n);
  for (const char* want : {"blocks.0.F.0.conv.weight", "blocks.0.G.2.conv.bias", "blocks.1.H.0.conv.weight",
                           "blocks.1.H.2.conv.weight", "blocks.1.H.out.conv.bias"}) {
    INFO(want);
    REQUIRE(std::find(names.begin(), names.end(), want) != names.end());
  }
  // H's dense layers see the input and all earlier outputs: widths 3, 3 + 12, 3 + 24; out 39 → 9.
  const auto& h = layer.blocks->block(0);
  for (const auto& [n, p] : h->named_parameters()) {
    if (n == "H.1.conv.weight") REQUIRE(p.shape() == Shape{12, 15});
    if (n == "H.out.conv.weight") REQUIRE(p.shape() == Shape{9, 39});
  }
}

TEST_CASE("PI block errors", "[pointlie][piblock]") {
  REQUIRE_THROWS_WITH(models::PIBlock(0, 3), Catch::Contains("PIBlock") && Catch::Contains("d must be >= 1, got 0"));
  REQUIRE_THROWS_WITH(models::PIBlock(3, 0), Catch::Contains("k must be >= 1, got 0"));
  models::PIBlockOptions o;
  o.clamp = -1.0;
  REQUIRE_THROWS_WITH(models::PIBlock(3, 3, o), Catch::Contains("clamp") && Catch::Contains("-1"));
  o = {};
  o.f_hidden = {8, 0};
  REQUIRE_THROWS_WITH(models::PIBlock(3, 3, o), Catch::Contains("F hidden widths") && Catch::Contains("got 0"));
  o = {};
  o.h_layers = 0;
  REQUIRE_THROWS_WITH(models::PIBlock(3, 3, o), Catch::Contains("PIDenseExtractor") && Catch::Contains("dense layer"));
  o = {};
  o.h_growth = 0;
  REQUIRE_THROWS_WITH(models::PIBlock(3, 3, o), Catch::Contains("growth must be >= 1"));
  models::PIBlock blk(3, 3);
  REQUIRE_THROWS_WITH(blk.forward(zeros({2, 5, 9})), Catch::Contains("PIBlock.forward") &&
                                                         Catch::Contains("[B, N, 12]") && Catch::Contains("[2, 5, 9]"));
  REQUIRE_THROWS_WITH(blk.inverse(zeros({5, 12})), Catch::Contains("PIBlock.inverse") && Catch::Contains("[5, 12]"));
  REQUIRE_THROWS_WITH(models::PointLIERescale(2, 3, 4), Catch::Contains("d >= 3"));
  REQUIRE_THROWS_WITH(models::PointLIERescale(3, 3, 0), Catch::Contains("at least 1 PI block"));
  models::PointLIERescale layer(3, 3, 1);
  REQUIRE_THROWS_WITH(layer.forward(zeros({2, 16, 4})), Catch::Contains("PointLIERescale") && Catch::Contains("[2, 16, 4]"));
}
