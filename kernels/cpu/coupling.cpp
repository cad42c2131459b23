// CPU affine coupling passes. Work decomposition: each sample's M elements are cut into fixed
// chunks of kChunk elements; OpenMP runs over the B·G (sample, chunk) pairs. The log-det partial
// of a chunk is accumulated in float64 and the partials of a sample are summed in chunk order
// afterwards, so results do not depend on the thread count (deterministic).
//
// float32 (the training dtype) runs vectorised chunk loops with the inline exp / sigmoid of
// kernels/cpu/fast_math.h (SSE2 by default, AVX2 in a second clone chosen at load time); the
// forward's log-det sum goes through 8 float64 lane accumulators so the loop stays vectorisable.
// float64 keeps the shared per-element body (libm exp): it is the reference precision.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/parallel_for.h"
#include "kernels/common/coupling_impl.h"
#include "kernels/coupling.h"
#include "kernels/cpu/fast_math.h"

namespace pg::kernels {

namespace {

using fast::exp_f;
using fast::sigmoid_f;

constexpr int64_t kChunk = 16384;

// Forward direction over n elements; returns Σ s (float64).
__attribute__((target_clones("avx2", "default"))) double forward_chunk_f32(const float* __restrict x,
                                                                          const float* __restrict sr,
                                                                          const float* __restrict t,
                                                                          float* __restrict y, int64_t n, float c) {
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) {
      const float s = c * (2.0f * sigmoid_f(sr[i + l]) - 1.0f);
      y[i + l] = x[i + l] * exp_f(s) + t[i + l];
      lane[l] += static_cast<double>(s);
    }
  }
  double acc = 0.0;
  for (; i < n; ++i) {
    const float s = c * (2.0f * sigmoid_f(sr[i]) - 1.0f);
    y[i] = x[i] * exp_f(s) + t[i];
    acc += static_cast<double>(s);
  }
  for (int l = 0; l < 8; ++l) acc += lane[l];
  return acc;
}

__attribute__((target_clones("avx2", "default"))) void inverse_chunk_f32(const float* __restrict y,
                                                                        const float* __restrict sr,
                                                                        const float* __restrict t,
                                                                        float* __restrict x, int64_t n, float c) {
  for (int64_t i = 0; i < n; ++i) {
    const float s = c * (2.0f * sigmoid_f(sr[i]) - 1.0f);
    x[i] = (y[i] - t[i]) * exp_f(-s);
  }
}

// Forward-direction backward; gld is the sample's log-det gradient.
__attribute__((target_clones("avx2", "default"))) void backward_chunk_f32(const float* __restrict a,
                                                                         const float* __restrict sr,
                                                                         const float* __restrict g, float gld,
                                                                         float* __restrict dx,
                                                                         float* __restrict dsr, int64_t n, float c) {
  for (int64_t i = 0; i < n; ++i) {
    const float sg = sigmoid_f(sr[i]);
    const float e = exp_f(c * (2.0f * sg - 1.0f));
    dx[i] = g[i] * e;
    dsr[i] = (g[i] * a[i] * e + gld) * (2.0f * c * sg * (1.0f - sg));
  }
}

__attribute__((target_clones("avx2", "default"))) void inverse_backward_chunk_f32(
    const float* __restrict a, const float* __restrict sr, const float* __restrict g, float* __restrict dy,
    float* __restrict dsr, float* __restrict dt, int64_t n, float c) {
  for (int64_t i = 0; i < n; ++i) {
    const float sg = sigmoid_f(sr[i]);
    const float e = exp_f(-c * (2.0f * sg - 1.0f));
    dy[i] = g[i] * e;
    dsr[i] = -g[i] * a[i] * (2.0f * c * sg * (1.0f - sg));
    dt[i] = -g[i] * e;
  }
}

int64_t chunks(int64_t M) { return std::max<int64_t>(1, (M + kChunk - 1) / kChunk); }

// Small inputs stay on the calling thread (a parallel region costs more than the work).
int64_t task_grain(int64_t B, int64_t M, int64_t G) { return B * M >= 32768 ? 2 : B * G + 1; }

}  // namespace

template <>
struct CouplingExec<CpuBackend> {
  static void forward(const Tensor& in, const Tensor& s_raw, const Tensor& t, const Tensor& out, const Tensor& logdet,
                      double clamp, bool inverse) {
    const int64_t B = in.size(0), M = in.numel() / std::max<int64_t>(1, B);
    if (B * M == 0) return;
    const int64_t G = chunks(M);
    std::vector<double> partial(static_cast<size_t>(B * G), 0.0);
    double* part = partial.data();
    dispatch_floating(in.dtype(), "affine_coupling", [&]<class T>() {
      const T* x = in.data<T>();
      const T* sr = s_raw.data<T>();
      const T* tt = t.data<T>();
      T* y = out.data<T>();
      const T c = static_cast<T>(clamp);
      Parallel<CpuBackend>::run(
          B * G,
          [=](int64_t task) {
            const int64_t b = task / G, k = task - b * G;
            const int64_t lo = b * M + k * kChunk, n = std::min(kChunk, M - k * kChunk);
            if constexpr (std::is_same_v<T, float>) {
              if (inverse) {
                inverse_chunk_f32(x + lo, sr + lo, tt + lo, y + lo, n, c);
              } else {
                part[task] = forward_chunk_f32(x + lo, sr + lo, tt + lo, y + lo, n, c);
              }
            } else {
              double acc = 0.0;
              for (int64_t i = lo; i < lo + n; ++i) acc += coupling_detail::forward_elem<T>(x[i], sr[i], tt[i], c, inverse, y + i);
              part[task] = acc;
            }
          },
          task_grain(B, M, G));
      if (logdet.defined()) {
        T* ld = logdet.data<T>();
        for (int64_t b = 0; b < B; ++b) {
          double acc = 0.0;
          for (int64_t k = 0; k < G; ++k) acc += part[b * G + k];
          ld[b] = static_cast<T>(acc);
        }
      }
    });
  }

  static void backward(const Tensor& a, const Tensor& s_raw, const Tensor& g, const Tensor& g_ld, const Tensor& d_in,
                       const Tensor& d_sraw, const Tensor& d_t, double clamp, bool inverse) {
    const int64_t B = a.size(0), M = a.numel() / std::max<int64_t>(1, B);
    if (B * M == 0) return;
    const int64_t G = chunks(M);
    dispatch_floating(a.dtype(), "affine_coupling backward", [&]<class T>() {
      const T* av = a.data<T>();
      const T* sr = s_raw.data<T>();
      const T* gv = g.data<T>();
      const T* gld = g_ld.defined() ? g_ld.data<T>() : nullptr;
      T* di = d_in.data<T>();
      T* ds = d_sraw.data<T>();
      T* dt = d_t.defined() ? d_t.data<T>() : nullptr;
      const T c = static_cast<T>(clamp);
      Parallel<CpuBackend>::run(
          B * G,
          [=](int64_t task) {
            const int64_t b = task / G, k = task - b * G;
            const int64_t lo = b * M + k * kChunk, n = std::min(kChunk, M - k * kChunk);
            const T gl = gld != nullptr ? gld[b] : T(0);
            if constexpr (std::is_same_v<T, float>) {
              if (inverse) {
                inverse_backward_chunk_f32(av + lo, sr + lo, gv + lo, di + lo, ds + lo, dt + lo, n, c);
              } else {
                backward_chunk_f32(av + lo, sr + lo, gv + lo, gl, di + lo, ds + lo, n, c);
              }
            } else {
              for (int64_t i = lo; i < lo + n; ++i)
                coupling_detail::backward_elem<T>(av[i], sr[i], gv[i], gl, c, inverse, di + i, ds + i,
                                                  dt != nullptr ? dt + i : nullptr);
            }
          },
          task_grain(B, M, G));
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_COUPLING_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
