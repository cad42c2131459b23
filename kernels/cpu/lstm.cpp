// CPU LSTM cell pointwise passes. Work decomposition: OpenMP over the B rows (grouped so a task
// holds about 16K unit updates); each row is one contiguous loop over its H units (the gate
// blocks of a row are four unit-stride streams). Deterministic: every output element is written
// by one fixed expression.
//
// float32 (the training dtype) runs a vectorised row loop: exp is evaluated inline, without libm
// calls (kernels/cpu/fast_math.h), so GCC vectorises the whole unit update (SSE2 by default, AVX2
// in a second clone chosen at load time where the CPU has it). float64 keeps the shared per-unit body
// (libm exp/tanh): it is the reference precision (docs/decisions.md, "LSTM cell").
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/dtype.h"
#include "core/parallel_for.h"
#include "kernels/common/lstm_impl.h"
#include "kernels/cpu/fast_math.h"
#include "kernels/lstm.h"

namespace pg::kernels {

namespace {

using fast::sigmoid_f;
using fast::tanh_f;

int64_t row_grain(int64_t H) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, H)); }

template <class T>
const T* opt(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

// One row of the float32 forward (see kernels/lstm.h). Every pointer is valid (the launcher passes
// zeros for absent biases): a null test inside the loop is control flow that blocks vectorisation.
__attribute__((target_clones("avx2", "default"))) void forward_row_f32(float* __restrict z,
                                                                      const float* __restrict bi,
                                                                      const float* __restrict bh,
                                                                      const float* __restrict cp,
                                                                      float* __restrict hn, float* __restrict cn,
                                                                      int64_t H) {
  float* zi = z;
  float* zf = z + H;
  float* zg = z + 2 * H;
  float* zo = z + 3 * H;
  for (int64_t j = 0; j < H; ++j) {
    const float a = zi[j] + bi[j] + bh[j], b = zf[j] + bi[H + j] + bh[H + j];
    const float g = zg[j] + bi[2 * H + j] + bh[2 * H + j], o = zo[j] + bi[3 * H + j] + bh[3 * H + j];
    const float i = sigmoid_f(a), f = sigmoid_f(b), gg = tanh_f(g), oo = sigmoid_f(o);
    zi[j] = i;
    zf[j] = f;
    zg[j] = gg;
    zo[j] = oo;
    const float c = f * cp[j] + i * gg;
    cn[j] = c;
    hn[j] = oo * tanh_f(c);
  }
}

// One row of the float32 backward; every pointer is valid (zeros / scratch stand in for absent ones).
__attribute__((target_clones("avx2", "default"))) void backward_row_f32(const float* __restrict a,
                                                                       const float* __restrict cp,
                                                                       const float* __restrict cn,
                                                                       const float* __restrict gh,
                                                                       const float* __restrict gc,
                                                                       float* __restrict dz,
                                                                       float* __restrict dcp, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
    const float tc = tanh_f(cn[j]);
    const float ghj = gh[j];
    const float dc = gc[j] + ghj * o * (1.0f - tc * tc);
    dz[j] = dc * g * i * (1.0f - i);
    dz[H + j] = dc * cp[j] * f * (1.0f - f);
    dz[2 * H + j] = dc * i * (1.0f - g * g);
    dz[3 * H + j] = ghj * tc * o * (1.0f - o);
    dcp[j] = dc * f;
  }
}

}  // namespace

template <>
struct LstmExec<CpuBackend> {
  static void forward(const Tensor& gates, const Tensor& b_ih, const Tensor& b_hh, const Tensor& c_prev,
                      const Tensor& h_new, const Tensor& c_new) {
    const int64_t B = c_prev.size(0), H = c_prev.size(1);
    if (B * H == 0) return;
    dispatch_floating(gates.dtype(), "lstm_cell", [&]<class T>() {
      T* z = gates.data<T>();
      const T* bi = opt<T>(b_ih);
      const T* bh = opt<T>(b_hh);
      const T* cp = c_prev.data<T>();
      T* hn = h_new.data<T>();
      T* cn = c_new.data<T>();
      // float32: zeros stand in for absent biases (see forward_row_f32).
      std::vector<float> zero;
      const float* bi32 = nullptr;
      const float* bh32 = nullptr;
      if constexpr (std::is_same_v<T, float>) {
        if (bi == nullptr || bh == nullptr) zero.assign(static_cast<size_t>(4 * H), 0.0f);
        bi32 = bi != nullptr ? bi : zero.data();
        bh32 = bh != nullptr ? bh : zero.data();
      }
      Parallel<CpuBackend>::run(
          B,
          [=](int64_t b) {
            T* zr = z + b * 4 * H;
            const T* cpr = cp + b * H;
            T* hr = hn + b * H;
            T* cr = cn + b * H;
            if constexpr (std::is_same_v<T, float>) {
              forward_row_f32(zr, bi32, bh32, cpr, hr, cr, H);
            } else {
              for (int64_t j = 0; j < H; ++j) lstm_detail::forward_unit<T>(zr, bi, bh, cpr, hr, cr, H, j);
            }
          },
          row_grain(H));
    });
  }

  static void backward(const Tensor& gates, const Tensor& c_prev, const Tensor& c_new, const Tensor& g_h,
                       const Tensor& g_c, const Tensor& d_gates, const Tensor& d_c_prev) {
    const int64_t B = c_prev.size(0), H = c_prev.size(1);
    if (B * H == 0) return;
    dispatch_floating(gates.dtype(), "lstm_cell backward", [&]<class T>() {
      const T* a = gates.data<T>();
      const T* cp = c_prev.data<T>();
      const T* cn = c_new.data<T>();
      const T* gh = opt<T>(g_h);
      const T* gc = opt<T>(g_c);
      T* dz = d_gates.data<T>();
      T* dcp = d_c_prev.defined() ? d_c_prev.data<T>() : nullptr;
      // float32: a zero row stands in for an absent upstream gradient, per-row scratch for an
      // unwanted d_c_prev (see backward_row_f32).
      std::vector<float> zero, scratch;
      if constexpr (std::is_same_v<T, float>) {
        if (gh == nullptr || gc == nullptr) zero.assign(static_cast<size_t>(H), 0.0f);
        if (dcp == nullptr) scratch.assign(static_cast<size_t>(B * H), 0.0f);
      }
      const float* zero_row = zero.data();
      float* scratch_rows = scratch.data();
      Parallel<CpuBackend>::run(
          B,
          [=](int64_t b) {
            const int64_t r = b * H;
            const T* ghr = gh != nullptr ? gh + r : nullptr;
            const T* gcr = gc != nullptr ? gc + r : nullptr;
            T* dcpr = dcp != nullptr ? dcp + r : nullptr;
            if constexpr (std::is_same_v<T, float>) {
              backward_row_f32(a + 4 * r, cp + r, cn + r, ghr != nullptr ? ghr : zero_row, gcr != nullptr ? gcr : zero_row,
                               dz + 4 * r, dcpr != nullptr ? dcpr : scratch_rows + r, H);
            } else {
              for (int64_t j = 0; j < H; ++j)
                lstm_detail::backward_unit<T>(a + 4 * r, cp + r, cn + r, ghr, gcr, dz + 4 * r, dcpr, H, j);
            }
          },
          row_grain(H));
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_LSTM_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
