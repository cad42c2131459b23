#include <cstdio>

#include "core/cuda_context.h"
#include "core/parallel_for.h"
#include "tools/pg/commands.h"

namespace pg::cli {

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Show the build configuration and the available devices");
  cmd->callback([] {
    std::printf("pointgrad\n");
    std::printf("  CUDA backend compiled: %s\n", PG_WITH_CUDA ? "yes" : "no");
    std::printf("  CUDA devices: %d%s%s\n", cuda::device_count(), cuda::is_available() ? "" : " — ",
                cuda::is_available() ? "" : cuda::unavailable_reason().c_str());
    std::printf("  CPU threads: %d\n", cpu_num_threads());
  });
}

}  // namespace pg::cli
