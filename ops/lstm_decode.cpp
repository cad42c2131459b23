// lstm_attention_decode: validation and dispatch to kernels/lstm_decode.h (inference only).
#include "ops/lstm_decode.h"

#include <string>

#include "autograd/grad_mode.h"
#include "core/parallel_for.h"
#include "kernels/lstm_decode.h"
#include "ops/check.h"
#include "ops/view.h"

namespace pg {

namespace {

constexpr const char* kOp = "lstm_attention_decode";

void check_param(const Tensor& p, const std::string& name, int64_t rows, int64_t cols, const Tensor& ref) {
  check::defined(kOp, name.c_str(), p);
  check::floating(kOp, name.c_str(), p);
  check::same_as(kOp, name.c_str(), p, "features", ref);
  const bool ok =
      cols < 0 ? (p.dim() == 1 && p.size(0) == rows) : (p.dim() == 2 && p.size(0) == rows && p.size(1) == cols);
  PG_CHECK(ok, kOp, ": ", name, " must have shape ", cols < 0 ? shape_str({rows}) : shape_str({rows, cols}), ", got ",
           shape_str(p.shape()));
}

}  // namespace

Tensor lstm_attention_decode(const Tensor& features, const Tensor& coords, const Tensor& x0, const Tensor& h0,
                             const Tensor& c0, const LstmDecodeWeights& w, int64_t steps) {
  for (const auto& [name, t] : {std::pair<const char*, const Tensor*>{"features", &features},
                                {"coords", &coords},
                                {"x0", &x0},
                                {"h0", &h0},
                                {"c0", &c0}}) {
    check::defined(kOp, name, *t);
    check::floating(kOp, name, *t);
    if (t != &features) check::same_as(kOp, name, *t, "features", features);
  }
  check::rank(kOp, "features", features, 3, "[B, N, H]");
  check::rank(kOp, "coords", coords, 3, "[B, N, D]");
  check::rank(kOp, "x0", x0, 2, "[B, D]");
  check::rank(kOp, "h0", h0, 3, "[L, B, H]");
  check::rank(kOp, "c0", c0, 3, "[L, B, H]");
  const int64_t B = features.size(0), N = features.size(1), H = features.size(2), D = coords.size(2);
  const int64_t L = h0.size(0);
  PG_CHECK(B >= 1 && N >= 1 && H >= 1 && D >= 1 && L >= 1, kOp, ": empty dimension (features ",
           shape_str(features.shape()), ", coords ", shape_str(coords.shape()), ", h0 ", shape_str(h0.shape()), ")");
  PG_CHECK(coords.size(0) == B && coords.size(1) == N, kOp, ": coords must be [B, N, D] = [", B, ", ", N,
           ", D] like features, got ", shape_str(coords.shape()));
  PG_CHECK(x0.size(0) == B && x0.size(1) == D, kOp, ": x0 must be [B, D] = [", B, ", ", D, "], got ",
           shape_str(x0.shape()));
  PG_CHECK(h0.size(1) == B && h0.size(2) == H, kOp, ": h0 must be [L, B, H] with B = ", B,
           " and H = the feature width ", H, ", got ", shape_str(h0.shape()));
  PG_CHECK(c0.shape() == h0.shape(), kOp, ": c0 must have h0's shape ", shape_str(h0.shape()), ", got ",
           shape_str(c0.shape()));
  PG_CHECK(steps >= 1, kOp, ": steps must be at least 1, got ", steps);
  const size_t nl = static_cast<size_t>(L);
  PG_CHECK(w.w_ih.size() == nl && w.w_hh.size() == nl && w.b_ih.size() == nl && w.b_hh.size() == nl, kOp,
           ": one w_ih, w_hh, b_ih and b_hh per layer (L = ", L, " from h0), got ", w.w_ih.size(), ", ", w.w_hh.size(),
           ", ", w.b_ih.size(), " and ", w.b_hh.size());
  if (autograd::grad_enabled()) {
    bool any = features.requires_grad() || coords.requires_grad() || x0.requires_grad() || h0.requires_grad() ||
               c0.requires_grad();
    for (size_t l = 0; l < nl; ++l) {
      for (const Tensor* p : {&w.w_ih[l], &w.w_hh[l], &w.b_ih[l], &w.b_hh[l]})
        any = any || (p->defined() && p->requires_grad());
    }
    PG_CHECK(!any, kOp, ": inference only (not differentiable), but autograd is recording and an input requires a ",
             "gradient; run under NoGradGuard or use the step-by-step ops (nn::LSTM::step + attention_pool)");
  }
  kernels::LstmDecodeArgs a;
  a.features = features.contiguous();
  a.coords = coords.contiguous();
  a.x0 = x0.contiguous();
  a.h0 = h0.contiguous();
  a.c0 = c0.contiguous();
  for (size_t l = 0; l < nl; ++l) {
    const std::string s = "[" + std::to_string(l) + "]";
    check_param(w.w_ih[l], "w_ih" + s, 4 * H, l == 0 ? D : H, features);
    check_param(w.w_hh[l], "w_hh" + s, 4 * H, H, features);
    if (w.b_ih[l].defined()) check_param(w.b_ih[l], "b_ih" + s, 4 * H, -1, features);
    if (w.b_hh[l].defined()) check_param(w.b_hh[l], "b_hh" + s, 4 * H, -1, features);
    a.w_ih.push_back(w.w_ih[l].contiguous());
    a.w_hh.push_back(w.w_hh[l].contiguous());
    a.b_ih.push_back(w.b_ih[l].defined() ? w.b_ih[l].contiguous() : Tensor());
    a.b_hh.push_back(w.b_hh[l].defined() ? w.b_hh[l].contiguous() : Tensor());
  }
  a.steps = steps;
  a.points = empty({B, steps, D}, features.options());
  on_backend(features.device(), kOp, [&]<class Bk>() { kernels::lstm_attention_decode<Bk>(a); });
  return a.points;
}

}  // namespace pg
