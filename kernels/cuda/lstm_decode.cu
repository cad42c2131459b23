// CUDA fused decoder: ONE persistent launch for all T steps. Batch rows are independent, so each
// cloud gets its own block (256 threads) that runs every step and layer of that cloud with only
// block barriers, never a grid-wide sync (PERFORMANCE.md §5.3). Per step and layer:
//   gates: one warp per gate row r of the 4H rows, lanes striding over the row's inputs and
//          hidden units (W_ih / W_hh rows read coalesced from global memory: 2·4H·(D+H) values
//          per step, L2-resident for H = 128), butterfly warp sum, biases added, the
//          pre-activation written to shared memory;
//   cell:  thread j < H applies the shared per-unit body (kernels/common/lstm_impl.h) to unit j:
//          activations, c and h updated in shared memory.
// Attention (after the top layer): one warp per point for the score <X_i, h> (C = H), block
// max, then e_i = exp(s_i − max) and the block sums Σe and Σe·p_i (D ≤ 4 coordinates per
// reduction group), q = Σe·p / Σe written to points[b, t] and kept in shared memory as the next
// input. Scores live in a global scratch row [N] per block (any N). Shared memory per block:
// (D + 2·L·H + 4H) values plus the reduction scratch (4.1 KB for D = 3, L = 2, H = 128, f32).
// Results agree with the CPU path to rounding (other summation orders; the device may contract
// multiply-adds into FMAs).
#include <cmath>

#include "core/cuda_check.h"
#include "core/dtype.h"
#include "core/parallel_for_cuda.cuh"
#include "kernels/common/attention_pool_impl.h"
#include "kernels/common/lstm_impl.h"
#include "kernels/cuda/block_reduce.cuh"
#include "kernels/lstm_decode.h"

namespace pg::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int kVals = 5;  // Σ e and up to 4 coordinate sums
constexpr int kMaxLayers = 8;

template <class T>
struct LayerWeights {
  const T* w_ih[kMaxLayers];
  const T* w_hh[kMaxLayers];
  const T* b_ih[kMaxLayers];
  const T* b_hh[kMaxLayers];
};

template <class T>
__global__ void __launch_bounds__(kThreads)
    lstm_decode_kernel(const T* __restrict__ features, const T* __restrict__ coords, const T* __restrict__ x0,
                       const T* __restrict__ h0, const T* __restrict__ c0, LayerWeights<T> w, int64_t B, int64_t N,
                       int64_t H, int64_t D, int64_t L, int64_t steps, T* __restrict__ scratch,
                       T* __restrict__ points) {
  PG_DYNAMIC_SHARED(unsigned char, smem_raw);
  T* sm = reinterpret_cast<T*>(smem_raw);
  T* red = sm;                  // kWarps · kVals
  T* x = red + kWarps * kVals;  // D: the current input of layer 0
  T* h = x + D;                 // L · H
  T* c = h + L * H;             // L · H
  T* z = c + L * H;             // 4H: one layer's gate pre-activations
  const int64_t b = blockIdx.x;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const T* fb = features + b * N * H;
  const T* xb = coords + b * N * D;
  T* sc = scratch + b * N;
  for (int64_t i = tid; i < D; i += kThreads) x[i] = x0[b * D + i];
  for (int64_t l = 0; l < L; ++l)
    for (int64_t j = tid; j < H; j += kThreads) {
      h[l * H + j] = h0[(l * B + b) * H + j];
      c[l * H + j] = c0[(l * B + b) * H + j];
    }
  __syncthreads();
  for (int64_t t = 0; t < steps; ++t) {
    for (int64_t l = 0; l < L; ++l) {
      const T* in = l == 0 ? x : h + (l - 1) * H;
      const int64_t K = l == 0 ? D : H;
      const T* wi = w.w_ih[l];
      const T* wh = w.w_hh[l];
      T* hl = h + l * H;
      for (int64_t r = warp; r < 4 * H; r += kWarps) {
        T s = 0;
        for (int64_t k = lane; k < K; k += 32) s += wi[r * K + k] * in[k];
        for (int64_t k = lane; k < H; k += 32) s += wh[r * H + k] * hl[k];
        s = cuda_reduce::warp_allsum(s);
        if (lane == 0) {
          if (w.b_ih[l] != nullptr) s += w.b_ih[l][r];
          if (w.b_hh[l] != nullptr) s += w.b_hh[l][r];
          z[r] = s;
        }
      }
      __syncthreads();  // every gate row written; h of this layer no longer read
      // c_prev and c_new alias: the unit body reads c_prev[j] before it writes c_new[j].
      for (int64_t j = tid; j < H; j += kThreads)
        lstm_detail::forward_unit<T>(z, nullptr, nullptr, c + l * H, hl, c + l * H, H, j);
      __syncthreads();  // the layer's new h is the next layer's input
    }
    // Attention of the top layer's h over the cloud's features.
    const T* q = h + (L - 1) * H;
    T m = -INFINITY;
    for (int64_t i = warp; i < N; i += kWarps) {
      const T* fi = fb + i * H;
      T s = 0;
      for (int64_t k = lane; k < H; k += 32) s += fi[k] * q[k];
      s = cuda_reduce::warp_allsum(s);
      if (lane == 0) sc[i] = s;
      m = fmax(m, s);
    }
    m = cuda_reduce::block_allmax<kThreads>(m, red);  // also publishes the scores
    T l_sum = 0;
    for (int64_t d0 = 0; d0 < D; d0 += 4) {
      const int nd = static_cast<int>(D - d0 < 4 ? D - d0 : 4);
      T acc[kVals] = {0, 0, 0, 0, 0};
      for (int64_t i = tid; i < N; i += kThreads) {
        const T e = ap_detail::exp_t(sc[i] - m);
        acc[4] += e;
        const T* xi = xb + i * D + d0;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          if (j < nd) acc[j] += e * xi[j];
        }
      }
      cuda_reduce::block_allsum<kThreads, kVals>(acc, kVals, red);
      if (d0 == 0) l_sum = acc[4];
      if (tid < nd) {
        const T v = acc[tid] / l_sum;
        points[(b * steps + t) * D + d0 + tid] = v;
        x[d0 + tid] = v;
      }
    }
    __syncthreads();  // x (the next input) complete; the scratch row free again
  }
}

}  // namespace

template <>
void lstm_attention_decode<CudaBackend>(const LstmDecodeArgs& a) {
  const int64_t B = a.features.size(0), N = a.features.size(1), H = a.features.size(2);
  const int64_t D = a.coords.size(2), L = a.h0.size(0);
  PG_CHECK(L <= kMaxLayers, "lstm_attention_decode: at most ", kMaxLayers, " layers on CUDA, got ", L);
  Tensor scratch = empty({B, N}, a.features.options());
  dispatch_floating(a.features.dtype(), "lstm_attention_decode", [&]<class T>() {
    LayerWeights<T> w{};
    for (int64_t l = 0; l < L; ++l) {
      w.w_ih[l] = a.w_ih[l].data<T>();
      w.w_hh[l] = a.w_hh[l].data<T>();
      w.b_ih[l] = a.b_ih[l].defined() ? a.b_ih[l].data<T>() : nullptr;
      w.b_hh[l] = a.b_hh[l].defined() ? a.b_hh[l].data<T>() : nullptr;
    }
    const size_t smem = static_cast<size_t>(kWarps * kVals + D + 2 * L * H + 4 * H) * sizeof(T);
    PG_CHECK(smem <= 48 * 1024, "lstm_attention_decode: the CUDA decoder keeps the state of every layer in shared ",
             "memory and needs ", smem, " bytes for L = ", L, ", H = ", H, ", D = ", D, " (",
             dtype_name(a.features.dtype()), "); at most 49152");
    pg::cuda::launch_kernel("lstm_decode_kernel", lstm_decode_kernel<T>, static_cast<unsigned>(B), kThreads, smem,
                            current_cuda_stream(), a.features.data<T>(), a.coords.data<T>(), a.x0.data<T>(),
                            a.h0.data<T>(), a.c0.data<T>(), w, B, N, H, D, L, a.steps, scratch.data<T>(),
                            a.points.data<T>());
  });
}

PG_INSTANTIATE_LAUNCHERS(PG_LSTM_DECODE_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
