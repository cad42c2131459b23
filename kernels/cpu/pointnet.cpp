// CPU point-cloud layer kernels. Work decomposition:
// * Per-channel reductions over [R, C] (statistics, backward sums): the rows are cut into a fixed
//   number of chunks that depends only on (R, C) — never on the thread count — each chunk
//   accumulates float64 partial sums for all C channels with a contiguous inner loop over the
//   channels (vectorisable), and the partials are added in chunk order: deterministic results.
//   Within a chunk, rows go in blocks of 4 with the accumulators in registers (same order of
//   additions as a row-by-row loop; measured 1.8× faster on the BN backward reduction).
// * Epilogues (affine + activation, BN backward apply): rows in parallel, inner loop over the
//   channels, the activation a compile-time constant so the loop vectorises.
// * Max-pool: one work item per (cloud, 64-channel block), ascending scan over the points with a
//   contiguous inner loop over the block's channels (strict > keeps the lowest index on ties).
// PointnetImpl::Generic runs the shared per-channel / per-element bodies instead (the reference
// the tests compare these loops with).
#include <algorithm>
#include <climits>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/common/pointnet_impl.h"

namespace pg::kernels {

namespace {

using namespace pn_detail;

template <class F>
decltype(auto) dispatch_act(Activation act, F&& f) {
  switch (act) {
    case Activation::relu:
      return f.template operator()<Activation::relu>();
    case Activation::leaky_relu:
      return f.template operator()<Activation::leaky_relu>();
    case Activation::selu:
      return f.template operator()<Activation::selu>();
    default:
      return f.template operator()<Activation::none>();
  }
}

// Rows per chunk for the deterministic reductions: at most 64 chunks, at least ~4096 elements each.
int64_t chunk_rows(int64_t R, int64_t C) {
  const int64_t by_count = (R + 63) / 64;
  const int64_t by_work = (4096 + C - 1) / std::max<int64_t>(C, 1);
  return std::max<int64_t>(1, std::max(by_count, by_work));
}

// Runs f(i) for i in [0, n) on the OpenMP threads when the total work is worth it.
template <class F>
void run_items(int64_t n, int64_t work, const F& f) {
  const int threads = cpu_num_threads();
  if (threads <= 1 || n <= 1 || work < 32768) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) f(i);
}

// Calls f(0), f(1), ..., f(K − 1) (unrolled at compile time).
template <int K, class F>
PG_INLINE void unrolled(const F& f) {
  [&]<int... J>(std::integer_sequence<int, J...>) { (f(J), ...); }(std::make_integer_sequence<int, K>{});
}

// Rows [r0, r1) in blocks of kRowBlock (then single rows): body.template operator()<K>(r) handles
// rows r .. r + K − 1. The reductions keep each channel's float64 accumulators in registers across
// a block and add the rows in ascending order, exactly as a row-by-row loop would (bit-identical
// sums), but load/store the C-sized accumulator arrays once per block instead of once per row.
constexpr int kRowBlock = 4;
template <class Body>
void for_row_blocks(int64_t r0, int64_t r1, const Body& body) {
  int64_t r = r0;
  for (; r + kRowBlock <= r1; r += kRowBlock) body.template operator()<kRowBlock>(r);
  for (; r < r1; ++r) body.template operator()<1>(r);
}

// Chunked per-channel sums: body(r0, r1, acc0, acc1) accumulates rows [r0, r1) into the two
// C-sized float64 arrays; returns the chunk-ordered totals.
template <class Body>
void chunked_sums(int64_t R, int64_t C, std::vector<double>& tot0, std::vector<double>& tot1, const Body& body) {
  const int64_t rows = chunk_rows(R, C);
  const int64_t nchunks = (R + rows - 1) / rows;
  std::vector<double> part(static_cast<size_t>(nchunks * 2 * C), 0.0);
  run_items(nchunks, R * C, [&](int64_t ch) {
    const int64_t r0 = ch * rows, r1 = std::min(R, r0 + rows);
    double* a0 = part.data() + ch * 2 * C;
    body(r0, r1, a0, a0 + C);
  });
  tot0.assign(static_cast<size_t>(C), 0.0);
  tot1.assign(static_cast<size_t>(C), 0.0);
  for (int64_t ch = 0; ch < nchunks; ++ch) {
    const double* a0 = part.data() + ch * 2 * C;
    for (int64_t c = 0; c < C; ++c) {
      tot0[c] += a0[c];
      tot1[c] += a0[C + c];
    }
  }
}

}  // namespace

template <>
void channel_stats<CpuBackend>(const Tensor& z, const Tensor& mean, const Tensor& var, PointnetImpl path) {
  if (path == PointnetImpl::Generic) return generic_channel_stats<CpuBackend>(z, mean, var);
  const int64_t R = z.size(0), C = z.size(1);
  dispatch_floating(z.dtype(), "channel_stats", [&]<class T>() {
    const T* zp = ptr<T>(z);
    std::vector<double> s, ss;
    chunked_sums(R, C, s, ss, [&](int64_t r0, int64_t r1, double* as, double* ass) {
      for_row_blocks(r0, r1, [&]<int K>(int64_t r) {
        const T* row = zp + r * C;
        for (int64_t c = 0; c < C; ++c) {
          double a = as[c], aa = ass[c];
          const double k0 = static_cast<double>(zp[c]);
          unrolled<K>([&](int64_t j) {
            const double d = static_cast<double>(row[j * C + c]) - k0;
            a += d;
            aa += d * d;
          });
          as[c] = a;
          ass[c] = aa;
        }
      });
    });
    T* mp = ptr<T>(mean);
    T* vp = ptr<T>(var);
    for (int64_t c = 0; c < C; ++c) {
      const double m = s[c] / static_cast<double>(R);
      const double v = ss[c] / static_cast<double>(R) - m * m;
      mp[c] = static_cast<T>(static_cast<double>(zp[c]) + m);
      vp[c] = static_cast<T>(v > 0.0 ? v : 0.0);
    }
  });
}

template <>
void affine_act<CpuBackend>(const Tensor& z, const Tensor& scale, const Tensor& shift, const Tensor& out, Activation act,
                            double slope, PointnetImpl path) {
  if (path == PointnetImpl::Generic) return generic_affine_act<CpuBackend>(z, scale, shift, out, act, slope);
  const int64_t R = z.size(0), C = z.size(1);
  dispatch_floating(z.dtype(), "affine_act", [&]<class T>() {
    const T* zp = ptr<T>(z);
    T* op = ptr<T>(out);
    const T* sc = ptr<T>(scale);
    const T* sh = ptr<T>(shift);
    const T sl = static_cast<T>(slope);
    dispatch_act(act, [&]<Activation A>() {
      const int64_t rows = chunk_rows(R, C);
      run_items((R + rows - 1) / rows, R * C, [&](int64_t ch) {
        const int64_t r1 = std::min(R, (ch + 1) * rows);
        for (int64_t r = ch * rows; r < r1; ++r) {
          const T* zr = zp + r * C;
          T* orow = op + r * C;
          for (int64_t c = 0; c < C; ++c) orow[c] = act_fwd(sc[c] * zr[c] + sh[c], A, sl);
        }
      });
    });
  });
}

template <>
void act_backward_reduce<CpuBackend>(const Tensor& gy, const Tensor& z, const Tensor& scale, const Tensor& shift,
                                     const Tensor& center, const Tensor& invstd, Activation act, double slope,
                                     const Tensor& sum_g, const Tensor& sum_gx, const Tensor& gz, const Tensor& coef,
                                     PointnetImpl path) {
  if (path == PointnetImpl::Generic) {
    return generic_act_backward_reduce<CpuBackend>(gy, z, scale, shift, center, invstd, act, slope, sum_g, sum_gx, gz,
                                                   coef);
  }
  const int64_t R = z.size(0), C = z.size(1);
  dispatch_floating(z.dtype(), "act_backward_reduce", [&]<class T>() {
    const T* gyp = ptr<T>(gy);
    const T* zp = ptr<T>(z);
    const T* sc = ptr<T>(scale);
    const T* sh = ptr<T>(shift);
    const T* ce = ptr<T>(center);
    const T* iv = ptr<T>(invstd);
    T* gzp = ptr<T>(gz);
    const T* co = ptr<T>(coef);
    const bool want_x = sum_gx.defined();
    const T sl = static_cast<T>(slope);
    std::vector<double> s, sx;
    auto run = [&]<Activation A, bool WX, bool WZ>() {
      chunked_sums(R, C, s, sx, [&](int64_t r0, int64_t r1, double* as, double* asx) {
        for_row_blocks(r0, r1, [&]<int K>(int64_t r) {
          const T* gr = gyp + r * C;
          const T* zr = zp + r * C;
          T* gzr = WZ ? gzp + r * C : nullptr;
          for (int64_t c = 0; c < C; ++c) {
            double a = as[c], ax = WX ? asx[c] : 0.0;
            unrolled<K>([&](int64_t j) {
              const int64_t o = j * C + c;
              const T gu = grad_u(gr[o], zr[o], sc[c], sh[c], A, sl);
              a += static_cast<double>(gu);
              if constexpr (WX) ax += static_cast<double>(gu) * static_cast<double>((zr[o] - ce[c]) * iv[c]);
              if constexpr (WZ) gzr[o] = (co ? co[c] : T(1)) * gu;
            });
            as[c] = a;
            if constexpr (WX) asx[c] = ax;
          }
        });
      });
    };
    dispatch_act(act, [&]<Activation A>() {
      if (want_x) {
        gzp ? run.template operator()<A, true, true>() : run.template operator()<A, true, false>();
      } else {
        gzp ? run.template operator()<A, false, true>() : run.template operator()<A, false, false>();
      }
    });
    T* sg = ptr<T>(sum_g);
    T* sgx = ptr<T>(sum_gx);
    for (int64_t c = 0; c < C; ++c) {
      sg[c] = static_cast<T>(s[c]);
      if (sgx) sgx[c] = static_cast<T>(sx[c]);
    }
  });
}

template <>
void bn_backward_apply<CpuBackend>(const Tensor& gy, const Tensor& z, const Tensor& scale, const Tensor& shift,
                                   const Tensor& center, const Tensor& invstd, Activation act, double slope, const Tensor& cb,
                                   const Tensor& cd, const Tensor& gz, PointnetImpl path) {
  if (path == PointnetImpl::Generic) {
    return generic_bn_backward_apply<CpuBackend>(gy, z, scale, shift, center, invstd, act, slope, cb, cd, gz);
  }
  const int64_t R = z.size(0), C = z.size(1);
  dispatch_floating(z.dtype(), "bn_backward_apply", [&]<class T>() {
    const T* gyp = ptr<T>(gy);
    const T* zp = ptr<T>(z);
    const T* sc = ptr<T>(scale);
    const T* sh = ptr<T>(shift);
    const T* ce = ptr<T>(center);
    const T* iv = ptr<T>(invstd);
    const T* b = ptr<T>(cb);
    const T* d = ptr<T>(cd);
    T* gzp = ptr<T>(gz);
    const T sl = static_cast<T>(slope);
    dispatch_act(act, [&]<Activation A>() {
      const int64_t rows = chunk_rows(R, C);
      run_items((R + rows - 1) / rows, R * C, [&](int64_t ch) {
        const int64_t r1 = std::min(R, (ch + 1) * rows);
        for (int64_t r = ch * rows; r < r1; ++r) {
          const int64_t o = r * C;
          for (int64_t c = 0; c < C; ++c) {
            gzp[o + c] = bn_bwd_elem(gyp[o + c], zp[o + c], sc[c], sh[c], ce[c], iv[c], b[c], d[c], A, sl);
          }
        }
      });
    });
  });
}

template <>
void max_pool_points<CpuBackend>(const Tensor& x, const Tensor& values, const Tensor& indices, PointnetImpl path, int) {
  if (path == PointnetImpl::Generic) return generic_max_pool_points<CpuBackend>(x, values, indices);
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
  constexpr int64_t kBlock = 64;
  const int64_t nblk = (C + kBlock - 1) / kBlock;
  if (N > INT32_MAX) return generic_max_pool_points<CpuBackend>(x, values, indices);
  dispatch_floating(x.dtype(), "max_pool_points", [&]<class T>() {
    // Index lanes as wide as the values so that the compare/blend loop vectorises.
    using I = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
    const T* xp = ptr<T>(x);
    T* vp = ptr<T>(values);
    int64_t* ip = ptr<int64_t>(indices);
    run_items(B * nblk, B * N * C, [&](int64_t item) {
      const int64_t b = item / nblk, c0 = (item % nblk) * kBlock, c1 = std::min(C, c0 + kBlock);
      const int64_t w = c1 - c0;
      T best[kBlock];
      I bi[kBlock];
      const T* base = xp + b * N * C + c0;
      for (int64_t j = 0; j < w; ++j) {
        best[j] = base[j];
        bi[j] = 0;
      }
      for (int64_t n = 1; n < N; ++n) {
        const T* row = base + n * C;
        const I nn = static_cast<I>(n);
        for (int64_t j = 0; j < w; ++j) {
          const T v = row[j];
          const T bj = best[j];
          // Ascending scan: strict > keeps the lowest index on ties; a NaN replaces a number.
          // Bitwise (not short-circuit) logic keeps the loop free of branches.
          const bool take = (v > bj) | ((v != v) & (bj == bj));
          best[j] = take ? v : bj;
          bi[j] = take ? nn : bi[j];
        }
      }
      for (int64_t j = 0; j < w; ++j) {
        vp[b * C + c0 + j] = best[j];
        ip[b * C + c0 + j] = static_cast<int64_t>(bi[j]);
      }
    });
  });
}

PG_INSTANTIATE_LAUNCHERS(PG_POINTNET_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
