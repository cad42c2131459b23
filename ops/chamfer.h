// Chamfer distance and Hausdorff distance between point clouds, CPU and CUDA.
//
//   ChamferResult chamfer(a [B, N, 3], b [B, M, 3], opts)
//     dist_a [B, N]: for every point of a, the SQUARED distance to its nearest point of b;
//     idx_a  [B, N]: int64 index of that point in b (ties → lower index);
//     dist_b [B, M], idx_b [B, M]: the same from b to a.
//     loss (METHODS.md §1.2: squared distances, the two directional means SUMMED, no ½):
//       reduction mean: loss = mean over all B·N of dist_a + mean over all B·M of dist_b   (0-dim)
//                       (equal cloud sizes: the batch mean of the per-cloud Chamfer distances)
//       reduction sum:  loss = Σ dist_a + Σ dist_b                                          (0-dim)
//       reduction none: loss [B], loss[b] = mean_i dist_a[b,i] + mean_j dist_b[b,j]
//     direction a_to_b keeps only the dist_a terms (dist_b / idx_b undefined), b_to_a only the
//     dist_b terms. PU-GAN's training Chamfer (½·(fwd+bwd)) is 0.5 × this loss.
//   Sums accumulate in float64 (fixed order per backend) and are stored in the input dtype.
//
//   Tensor hausdorff(a, b, opts)
//     per cloud with f(x) = x (squared = true, the default) or sqrt(x) (squared = false,
//     Euclidean): h_a = f(max_i dist_a[b,i]), h_b = f(max_j dist_b[b,j]);
//     combine max (classic Hausdorff): h = max(h_a, h_b); combine sum (PU-GAN's evaluation HD,
//     METHODS.md §9.4, squared): h = h_a + h_b; direction a_to_b / b_to_a: h = h_a / h_b
//     (a_to_b with squared distances and reduction mean is SampleNet's Lm(a, b)).
//     reduction mean → 0-dim batch mean, sum → 0-dim batch sum, none → [B].
//
// Gradients (first order) w.r.t. both clouds through the distances; indices carry none:
//   ∂dist_a[b,i]/∂a[b,i] = 2 (a_i − b_{idx_a}),  ∂/∂b[b,idx_a] = −2 (a_i − b_{idx_a}).
// loss, dist_a and dist_b are all differentiable outputs. Hausdorff sends the gradient to the
// arg-max point (lowest index on ties; combine max: direction a on ties); Euclidean adds the
// factor 1/(2·sqrt(max)) (0 where the max is 0). The CPU backward is deterministic; CUDA uses
// atomicAdd for the scatter into the other cloud.
//
// Inputs and errors as for knn (ops/knn.h): float32/float64 [B, n, 3], same dtype/device/batch,
// non-empty clouds, finite coordinates (unless check_finite is false).
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/op_enums.h"

namespace pg {

using kernels::ChamferReduction;  // { mean, sum, none } (kernels/op_enums.h)
enum class ChamferDirection : uint8_t { both, a_to_b, b_to_a };
using kernels::HausdorffCombine;  // { max, sum } (kernels/op_enums.h)

// Strategy override for tests and benchmarks.
//   Tiled:   CUDA, both directions in one launch, the other cloud tiled through shared memory.
//   Generic: the shared thread-per-point body (CPU reference; CUDA: two naive launches).
//   Tree:    CPU, each direction through the k-d tree kNN (KnnImpl::Tree); CUDA: as Auto.
// On the CPU Tiled forces the tiled brute-force kNN; Auto picks it or the tree by size (ops/knn.h).
using kernels::ChamferImpl;  // { Auto, Tiled, Generic, Tree } (kernels/op_enums.h)

struct ChamferOptions {
  ChamferReduction reduction = ChamferReduction::mean;
  ChamferDirection direction = ChamferDirection::both;
  bool check_finite = true;
  ChamferImpl impl = ChamferImpl::Auto;
};

struct ChamferResult {
  Tensor loss;    // 0-dim (mean, sum) or [B] (none)
  Tensor dist_a;  // [B, N] squared NN distances a → b (undefined for b_to_a)
  Tensor idx_a;   // [B, N] int64 into b
  Tensor dist_b;  // [B, M] squared NN distances b → a (undefined for a_to_b)
  Tensor idx_b;   // [B, M] int64 into a
};

ChamferResult chamfer(const Tensor& a, const Tensor& b, const ChamferOptions& opts = {});

struct HausdorffOptions {
  bool squared = true;
  HausdorffCombine combine = HausdorffCombine::max;
  ChamferReduction reduction = ChamferReduction::mean;
  ChamferDirection direction = ChamferDirection::both;
  bool check_finite = true;
  ChamferImpl impl = ChamferImpl::Auto;
};

Tensor hausdorff(const Tensor& a, const Tensor& b, const HausdorffOptions& opts = {});

}  // namespace pg
