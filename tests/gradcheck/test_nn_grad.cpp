// gradcheck (float64, central differences) of the NN and point-cloud layer ops: softmax family,
// cross_entropy (with label smoothing), nll_loss, kl_div (both arguments, log_target), mse_loss,
// dropout (fixed mask through a re-seeded generator), batch_norm (training/eval, affine or not,
// [B, C] and [B, N, C]), shared_mlp with and without BN in both modes and every activation, and
// max_pool_points on tie-free inputs.
#include <catch2/catch.hpp>

#include "ops/nn.h"
#include "ops/pointnet.h"
#include "test_util.h"

using namespace pg;
using test::leaf64;

TEST_CASE("gradcheck softmax and log_softmax along each dim", "[nn][gradcheck]") {
  for (int64_t d : {0, 1, 2}) {
    INFO("dim " << d);
    test::check_grad([d](const std::vector<Tensor>& in) { return softmax(in[0], d); }, {leaf64({3, 4, 5}, -2, 2, 1)});
    test::check_grad([d](const std::vector<Tensor>& in) { return log_softmax(in[0], d); },
                     {leaf64({3, 4, 5}, -2, 2, 2)});
  }
  test::check_grad([](const std::vector<Tensor>& in) { return log_softmax(in[0].t(), 1); }, {leaf64({6, 3}, -2, 2, 3)});
}

TEST_CASE("gradcheck cross_entropy and nll_loss", "[nn][gradcheck]") {
  Tensor target = from_vector<int64_t>({2, 0, 4, 1, 4}, {5});
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
    for (double eps : {0.0, 0.1}) {
      INFO("reduction " << reduction_name(r) << " eps " << eps);
      test::check_grad([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], target, r, eps); },
                       {leaf64({5, 6}, -3, 3, 11)});
    }
    test::check_grad([&](const std::vector<Tensor>& in) { return nll_loss(log_softmax(in[0], 1), target, r); },
                     {leaf64({5, 6}, -3, 3, 12)});
    test::check_grad([&](const std::vector<Tensor>& in) { return nll_loss(in[0], target, r); },
                     {leaf64({5, 6}, -3, 0, 13)});
  }
}

TEST_CASE("gradcheck kl_div in input and target", "[nn][gradcheck]") {
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none, Reduction::batchmean}) {
    INFO("reduction " << reduction_name(r));
    // Probabilities kept away from 0 so log p is smooth.
    test::check_grad([r](const std::vector<Tensor>& in) { return kl_div(log_softmax(in[0], 1), in[1], r); },
                     {leaf64({3, 4}, -1, 1, 21), leaf64({3, 4}, 0.1, 0.9, 22)});
    test::check_grad(
        [r](const std::vector<Tensor>& in) { return kl_div(log_softmax(in[0], 1), log_softmax(in[1], 1), r, true); },
        {leaf64({3, 4}, -1, 1, 23), leaf64({3, 4}, -1, 1, 24)});
  }
}

TEST_CASE("gradcheck mse_loss and dropout", "[nn][gradcheck]") {
  for (Reduction r : {Reduction::mean, Reduction::sum, Reduction::none}) {
    test::check_grad([r](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1], r); },
                     {leaf64({3, 4}, -1, 1, 31), leaf64({3, 4}, -1, 1, 32)});
  }
  // The same seed every evaluation → the same mask: a fixed linear map.
  test::check_grad(
      [](const std::vector<Tensor>& in) {
        Generator g(99);
        return dropout(in[0], 0.4, true, &g);
      },
      {leaf64({6, 7}, -1, 1, 33)});
}

TEST_CASE("gradcheck batch_norm training and eval", "[pointnet_ops][gradcheck]") {
  Tensor rm = test::uniform({4}, -0.5, 0.5, 41, TensorOptions(DType::f64));
  Tensor rv = test::uniform({4}, 0.5, 2.0, 42, TensorOptions(DType::f64));
  for (bool training : {true, false}) {
    INFO("training " << training);
    // [B, C] with affine parameters, and [B, N, C].
    test::check_grad(
        [&](const std::vector<Tensor>& in) {
          return batch_norm(in[0], in[1], in[2], rm.clone(), rv.clone(), training, 0.1, 1e-5);
        },
        {leaf64({6, 4}, -2, 2, 43), leaf64({4}, 0.5, 1.5, 44), leaf64({4}, -1, 1, 45)});
    test::check_grad(
        [&](const std::vector<Tensor>& in) {
          return batch_norm(in[0], in[1], in[2], rm.clone(), rv.clone(), training, 0.1, 1e-3);
        },
        {leaf64({2, 5, 4}, -2, 2, 46), leaf64({4}, 0.5, 1.5, 47), leaf64({4}, -1, 1, 48)});
  }
  // No affine, no running stats.
  test::check_grad(
      [](const std::vector<Tensor>& in) { return batch_norm(in[0], Tensor(), Tensor(), Tensor(), Tensor(), true); },
      {leaf64({3, 6, 2}, -2, 2, 49)});
}

TEST_CASE("gradcheck shared_mlp without BN, every activation", "[pointnet_ops][gradcheck]") {
  for (Activation a : {Activation::none, Activation::relu, Activation::leaky_relu, Activation::selu}) {
    INFO("activation " << activation_name(a));
    SharedMLPOptions o;
    o.activation = a;
    o.negative_slope = 0.2;
    test::check_grad([&](const std::vector<Tensor>& in) { return shared_mlp(in[0], in[1], in[2], o); },
                     {leaf64({2, 5, 3}, -1, 1, 51), leaf64({4, 3}, -1, 1, 52), leaf64({4}, -1, 1, 53)});
    test::check_grad([&](const std::vector<Tensor>& in) { return shared_mlp(in[0], in[1], Tensor(), o); },
                     {leaf64({4, 3}, -1, 1, 54), leaf64({5, 3}, -1, 1, 55)});
  }
}

TEST_CASE("gradcheck shared_mlp with BN (training and eval), every activation", "[pointnet_ops][gradcheck]") {
  Tensor rm = test::uniform({4}, -0.5, 0.5, 61, TensorOptions(DType::f64));
  Tensor rv = test::uniform({4}, 0.5, 2.0, 62, TensorOptions(DType::f64));
  for (bool training : {true, false}) {
    for (Activation a : {Activation::none, Activation::relu, Activation::leaky_relu, Activation::selu}) {
      INFO("training " << training << " activation " << activation_name(a));
      auto fn = [&](const std::vector<Tensor>& in) {
        SharedMLPOptions o;
        o.activation = a;
        o.negative_slope = 0.2;
        o.bn = BatchNormArgs{in[3], in[4], rm.clone(), rv.clone(), training, 0.1, 1e-5};
        return shared_mlp(in[0], in[1], in[2], o);
      };
      test::check_grad(fn, {leaf64({2, 6, 3}, -1, 1, 63), leaf64({4, 3}, -1, 1, 64), leaf64({4}, -1, 1, 65),
                            leaf64({4}, 0.5, 1.5, 66), leaf64({4}, -1, 1, 67)});
    }
  }
}

TEST_CASE("gradcheck shared_mlp Generic path", "[pointnet_ops][gradcheck]") {
  auto fn = [](const std::vector<Tensor>& in) {
    SharedMLPOptions o;
    o.activation = Activation::selu;
    o.impl = PointnetImpl::Generic;
    o.bn = BatchNormArgs{in[2], Tensor(), Tensor(), Tensor(), true, 0.1, 1e-5};
    return shared_mlp(in[0], in[1], Tensor(), o);
  };
  test::check_grad(fn, {leaf64({3, 4, 3}, -1, 1, 71), leaf64({5, 3}, -1, 1, 72), leaf64({5}, 0.5, 1.5, 73)});
}

TEST_CASE("gradcheck max_pool_points on tie-free inputs", "[pointnet_ops][gradcheck]") {
  // A random permutation of well-separated values: no ties, no near-ties within eps.
  Generator g(5);
  Tensor perm = randperm(2 * 7 * 5, TensorOptions(DType::i64), &g).to(DType::f64);
  Tensor x = mul(perm, 0.1).reshape({2, 7, 5}).detach().requires_grad_(true);
  for (PointnetImpl impl : {PointnetImpl::Auto, PointnetImpl::Generic}) {
    test::check_grad([impl](const std::vector<Tensor>& in) { return max_pool_points(in[0], impl).values; }, {x});
  }
}
