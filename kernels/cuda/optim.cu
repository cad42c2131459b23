// CUDA optimizer kernels.
//
// Per-tensor path (OptimImpl::PerTensor): the shared bodies of kernels/common/optim_impl.h in a
// grid-stride kernel, one launch per parameter.
//
// Multi-tensor path (default): a model has tens of small parameters (biases, BN affines), so one
// launch per parameter is dominated by launch latency. Here the parameters of one dtype are cut
// into chunks of kChunk elements, and ONE launch processes up to kMaxBlocks chunks of up to
// kMaxTensors parameters: block b handles chunk block_chunk[b] of parameter block_tensor[b],
// its kThreads threads striding over the chunk's elements (coalesced loads/stores of param,
// grad and state). The tensor table (pointers, sizes, per-tensor step coefficients) travels as
// the kernel's by-value argument (< 4 KB), so no host-to-device copy is needed. A parameter
// larger than the remaining blocks of a launch continues in the next one. The per-element math
// is the very function the CPU runs (sgd_update / adam_update).
#include <algorithm>

#include "core/parallel_for_cuda.cuh"
#include "kernels/common/optim_impl.h"

namespace pg::kernels {
namespace optim_detail {

namespace {

constexpr int kMaxTensors = 24;
constexpr int kMaxBlocks = 320;
constexpr int kThreads = 512;
constexpr int64_t kChunk = 16384;

struct BlockTable {
  uint8_t tensor[kMaxBlocks];
  int32_t chunk[kMaxBlocks];
};

template <class T>
struct SgdArgs {
  T* p[kMaxTensors];
  const T* g[kMaxTensors];
  T* buf[kMaxTensors];
  int64_t n[kMaxTensors];
  bool first[kMaxTensors];
  BlockTable blocks;
  SgdCoef<T> c;
};

template <class T>
struct AdamArgs {
  T* p[kMaxTensors];
  const T* g[kMaxTensors];
  T* m[kMaxTensors];
  T* v[kMaxTensors];
  T* vmax[kMaxTensors];
  int64_t n[kMaxTensors];
  T step_size[kMaxTensors];
  T bc2_sqrt[kMaxTensors];
  BlockTable blocks;
  AdamCoef<T> c;
};

static_assert(sizeof(AdamArgs<double>) <= 4000, "kernel argument too large");
static_assert(sizeof(SgdArgs<double>) <= 4000, "kernel argument too large");

template <class T>
__global__ void __launch_bounds__(kThreads) sgd_multi_kernel(SgdArgs<T> a) {
  const int t = a.blocks.tensor[blockIdx.x];
  const int64_t begin = static_cast<int64_t>(a.blocks.chunk[blockIdx.x]) * kChunk;
  const int64_t end = min(a.n[t], begin + kChunk);
  SgdCoef<T> c = a.c;
  c.first_step = a.first[t];
  T* p = a.p[t];
  const T* g = a.g[t];
  T* buf = a.buf[t];
  for (int64_t i = begin + threadIdx.x; i < end; i += kThreads) sgd_update(p, g, buf, i, c);
}

template <class T>
__global__ void __launch_bounds__(kThreads) adam_multi_kernel(AdamArgs<T> a) {
  const int t = a.blocks.tensor[blockIdx.x];
  const int64_t begin = static_cast<int64_t>(a.blocks.chunk[blockIdx.x]) * kChunk;
  const int64_t end = min(a.n[t], begin + kChunk);
  AdamCoef<T> c = a.c;
  c.step_size = a.step_size[t];
  c.bc2_sqrt = a.bc2_sqrt[t];
  T* p = a.p[t];
  const T* g = a.g[t];
  T* m = a.m[t];
  T* v = a.v[t];
  T* vmax = a.vmax[t];
  for (int64_t i = begin + threadIdx.x; i < end; i += kThreads) adam_update(p, g, m, v, vmax, i, c);
}

// Packs entries (all of dtype T) into launches. `set_slot(args, slot, entry)` fills the tensor
// table, `copy_slot(args, from, to)` moves a partially processed tensor to slot 0 of the next
// launch, `launch(args, nblocks)` runs the kernel.
template <class Args, class Entry, class SetSlot, class CopySlot, class Launch>
void pack_and_launch(const std::vector<const Entry*>& list, Args& args, SetSlot set_slot, CopySlot copy_slot,
                     Launch launch) {
  int nt = 0, nb = 0;
  for (const Entry* e : list) {
    const int64_t n = e->param.numel();
    if (n == 0) continue;
    int slot = nt++;
    set_slot(args, slot, *e);
    const int64_t chunks = (n + kChunk - 1) / kChunk;
    for (int64_t ch = 0; ch < chunks; ++ch) {
      args.blocks.tensor[nb] = static_cast<uint8_t>(slot);
      args.blocks.chunk[nb] = static_cast<int32_t>(ch);
      ++nb;
      const bool last_chunk = ch == chunks - 1;
      if (nb == kMaxBlocks || (nt == kMaxTensors && last_chunk)) {
        launch(args, nb);
        nb = 0;
        if (last_chunk) {
          nt = 0;
        } else {
          // The tensor continues in the next launch, from slot 0.
          copy_slot(args, slot, 0);
          slot = 0;
          nt = 1;
        }
      }
    }
  }
  if (nb > 0) launch(args, nb);
}

template <class T>
void sgd_multi(const std::vector<const SgdEntry*>& list, const SgdHyper& h) {
  SgdArgs<T> args{};
  args.c = make_sgd_coef<T>(h, false);
  pack_and_launch<SgdArgs<T>, SgdEntry>(
      list, args,
      [](SgdArgs<T>& a, int s, const SgdEntry& e) {
        a.p[s] = static_cast<T*>(e.param.raw_data());
        a.g[s] = static_cast<const T*>(e.grad.raw_data());
        a.buf[s] = ptr_or_null<T>(e.momentum_buffer);
        a.n[s] = e.param.numel();
        a.first[s] = e.first_step;
      },
      [](SgdArgs<T>& a, int from, int to) {
        a.p[to] = a.p[from];
        a.g[to] = a.g[from];
        a.buf[to] = a.buf[from];
        a.n[to] = a.n[from];
        a.first[to] = a.first[from];
      },
      [](const SgdArgs<T>& a, int nb) {
        pg::cuda::launch_kernel("sgd_multi_kernel", sgd_multi_kernel<T>, nb, kThreads, 0, current_cuda_stream(), a);
      });
}

template <class T>
void adam_multi(const std::vector<const AdamEntry*>& list, const AdamHyper& h) {
  AdamArgs<T> args{};
  args.c = make_adam_coef<T>(h, 1);
  pack_and_launch<AdamArgs<T>, AdamEntry>(
      list, args,
      [&h](AdamArgs<T>& a, int s, const AdamEntry& e) {
        const AdamCoef<T> c = make_adam_coef<T>(h, e.step);
        a.p[s] = static_cast<T*>(e.param.raw_data());
        a.g[s] = static_cast<const T*>(e.grad.raw_data());
        a.m[s] = static_cast<T*>(e.exp_avg.raw_data());
        a.v[s] = static_cast<T*>(e.exp_avg_sq.raw_data());
        a.vmax[s] = ptr_or_null<T>(e.max_exp_avg_sq);
        a.n[s] = e.param.numel();
        a.step_size[s] = c.step_size;
        a.bc2_sqrt[s] = c.bc2_sqrt;
      },
      [](AdamArgs<T>& a, int from, int to) {
        a.p[to] = a.p[from];
        a.g[to] = a.g[from];
        a.m[to] = a.m[from];
        a.v[to] = a.v[from];
        a.vmax[to] = a.vmax[from];
        a.n[to] = a.n[from];
        a.step_size[to] = a.step_size[from];
        a.bc2_sqrt[to] = a.bc2_sqrt[from];
      },
      [](const AdamArgs<T>& a, int nb) {
        pg::cuda::launch_kernel("adam_multi_kernel", adam_multi_kernel<T>, nb, kThreads, 0, current_cuda_stream(), a);
      });
}

// Splits entries by dtype and runs `run.template operator()<T>(list)` per non-empty group.
template <class Entry, class Run>
void by_dtype(const std::vector<Entry>& entries, Run run) {
  std::vector<const Entry*> f32, f64;
  for (const Entry& e : entries) {
    if (e.param.dtype() == DType::f32) {
      f32.push_back(&e);
    } else {
      PG_CHECK(e.param.dtype() == DType::f64, "optimizer step: parameters must be float32 or float64, got ",
               dtype_name(e.param.dtype()));
      f64.push_back(&e);
    }
  }
  if (!f32.empty()) run.template operator()<float>(f32);
  if (!f64.empty()) run.template operator()<double>(f64);
}

}  // namespace

void sgd_step_multi_tensor_cuda(const std::vector<SgdEntry>& entries, const SgdHyper& h) {
  by_dtype(entries, [&]<class T>(const std::vector<const SgdEntry*>& list) { sgd_multi<T>(list, h); });
}

void adam_step_multi_tensor_cuda(const std::vector<AdamEntry>& entries, const AdamHyper& h) {
  by_dtype(entries, [&]<class T>(const std::vector<const AdamEntry*>& list) { adam_multi<T>(list, h); });
}

}  // namespace optim_detail

PG_INSTANTIATE_LAUNCHERS(PG_OPTIM_LAUNCHERS, CudaBackend)

}  // namespace pg::kernels
