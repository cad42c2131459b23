// Shared bodies of the raw copy (strided, broadcasting, dtype-converting) and fill kernels.
#pragma once

#include <limits>
#include <type_traits>

#include "core/copy_kernels.h"
#include "core/indexer.h"
#include "core/parallel_for.h"

namespace pg::detail {

// Element conversion of copies between dtypes. Floating → integer saturates to the integer's
// range and maps NaN to 0 — what the CUDA conversion instruction (cvt.rzi) does — on both
// backends; a plain cast would be undefined behaviour on the host for out-of-range values (x86
// gives INT_MIN), so CPU and CUDA results differed.
template <class TD, class TS>
PG_HD PG_INLINE TD convert_value(TS v) {
  if constexpr (std::is_same_v<TD, bool>) {
    return v != TS(0);
  } else if constexpr (std::is_integral_v<TD> && std::is_floating_point_v<TS>) {
    if (v != v) return TD(0);
    // lowest() is a power of two (or 0): exact in TS. max() may round up to the next power
    // of two in TS, so `>=` catches every value past it.
    if (v <= static_cast<TS>(std::numeric_limits<TD>::lowest())) return std::numeric_limits<TD>::lowest();
    if (v >= static_cast<TS>(std::numeric_limits<TD>::max())) return std::numeric_limits<TD>::max();
    return static_cast<TD>(v);
  } else {
    return static_cast<TD>(v);
  }
}

template <class TD, class TS>
struct CopyContiguousBody {
  TD* dst;
  const TS* src;
  PG_HD void operator()(int64_t i) const { dst[i] = convert_value<TD>(src[i]); }
};

template <class TD, class TS>
struct CopyStridedBody {
  TD* dst;
  const TS* src;
  StridedIndexer<2> ix;
  PG_HD void operator()(int64_t i) const {
    int64_t o[2];
    ix.offsets(i, o);
    dst[o[0]] = convert_value<TD>(src[o[1]]);
  }
};

template <class T>
struct FillBody {
  T* dst;
  StridedIndexer<1> ix;
  T value;
  PG_HD void operator()(int64_t i) const {
    int64_t o[1];
    ix.offsets(i, o);
    dst[o[0]] = value;
  }
};

template <class Backend>
void copy_same_device(const Tensor& dst, const Tensor& src) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  const bool contiguous = dst.is_contiguous() && src.is_contiguous() && src.shape() == dst.shape();
  dispatch_all(dst.dtype(), "copy", [&]<class TD>() {
    dispatch_all(src.dtype(), "copy", [&]<class TS>() {
      TD* d = static_cast<TD*>(dst.raw_data());
      const TS* s = static_cast<const TS*>(src.raw_data());
      if (contiguous) {
        parallel_for<Backend>(n, CopyContiguousBody<TD, TS>{d, s});
      } else {
        const auto ix =
            make_indexer<2>(dst.shape(), {dst.strides(), broadcast_strides(src, dst.shape(), "copy")}, "copy");
        parallel_for<Backend>(n, CopyStridedBody<TD, TS>{d, s, ix});
      }
    });
  });
}

template <class Backend>
void fill_on_device(const Tensor& dst, double value) {
  const int64_t n = dst.numel();
  if (n == 0) return;
  dispatch_all(dst.dtype(), "fill", [&]<class T>() {
    const auto ix = make_indexer<1>(dst.shape(), {dst.strides()}, "fill");
    parallel_for<Backend>(n, FillBody<T>{static_cast<T*>(dst.raw_data()), ix, convert_value<T>(value)});
  });
}

}  // namespace pg::detail
