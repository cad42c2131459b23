// CPU first-occurrence unique: the shared serial body, one OpenMP iteration per cloud.
#include "kernels/common/matching_impl.h"

namespace pg::kernels {

template <>
struct MatchingExec<CpuBackend> {
  static void unique(const Tensor& nn, int64_t N, int64_t m, const Tensor& uniq, const Tensor& count) {
    const int64_t B = nn.size(0), M = nn.size(1);
    Tensor seen = zeros({B, N}, TensorOptions(DType::u8, nn.device()));
    Parallel<CpuBackend>::run(B,
                              match_detail::UniqueSerialBody{nn.data<int64_t>(), seen.data<uint8_t>(),
                                                             uniq.data<int64_t>(), count.data<int64_t>(), M, N, m},
                              2);
  }
};

PG_INSTANTIATE_LAUNCHERS(PG_MATCHING_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
