#include "core/indexer.h"

namespace pg {

Shape broadcast_strides(const Tensor& t, const Shape& shape, const char* op) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  const int64_t td = t.dim();
  PG_CHECK(td <= nd, op, ": cannot broadcast shape ", shape_str(t.shape()), " to ", shape_str(shape));
  Shape out(nd, 0);
  for (int64_t i = 0; i < td; ++i) {
    const int64_t d = nd - td + i;
    const int64_t sz = t.shape()[i];
    if (sz == shape[d]) {
      out[d] = t.strides()[i];
    } else {
      PG_CHECK(sz == 1, op, ": cannot broadcast shape ", shape_str(t.shape()), " to ", shape_str(shape));
      out[d] = 0;
    }
  }
  return out;
}

template <int N>
StridedIndexer<N> make_indexer(const Shape& shape, const std::array<Shape, N>& strides, const char* op) {
  // Keep dims of size != 1, then merge dim d into d+1 when every operand is contiguous across them.
  std::vector<int64_t> sizes;
  std::array<std::vector<int64_t>, N> st;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    sizes.push_back(shape[d]);
    for (int k = 0; k < N; ++k) st[k].push_back(strides[k][d]);
  }
  std::vector<int64_t> msizes;
  std::array<std::vector<int64_t>, N> mst;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (!msizes.empty()) {
      bool mergeable = true;
      for (int k = 0; k < N; ++k) {
        if (mst[k].back() != st[k][d] * sizes[d]) mergeable = false;
      }
      if (mergeable) {
        msizes.back() *= sizes[d];
        for (int k = 0; k < N; ++k) mst[k].back() = st[k][d];
        continue;
      }
    }
    msizes.push_back(sizes[d]);
    for (int k = 0; k < N; ++k) mst[k].push_back(st[k][d]);
  }
  PG_CHECK(msizes.size() <= PG_MAX_DIMS, op, ": tensors of rank ", msizes.size(),
           " (after merging contiguous dims) exceed the supported maximum of ", PG_MAX_DIMS);
  StridedIndexer<N> ix;
  ix.ndim = static_cast<int>(msizes.size());
  for (int d = 0; d < ix.ndim; ++d) {
    ix.sizes[d] = msizes[d];
    for (int k = 0; k < N; ++k) ix.strides[k][d] = mst[k][d];
  }
  return ix;
}

template StridedIndexer<1> make_indexer<1>(const Shape&, const std::array<Shape, 1>&, const char*);
template StridedIndexer<2> make_indexer<2>(const Shape&, const std::array<Shape, 2>&, const char*);
template StridedIndexer<3> make_indexer<3>(const Shape&, const std::array<Shape, 3>&, const char*);
template StridedIndexer<4> make_indexer<4>(const Shape&, const std::array<Shape, 4>&, const char*);

}  // namespace pg
