// Embedding (lookup table) and the row-sparse ("lazy") optimizer mode: the gradient touches only
// the batch rows, repeated indices accumulate, untouched rows keep values and state, per-row Adam
// equals a dense Adam run on each row alone, and the table + per-row state round-trip through a
// checkpoint.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
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

using pg::test::error_of;

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.to_vector<double>() == b.to_vector<double>();
}

std::shared_ptr<nn::Embedding> make_table(int64_t n, int64_t dim, uint64_t seed) {
  Generator g(seed);
  nn::EmbeddingOptions o;
  o.init_std = 1.0;
  o.tensor = TensorOptions(DType::f64);
  o.gen = &g;
  return std::make_shared<nn::Embedding>(n, dim, o);
}

// Fixed per-step batches and output-gradient coefficients for a [6, 4] table.
const std::vector<std::vector<int64_t>> kBatches = {{0, 2}, {2, 3, 2}, {2}, {5, 0}};

// One forward/backward of sum(emb(idx) * coef) with coefficients depending on the step.
void backward_batch(const nn::Embedding& emb, size_t step) {
  const auto& idx = kBatches[step];
  const int64_t b = static_cast<int64_t>(idx.size());
  const Tensor coef = test::uniform({b, emb.dim()}, -1.0, 1.0, 100 + step, TensorOptions(DType::f64));
  sum(mul(emb.forward(from_vector(idx, {b})), coef)).backward();
}

}  // namespace

TEST_CASE("Embedding: lookup values, shapes, int32 indices and range errors", "[embedding]") {
  auto emb_ptr = make_table(5, 3, 1);
  nn::Embedding& emb = *emb_ptr;
  const Tensor idx = from_vector(std::vector<int64_t>{4, 0, 4, 2}, {2, 2});
  const Tensor out = emb.forward(idx);
  REQUIRE(out.shape() == Shape{2, 2, 3});
  const auto w = emb.weight.to_vector<double>();
  const auto o = out.to_vector<double>();
  const int64_t rows[] = {4, 0, 4, 2};
  for (int i = 0; i < 4; ++i) {
    for (int c = 0; c < 3; ++c) REQUIRE(o[i * 3 + c] == w[rows[i] * 3 + c]);
  }
  REQUIRE(bit_equal(emb.forward(idx.to(DType::i32)), out));
  REQUIRE(emb.num_parameters() == 15);

  // 5 = the table size: the first index past the end.
  const std::string e1 = error_of([&] { emb.forward(from_vector(std::vector<int64_t>{1, 5}, {2})); });
  REQUIRE(e1.find("index 5") != std::string::npos);
  REQUIRE(e1.find("position 1") != std::string::npos);
  REQUIRE(e1.find("table of 5 entries") != std::string::npos);
  REQUIRE(error_of([&] { emb.forward(from_vector(std::vector<int64_t>{-1}, {1})); }).find("index -1") !=
          std::string::npos);
  REQUIRE(error_of([&] { emb.forward(from_vector(std::vector<double>{1.0}, {1})); }).find("int64 or int32") !=
          std::string::npos);
  REQUIRE(error_of([&] { nn::Embedding(0, 3); }).find("positive") != std::string::npos);
}

TEST_CASE("Embedding: the gradient touches only the batch rows; repeated indices accumulate", "[embedding]") {
  auto emb_ptr = make_table(6, 4, 2);
  nn::Embedding& emb = *emb_ptr;
  const Tensor coef = test::uniform({3, 4}, -1.0, 1.0, 7, TensorOptions(DType::f64));
  sum(mul(emb.forward(from_vector(std::vector<int64_t>{3, 1, 3}, {3})), coef)).backward();
  const Tensor g = emb.weight.grad();
  REQUIRE(g.shape() == Shape{6, 4});
  const auto gv = g.to_vector<double>();
  const auto c = coef.to_vector<double>();
  for (int64_t r = 0; r < 6; ++r) {
    for (int64_t j = 0; j < 4; ++j) {
      double want = 0.0;
      if (r == 1) want = c[4 + j];
      if (r == 3) want = c[j] + c[8 + j];  // row 3 is looked up twice
      INFO("row " << r << " col " << j);
      REQUIRE(gv[r * 4 + j] == Approx(want).margin(1e-15));
    }
  }
}

TEST_CASE("Embedding + row-sparse Adam: untouched rows keep values and state; per-row steps", "[embedding][optim]") {
  auto emb_ptr = make_table(6, 4, 3);
  nn::Embedding& emb = *emb_ptr;
  const Tensor w0 = emb.weight.detach().clone();
  const nn::AdamOptions ao{0.05, 0.9, 0.999, 1e-8, 0.01, false};
  nn::Adam opt({emb.weight}, ao);
  REQUIRE(nn::mark_row_sparse_parameters(opt, emb) == 1);
  REQUIRE(opt.is_row_sparse(0));

  // Reference: a dense Adam per row on a [4] parameter, stepped only when the row is in a batch,
  // with that row's gradient.
  std::vector<Tensor> ref(6);
  std::vector<std::unique_ptr<nn::Adam>> ref_opt(6);
  for (int64_t r = 0; r < 6; ++r) {
    ref[r] = w0.select(0, r).clone();
    ref[r].requires_grad_(true);
    ref_opt[r] = std::make_unique<nn::Adam>(std::vector<Tensor>{ref[r]}, ao);
  }
  for (size_t s = 0; s < kBatches.size(); ++s) {
    opt.zero_grad();
    backward_batch(emb, s);
    for (int64_t r = 0; r < 6; ++r) {
      if (std::find(kBatches[s].begin(), kBatches[s].end(), r) == kBatches[s].end()) continue;
      ref[r].set_grad(emb.weight.grad().select(0, r).clone());
      ref_opt[r]->step();
    }
    opt.step();
  }
  // Rows 1 and 4 were never looked up: bit-identical values, zero state, zero steps.
  for (int64_t r : {1, 4}) {
    INFO("row " << r);
    REQUIRE(bit_equal(emb.weight.select(0, r), w0.select(0, r)));
  }
  const nn::NamedTensors st = opt.state();
  REQUIRE(st.size() == 4);  // step, exp_avg, exp_avg_sq, row_step
  REQUIRE(st[3].first == "0.row_step");
  REQUIRE(st[3].second.to_vector<int64_t>() == std::vector<int64_t>{2, 0, 3, 1, 0, 1});
  REQUIRE(st[0].second.item_int() == 4);
  const auto m = st[1].second.to_vector<double>();
  for (int64_t j = 0; j < 4; ++j) {
    REQUIRE(m[1 * 4 + j] == 0.0);
    REQUIRE(m[4 * 4 + j] == 0.0);
  }
  // Touched rows equal the per-row dense run (same kernel math, row by row).
  for (int64_t r : {0, 2, 3, 5}) {
    INFO("row " << r);
    test::require_close(emb.weight.select(0, r), ref[r], 1e-14);
    REQUIRE_FALSE(bit_equal(emb.weight.select(0, r), w0.select(0, r)));
  }

  // Without the row-sparse mark, Adam moves untouched rows (weight decay, momentum): the
  // property above is the optimizer's doing, not the gradient's.
  auto dense_ptr = make_table(6, 4, 3);
  nn::Embedding& dense = *dense_ptr;
  nn::Adam dense_opt({dense.weight}, ao);
  for (size_t s = 0; s < kBatches.size(); ++s) {
    dense_opt.zero_grad();
    backward_batch(dense, s);
    dense_opt.step();
  }
  REQUIRE_FALSE(bit_equal(dense.weight.select(0, 1), w0.select(0, 1)));
}

TEST_CASE("Embedding + row-sparse Adam: checkpoint round trip continues identically", "[embedding][checkpoint]") {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("pg_embedding_ckpt_" + std::to_string(::getpid()) + ".h5")).string();
  const nn::AdamOptions ao{0.05, 0.9, 0.999, 1e-8, 0.0, false};
  auto a_ptr = make_table(6, 4, 4);
  nn::Embedding& a = *a_ptr;
  nn::Adam oa({a.weight}, ao);
  oa.set_row_sparse(a.weight);
  for (size_t s = 0; s < 3; ++s) {
    oa.zero_grad();
    backward_batch(a, s);
    oa.step();
  }
  nn::save_checkpoint(path, a, &oa);

  auto b_ptr = make_table(6, 4, 99);
  nn::Embedding& b = *b_ptr;
  nn::Adam ob({b.weight}, ao);
  ob.set_row_sparse(b.weight);
  nn::load_checkpoint(path, b, &ob);
  REQUIRE(bit_equal(a.weight, b.weight));
  const Tensor idx = from_vector(std::vector<int64_t>{5, 2, 0}, {3});
  REQUIRE(bit_equal(a.forward(idx), b.forward(idx)));
  const auto sa = oa.state(), sb = ob.state();
  REQUIRE(sa.size() == sb.size());
  for (size_t i = 0; i < sa.size(); ++i) {
    INFO(sa[i].first);
    REQUIRE(sa[i].first == sb[i].first);
    REQUIRE(bit_equal(sa[i].second, sb[i].second));
  }
  // One more step on both: identical (the per-row counts were restored, not reset).
  oa.zero_grad();
  backward_batch(a, 3);
  ob.zero_grad();
  backward_batch(b, 3);
  oa.step();
  ob.step();
  REQUIRE(bit_equal(a.weight, b.weight));

  // A dense optimizer cannot take a row-sparse state, and vice versa.
  auto c_ptr = make_table(6, 4, 5);
  nn::Embedding& c = *c_ptr;
  nn::Adam oc({c.weight}, ao);
  const std::string e = error_of([&] { nn::load_checkpoint(path, c, &oc); });
  REQUIRE(e.find("0.row_step") != std::string::npos);
  REQUIRE(e.find("not row-sparse") != std::string::npos);
  nn::Adam od({c.weight}, ao);
  od.set_row_sparse(c.weight);
  nn::NamedTensors no_rows = oa.state();
  no_rows.pop_back();
  REQUIRE(error_of([&] { od.load_state(no_rows); }).find("missing: 0.row_step") != std::string::npos);
  std::remove(path.c_str());
}

TEST_CASE("Optimizer::set_row_sparse: argument errors", "[embedding][optim]") {
  auto emb_ptr = make_table(4, 2, 6);
  nn::Embedding& emb = *emb_ptr;
  Tensor other = zeros({4, 2}, TensorOptions(DType::f64));
  other.requires_grad_(true);
  nn::Adam opt({emb.weight});
  REQUIRE(error_of([&] { opt.set_row_sparse(other); }).find("not one of this optimizer's parameters") !=
          std::string::npos);
  backward_batch(emb, 2);
  opt.step();  // dense state now exists
  REQUIRE(error_of([&] { opt.set_row_sparse(emb.weight); }).find("already has dense state") != std::string::npos);
}

TEST_CASE("Embedding + row-sparse SGD (momentum, weight decay): per-row first steps", "[embedding][optim]") {
  auto emb_ptr = make_table(6, 4, 8);
  nn::Embedding& emb = *emb_ptr;
  const Tensor w0 = emb.weight.detach().clone();
  const nn::SGDOptions so{0.1, 0.9, 0.0, 0.01, false};
  nn::SGD opt({emb.weight}, so);
  opt.set_row_sparse(emb.weight);
  std::vector<Tensor> ref(6);
  std::vector<std::unique_ptr<nn::SGD>> ref_opt(6);
  for (int64_t r = 0; r < 6; ++r) {
    ref[r] = w0.select(0, r).clone();
    ref[r].requires_grad_(true);
    ref_opt[r] = std::make_unique<nn::SGD>(std::vector<Tensor>{ref[r]}, so);
  }
  for (size_t s = 0; s < kBatches.size(); ++s) {
    opt.zero_grad();
    backward_batch(emb, s);
    for (int64_t r = 0; r < 6; ++r) {
      if (std::find(kBatches[s].begin(), kBatches[s].end(), r) == kBatches[s].end()) continue;
      ref[r].set_grad(emb.weight.grad().select(0, r).clone());
      ref_opt[r]->step();
    }
    opt.step();
  }
  for (int64_t r = 0; r < 6; ++r) {
    INFO("row " << r);
    test::require_close(emb.weight.select(0, r), ref[r], 1e-14);
  }
  REQUIRE(bit_equal(emb.weight.select(0, 4), w0.select(0, 4)));
  REQUIRE(opt.state().back().second.to_vector<int64_t>() == std::vector<int64_t>{2, 0, 3, 1, 0, 1});
}
