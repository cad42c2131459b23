// CPU reductions. Work decomposition (ReduceExec<CpuBackend>):
// * Outputs are grouped into tiles. "Row" layout (the reduced elements of one output are the
//   innermost/contiguous ones, or outputs are not contiguous): a tile is one output, reduced by a
//   sequential loop with 4 independent accumulator lanes (breaks the add latency chain).
//   "Column" layout (consecutive outputs are consecutive in memory, reduced elements are
//   strided, e.g. summing [N, C] over N): a tile is up to 64 consecutive outputs, and the loop
//   over reduced elements updates all 64 accumulators from one contiguous run (vectorisable).
// * When there are few tiles (< 64) and R is large, the reduced range is split into chunks;
//   (tile, chunk) pairs are the parallel work items and each output's chunk partials are then
//   combined in chunk order. Tiles and chunks are derived from the shape only (never from the
//   thread count), so results are bit-identical for any number of OpenMP threads.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "kernels/common/reduce_impl.h"

namespace pg::kernels {

const char* reduce_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::Sum: return "sum";
    case ReduceOp::Mean: return "mean";
    case ReduceOp::LogSumExp: return "logsumexp";
    case ReduceOp::Max: return "max";
    case ReduceOp::Min: return "min";
  }
  return "reduce";
}

Shape reduce_broadcast_strides(const Tensor& t, const Shape& xshape, const std::vector<int64_t>& dims) {
  const size_t nd = xshape.size();
  std::vector<bool> reduced(nd, false);
  for (int64_t d : dims) reduced[d] = true;
  const bool keepdim = t.dim() == static_cast<int64_t>(nd);
  PG_CHECK(keepdim || t.dim() == static_cast<int64_t>(nd - dims.size()),
           "reduce: internal error: gradient of rank ", t.dim(), " for an input of rank ", nd);
  Shape st(nd, 0);
  size_t k = 0;
  for (size_t d = 0; d < nd; ++d) {
    if (keepdim) {
      st[d] = reduced[d] ? 0 : t.strides()[d];
    } else if (!reduced[d]) {
      st[d] = t.strides()[k++];
    }
  }
  return st;
}

namespace reduce_detail {

namespace {

constexpr int64_t kTile = 64;            // outputs per column tile
constexpr int64_t kMinItems = 64;        // split R until there are this many work items...
constexpr int64_t kMinChunk = 4096;      // ...but keep chunks at least this long
constexpr int64_t kSerialWork = 32768;   // total elements below which everything runs serially

// Walks the reduced index space from r0 in row-major order, keeping the element offset.
struct Cursor {
  const StridedIndexer<1>* ix;
  int64_t idx[PG_MAX_DIMS];
  int64_t off = 0;

  Cursor(const StridedIndexer<1>& ixr, int64_t r0) : ix(&ixr) {
    for (int d = ix->ndim - 1; d >= 0; --d) {
      idx[d] = r0 % ix->sizes[d];
      r0 /= ix->sizes[d];
      off += idx[d] * ix->strides[0][d];
    }
  }
  void next() {
    int d = ix->ndim - 1;
    if (d < 0) return;
    ++idx[d];
    off += ix->strides[0][d];
    while (d > 0 && idx[d] == ix->sizes[d]) {
      off -= idx[d] * ix->strides[0][d];
      idx[d] = 0;
      --d;
      ++idx[d];
      off += ix->strides[0][d];
    }
  }
};

// Reduces elements [r0, r1) of the output whose first element is at `base`.
template <class Red>
typename Red::acc_t reduce_row(const Red& red, const typename Red::in_t* base, const StridedIndexer<1>& rix,
                               int64_t r0, int64_t r1) {
  using A = typename Red::acc_t;
  if (rix.ndim <= 1) {
    const int64_t s = rix.ndim ? rix.strides[0][0] : 0;
    A a0 = red.init(), a1 = red.init(), a2 = red.init(), a3 = red.init();
    int64_t r = r0;
    if (s == 1) {
      for (; r + 4 <= r1; r += 4) {
        a0 = red.reduce(a0, base[r], r);
        a1 = red.reduce(a1, base[r + 1], r + 1);
        a2 = red.reduce(a2, base[r + 2], r + 2);
        a3 = red.reduce(a3, base[r + 3], r + 3);
      }
    } else {
      for (; r + 4 <= r1; r += 4) {
        a0 = red.reduce(a0, base[r * s], r);
        a1 = red.reduce(a1, base[(r + 1) * s], r + 1);
        a2 = red.reduce(a2, base[(r + 2) * s], r + 2);
        a3 = red.reduce(a3, base[(r + 3) * s], r + 3);
      }
    }
    for (; r < r1; ++r) a0 = red.reduce(a0, base[r * s], r);
    return red.combine(red.combine(a0, a1), red.combine(a2, a3));
  }
  A a = red.init();
  if (r0 >= r1) return a;  // (an empty reduced dim may make Cursor divide by zero)
  Cursor c(rix, r0);
  for (int64_t r = r0; r < r1; ++r, c.next()) a = red.reduce(a, base[c.off], r);
  return a;
}

// Reduces elements [r0, r1) of w consecutive outputs (unit stride between them) starting at `base`.
template <class Red>
void reduce_tile(const Red& red, const typename Red::in_t* base, int64_t w, const StridedIndexer<1>& rix, int64_t r0,
                 int64_t r1, typename Red::acc_t* acc) {
  for (int64_t j = 0; j < w; ++j) acc[j] = red.init();
  if (r0 >= r1) return;
  Cursor c(rix, r0);
  for (int64_t r = r0; r < r1; ++r, c.next()) {
    const typename Red::in_t* p = base + c.off;
    for (int64_t j = 0; j < w; ++j) acc[j] = red.reduce(acc[j], p[j], r);
  }
}

}  // namespace

template <>
struct ReduceExec<CpuBackend> {
  template <class Red>
  static void run(const ReduceGeom& g, const typename Red::in_t* x, const Red& red) {
    using A = typename Red::acc_t;
    const int64_t n_out = g.n_out, R = g.R;
    // Column layout: outputs contiguous in x, reduced elements strided.
    const bool column = g.outer.ndim > 0 && ReduceGeom::inner_stride(g.outer) == 1 && g.red.ndim > 0 &&
                        ReduceGeom::inner_stride(g.red) != 1 && ReduceGeom::inner_size(g.outer) > 1;
    const int64_t L = ReduceGeom::inner_size(g.outer);  // outputs per innermost row
    const int64_t tiles_per_row = column ? (L + kTile - 1) / kTile : 1;
    const int64_t tiles = column ? (n_out / L) * tiles_per_row : n_out;
    int64_t nchunks = 1;
    if (tiles < kMinItems && R >= 2 * kMinChunk) {
      nchunks = std::min((kMinItems + tiles - 1) / tiles, R / kMinChunk);
    }
    const int64_t chunk = nchunks > 1 ? (R + nchunks - 1) / nchunks : R;
    nchunks = nchunks > 1 ? (R + chunk - 1) / chunk : 1;
    std::vector<A> partial(nchunks > 1 ? static_cast<size_t>(n_out * nchunks) : 0);
    const int64_t items = tiles * nchunks;
    const bool serial = n_out * R < kSerialWork || cpu_num_threads() == 1;

    auto item = [&](int64_t it) {
      const int64_t t = it / nchunks, c = it % nchunks;
      const int64_t r0 = c * chunk, r1 = std::min(R, r0 + chunk);
      if (!column) {
        const A a = reduce_row(red, x + offset_of(g.outer, t), g.red, r0, r1);
        if (nchunks == 1) {
          red.write(t, a);
        } else {
          partial[t * nchunks + c] = a;
        }
        return;
      }
      const int64_t row = t / tiles_per_row, j0 = (t % tiles_per_row) * kTile;
      const int64_t w = std::min(kTile, L - j0), o0 = row * L + j0;
      A acc[kTile];
      reduce_tile(red, x + offset_of(g.outer, o0), w, g.red, r0, r1, acc);
      for (int64_t j = 0; j < w; ++j) {
        if (nchunks == 1) {
          red.write(o0 + j, acc[j]);
        } else {
          partial[(o0 + j) * nchunks + c] = acc[j];
        }
      }
    };
    if (serial) {
      for (int64_t it = 0; it < items; ++it) item(it);
    } else {
#pragma omp parallel for schedule(static) num_threads(cpu_num_threads())
      for (int64_t it = 0; it < items; ++it) item(it);
    }
    if (nchunks > 1) {
      for (int64_t o = 0; o < n_out; ++o) {
        A a = partial[o * nchunks];
        for (int64_t c = 1; c < nchunks; ++c) a = red.combine(a, partial[o * nchunks + c]);
        red.write(o, a);
      }
    }
  }
};

}  // namespace reduce_detail

PG_INSTANTIATE_LAUNCHERS(PG_REDUCE_LAUNCHERS, CpuBackend)

}  // namespace pg::kernels
