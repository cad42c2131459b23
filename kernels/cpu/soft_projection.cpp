// CPU soft projection. Work decomposition: the forward runs the shared per-query body over all
// B·M queries (OpenMP, 256 queries per chunk). The backward is deterministic: pass 1 (parallel
// over queries) adds the query gradient, writes each query's K point contributions into a
// scratch [B·M·K, 3] and its ∂L/∂σ into a scratch [B·M]; pass 2 (parallel over clouds) scatters
// the contributions serially in (query, neighbour) order and sums each cloud's ∂L/∂σ; the cloud
// sums are then added in cloud order.
#include "kernels/soft_projection.h"

#include <vector>

#include "core/dtype.h"
#include "core/parallel_for.h"
#include "kernels/common/soft_projection_impl.h"

namespace pg::kernels {

namespace {
constexpr int64_t kQueryGrain = 256;
}

template <>
struct SoftProjectionExec<CpuBackend> {
  static void forward(const Tensor& query, const Tensor& points, const Tensor& idx, double sigma, bool hard,
                      const Tensor& projected, const Tensor& weights) {
    const int64_t B = query.size(0), M = query.size(1), N = points.size(1), K = idx.size(2);
    if (B * M == 0) return;
    dispatch_floating(query.dtype(), "soft_projection", [&]<class T>() {
      const T* q = query.data<T>();
      const T* p = points.data<T>();
      const int64_t* ix = idx.data<int64_t>();
      T* w = weights.data<T>();
      T* r = projected.data<T>();
      const T sg = static_cast<T>(sigma);
      Parallel<CpuBackend>::run(
          B * M,
          [=](int64_t i) {
            const int64_t b = i / M;
            sp_detail::forward_query<T>(q + i * 3, p + b * N * 3, ix + i * K, K, sg, hard, w + i * K, r + i * 3);
          },
          kQueryGrain);
    });
  }

  static void backward(const Tensor& query, const Tensor& points, const Tensor& idx, const Tensor& weights,
                       double sigma, bool hard, const Tensor& g_proj, const Tensor& g_weights, const Tensor& grad_query,
                       const Tensor& grad_points, const Tensor& dsigma) {
    const int64_t B = query.size(0), M = query.size(1), N = points.size(1), K = idx.size(2);
    if (B * M == 0) return;
    dispatch_floating(query.dtype(), "soft_projection_backward", [&]<class T>() {
      const T* q = query.data<T>();
      const T* p = points.data<T>();
      const int64_t* ix = idx.data<int64_t>();
      const T* w = weights.data<T>();
      const T* gr = g_proj.data<T>();
      const T* gw = g_weights.defined() ? g_weights.data<T>() : nullptr;
      T* gq = grad_query.defined() ? grad_query.data<T>() : nullptr;
      const bool want_points = grad_points.defined();
      const bool want_sigma = dsigma.defined();
      std::vector<T> contrib(want_points ? static_cast<size_t>(B * M * K * 3) : 0);
      std::vector<T> dsig_q(static_cast<size_t>(B * M), T(0));
      T* cp = contrib.data();
      T* dq = dsig_q.data();
      const T sg = static_cast<T>(sigma);
      Parallel<CpuBackend>::run(
          B * M,
          [=](int64_t i) {
            const int64_t b = i / M;
            dq[i] = sp_detail::backward_query<T>(
                q + i * 3, p + b * N * 3, ix + i * K, K, w + i * K, gr + i * 3, gw != nullptr ? gw + i * K : nullptr,
                sg, hard, gq != nullptr ? gq + i * 3 : nullptr, want_points, sp_detail::SlotSink<T>{cp + i * K * 3});
          },
          kQueryGrain);
      std::vector<T> dsig_b(static_cast<size_t>(B), T(0));
      T* db = dsig_b.data();
      T* gp = want_points ? grad_points.data<T>() : nullptr;
      Parallel<CpuBackend>::run(
          B,
          [=](int64_t b) {
            if (gp != nullptr) {
              for (int64_t e = b * M * K; e < (b + 1) * M * K; ++e) {
                T* g = gp + (b * N + ix[e]) * 3;
                g[0] += cp[e * 3 + 0];
                g[1] += cp[e * 3 + 1];
                g[2] += cp[e * 3 + 2];
              }
            }
            T s = 0;
            for (int64_t i = b * M; i < (b + 1) * M; ++i) s += dq[i];
            db[b] = s;
          },
          1);
      if (want_sigma) {
        T total = 0;
        for (int64_t b = 0; b < B; ++b) total += db[b];
        T* out = dsigma.data<T>();
        out[0] += total;
      }
    });
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_SOFT_PROJECTION_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
