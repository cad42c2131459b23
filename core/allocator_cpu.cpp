#include <cstdlib>
#include <new>

#include "core/allocator.h"
#include "core/error.h"

namespace pg {

void* cpu_allocate(size_t nbytes) {
  if (nbytes == 0) return nullptr;
  const size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
  void* p = std::aligned_alloc(kCpuAlignment, rounded);
  PG_CHECK(p != nullptr, "cpu_allocate: out of memory allocating ", nbytes, " bytes");
  return p;
}

void cpu_free(void* p) { std::free(p); }

}  // namespace pg
