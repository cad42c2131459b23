#include "core/parallel_for.h"

#include <omp.h>

#include <atomic>

#include "core/error.h"

namespace pg {

namespace {
std::atomic<int> g_threads{0};
}

int cpu_num_threads() {
  const int n = g_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
}

void set_cpu_num_threads(int n) {
  PG_CHECK(n >= 0, "set_cpu_num_threads: thread count must be >= 0 (0 = all cores), got ", n);
  g_threads.store(n, std::memory_order_relaxed);
}

}  // namespace pg
