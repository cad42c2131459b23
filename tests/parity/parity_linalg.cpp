// CUDA (cuBLAS) vs CPU (OpenBLAS) parity for matmul / bmm / linear, forward and backward.
// Integer-valued inputs make float32 products exact on both sides (no TF32: pedantic fp32),
// so those comparisons are bit-exact; random float64 inputs are compared to rounding.
#include <catch2/catch.hpp>

#include "core/cuda_context.h"
#include "test_util.h"

#if PG_WITH_CUDA
#include <cuda_runtime.h>
#endif

using namespace pg;

namespace {

const Device kCuda = Device::cuda(0);

Tensor ints(const Shape& s, uint64_t seed, DType t = DType::f32) {
  return test::uniform(s, -4, 5, seed, TensorOptions(DType::f64)).to(DType::i64).to(t);
}

// Runs f on CPU inputs and on their CUDA copies; compares the outputs.
void parity(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& cpu, double atol) {
  std::vector<Tensor> dev;
  for (const auto& t : cpu) dev.push_back(t.to(kCuda));
  Tensor a = f(cpu);
  Tensor b = f(dev);
  REQUIRE(b.is_cuda());
  REQUIRE(b.shape() == a.shape());
  REQUIRE(b.dtype() == a.dtype());
  INFO("max abs diff " << test::max_abs_diff(b.to(Device::cpu()), a));
  REQUIRE(test::max_abs_diff(b.to(Device::cpu()), a) <= atol);
}

}  // namespace

TEST_CASE("matmul parity: integer-valued float32 is exact", "[parity][linalg]") {
  auto mm = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); };
  parity(mm, {ints({37, 61}, 1), ints({61, 29}, 2)}, 0.0);
  parity(mm, {ints({256, 300}, 3), ints({300, 128}, 4)}, 0.0);
  parity(mm, {ints({4, 33, 20}, 5), ints({4, 20, 17}, 6)}, 0.0);    // strided batched
  parity(mm, {ints({2, 1, 9, 8}, 7), ints({3, 8, 5}, 8)}, 0.0);     // broadcast batch
  parity(mm, {ints({8, 128, 3}, 9), ints({3, 64}, 10)}, 0.0);       // folded shared weight
  parity(mm, {ints({300, 3, 3}, 11), ints({300, 3, 3}, 12)}, 0.0);  // tiny batched
  parity(mm, {ints({7}, 13), ints({7}, 14)}, 0.0);                  // dot
  parity(mm, {ints({7}, 15), ints({2, 7, 3}, 16)}, 0.0);
  parity(mm, {ints({2, 5, 7}, 17), ints({7}, 18)}, 0.0);
  parity(mm, {ints({3, 0}, 19), ints({0, 4}, 20)}, 0.0);  // k = 0 → zeros
}

TEST_CASE("matmul parity: transposed, sliced and expanded operands", "[parity][linalg]") {
  parity([](const std::vector<Tensor>& in) { return matmul(in[0].t(), in[1].t()); },
         {ints({40, 30}, 21), ints({50, 40}, 22)}, 0.0);
  parity([](const std::vector<Tensor>& in) { return matmul(in[0].slice(1, 3, 20), in[1].slice(0, 0, 34, 2)); },
         {ints({25, 24}, 23), ints({34, 11}, 24)}, 0.0);
  parity([](const std::vector<Tensor>& in) { return matmul(in[0].transpose(1, 2), in[1]); },
         {ints({3, 16, 12}, 25), ints({3, 16, 9}, 26)}, 0.0);
  parity(
      [](const std::vector<Tensor>& in) {
        return matmul(in[0].expand({5, 6, 7}), in[1]);
      },
      {ints({1, 6, 7}, 27), ints({5, 7, 4}, 28)}, 0.0);
  parity(
      [](const std::vector<Tensor>& in) {
        return matmul(in[0].permute({1, 0, 2}), in[1]);
      },
      {ints({6, 4, 7}, 29), ints({4, 7, 3}, 30)}, 0.0);
  parity([](const std::vector<Tensor>& in) { return matmul(in[0].slice(1, 2, 3), in[1]); },
         {ints({5, 4, 7}, 31), ints({7, 3}, 32)}, 0.0);  // [5, 1, 7] rows folded with lda
}

TEST_CASE("matmul / bmm / linear parity in float64 and float32 random values", "[parity][linalg]") {
  for (DType t : {DType::f64, DType::f32}) {
    const double tol = t == DType::f64 ? 1e-11 : 2e-4;
    auto u = [t](const Shape& s, uint64_t seed) { return test::uniform(s, -1, 1, seed, TensorOptions(t)); };
    parity([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {u({65, 129}, 41), u({129, 33}, 42)},
           tol);
    parity([](const std::vector<Tensor>& in) { return bmm(in[0], in[1].transpose(1, 2)); },
           {u({6, 20, 30}, 43), u({6, 25, 30}, 44)}, tol);
    parity([](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
           {u({4, 50, 16}, 45), u({32, 16}, 46), u({32}, 47)}, tol);
    parity([](const std::vector<Tensor>& in) { return linear(in[0], in[1]); }, {u({16}, 48), u({8, 16}, 49)}, tol);
  }
}

TEST_CASE("linalg backward parity", "[parity][linalg]") {
  auto grads = [](const std::vector<Tensor>& leaves, const std::function<Tensor(const std::vector<Tensor>&)>& f) {
    for (const auto& l : leaves) l.zero_grad();
    Tensor y = f(leaves);
    Tensor w = test::uniform(y.shape(), -1, 1, 99, TensorOptions(y.dtype())).to(y.device());
    sum(mul(y, w)).backward();
    std::vector<Tensor> g;
    for (const auto& l : leaves) g.push_back(l.grad().to(Device::cpu()));
    return g;
  };
  auto check = [&](const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Shape>& shapes) {
    std::vector<Tensor> cpu, dev;
    uint64_t seed = 300;
    for (const auto& s : shapes) {
      Tensor h = test::uniform(s, -1, 1, seed++, TensorOptions(DType::f64));
      Tensor d = h.to(kCuda);
      h.requires_grad_(true);
      d.requires_grad_(true);
      cpu.push_back(h);
      dev.push_back(d);
    }
    const auto gc = grads(cpu, f);
    const auto gd = grads(dev, f);
    for (size_t i = 0; i < gc.size(); ++i) REQUIRE(test::max_abs_diff(gd[i], gc[i]) <= 1e-11);
  };
  check([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {{2, 1, 5, 6}, {3, 6, 4}});
  check([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {{4, 9, 3}, {3, 8}});
  check([](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); }, {{6}, {2, 6, 3}});
  check([](const std::vector<Tensor>& in) { return bmm(in[0], in[1]); }, {{3, 4, 5}, {3, 5, 2}});
  check([](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); }, {{2, 7, 5}, {3, 5}, {3}});
}

TEST_CASE("linalg rejects mixed devices", "[parity][linalg][errors]") {
  Tensor a = zeros({2, 3}), b = zeros({3, 2}, kCuda);
  REQUIRE_THROWS_WITH(matmul(a, b), Catch::Contains("matmul") && Catch::Contains("cpu") && Catch::Contains("cuda:0"));
  REQUIRE_THROWS_WITH(bmm(zeros({1, 2, 3}, kCuda), zeros({1, 3, 2})), Catch::Contains("bmm"));
  REQUIRE_THROWS_WITH(linear(zeros({2, 3}, kCuda), zeros({4, 3}, kCuda), zeros({4})),
                      Catch::Contains("linear") && Catch::Contains("bias"));
}

#if PG_WITH_CUDA
TEST_CASE("cuBLAS runs on the current stream", "[parity][linalg]") {
  // A GEMM issued under a non-default stream must be ordered with kernels on that stream.
  Tensor a = ints({64, 64}, 51).to(kCuda), b = ints({64, 64}, 52).to(kCuda);
  Tensor ref = matmul(a, b).to(Device::cpu());
  cudaStream_t s = nullptr;
  REQUIRE(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess);
  Tensor r;
  {
    cuda::StreamGuard guard(s);
    r = matmul(a, b);
    cuda::synchronize();
  }
  REQUIRE(test::max_abs_diff(r.to(Device::cpu()), ref) == 0.0);
  r = Tensor();  // free the stream's block before the stream goes away
  REQUIRE(cudaStreamDestroy(s) == cudaSuccess);
}
#endif
