// The launch-path (Impl) and mode enums of the op families, one definition each. The kernels
// own them (layering: core <- autograd <- kernels <- ops) and switch on them directly; the
// public op headers re-export them into namespace pg with a using-declaration, so users write
// pg::KnnImpl::Generic and the op passes it to the launcher unchanged (no mirrored enum, no
// conversion switch). What each value does is documented in the op header (ops/<family>.h)
// and, for the kernel side, in kernels/<family>.h. Values are appended, never reordered:
// benchmarks and tests print them as integers.
#pragma once

#include <cstdint>

namespace pg::kernels {

enum class KnnImpl : uint8_t { Auto, Register, List, Generic, Tiled, Tree, Grid };  // ops/knn.h
enum class FpsImpl : uint8_t { Auto, OnChip, Global, Baseline, Generic };  // ops/fps.h
enum class ChamferImpl : uint8_t { Auto, Tiled, Generic, Tree };           // ops/chamfer.h
enum class ChamferReduction : uint8_t { mean, sum, none };                 // ops/chamfer.h
enum class HausdorffCombine : uint8_t { max, sum };                        // ops/chamfer.h
enum class SoftmaxImpl : uint8_t { Auto, WarpRow, BlockRow, Column };      // ops/nn.h
enum class P2fImpl : uint8_t { Auto, BruteForce };                         // ops/p2f.h
enum class PointnetImpl : uint8_t { Auto, Generic, Fast };                 // ops/pointnet.h
enum class Activation : uint8_t { none, relu, leaky_relu, selu };          // ops/pointnet.h
enum class EmdMode : uint8_t { Default, Bijective, Msn };                  // ops/emd.h
enum class EmdCudaPath : uint8_t { Auto, Cta, MultiCta };                  // ops/emd.h
enum class EmdCpuPath : uint8_t { Auto, Dense, Sparse };                 // ops/emd.h

}  // namespace pg::kernels
