// Memory allocators. CPU: 64-byte aligned blocks. CUDA: a caching allocator with size-binned
// free lists per stream (cudaMalloc/cudaFree in a training loop would serialise the GPU).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/cuda_context.h"

namespace pg {

// Alignment of every CPU block: one cache line, enough for AVX-512 loads.
constexpr size_t kCpuAlignment = 64;

// Blocks of 1 MiB or more are 2 MiB aligned and cached after free for reuse (see
// core/allocator_cpu.cpp); smaller ones come straight from the C allocator.
void* cpu_allocate(size_t nbytes);
void cpu_free(void* p);
// Returns the cached free large blocks to the system; bytes currently cached.
void cpu_empty_cache();
size_t cpu_cached_bytes();

// Poison mode (a testing aid): when on, every block handed out by cpu_allocate and
// cuda::caching_allocate (fresh or reused from a cache) is filled with 0xFF bytes, which read as
// NaN in float32 and float64 and as -1 in integer types. A kernel that leaves part of its output
// unwritten then shows NaN/-1 instead of a plausible stale value. Off by default; the
// environment variable PG_POISON_ALLOC=1 turns it on at start-up. Costs one memset per
// allocation, so keep it off in benchmarks and training.
void set_allocator_poison(bool on);
bool allocator_poison();
// The byte written by poison mode.
constexpr unsigned char kPoisonByte = 0xFF;

namespace cuda {

struct AllocatorStats {
  size_t allocated = 0;        // bytes handed out to tensors right now
  size_t reserved = 0;         // bytes obtained from cudaMalloc (in use + cached)
  size_t peak_allocated = 0;   // high-water mark of `allocated`
  size_t peak_reserved = 0;    // high-water mark of `reserved`
  uint64_t num_allocs = 0;     // allocation requests served
  uint64_t num_cache_hits = 0; // requests served from a cached block
  uint64_t num_device_mallocs = 0;  // cudaMalloc calls
  uint64_t num_device_frees = 0;    // cudaFree calls
  uint64_t num_deferred_frees = 0;  // frees that waited for other streams (record_stream)
};

// Allocates `nbytes` on device `device` for use on `stream`. A freed block returns to the
// pool of the stream it was allocated for and is reused only for that stream (pools are keyed
// by the stream's unique id, so a new stream that happens to get a destroyed stream's handle
// does not inherit its blocks).
//
// PG_CUDA_NO_CACHING=1 (read once at start-up; a debugging aid, like PyTorch's
// PYTORCH_NO_CUDA_MEMORY_CACHING) turns the cache off: every block is one cudaMalloc of exactly
// `nbytes`, given back with cudaFree when freed (after the streams that used it, if
// record_stream was called). Memory checkers (compute-sanitizer, ASan on the CUDA emulator)
// then see each tensor's own bounds instead of a rounded, recycled block.
void* caching_allocate(size_t nbytes, int device, StreamHandle stream);
// Whether the cache is off (PG_CUDA_NO_CACHING=1 at start-up, or set_caching_enabled(false)).
bool caching_disabled();
// Turns the cache on or off at run time (tests of either behaviour); turning it off first
// returns every cached block to the driver. Blocks live across the switch are freed by the
// rule in force when they are freed.
void set_caching_enabled(bool on);
void caching_free(void* p);
// Marks the live block `p` as used by `stream` too (PyTorch's record_stream): when it is
// freed, it is reused only after the work queued on every such stream up to the free has
// completed (an event per stream). Without it, the owner stream could reuse the block while
// another stream still reads it.
void record_stream(void* p, StreamHandle stream);

AllocatorStats allocator_stats();
void reset_peak_stats();
// Returns every cached (unused) block to the driver (waits for deferred ones first).
void empty_cache();

// The size a request is rounded to (exposed for tests): multiples of 512 B up to 1 MiB,
// multiples of 128 KiB above.
size_t round_allocation_size(size_t nbytes);

}  // namespace cuda
}  // namespace pg
