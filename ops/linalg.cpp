// matmul / bmm / linear: validation, operand planning for BLAS, autograd.
//
// Planning: each operand's trailing matrix is passed to BLAS as-is when it is row-major with a
// unit column stride, or is the transpose of one (unit row stride: passed with the transpose
// flag) — so x.t(), x.transpose(-1, -2) and row slices cost no copy. Batch dims (broadcast
// first, as stride-0 views) must collapse to one batch stride; otherwise the operand is made
// contiguous. A product whose B is shared by the whole batch (e.g. [B, N, C] · [C, D], the
// shared-MLP case) with a row-stacked A folds the batch into the rows: one large GEMM.
//
// The forward runs on raw (non-recording) views and copies; the backward uses the public ops.
#include "ops/linalg.h"

#include <algorithm>
#include <climits>

#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/blas.h"
#include "ops/check.h"
#include "ops/reduce.h"
#include "ops/view.h"

namespace pg {

namespace {

Tensor contiguous_raw(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = empty(t.shape(), t.options());
  detail::copy_raw(out, t);
  return out;
}

struct MatLayout {
  bool trans = false;
  int64_t ld = 1;
};

// Can the trailing r×c matrix of `t` be handed to BLAS without a copy?
bool matrix_layout(const Tensor& t, MatLayout& out) {
  const int64_t nd = t.dim();
  const int64_t r = t.size(nd - 2), c = t.size(nd - 1);
  const int64_t sr = t.stride(nd - 2), sc = t.stride(nd - 1);
  if ((c == 1 || sc == 1) && (r == 1 || sr >= std::max<int64_t>(c, 1))) {
    out = {false, r == 1 ? std::max<int64_t>(c, 1) : sr};
  } else if ((r == 1 || sr == 1) && (c == 1 || sc >= std::max<int64_t>(r, 1))) {
    out = {true, c == 1 ? std::max<int64_t>(r, 1) : sc};
  } else {
    return false;
  }
  return out.ld <= INT_MAX;
}

// One stride that enumerates the leading `nb` dims of `t` in row-major order, if there is one.
bool batch_stride(const Tensor& t, int64_t nb, int64_t& stride) {
  stride = 0;
  bool first = true;
  int64_t expected = 0;
  for (int64_t d = nb - 1; d >= 0; --d) {
    const int64_t sz = t.size(d);
    if (sz == 1) continue;
    if (first) {
      stride = t.stride(d);
      expected = stride * sz;
      first = false;
    } else {
      if (t.stride(d) != expected) return false;
      expected *= sz;
    }
  }
  return true;
}

struct Operand {
  Tensor t;
  MatLayout mat;
  int64_t bstride = 0;
};

Operand plan_operand(const Tensor& t, int64_t nb) {
  Operand o{t, {}, 0};
  if (matrix_layout(t, o.mat) && batch_stride(t, nb, o.bstride)) return o;
  o.t = contiguous_raw(t);
  const bool ok = matrix_layout(o.t, o.mat) && batch_stride(o.t, nb, o.bstride);
  PG_CHECK(ok, "gemm: cannot lay out operand of shape ", shape_str(t.shape()), " for BLAS");
  return o;
}

// out[batch..., n, m] = a[batch..., n, k] · b[batch..., k, m] (+ beta · out). The batch dims of
// a, b and out are equal (a and b may be stride-0 broadcast views); out is contiguous.
void gemm_into(const Tensor& out, const Tensor& a, const Tensor& b, double beta, const char* op) {
  const int64_t nd = out.dim();
  const int64_t nb = nd - 2;
  const int64_t n = out.size(nd - 2), m = out.size(nd - 1), k = a.size(nd - 1);
  if (out.numel() == 0) return;
  if (k == 0) {
    if (beta == 0.0) detail::fill_raw(out, 0.0);
    return;
  }
  const Operand pa = plan_operand(a, nb);
  const Operand pb = plan_operand(b, nb);
  int64_t batch = 1;
  for (int64_t d = 0; d < nb; ++d) batch *= out.size(d);

  kernels::GemmBatch g;
  g.dtype = out.dtype();
  g.device = out.device().index;
  g.trans_a = pa.mat.trans;
  g.trans_b = pb.mat.trans;
  g.m = n;
  g.n = m;
  g.k = k;
  g.a = pa.t.raw_data();
  g.lda = pa.mat.ld;
  g.stride_a = pa.bstride;
  g.b = pb.t.raw_data();
  g.ldb = pb.mat.ld;
  g.stride_b = pb.bstride;
  g.c = out.raw_data();
  g.ldc = m;
  g.stride_c = n * m;
  g.batch = batch;
  g.beta = beta;
  // Shared B and row-stacked A: fold the batch into the rows of one GEMM.
  if (batch > 1 && pb.bstride == 0 && !pa.mat.trans && batch * n <= INT_MAX) {
    if (pa.bstride == n * pa.mat.ld) {
      g.m = batch * n;
      g.batch = 1;
    } else if (n == 1 && pa.bstride >= k && pa.bstride <= INT_MAX) {  // one row per batch entry
      g.m = batch;
      g.lda = pa.bstride;
      g.batch = 1;
    }
  }
  kernels::check_gemm_args(g, op);
  on_backend(out.device(), op, [&]<class B>() { kernels::gemm_strided_batched<B>(g); });
}

// `t` viewed with the leading dims replaced by `batch` (NumPy broadcasting; no copy).
Tensor expand_batch_raw(const Tensor& t, const Shape& batch) {
  const int64_t nd = t.dim();
  const int64_t tb = nd - 2;
  const int64_t nb = static_cast<int64_t>(batch.size());
  Shape shape(batch), strides(nb, 0);
  for (int64_t d = 0; d < tb; ++d) {
    const int64_t od = nb - tb + d;
    strides[od] = t.size(d) == 1 && batch[od] != 1 ? 0 : t.stride(d);
  }
  shape.push_back(t.size(nd - 2));
  shape.push_back(t.size(nd - 1));
  strides.push_back(t.stride(nd - 2));
  strides.push_back(t.stride(nd - 1));
  return detail::make_view(t, shape, strides, t.offset());
}

Shape broadcast_batch(const Shape& a, const Shape& b, const Shape& full_a, const Shape& full_b, const char* op) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n, 1);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    PG_CHECK(da == db || da == 1 || db == 1, op, ": batch dims of shapes ", shape_str(full_a), " and ",
             shape_str(full_b), " cannot be broadcast together");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor fresh_view(const Tensor& t, const Shape& shape) {
  return detail::make_view(t, shape, contiguous_strides(shape), t.offset());
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check::floating("matmul", "a", a);
  check::floating("matmul", "b", b);
  check::same_as("matmul", "a", a, "b", b);
  PG_CHECK(a.dim() >= 1 && b.dim() >= 1, "matmul: both operands need at least one dim, got shapes ",
           shape_str(a.shape()), " and ", shape_str(b.shape()));
  // NumPy promotion of 1-D operands: a → [1, k], b → [k, 1].
  const Tensor ap = a.dim() == 1 ? detail::make_view(a, {1, a.size(0)}, {0, a.stride(0)}, a.offset()) : a;
  const Tensor bp = b.dim() == 1 ? detail::make_view(b, {b.size(0), 1}, {b.stride(0), 0}, b.offset()) : b;
  const int64_t n = ap.size(-2), k = ap.size(-1), m = bp.size(-1);
  PG_CHECK(bp.size(-2) == k, "matmul: shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
           " cannot be multiplied (", k, " columns vs ", bp.size(-2), " rows)");
  const Shape batch = broadcast_batch(Shape(ap.shape().begin(), ap.shape().end() - 2),
                                      Shape(bp.shape().begin(), bp.shape().end() - 2), a.shape(), b.shape(), "matmul");
  Shape out_shape(batch);
  out_shape.push_back(n);
  out_shape.push_back(m);
  Tensor out = empty(out_shape, a.options());
  gemm_into(out, expand_batch_raw(ap, batch), expand_batch_raw(bp, batch), 0.0, "matmul");

  Shape final_shape(batch);
  if (a.dim() > 1) final_shape.push_back(n);
  if (b.dim() > 1) final_shape.push_back(m);
  Tensor result = final_shape == out_shape ? out : fresh_view(out, final_shape);

  autograd::record("matmul", {a, b}, {result}, {a, b},
                   [out_shape](const autograd::BackwardContext& ctx, const std::vector<Tensor>& grads) {
                     const Tensor& a = ctx.saved[0];
                     const Tensor& b = ctx.saved[1];
                     const Tensor ap = a.dim() == 1 ? a.unsqueeze(0) : a;
                     const Tensor bp = b.dim() == 1 ? b.unsqueeze(1) : b;
                     const Tensor g = grads[0].reshape(out_shape);
                     Tensor ga, gb;
                     if (ctx.needs_input_grad[0]) {
                       // grad_a = g · bᵀ, summed over the dims a was broadcast along.
                       ga = sum_to_shape(matmul(g, bp.transpose(-1, -2)), ap.shape()).reshape(a.shape());
                     }
                     if (ctx.needs_input_grad[1]) {
                       if (bp.dim() == 2 && ap.dim() > 2) {
                         // Shared b: one GEMM over all rows of a instead of a batch + reduction.
                         const int64_t k = ap.size(-1), m = bp.size(-1);
                         const int64_t rows = shape_numel(Shape(ap.shape().begin(), ap.shape().end() - 1));
                         const Tensor a2 = ap.reshape({rows, k});
                         const Tensor g2 = g.reshape({rows, m});
                         gb = matmul(a2.t(), g2).reshape(b.shape());
                       } else {
                         // grad_b = aᵀ · g, summed over the dims b was broadcast along.
                         gb = sum_to_shape(matmul(ap.transpose(-1, -2), g), bp.shape()).reshape(b.shape());
                       }
                     }
                     return std::vector<Tensor>{ga, gb};
                   });
  return result;
}

Tensor bmm(const Tensor& a, const Tensor& b) {
  check::floating("bmm", "a", a);
  check::floating("bmm", "b", b);
  check::same_as("bmm", "a", a, "b", b);
  PG_CHECK(a.dim() == 3 && b.dim() == 3, "bmm: expected 3-D operands [B, n, k] and [B, k, m], got shapes ",
           shape_str(a.shape()), " and ", shape_str(b.shape()));
  PG_CHECK(a.size(0) == b.size(0), "bmm: batch sizes differ: shapes ", shape_str(a.shape()), " and ",
           shape_str(b.shape()));
  PG_CHECK(a.size(2) == b.size(1), "bmm: shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
           " cannot be multiplied (", a.size(2), " columns vs ", b.size(1), " rows)");
  Tensor out = empty({a.size(0), a.size(1), b.size(2)}, a.options());
  gemm_into(out, a, b, 0.0, "bmm");
  autograd::record("bmm", {a, b}, {out}, {a, b},
                   [](const autograd::BackwardContext& ctx, const std::vector<Tensor>& grads) {
                     const Tensor& a = ctx.saved[0];
                     const Tensor& b = ctx.saved[1];
                     const Tensor& g = grads[0];
                     Tensor ga, gb;
                     if (ctx.needs_input_grad[0]) ga = bmm(g, b.transpose(1, 2));
                     if (ctx.needs_input_grad[1]) gb = bmm(a.transpose(1, 2), g);
                     return std::vector<Tensor>{ga, gb};
                   });
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check::floating("linear", "input", x);
  check::floating("linear", "weight", weight);
  check::same_as("linear", "input", x, "weight", weight);
  PG_CHECK(weight.dim() == 2, "linear: weight must be 2-D [out, in], got shape ", shape_str(weight.shape()));
  PG_CHECK(x.dim() >= 1, "linear: input must have at least one dim, got shape ", shape_str(x.shape()));
  const int64_t in = weight.size(1), out_f = weight.size(0);
  PG_CHECK(x.size(-1) == in, "linear: input shape ", shape_str(x.shape()), " has ", x.size(-1),
           " features but weight shape ", shape_str(weight.shape()), " expects ", in);
  if (bias.defined()) {
    check::floating("linear", "bias", bias);
    check::same_as("linear", "input", x, "bias", bias);
    PG_CHECK(bias.dim() == 1 && bias.size(0) == out_f, "linear: bias shape ", shape_str(bias.shape()),
             " does not match weight shape ", shape_str(weight.shape()), " (expected [", out_f, "])");
  }
  const int64_t rows = in == 0 ? shape_numel(Shape(x.shape().begin(), x.shape().end() - 1)) : x.numel() / in;

  // x as [rows, in]: a view when the leading dims collapse to one row stride.
  Tensor x2;
  {
    int64_t rs = 0;
    if (batch_stride(x, x.dim() - 1, rs)) {
      x2 = detail::make_view(x, {rows, in}, {rows == 1 ? std::max<int64_t>(in, 1) : rs, x.stride(-1)}, x.offset());
    } else {
      const Tensor xc = contiguous_raw(x);
      x2 = detail::make_view(xc, {rows, in}, contiguous_strides({rows, in}), xc.offset());
    }
  }
  const Tensor wt = detail::make_view(weight, {in, out_f}, {weight.stride(1), weight.stride(0)}, weight.offset());
  Tensor out2 = empty({rows, out_f}, x.options());
  double beta = 0.0;
  if (bias.defined()) {
    detail::copy_raw(out2, bias);  // broadcast [out] over the rows; the GEMM adds onto it
    beta = 1.0;
  }
  gemm_into(out2, x2, wt, beta, "linear");
  Shape out_shape(x.shape().begin(), x.shape().end() - 1);
  out_shape.push_back(out_f);
  Tensor result = x.dim() == 2 ? out2 : fresh_view(out2, out_shape);

  autograd::record("linear", {x, weight, bias}, {result}, {x, weight},
                   [rows, in, out_f](const autograd::BackwardContext& ctx, const std::vector<Tensor>& grads) {
                     const Tensor& x = ctx.saved[0];
                     const Tensor& w = ctx.saved[1];
                     const Tensor g2 = grads[0].reshape({rows, out_f});
                     Tensor gx, gw, gbias;
                     if (ctx.needs_input_grad[0]) gx = matmul(g2, w).reshape(x.shape());
                     if (ctx.needs_input_grad[1]) gw = matmul(g2.t(), x.reshape({rows, in}));
                     if (ctx.needs_input_grad[2]) gbias = sum(g2, {0});
                     return std::vector<Tensor>{gx, gw, gbias};
                   });
  return result;
}

}  // namespace pg
