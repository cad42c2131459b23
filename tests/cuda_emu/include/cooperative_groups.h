// Emulated cooperative groups: this_grid().sync() (tests/cuda_emu).
#pragma once

#include "cuda_emu/device.h"

namespace cooperative_groups {
class grid_group {
 public:
  // A grid-wide barrier: every thread of every block of a cooperative launch.
  void sync() const { ::pg_emu::block_barrier(::pg_emu::BarrierOp::Grid, 0); }
  unsigned long long size() const {
    const auto& b = ::pg_emu::current_block();
    return 1ull * b.block_dim.x * b.block_dim.y * b.block_dim.z * b.grid_dim.x * b.grid_dim.y * b.grid_dim.z;
  }
};
inline grid_group this_grid() {
  return {};
}
}  // namespace cooperative_groups
