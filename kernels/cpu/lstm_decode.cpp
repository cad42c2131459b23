// CPU fused decoder. Work decomposition per step: for every layer one batched GEMM pair for the
// gate pre-activations of all B clouds (x·W_ihᵀ, then h·W_hhᵀ accumulated), the LSTM cell's
// pointwise pass (OpenMP over rows, vectorised in float32), then the attention-pooling kernel
// (scores as one one-row GEMM per cloud, i.e. a gemv, then the serial softmax + pooling row).
// The same kernels the op-by-op path (nn::LSTM::step + attention_pool) runs, on buffers allocated
// once per call, without the tensor ops, autograd records and allocations of every step: the
// results are bit-identical to that path (same kernels on the same operands, same order).
#include "kernels/lstm_decode.h"

#include <algorithm>
#include <utility>

#include "core/dtype.h"
#include "kernels/attention_pool.h"
#include "kernels/blas.h"
#include "kernels/lstm.h"

namespace pg::kernels {

namespace {

// gates [B, 4H] (= or +=) in [B, K] · w [4H, K]ᵀ.
void project(const Tensor& in, const Tensor& w, const Tensor& gates, double beta) {
  GemmBatch g;
  g.dtype = in.dtype();
  g.trans_b = true;
  g.m = in.size(0);
  g.n = w.size(0);
  g.k = in.size(1);
  g.a = in.raw_data();
  g.lda = in.size(1);
  g.b = w.raw_data();
  g.ldb = w.size(1);
  g.c = gates.raw_data();
  g.ldc = w.size(0);
  g.beta = beta;
  gemm_strided_batched<CpuBackend>(g);
}

}  // namespace

template <>
void lstm_attention_decode<CpuBackend>(const LstmDecodeArgs& a) {
  const int64_t B = a.features.size(0), N = a.features.size(1), H = a.features.size(2);
  const int64_t D = a.coords.size(2), L = a.h0.size(0), T = a.steps;
  const TensorOptions o(a.features.dtype(), a.features.device());
  const int64_t esize = a.features.element_size(), point_bytes = D * esize, state_bytes = B * H * esize;
  Tensor gates = empty({B, 4 * H}, o);
  Tensor x = empty({B, D}, o);
  std::copy_n(static_cast<const char*>(a.x0.raw_data()), B * point_bytes, static_cast<char*>(x.raw_data()));
  std::vector<Tensor> h(L), c(L), c_next(L);
  for (int64_t l = 0; l < L; ++l) {
    h[l] = empty({B, H}, o);
    c[l] = empty({B, H}, o);
    c_next[l] = empty({B, H}, o);
    std::copy_n(static_cast<const char*>(a.h0.raw_data()) + l * state_bytes, state_bytes,
                static_cast<char*>(h[l].raw_data()));
    std::copy_n(static_cast<const char*>(a.c0.raw_data()) + l * state_bytes, state_bytes,
                static_cast<char*>(c[l].raw_data()));
  }
  Tensor q = empty({B, 1, D}, o), weights = empty({B, 1, N}, o);
  // The top layer's h as the attention query [B, 1, H] (same storage).
  const auto query_of = [&](const Tensor& top) { return detail::make_view(top, {B, 1, H}, {H, H, 1}, top.offset()); };
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t l = 0; l < L; ++l) {
      project(l == 0 ? x : h[l - 1], a.w_ih[l], gates, 0.0);
      project(h[l], a.w_hh[l], gates, 1.0);
      // h[l] was only read by the GEMM above: the pass may overwrite it. c ping-pongs (the
      // pointwise pass reads c_prev and writes c_new through restrict pointers).
      lstm_cell_forward_pointwise<CpuBackend>(gates, a.b_ih[l], a.b_hh[l], c[l], h[l], c_next[l]);
      std::swap(c[l], c_next[l]);
    }
    attention_pool_forward<CpuBackend>(a.features, query_of(h[L - 1]), a.coords, q, weights);
    // points[b, t] = q[b]; q is the next step's input.
    const char* src = static_cast<const char*>(q.raw_data());
    char* dst = static_cast<char*>(a.points.raw_data());
    for (int64_t b = 0; b < B; ++b) std::copy_n(src + b * point_bytes, point_bytes, dst + (b * T + t) * point_bytes);
    std::copy_n(src, B * point_bytes, static_cast<char*>(x.raw_data()));
  }
}

PG_INSTANTIATE_LAUNCHERS(PG_LSTM_DECODE_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
