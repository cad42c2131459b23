// PG_CUDA_CHECK / PG_CUDA_LAUNCH_CHECK for CUDA runtime calls. Only for PG_WITH_CUDA sources.
#pragma once

#include <cuda_runtime.h>

#include "core/error.h"

#define PG_CUDA_CHECK(call)                                                                  \
  do {                                                                                       \
    cudaError_t pg_err_ = (call);                                                            \
    if (pg_err_ != cudaSuccess) {                                                            \
      cudaGetLastError(); /* reported here: not again by the next unrelated check */         \
      ::pg::detail::throw_error(__FILE__, __LINE__, #call,                                   \
                                ::pg::detail::concat("CUDA error ", cudaGetErrorName(pg_err_), \
                                                     ": ", cudaGetErrorString(pg_err_)));    \
    }                                                                                        \
  } while (0)

// After every kernel launch: reports bad launch configurations immediately.
#define PG_CUDA_LAUNCH_CHECK() PG_CUDA_CHECK(cudaGetLastError())
