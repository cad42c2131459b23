// lstm_cell: validation, the gate GEMMs (ops/raw_gemm.h), dispatch of the fused pointwise passes
// (kernels/lstm.h) and the autograd node.
#include "ops/lstm.h"

#include <algorithm>

#include "autograd/node.h"
#include "core/parallel_for.h"
#include "kernels/lstm.h"
#include "ops/check.h"
#include "ops/raw_gemm.h"
#include "ops/reduce.h"
#include "ops/view.h"

namespace pg {

namespace {

constexpr const char* kOp = "lstm_cell";

// A 2-D tensor whose rows are unit-stride (any row stride ≥ the row length) is read in place by
// the GEMMs; anything else is copied.
bool row_strided(const Tensor& t) {
  return t.dim() == 2 && (t.stride(1) == 1 || t.size(1) == 1) && t.stride(0) >= t.size(1);
}

Tensor rows_view(const Tensor& t) { return row_strided(t) ? t : t.contiguous(); }

int64_t row_stride(const Tensor& t) { return std::max<int64_t>({int64_t(1), t.size(1), t.stride(0)}); }

// c[m, n] = op(a)·op(b) + beta·c (row-major, leading dimensions lda / ldb).
void gemm(const Tensor& c, const Tensor& a, int64_t lda, bool ta, const Tensor& b, int64_t ldb, bool tb, int64_t m,
          int64_t n, int64_t k, double beta, const char* what) {
  detail::raw_gemm(c, a, lda, ta, b, ldb, tb, m, n, k, beta, what);
}

void check_bias(const Tensor& b, const char* name, int64_t H, const Tensor& x) {
  if (!b.defined()) return;
  check::floating(kOp, name, b);
  check::same_as(kOp, name, b, "x", x);
  PG_CHECK(b.dim() == 1 && b.size(0) == 4 * H, kOp, ": ", name, " must have shape [4H] = [", 4 * H,
           "] for hidden size H = ", H, ", got ", shape_str(b.shape()));
}

}  // namespace

LstmCellResult lstm_cell(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih, const Tensor& w_hh,
                         const Tensor& b_ih, const Tensor& b_hh) {
  check::floating(kOp, "x", x);
  check::floating(kOp, "h", h);
  check::floating(kOp, "c", c);
  check::floating(kOp, "w_ih", w_ih);
  check::floating(kOp, "w_hh", w_hh);
  check::same_as(kOp, "h", h, "x", x);
  check::same_as(kOp, "c", c, "x", x);
  check::same_as(kOp, "w_ih", w_ih, "x", x);
  check::same_as(kOp, "w_hh", w_hh, "x", x);
  check::rank(kOp, "x", x, 2, "[B, I]");
  check::rank(kOp, "h", h, 2, "[B, H]");
  check::rank(kOp, "c", c, 2, "[B, H]");
  check::rank(kOp, "w_ih", w_ih, 2, "[4H, I]");
  check::rank(kOp, "w_hh", w_hh, 2, "[4H, H]");
  const int64_t B = x.size(0), I = x.size(1), H = h.size(1);
  PG_CHECK(B >= 1 && I >= 1 && H >= 1, kOp, ": empty dimension (x ", shape_str(x.shape()), ", h ",
           shape_str(h.shape()), ")");
  PG_CHECK(h.shape() == c.shape(), kOp, ": h and c must have the same shape [B, H], got h ", shape_str(h.shape()),
           " and c ", shape_str(c.shape()));
  PG_CHECK(h.size(0) == B, kOp, ": batch sizes differ: x has ", B, " rows, h and c have ", h.size(0));
  PG_CHECK(w_ih.size(0) == 4 * H && w_ih.size(1) == I, kOp, ": w_ih must have shape [4H, I] = [", 4 * H, ", ", I,
           "] (hidden size H = ", H, " from h, input size I = ", I, " from x), got ", shape_str(w_ih.shape()));
  PG_CHECK(w_hh.size(0) == 4 * H && w_hh.size(1) == H, kOp, ": w_hh must have shape [4H, H] = [", 4 * H, ", ", H,
           "] (hidden size H = ", H, " from h), got ", shape_str(w_hh.shape()));
  check_bias(b_ih, "b_ih", H, x);
  check_bias(b_hh, "b_hh", H, x);

  const Tensor xr = rows_view(x);
  const int64_t ldx = row_stride(xr);
  const Tensor hc = h.contiguous(), cc = c.contiguous();
  const Tensor wi = w_ih.contiguous(), wh = w_hh.contiguous();
  const Tensor bi = b_ih.defined() ? b_ih.contiguous() : Tensor();
  const Tensor bh = b_hh.defined() ? b_hh.contiguous() : Tensor();

  // All four gates of both projections into one [B, 4H] buffer: x·w_ihᵀ, then += h·w_hhᵀ.
  Tensor gates = empty({B, 4 * H}, x.options());
  gemm(gates, xr, ldx, false, wi, I, true, B, 4 * H, I, 0.0, kOp);
  gemm(gates, hc, H, false, wh, H, true, B, 4 * H, H, 1.0, kOp);
  LstmCellResult r;
  r.h = empty({B, H}, x.options());
  r.c = empty({B, H}, x.options());
  on_backend(x.device(), kOp, [&]<class Bk>() {
    kernels::lstm_cell_forward_pointwise<Bk>(gates, bi, bh, cc, r.h, r.c);
  });

  autograd::record(
      kOp, {x, h, c, w_ih, w_hh, b_ih, b_hh}, {r.h, r.c}, {xr, hc, cc, wi, wh, gates, r.c},
      [B, I, H, ldx](const autograd::BackwardContext& ctx, const std::vector<Tensor>& g) {
        const char* op = "lstm_cell backward";
        const Tensor& xs = ctx.saved[0];
        const Tensor& hs = ctx.saved[1];
        const Tensor& cs = ctx.saved[2];
        const Tensor& wis = ctx.saved[3];
        const Tensor& whs = ctx.saved[4];
        const Tensor& as = ctx.saved[5];
        const Tensor& cn = ctx.saved[6];
        const std::vector<bool>& need = ctx.needs_input_grad;
        const Tensor gh = g[0].defined() ? g[0].contiguous() : Tensor();
        const Tensor gc = g[1].defined() ? g[1].contiguous() : Tensor();
        Tensor dz = empty({B, 4 * H}, as.options());
        Tensor dc = need[2] ? empty({B, H}, as.options()) : Tensor();
        on_backend(as.device(), op, [&]<class Bk>() {
          kernels::lstm_cell_backward_pointwise<Bk>(as, cs, cn, gh, gc, dz, dc);
        });
        std::vector<Tensor> out(7);
        if (need[0]) {
          out[0] = empty({B, I}, as.options());
          gemm(out[0], dz, 4 * H, false, wis, I, false, B, I, 4 * H, 0.0, op);
        }
        if (need[1]) {
          out[1] = empty({B, H}, as.options());
          gemm(out[1], dz, 4 * H, false, whs, H, false, B, H, 4 * H, 0.0, op);
        }
        out[2] = dc;
        if (need[3]) {
          out[3] = empty({4 * H, I}, as.options());
          gemm(out[3], dz, 4 * H, true, xs, ldx, false, 4 * H, I, B, 0.0, op);
        }
        if (need[4]) {
          out[4] = empty({4 * H, H}, as.options());
          gemm(out[4], dz, 4 * H, true, hs, H, false, 4 * H, H, B, 0.0, op);
        }
        if (need[5] || need[6]) {
          const Tensor db = sum(dz, {0});
          if (need[5]) out[5] = db;
          if (need[6]) out[6] = need[5] ? db.clone() : db;
        }
        return out;
      });
  return r;
}

}  // namespace pg
