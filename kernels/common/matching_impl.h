// Shared PG_HD body of the first-occurrence unique (one thread per cloud, a byte flag per
// reference point in a zeroed scratch [B, N]): the CPU path and the reference semantics of the
// CUDA block-per-cloud kernel. The launcher is defined on top of MatchingExec<Backend>,
// specialised in kernels/cpu/matching.cpp and kernels/cuda/matching.cu.
#pragma once

#include <cstdint>

#include "core/macros.h"
#include "core/parallel_for.h"
#include "kernels/matching.h"

namespace pg::kernels {
namespace match_detail {

struct UniqueSerialBody {
  const int64_t* nn;  // [B, M]
  uint8_t* seen;      // [B, N], zero on entry
  int64_t* uniq;      // [B, M]
  int64_t* count;     // [B]
  int64_t M, N, m;
  PG_HD void operator()(int64_t b) const {
    const int64_t* in = nn + b * M;
    uint8_t* f = seen + b * N;
    int64_t* out = uniq + b * M;
    int64_t u = 0;
    for (int64_t j = 0; j < M; ++j) {
      const int64_t v = in[j];
      if (f[v] == 0) {
        f[v] = 1;
        out[u++] = v;
      }
    }
    for (int64_t j = u; j < M; ++j) out[j] = out[0];
    count[b] = u < m ? u : m;
  }
};

}  // namespace match_detail

template <class Backend>
struct MatchingExec;

template <class Backend>
void unique_first_occurrence(const Tensor& nn, int64_t N, int64_t m, const Tensor& uniq, const Tensor& count) {
  if (nn.numel() == 0) return;
  MatchingExec<Backend>::unique(nn, N, m, uniq, count);
}

}  // namespace pg::kernels
