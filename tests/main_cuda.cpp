// CUDA parity tests. Debian's Catch2 v2 has no SKIP(): without a usable device this executable
// prints the reason and exits 77, which ctest reports as "skipped" (SKIP_RETURN_CODE 77).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "core/cuda_context.h"

int main(int argc, char** argv) {
  if (!pg::cuda::is_available()) {
    std::printf("SKIPPED: CUDA parity tests: %s\n", pg::cuda::unavailable_reason().c_str());
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
