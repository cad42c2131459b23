#!/usr/bin/env python3
"""pointgrad's nn::LSTM against PyTorch's nn.LSTM: values after many steps, and the PyTorch timing
counterpart of bench/bench_lstm.cpp.

NOT a dependency of pointgrad. PyTorch is needed only to run this comparison script; nothing in
the build, the tests or the library imports it. Install it separately, e.g. on Debian/Ubuntu
`apt-get install -y python3-torch` (then run with /usr/bin/python3), or `pip install torch`.

  /usr/bin/python3 tools/compare/pytorch_lstm.py diff [--pg-bin build-cpu/bench/lstm_compare_io]
      [--steps 512] [--batch 4] [--input 3] [--hidden 128] [--layers 2] [--seed 1] [--keep DIR]
  /usr/bin/python3 tools/compare/pytorch_lstm.py bench [--threads 1] [--quick]
      [--min-repeats N] [--min-time S]

diff: builds torch.nn.LSTM(I, H, L, batch_first=True) with PyTorch's default initialisation
(seeded), draws x [B, T, I] ~ U(-1, 1), an initial state h0, c0 [L, B, H] ~ U(-0.5, 0.5) and the
cotangents v [B, T, H] ~ U(-1, 1)/(B·T), vh, vc [L, B, H] ~ U(-1, 1)/B, and writes them with the
state_dict (by PyTorch's names) as raw float64 files plus a manifest into a temporary directory
(the exchange format of bench/lstm_compare_io.cpp, which pointgrad builds with the benches). The pg
binary loads the weights BY NAME into nn::LSTM, runs the whole-sequence forward and the backward of
    loss = Σ output·v + Σ_k (h_n[k]·vh[k] + c_n[k]·vc[k])
in float64 and float32 (the float32 inputs are the float64 values rounded once), and the same
forward one timestep at a time (LSTM::step). PyTorch does the same in both dtypes. For every
tensor (output, h_n, c_n, the step-by-step output, and the gradients of x, h0, c0 and of every
parameter) the script prints the largest absolute difference, the largest |PyTorch value| and
the scaled difference max|pg − torch| / max(1, max|torch|), which must stay within 1e-5 in
float32 and 1e-10 in float64 (exit code 1 otherwise). The cotangents are scaled by 1/(B·T) so the
parameter gradients (sums over B·T terms) stay O(1), like those of a mean loss.

bench: times torch.nn.LSTM(3, 128, 2, batch_first=True) in float32 for B ∈ {32, 128} and
T ∈ {32, 128, 512} (--quick: 32 / 32), fwd (torch.no_grad()) and fwd_bwd (backward of Σ output·v,
v = U(-1, 1)/(B·T), gradients into the input and the weights, zero_grad(set_to_none=True) each
repeat), with the policy of bench/harness.h (time_fn of pytorch_pointnet.py), and prints one JSON
line per case with bench_lstm's fields (bench, case, device, dtype, shape, median_ms, min_ms,
p90_ms, repeats, gflops, steps_per_s, batch, seq_len, layers, input, hidden, threads, load1, date,
host) plus torch_version.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Timing policy and the common row fields (it also prints the install hint when PyTorch is missing).
from pytorch_pointnet import run_fields, time_fn  # noqa: E402

import torch  # noqa: E402

TOL = {"float64": 1e-10, "float32": 1e-5}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_pg_bin():
    for build in ("build-cpu", "build", "build-cuda"):
        p = os.path.join(ROOT, build, "bench", "lstm_compare_io")
        if os.access(p, os.X_OK):
            return p
    return None


def write_inputs(d, tensors, cfg):
    with open(os.path.join(d, "manifest.txt"), "w") as f:
        f.write("config %d %d %d %d %d\n" % cfg)
        for name, t in tensors.items():
            f.write(name + " " + " ".join(str(s) for s in t.shape) + "\n")
            t.detach().to(torch.float64).contiguous().numpy().tofile(os.path.join(d, name + ".bin"))


def read_pg(d, name, shape):
    import numpy as np
    a = np.fromfile(os.path.join(d, name + ".bin"), dtype="<f8")
    return torch.from_numpy(a).reshape(shape)


def torch_run(model64, inputs, dtype):
    """Forward + backward in `dtype` from the float64 weights and inputs; returns name → tensor."""
    m = torch.nn.LSTM(model64.input_size, model64.hidden_size, model64.num_layers, batch_first=True)
    m.load_state_dict(model64.state_dict())
    m = m.to(dtype)
    x = inputs["x"].detach().to(dtype).clone().requires_grad_(True)
    h0 = inputs["h0"].detach().to(dtype).clone().requires_grad_(True)
    c0 = inputs["c0"].detach().to(dtype).clone().requires_grad_(True)
    out, (hn, cn) = m(x, (h0, c0))
    loss = (out * inputs["v"].to(dtype)).sum() + (hn * inputs["vh"].to(dtype)).sum() + \
        (cn * inputs["vc"].to(dtype)).sum()
    loss.backward()
    res = {"output": out, "h_n": hn, "c_n": cn, "grad_x": x.grad, "grad_h0": h0.grad, "grad_c0": c0.grad,
           "step_output": out}
    for name, p in m.named_parameters():
        res["grad_" + name] = p.grad
    return {k: v.detach().to(torch.float64) for k, v in res.items()}


def cmd_diff(a):
    pg_bin = a.pg_bin or find_pg_bin()
    if not pg_bin or not os.access(pg_bin, os.X_OK):
        sys.exit("pytorch_lstm.py: no lstm_compare_io binary (build it: cmake --build build-cpu --target "
                 "lstm_compare_io, or pass --pg-bin)")
    torch.manual_seed(a.seed)
    B, T, I, H, L = a.batch, a.steps, a.input, a.hidden, a.layers
    model = torch.nn.LSTM(I, H, L, batch_first=True).double()
    g = torch.Generator().manual_seed(a.seed + 1)

    def u(shape, lo, hi):
        return torch.rand(shape, generator=g, dtype=torch.float64) * (hi - lo) + lo

    inputs = {"x": u((B, T, I), -1, 1), "h0": u((L, B, H), -0.5, 0.5), "c0": u((L, B, H), -0.5, 0.5),
              "v": u((B, T, H), -1, 1) / (B * T), "vh": u((L, B, H), -1, 1) / B, "vc": u((L, B, H), -1, 1) / B}
    tensors = dict(model.state_dict())
    tensors.update(inputs)
    d = a.keep or tempfile.mkdtemp(prefix="pg_lstm_cmp_")
    os.makedirs(d, exist_ok=True)
    write_inputs(d, tensors, (I, H, L, B, T))
    r = subprocess.run([pg_bin, d], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("pytorch_lstm.py: %s failed (%d): %s" % (pg_bin, r.returncode, r.stderr.strip()))
    ok = True
    print("LSTM I=%d H=%d L=%d B=%d T=%d, torch %s, files in %s" % (I, H, L, B, T, torch.__version__, d))
    print("%-8s %-22s %12s %12s %12s  %s" % ("dtype", "tensor", "max|diff|", "max|torch|", "scaled", "ok"))
    summary = {}
    for dt_name, dt in (("float64", torch.float64), ("float32", torch.float32)):
        ref = torch_run(model, inputs, dt)
        worst = 0.0
        for name, t in ref.items():
            pg = read_pg(d, "pg_%s_%s" % (dt_name, name), t.shape)
            diff = (pg - t).abs().max().item()
            mx = t.abs().max().item()
            scaled = diff / max(1.0, mx)
            good = scaled <= TOL[dt_name]
            ok &= good
            worst = max(worst, scaled)
            print("%-8s %-22s %12.3e %12.3e %12.3e  %s" % (dt_name, name, diff, mx, scaled, "ok" if good else "FAIL"))
        summary[dt_name] = worst
    print(json.dumps({"compare": "lstm", "steps": T, "batch": B, "input": I, "hidden": H, "layers": L,
                      "max_scaled_diff_f64": summary["float64"], "max_scaled_diff_f32": summary["float32"],
                      "tol_f64": TOL["float64"], "tol_f32": TOL["float32"], "ok": bool(ok),
                      "torch_version": torch.__version__}))
    if not a.keep:
        for f in os.listdir(d):
            os.remove(os.path.join(d, f))
        os.rmdir(d)
    sys.exit(0 if ok else 1)


def cmd_bench(a):
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    I, H, L = 3, 128, 2
    batches = [32] if a.quick else [32, 128]
    lengths = [32] if a.quick else [32, 128, 512]
    for bwd in (False, True):
        for B in batches:
            for T in lengths:
                g = torch.Generator().manual_seed(7100 + B + T)
                torch.manual_seed(7100 + B + T)
                m = torch.nn.LSTM(I, H, L, batch_first=True)
                x = torch.rand((B, T, I), generator=g) * 2 - 1
                v = (torch.rand((B, T, H), generator=g) * 2 - 1) / (B * T)
                if bwd:
                    x.requires_grad_(True)

                    def fn(rep):
                        m.zero_grad(set_to_none=True)
                        x.grad = None
                        m(x)[0].backward(v)
                else:
                    def fn(rep):
                        with torch.no_grad():
                            m(x)
                st = time_fn(fn, a.quick, a.min_repeats, a.min_time)
                flops = sum(2.0 * B * 4 * H * ((I if k == 0 else H) + H) * T for k in range(L)) * (3 if bwd else 1)
                row = {"bench": "pytorch_lstm", "case": "lstm.B%d.T%d.%s" % (B, T, "fwd_bwd" if bwd else "fwd"),
                       "device": "cpu", "dtype": "float32", "shape": "[%d,%d,%d]->[%d,%d,%d]" % (B, T, I, B, T, H)}
                row.update(st)
                row.update({"gflops": flops / (st["median_ms"] * 1e-3) * 1e-9,
                            "steps_per_s": T / (st["median_ms"] * 1e-3), "batch": B, "seq_len": T, "layers": L,
                            "input": I, "hidden": H})
                row.update(run_fields("n/a"))
                row.pop("layout", None)
                print(json.dumps(row), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("diff", help="values and gradients after many steps, pg vs PyTorch")
    d.add_argument("--pg-bin", default=None)
    d.add_argument("--steps", type=int, default=512)
    d.add_argument("--batch", type=int, default=4)
    d.add_argument("--input", type=int, default=3)
    d.add_argument("--hidden", type=int, default=128)
    d.add_argument("--layers", type=int, default=2)
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--keep", default=None, help="write the exchange files here and keep them")
    b = sub.add_parser("bench", help="PyTorch timing counterpart of bench/bench_lstm.cpp")
    b.add_argument("--threads", type=int, default=0)
    b.add_argument("--quick", action="store_true")
    b.add_argument("--min-repeats", type=int, default=0)
    b.add_argument("--min-time", type=float, default=-1.0)
    a = p.parse_args()
    (cmd_diff if a.cmd == "diff" else cmd_bench)(a)


if __name__ == "__main__":
    main()
