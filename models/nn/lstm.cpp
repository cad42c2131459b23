#include "models/nn/lstm.h"

#include <cmath>
#include <string>

#include "autograd/grad_mode.h"
#include "models/nn/init.h"
#include "ops/elementwise.h"
#include "ops/index.h"
#include "ops/lstm.h"
#include "ops/reduce.h"
#include "ops/view.h"

namespace pg::nn {

namespace {

// "[i0, i1, ...]" of flat index `flat` in a tensor of shape `shape`.
std::string index_str(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  std::string s = "[";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
  return s + "]";
}

// Throws naming the module, the tensor, the first non-finite element and its value. Fast path:
// Σ over the tensors of Σ|t| is finite unless an element is NaN/Inf (or values near the dtype's
// limit add up to overflow — the host scan then finds nothing and passes): one device scalar
// read (one sync on CUDA) for input and state together.
void check_finite(const char* module, const std::vector<std::pair<std::string, Tensor>>& named) {
  NoGradGuard ng;
  Tensor total;
  for (const auto& [name, t] : named) {
    if (t.numel() == 0) continue;
    const Tensor s = sum(abs(t.detach()));
    total = total.defined() ? add(total, s) : s;
  }
  if (!total.defined() || std::isfinite(total.item_double())) return;
  for (const auto& [name, t] : named) {
    const Tensor host = t.detach().to(DType::f64).to(Device::cpu()).contiguous();
    const std::vector<double> v = host.to_vector<double>();
    for (size_t i = 0; i < v.size(); ++i) {
      PG_CHECK(std::isfinite(v[i]), module, ": ", name, " contains a non-finite value: ", name,
               index_str(static_cast<int64_t>(i), t.shape()), " = ", v[i], " (shape ", shape_str(t.shape()), ")");
    }
  }
}

void check_floating_opts(const char* module, int64_t input_size, int64_t hidden_size, const LSTMOptions& opts) {
  PG_CHECK(input_size > 0 && hidden_size > 0, module, ": input_size and hidden_size must be positive, got ",
           input_size, " and ", hidden_size);
  PG_CHECK(is_floating(opts.tensor.dtype), module, ": parameters must be float32 or float64, got ",
           dtype_name(opts.tensor.dtype));
}

// PyTorch's LSTM/LSTMCell reset_parameters: every parameter U(−1/√H, 1/√H), in registration order.
void init_uniform(const std::vector<Tensor>& params, int64_t hidden_size, Generator* gen) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
  for (const Tensor& p : params) {
    if (p.defined()) init::uniform_(p, -bound, bound, gen);
  }
}

void check_param(const char* module, const std::string& name, const Tensor& p, int64_t rows, int64_t cols,
                 int64_t hidden_size) {
  const bool ok = cols < 0 ? (p.dim() == 1 && p.size(0) == rows) : (p.dim() == 2 && p.size(0) == rows && p.size(1) == cols);
  PG_CHECK(ok, module, ": parameter ", name, " has shape ", shape_str(p.shape()), " but hidden_size = ", hidden_size,
           " needs ", cols < 0 ? shape_str({rows}) : shape_str({rows, cols}),
           " (weights of another hidden size were assigned?)");
}

void check_state_part(const char* module, const std::string& what, const Tensor& t, int64_t B, int64_t H,
                      const Tensor& ref) {
  PG_CHECK(t.defined(), module, ": ", what, " is undefined (pass both h and c, or an empty state for zeros)");
  PG_CHECK(t.dim() == 2 && t.size(0) == B && t.size(1) == H, module, ": ", what, " must have shape [B, H] = [", B,
           ", ", H, "], got ", shape_str(t.shape()));
  PG_CHECK(t.dtype() == ref.dtype() && t.device() == ref.device(), module, ": ", what, " is ", dtype_name(t.dtype()),
           " on ", t.device().str(), " but the parameters are ", dtype_name(ref.dtype()), " on ", ref.device().str());
}

void check_input(const char* module, const Tensor& x, int64_t rank, int64_t input_size, const Tensor& ref) {
  PG_CHECK(x.defined(), module, ": input is undefined");
  const char* layout = rank == 3 ? "[B, T, I]" : "[B, I]";
  PG_CHECK(x.dim() == rank, module, ": input must have shape ", layout, " with I = input_size = ", input_size,
           ", got ", shape_str(x.shape()));
  PG_CHECK(x.size(-1) == input_size, module, ": input has ", x.size(-1), " features (shape ", shape_str(x.shape()),
           ") but input_size = ", input_size);
  PG_CHECK(x.size(0) >= 1, module, ": empty batch (input shape ", shape_str(x.shape()), ")");
  if (rank == 3) {
    PG_CHECK(x.size(1) >= 1, module, ": sequence length is 0 (input shape ", shape_str(x.shape()),
             "); an LSTM needs at least one timestep");
  }
  PG_CHECK(x.dtype() == ref.dtype() && x.device() == ref.device(), module, ": input is ", dtype_name(x.dtype()),
           " on ", x.device().str(), " but the parameters are ", dtype_name(ref.dtype()), " on ", ref.device().str());
}

// Input and state (layer k's h and c named "h of layer k", ...) checked for NaN/Inf at once.
void check_finite_call(const char* module, const Tensor& x, const LSTMState& state, bool per_layer_names) {
  std::vector<std::pair<std::string, Tensor>> named{{"input", x}};
  for (size_t k = 0; k < state.size(); ++k) {
    const std::string l = per_layer_names ? " of layer " + std::to_string(k) : "";
    named.push_back({"h" + l, state[k].h});
    named.push_back({"c" + l, state[k].c});
  }
  check_finite(module, named);
}

}  // namespace

// ---- LSTMCell ----

LSTMCell::LSTMCell(int64_t input_size, int64_t hidden_size, LSTMOptions opts)
    : Module("LSTMCell"), input_(input_size), hidden_(hidden_size) {
  check_floating_opts("LSTMCell", input_size, hidden_size, opts);
  NoGradGuard ng;
  const int64_t G = 4 * hidden_size;
  Tensor wi = empty({G, input_size}, opts.tensor), wh = empty({G, hidden_size}, opts.tensor);
  Tensor bi = opts.bias ? empty({G}, opts.tensor) : Tensor(), bh = opts.bias ? empty({G}, opts.tensor) : Tensor();
  init_uniform({wi, wh, bi, bh}, hidden_size, opts.gen);
  weight_ih = register_parameter("weight_ih", wi);
  weight_hh = register_parameter("weight_hh", wh);
  if (opts.bias) {
    bias_ih = register_parameter("bias_ih", bi);
    bias_hh = register_parameter("bias_hh", bh);
  }
}

LSTMLayerState LSTMCell::forward(const Tensor& x, const LSTMLayerState& state) const {
  const char* m = "LSTMCell";
  const int64_t G = 4 * hidden_;
  check_param(m, "weight_ih", weight_ih, G, input_, hidden_);
  check_param(m, "weight_hh", weight_hh, G, hidden_, hidden_);
  if (bias_ih.defined()) check_param(m, "bias_ih", bias_ih, G, -1, hidden_);
  if (bias_hh.defined()) check_param(m, "bias_hh", bias_hh, G, -1, hidden_);
  check_input(m, x, 2, input_, weight_ih);
  const int64_t B = x.size(0);
  LSTMLayerState s = state;
  if (!s.h.defined() && !s.c.defined()) {
    s.h = zeros({B, hidden_}, weight_ih.options());
    s.c = zeros({B, hidden_}, weight_ih.options());
  } else {
    check_state_part(m, "h", s.h, B, hidden_, weight_ih);
    check_state_part(m, "c", s.c, B, hidden_, weight_ih);
  }
  check_finite_call(m, x, {s}, false);
  const LstmCellResult r = lstm_cell(x, s.h, s.c, weight_ih, weight_hh, bias_ih, bias_hh);
  return {r.h, r.c};
}

// ---- LSTM ----

LSTM::LSTM(int64_t input_size, int64_t hidden_size, int64_t num_layers, LSTMOptions opts)
    : Module("LSTM"), input_(input_size), hidden_(hidden_size), layers_(num_layers) {
  check_floating_opts("LSTM", input_size, hidden_size, opts);
  PG_CHECK(num_layers >= 1, "LSTM: num_layers must be at least 1, got ", num_layers);
  NoGradGuard ng;
  const int64_t G = 4 * hidden_size;
  for (int64_t k = 0; k < num_layers; ++k) {
    const std::string s = "_l" + std::to_string(k);
    const int64_t in = k == 0 ? input_size : hidden_size;
    Tensor wi = empty({G, in}, opts.tensor), wh = empty({G, hidden_size}, opts.tensor);
    Tensor bi = opts.bias ? empty({G}, opts.tensor) : Tensor(), bh = opts.bias ? empty({G}, opts.tensor) : Tensor();
    init_uniform({wi, wh, bi, bh}, hidden_size, opts.gen);
    weight_ih.push_back(register_parameter("weight_ih" + s, wi));
    weight_hh.push_back(register_parameter("weight_hh" + s, wh));
    bias_ih.push_back(opts.bias ? register_parameter("bias_ih" + s, bi) : Tensor());
    bias_hh.push_back(opts.bias ? register_parameter("bias_hh" + s, bh) : Tensor());
  }
}

void LSTM::check_params() const {
  const int64_t G = 4 * hidden_;
  for (int64_t k = 0; k < layers_; ++k) {
    const std::string s = "_l" + std::to_string(k);
    check_param("LSTM", "weight_ih" + s, weight_ih[k], G, k == 0 ? input_ : hidden_, hidden_);
    check_param("LSTM", "weight_hh" + s, weight_hh[k], G, hidden_, hidden_);
    if (bias_ih[k].defined()) check_param("LSTM", "bias_ih" + s, bias_ih[k], G, -1, hidden_);
    if (bias_hh[k].defined()) check_param("LSTM", "bias_hh" + s, bias_hh[k], G, -1, hidden_);
  }
}

LSTMState LSTM::zero_state(int64_t batch) const {
  LSTMState s(layers_);
  for (auto& l : s) {
    l.h = zeros({batch, hidden_}, weight_ih[0].options());
    l.c = zeros({batch, hidden_}, weight_ih[0].options());
  }
  return s;
}

LSTMState LSTM::initial_state(const LSTMState& state, int64_t B) const {
  if (state.empty()) return zero_state(B);
  PG_CHECK(static_cast<int64_t>(state.size()) == layers_, "LSTM: the state has ", state.size(),
           " layers but the module has num_layers = ", layers_);
  for (int64_t k = 0; k < layers_; ++k) {
    const std::string l = " of layer " + std::to_string(k);
    check_state_part("LSTM", "h" + l, state[k].h, B, hidden_, weight_ih[0]);
    check_state_part("LSTM", "c" + l, state[k].c, B, hidden_, weight_ih[0]);
  }
  return state;
}

LSTMOutput LSTM::forward(const Tensor& x, const LSTMState& state) const {
  check_params();
  check_input("LSTM", x, 3, input_, weight_ih[0]);
  const int64_t B = x.size(0), T = x.size(1);
  LSTMOutput out;
  out.state = initial_state(state, B);
  check_finite_call("LSTM", x, out.state, true);
  // Layer by layer; x[:, t, :] is a row-strided view that lstm_cell reads in place.
  std::vector<Tensor> seq(T);
  for (int64_t t = 0; t < T; ++t) seq[t] = select(x, 1, t);
  for (int64_t k = 0; k < layers_; ++k) {
    LSTMLayerState& s = out.state[k];
    for (int64_t t = 0; t < T; ++t) {
      const LstmCellResult r = lstm_cell(seq[t], s.h, s.c, weight_ih[k], weight_hh[k], bias_ih[k], bias_hh[k]);
      s.h = r.h;
      s.c = r.c;
      seq[t] = r.h;
    }
  }
  out.output = stack(seq, 1);
  return out;
}

LSTMOutput LSTM::step(const Tensor& x, const LSTMState& state) const {
  check_params();
  check_input("LSTM", x, 2, input_, weight_ih[0]);
  LSTMOutput out;
  out.state = initial_state(state, x.size(0));
  check_finite_call("LSTM", x, out.state, true);
  Tensor in = x;
  for (int64_t k = 0; k < layers_; ++k) {
    LSTMLayerState& s = out.state[k];
    const LstmCellResult r = lstm_cell(in, s.h, s.c, weight_ih[k], weight_hh[k], bias_ih[k], bias_hh[k]);
    s = {r.h, r.c};
    in = r.h;
  }
  out.output = in;
  return out;
}

}  // namespace pg::nn
