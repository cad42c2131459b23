// Explicit instantiation of a kernel family's launchers for one backend, from the family's
// launcher list in kernels/<family>.h:
//   #define PG_KNN_LAUNCHERS(X, B) X(B, void, knn_forward, (const Tensor&, ...)) X(B, bool, all_finite, (const Tensor&))
//   PG_INSTANTIATE_LAUNCHERS(PG_KNN_LAUNCHERS, CpuBackend)      // in kernels/cpu/knn.cpp
//   PG_INSTANTIATE_LAUNCHERS(PG_KNN_LAUNCHERS, CudaBackend)     // in kernels/cuda/knn.cu
//   PG_EXTERN_LAUNCHERS(PG_KNN_LAUNCHERS, CpuBackend)           // use another file's instantiations
// Write it inside namespace pg::kernels, after the definitions (kernels/common/<family>_impl.h
// and any backend specialisations). A launcher that a backend specialises explicitly stays in
// the list: instantiating an explicit specialisation has no effect. An entry whose types
// disagree with the launcher's declaration fails to compile, so the list cannot drift.
#pragma once

#define PG_INSTANTIATE_ONE_(B, R, NAME, PARAMS) template R NAME<B> PARAMS;
#define PG_EXTERN_ONE_(B, R, NAME, PARAMS) extern template R NAME<B> PARAMS;

#define PG_INSTANTIATE_LAUNCHERS(LIST, B) LIST(PG_INSTANTIATE_ONE_, B)
#define PG_EXTERN_LAUNCHERS(LIST, B) LIST(PG_EXTERN_ONE_, B)
