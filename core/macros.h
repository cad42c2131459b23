// Portability macros shared by host-only and CUDA translation units.
#pragma once

// PG_WITH_CUDA is always defined (0 or 1) so both branches type-check.
#ifndef PG_WITH_CUDA
#define PG_WITH_CUDA 0
#endif
// PG_CUDA_EMULATE: 1 when the CUDA backend runs on the host emulator (tests/cuda_emu).
#ifndef PG_CUDA_EMULATE
#define PG_CUDA_EMULATE 0
#endif

#if defined(__CUDACC__)
#define PG_HD __host__ __device__
#define PG_DEVICE __device__
#define PG_INLINE __forceinline__
#else
#define PG_HD
#define PG_DEVICE
#define PG_INLINE inline
#endif

// Maximum rank handled by the strided kernels (indexers carry fixed-size arrays).
#define PG_MAX_DIMS 8
