// lstm_compare_io: the pointgrad side of tools/compare/pytorch_lstm.py (the LSTM vs PyTorch value
// comparison). Not a benchmark and not a test: a file-in / file-out driver.
//
//   lstm_compare_io DIR
// DIR/manifest.txt: a first line "config I H L B T", then one line per tensor "name d0 d1 ...";
// each tensor is DIR/<name>.bin, raw little-endian float64, row-major. Tensors read:
//   weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}   (PyTorch's state_dict names)
//   x [B, T, I], h0 [L, B, H], c0 [L, B, H]                       (input and initial state)
//   v [B, T, H], vh [L, B, H], vc [L, B, H]                       (cotangents)
// For dtype in float64, float32: builds nn::LSTM(I, H, L) in that dtype, loads the weights by
// name, runs LSTM::forward(x, state from h0 / c0), backpropagates
//   loss = Σ output·v + Σ_k (h_n[k]·vh[k] + c_n[k]·vc[k])
// and writes DIR/pg_<dtype>_<name>.bin (float64) for output, h_n, c_n, grad_x, grad_h0, grad_c0
// and grad_<parameter name>; then the same forward as T calls of LSTM::step (one timestep at a
// time, no grad) → pg_<dtype>_step_output.bin. The list of written files goes to stdout.
// Errors (unreadable or short files, bad manifest) exit 1 with a message on stderr.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/grad_mode.h"
#include "models/nn/lstm.h"
#include "ops/ops.h"

namespace {

using namespace pg;

struct Manifest {
  int64_t I = 0, H = 0, L = 0, B = 0, T = 0;
  std::map<std::string, Shape> shapes;
};

Manifest read_manifest(const std::string& dir) {
  std::ifstream f(dir + "/manifest.txt");
  PG_CHECK(f.good(), "lstm_compare_io: cannot open ", dir, "/manifest.txt");
  Manifest m;
  std::string line, word;
  PG_CHECK(std::getline(f, line), "lstm_compare_io: empty manifest");
  std::istringstream first(line);
  PG_CHECK((first >> word >> m.I >> m.H >> m.L >> m.B >> m.T) && word == "config",
           "lstm_compare_io: the manifest must start with 'config I H L B T', got '", line, "'");
  while (std::getline(f, line)) {
    std::istringstream s(line);
    std::string name;
    if (!(s >> name)) continue;
    Shape shape;
    int64_t d;
    while (s >> d) shape.push_back(d);
    m.shapes[name] = shape;
  }
  return m;
}

Tensor read_tensor(const std::string& dir, const Manifest& m, const std::string& name, DType dt) {
  const auto it = m.shapes.find(name);
  PG_CHECK(it != m.shapes.end(), "lstm_compare_io: tensor '", name, "' is not in the manifest");
  std::vector<double> v(static_cast<size_t>(shape_numel(it->second)));
  std::ifstream f(dir + "/" + name + ".bin", std::ios::binary);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(double)));
  PG_CHECK(f.good() && f.gcount() == static_cast<std::streamsize>(v.size() * sizeof(double)),
           "lstm_compare_io: ", dir, "/", name, ".bin is missing or shorter than ", v.size(), " float64 values");
  return from_vector(v, it->second).to(dt);
}

void write_tensor(const std::string& dir, const std::string& name, const Tensor& t) {
  const std::vector<double> v = t.detach().to(DType::f64).contiguous().to_vector<double>();
  const std::string path = dir + "/" + name + ".bin";
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(double)));
  PG_CHECK(f.good(), "lstm_compare_io: cannot write ", path);
  std::cout << name << " " << shape_str(t.shape()) << "\n";
}

void run(const std::string& dir, const Manifest& m, DType dt) {
  const std::string pre = std::string("pg_") + dtype_name(dt) + "_";
  nn::LSTMOptions o;
  o.tensor = TensorOptions(dt);
  nn::LSTM lstm(m.I, m.H, m.L, o);
  nn::NamedTensors state;
  for (const auto& [name, p] : lstm.named_parameters()) state.push_back({name, read_tensor(dir, m, name, dt)});
  lstm.load_state_dict(state);
  Tensor x = read_tensor(dir, m, "x", dt), h0 = read_tensor(dir, m, "h0", dt), c0 = read_tensor(dir, m, "c0", dt);
  const Tensor v = read_tensor(dir, m, "v", dt), vh = read_tensor(dir, m, "vh", dt), vc = read_tensor(dir, m, "vc", dt);
  x.requires_grad_(true);
  h0.requires_grad_(true);
  c0.requires_grad_(true);
  nn::LSTMState s(m.L);
  for (int64_t k = 0; k < m.L; ++k) s[k] = {select(h0, 0, k), select(c0, 0, k)};
  const nn::LSTMOutput out = lstm.forward(x, s);
  std::vector<Tensor> hn, cn;
  for (const auto& l : out.state) {
    hn.push_back(l.h);
    cn.push_back(l.c);
  }
  const Tensor h_n = stack(hn, 0), c_n = stack(cn, 0);
  add(sum(mul(out.output, v)), add(sum(mul(h_n, vh)), sum(mul(c_n, vc)))).backward();
  write_tensor(dir, pre + "output", out.output);
  write_tensor(dir, pre + "h_n", h_n);
  write_tensor(dir, pre + "c_n", c_n);
  write_tensor(dir, pre + "grad_x", x.grad());
  write_tensor(dir, pre + "grad_h0", h0.grad());
  write_tensor(dir, pre + "grad_c0", c0.grad());
  for (const auto& [name, p] : lstm.named_parameters()) write_tensor(dir, pre + "grad_" + name, p.grad());

  NoGradGuard ng;
  nn::LSTMState st(m.L);
  for (int64_t k = 0; k < m.L; ++k) st[k] = {select(h0, 0, k).detach(), select(c0, 0, k).detach()};
  std::vector<Tensor> steps;
  for (int64_t t = 0; t < m.T; ++t) {
    const nn::LSTMOutput o1 = lstm.step(select(x.detach(), 1, t), st);
    st = o1.state;
    steps.push_back(o1.output);
  }
  write_tensor(dir, pre + "step_output", stack(steps, 1));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: lstm_compare_io DIR (see the file comment; driven by tools/compare/pytorch_lstm.py)\n";
    return 2;
  }
  try {
    const std::string dir = argv[1];
    const Manifest m = read_manifest(dir);
    for (DType dt : {DType::f64, DType::f32}) run(dir, m, dt);
  } catch (const std::exception& e) {
    std::cerr << "lstm_compare_io: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
