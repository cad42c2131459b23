// Puts the CUDA caching allocator in a given mode for one test and restores the previous mode
// (the sanitized emulator run turns caching off with PG_CUDA_NO_CACHING=1; tests of the cache
// itself need it on, tests of the uncached mode need it off).
#pragma once

#include "core/allocator.h"

namespace pg::test {

class CachingMode {
 public:
  explicit CachingMode(bool on) : was_on_(!cuda::caching_disabled()) { cuda::set_caching_enabled(on); }
  ~CachingMode() { cuda::set_caching_enabled(was_on_); }
  CachingMode(const CachingMode&) = delete;
  CachingMode& operator=(const CachingMode&) = delete;

 private:
  bool was_on_;
};

}  // namespace pg::test
