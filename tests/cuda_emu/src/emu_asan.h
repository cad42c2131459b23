// AddressSanitizer hooks of the emulator: stack switches and poisoned buffer tails.
//
// Boost.Context's fcontext backend does not tell ASan when it switches stacks, and ASan then
// mistakes a fiber's frames for the host thread's (false reports after an exception thrown in
// a kernel). Every switch between the scheduler and a CUDA thread is therefore bracketed by
// start_switch (before, naming the destination stack) and finish_switch (after, on the new
// stack). Without ASan every function here is an empty inline.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define PG_EMU_ASAN 1
#else
#define PG_EMU_ASAN 0
#endif

namespace pg_emu::asan {

struct StackBounds {
  const void* bottom = nullptr;  // lowest address
  size_t size = 0;
};

// The calling host thread's own stack.
inline StackBounds host_stack() {
#if PG_EMU_ASAN
  thread_local const StackBounds bounds = [] {
    StackBounds b;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      void* lo = nullptr;
      pthread_attr_getstack(&attr, &lo, &b.size);
      b.bottom = lo;
      pthread_attr_destroy(&attr);
    }
    return b;
  }();
  return bounds;
#else
  return {};
#endif
}

// Before switching to `to`. fake_stack_save: where the leaving context keeps its fake stack
// (nullptr when the leaving context ends with this switch).
inline void start_switch(void** fake_stack_save, StackBounds to) {
#if PG_EMU_ASAN
  __sanitizer_start_switch_fiber(fake_stack_save, to.bottom, to.size);
#else
  (void)fake_stack_save;
  (void)to;
#endif
}

// First thing after arriving on a stack; fake_stack_save as stored by the matching start_switch
// of this context (nullptr on a context's first entry).
inline void finish_switch(void* fake_stack_save) {
#if PG_EMU_ASAN
  __sanitizer_finish_switch_fiber(fake_stack_save, nullptr, nullptr);
#else
  (void)fake_stack_save;
#endif
}

// Marks [p, p + n) unaddressable / addressable again (device-buffer and shared-memory tails
// that rounding would otherwise make silently addressable).
inline void poison(const void* p, size_t n) {
#if PG_EMU_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}
inline void unpoison(const void* p, size_t n) {
#if PG_EMU_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

}  // namespace pg_emu::asan
