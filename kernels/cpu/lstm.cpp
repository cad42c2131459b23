// CPU LSTM cell pointwise passes. Work decomposition: OpenMP over the B rows (grouped so a task
// holds about 16K unit updates); each row runs the shared per-unit body for j = 0 … H−1 in one
// contiguous loop (the gate blocks of a row are four unit-stride streams). The transcendental
// calls (exp, tanh) are the scalar libm ones — the accuracy the float64 PyTorch comparison needs
// (docs/decisions.md, "LSTM cell") — and everything around them is straight-line arithmetic.
// Deterministic: every output element is written by one fixed expression.
#include <algorithm>

#include "core/dtype.h"
#include "core/parallel_for.h"
#include "kernels/common/lstm_impl.h"
#include "kernels/lstm.h"

namespace pg::kernels {

namespace {
int64_t row_grain(int64_t H) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, H)); }

template <class T>
const T* opt(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
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
      Parallel<CpuBackend>::run(
          B,
          [=](int64_t b) {
            T* zr = z + b * 4 * H;
            const T* cpr = cp + b * H;
            T* hr = hn + b * H;
            T* cr = cn + b * H;
            for (int64_t j = 0; j < H; ++j) lstm_detail::forward_unit<T>(zr, bi, bh, cpr, hr, cr, H, j);
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
      Parallel<CpuBackend>::run(
          B,
          [=](int64_t b) {
            const int64_t r = b * H;
            for (int64_t j = 0; j < H; ++j) {
              lstm_detail::backward_unit<T>(a + 4 * r, cp + r, cn + r, gh != nullptr ? gh + r : nullptr,
                                            gc != nullptr ? gc + r : nullptr, dz + 4 * r,
                                            dcp != nullptr ? dcp + r : nullptr, H, j);
            }
          },
          row_grain(H));
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_LSTM_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
