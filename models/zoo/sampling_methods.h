// The point samplers compared by the SampleNet protocols, as one interface: a method turns
// clouds P [B, N, 3] into m point indices per cloud (a subset of the input).
//
//   random      m distinct indices per cloud, uniformly (a random permutation's first m),
//               drawn from `gen`
//   fps         farthest point sampling from index 0 (the TF FPS op's start, METHODS.md §5.5)
//   snet, progressive, samplenet
//               a learned sampler's matched + FPS-completed subset (LearnedSampler::sample);
//               the sampler's kind must fit the method: snet ↔ "snet", progressive ↔
//               "progressivenet", samplenet ↔ "samplenet" (fixed or progressive)
//   apsnet      APSNet-M: the APSNet sampler's matched + FPS-completed subset (samplenet.h)
//
// Errors (pg::Error naming the method and the value): an unknown method, a learned method
// without a sampler or with a sampler of another kind, m < 1, m > N, NaN/Inf coordinates.
#pragma once

#include <cstdint>
#include <string>

#include "core/random.h"
#include "models/zoo/samplenet.h"

namespace pg::models {

bool is_learned_method(const std::string& method);  // snet | progressive | samplenet | apsnet
// The registry name a learned method's checkpoint must hold.
const char* learned_method_model(const std::string& method);
// Throws unless `sampler` (may be null) fits `method` (see above).
void check_sampling_method(const std::string& method, const LearnedSampler* sampler);

// Indices [B, m] int64 into points' point dimension.
Tensor sample_indices(const std::string& method, const LearnedSampler* sampler, const Tensor& points, int64_t m,
                      Generator* gen = nullptr);
// points [B, N, 3] gathered at idx [B, m] → [B, m, 3].
Tensor gather_points(const Tensor& points, const Tensor& idx);

}  // namespace pg::models
