#!/usr/bin/env python3
"""PyTorch counterpart of bench/bench_pointnet.cpp: the same PointNet classifier, timed the same way.

NOT a dependency of pointgrad. PyTorch is needed only to run this comparison script; nothing in
the build, the tests or the library imports it. Install it separately, e.g. on Debian/Ubuntu
`apt-get install -y python3-torch` (then run with /usr/bin/python3), or `pip install torch`.

The model mirrors models/zoo/pointnet.h exactly (TF reference, SampleNet repo, METHODS.md §3.1):
  vanilla (pointnet_cls_basic): per point 3→64→64→64→128→1024 (1×1 conv + BN + ReLU), max pool,
      FC 512 + BN + ReLU → FC 256 + BN + ReLU → dropout 0.3 → FC 40
  full (pointnet_cls): input T-Net (k=3) → points·T3 → 3→64→64 → feature T-Net (k=64) →
      features·T64 → 64→64→128→1024 → max pool → FC 512 + BN + ReLU → dropout → FC 256 + BN +
      ReLU → dropout → FC 40; T-Net(k): k→64→128→1024, max, FC 512, FC 256 (BN + ReLU), FC k²
      with zero weight and bias, + identity. Loss: mean CE + 0.001·½·Σ(A·Aᵀ − I)² (feature T-Net).
  TF settings: Xavier-uniform weights, zero biases, BN ε = 1e-3 (momentum 0.5), dropout p = 0.3.
Two layouts of the same math (--layout): `linear` = channels-last [B, N, C] with nn.Linear
(one GEMM over B·N rows) and BatchNorm1d on the [B·N, C] view; `conv1d` = the classic
[B, C, N] Conv1d(k=1) + BatchNorm1d. `auto` (default) times both briefly and keeps the faster
one for each case, since the comparison is against the best PyTorch can do. Other "best
effort" choices: ReLU in place, zero_grad(set_to_none=True) (pointgrad's zero_grad also drops
the gradients), torch.inference_mode() for inference.

Timing policy = bench/harness.h: warm-up ≥3 runs and ≥0.1 s, then repeats until ≥10 runs and
≥0.5 s; median/min/p90 of the per-repeat times (time.perf_counter). Inputs rotate between 4
random batches. Output: one JSON line per case on stdout with the fields of bench_pointnet
(bench, case, device, dtype, shape, median_ms, min_ms, p90_ms, repeats, gflops, shapes_per_s,
threads, load1, date, host) plus torch_version and layout.

  /usr/bin/python3 tools/compare/pytorch_pointnet.py --threads 2 [--variant vanilla|full|all]
      [--mode train|infer|all] [--layout auto|linear|conv1d] [--foreach auto|on|off] [--points 1024]
      [--quick] [--min-repeats N] [--min-time S]
"""
import argparse
import datetime
import json
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    sys.stderr.write(
        "pytorch_pointnet.py: PyTorch is not installed (it is not a pointgrad dependency).\n"
        "Install it only to run this comparison, e.g. `apt-get install -y python3-torch` and run\n"
        "with /usr/bin/python3, or `pip install torch`.\n")
    sys.exit(2)

BATCH = 32
CLASSES = 40
SETS = 4


# ----------------------------------------------------------------------------------- model

def xavier(m):
    nn.init.xavier_uniform_(m.weight)
    nn.init.zeros_(m.bias)
    return m


class Shared(nn.Module):
    """act(BN(x·Wᵀ + b)) per point (or per shape): channels-last Linear or Conv1d(k=1)."""

    def __init__(self, cin, cout, layout, point_wise):
        super().__init__()
        self.conv_layout = layout == "conv1d" and point_wise
        self.fc = xavier(nn.Conv1d(cin, cout, 1) if self.conv_layout else nn.Linear(cin, cout))
        self.bn = nn.BatchNorm1d(cout, eps=1e-3, momentum=0.5)
        # In-place ReLU on the channels-last view would make autograd copy the whole base
        # (CopySlices) in backward: in place only where the BN output is not a view.
        self.inplace = self.conv_layout or not point_wise

    def forward(self, x):
        y = self.fc(x)
        if self.conv_layout or y.dim() == 2:
            y = self.bn(y)  # [B, C, N] or [B, C]
        else:
            y = self.bn(y.reshape(-1, y.shape[-1])).view(y.shape)  # channels-last [B, N, C]
        return F.relu(y, inplace=self.inplace)


def mlp(widths, layout, point_wise):
    return nn.Sequential(*[Shared(widths[i], widths[i + 1], layout, point_wise) for i in range(len(widths) - 1)])


def max_points(x, layout):
    # torch.max with indices (as the reference implementations): its backward scatters into
    # zeros, where amax's compares the input with the maximum.
    return torch.max(x, dim=2 if layout == "conv1d" else 1)[0]


class TNet(nn.Module):
    def __init__(self, k, layout):
        super().__init__()
        self.k, self.layout = k, layout
        self.point_mlp = mlp([k, 64, 128, 1024], layout, True)
        self.head = mlp([1024, 512, 256], layout, False)
        self.transform = nn.Linear(256, k * k)
        nn.init.zeros_(self.transform.weight)
        nn.init.zeros_(self.transform.bias)
        self.register_buffer("eye", torch.eye(k).flatten())

    def forward(self, x):
        t = self.transform(self.head(max_points(self.point_mlp(x), self.layout))) + self.eye
        return t.view(-1, self.k, self.k)


class PointNet(nn.Module):
    def __init__(self, variant, layout):
        super().__init__()
        self.full, self.layout = variant == "full", layout
        if self.full:
            self.input_tnet = TNet(3, layout)
            self.mlp1 = mlp([3, 64, 64], layout, True)
            self.feature_tnet = TNet(64, layout)
            self.mlp2 = mlp([64, 64, 128, 1024], layout, True)
        else:
            self.mlp1 = mlp([3, 64, 64, 64, 128, 1024], layout, True)
        self.fc1 = Shared(1024, 512, layout, False)
        self.fc2 = Shared(512, 256, layout, False)
        self.drop = nn.Dropout(0.3)
        self.fc3 = xavier(nn.Linear(256, CLASSES))

    def apply_transform(self, x, t):
        # channels-last: x[b] · T ; [B, C, N]: Tᵀ · x[b]
        return torch.bmm(x, t) if self.layout != "conv1d" else torch.bmm(t.transpose(1, 2), x)

    def forward(self, points):  # points [B, N, 3]
        x = points.transpose(1, 2).contiguous() if self.layout == "conv1d" else points
        feat_t = None
        if self.full:
            x = self.apply_transform(x, self.input_tnet(x))
            x = self.mlp1(x)
            feat_t = self.feature_tnet(x)
            x = self.mlp2(self.apply_transform(x, feat_t))
        else:
            x = self.mlp1(x)
        h = self.fc1(max_points(x, self.layout))
        if self.full:
            h = self.drop(h)
        h = self.drop(self.fc2(h))
        return self.fc3(h), feat_t

    def loss(self, logits, feat_t, labels):
        l = F.cross_entropy(logits, labels)
        if feat_t is not None:
            eye = torch.eye(feat_t.shape[1], dtype=feat_t.dtype)
            d = torch.bmm(feat_t, feat_t.transpose(1, 2)) - eye
            l = l + 0.001 * 0.5 * torch.sum(d * d)
        return l


def forward_macs(variant, n):
    """GEMM/bmm multiply-accumulates of one forward (as bench_pointnet counts them)."""
    p, s = BATCH * n, BATCH

    def chain(w):
        return sum(w[i] * w[i + 1] for i in range(len(w) - 1))

    head = 1024 * 512 + 512 * 256 + 256 * CLASSES
    if variant == "vanilla":
        return p * chain([3, 64, 64, 64, 128, 1024]) + s * head
    tnet = lambda k: p * chain([k, 64, 128, 1024]) + s * (chain([1024, 512, 256]) + 256 * k * k) + p * k * k
    return tnet(3) + tnet(64) + p * (chain([3, 64, 64]) + chain([64, 64, 128, 1024])) + s * head


# ---------------------------------------------------------------------------------- timing

def time_fn(fn, quick, min_repeats=0, min_time=-1.0):
    warm_n, warm_s, rep_n, rep_s, max_s = (1, 0.0, 3, 0.02, 5.0) if quick else (3, 0.1, 10, 0.5, 30.0)
    rep_n = min_repeats if min_repeats > 0 else rep_n
    rep_s = min_time if min_time >= 0 else rep_s
    rep, t0 = 0, time.perf_counter()
    while rep < warm_n or time.perf_counter() - t0 < warm_s:
        fn(rep)
        rep += 1
    times = []
    while len(times) < rep_n or sum(times) < rep_s:
        t = time.perf_counter()
        fn(rep)
        times.append((time.perf_counter() - t) * 1e3)
        rep += 1
        if sum(times) > max_s * 1e3 and len(times) >= 3:
            break
    s = sorted(times)
    return {"median_ms": statistics.median(s), "min_ms": s[0],
            "p90_ms": s[min(len(s) - 1, max(0, int(-(-0.9 * len(s) // 1)) - 1))], "repeats": len(s)}


def run_fields(layout):
    """The fields every comparison row ends with: layout, torch, threads, load, date, host."""
    return {"layout": layout, "torch_version": torch.__version__, "threads": torch.get_num_threads(),
            "load1": os.getloadavg()[0], "date": datetime.datetime.utcnow().strftime("%Y-%m-%d"),
            "host": host_name()}


def host_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def make_batches(n, seed):
    g = torch.Generator().manual_seed(seed)
    pts = [torch.rand(BATCH, n, 3, generator=g) * 2 - 1 for _ in range(SETS)]
    labels = [torch.randint(0, CLASSES, (BATCH,), generator=g) for _ in range(SETS)]
    return pts, labels


def make_trainer(variant, layout, foreach):
    torch.manual_seed(1)
    model = PointNet(variant, layout)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=foreach)

    def step(pts, labels):
        logits, feat_t = model(pts)
        loss = model.loss(logits, feat_t, labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return model, step


def run_case(variant, mode, layout, n, quick, foreach, min_repeats=0, min_time=-1.0):
    pts, labels = make_batches(n, 11 if mode == "train" else 12)
    model, step = make_trainer(variant, layout, foreach)
    if mode == "train":
        fn = lambda rep: step(pts[rep % SETS], labels[rep % SETS])
    else:
        for s in range(2):  # running statistics away from their initial values, as bench_pointnet
            step(pts[s], labels[s])
        model.eval()

        def fn(rep):
            with torch.inference_mode():
                model(pts[rep % SETS])
    return time_fn(fn, quick, min_repeats, min_time)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave the default)")
    ap.add_argument("--variant", default="all", choices=["vanilla", "full", "all"])
    ap.add_argument("--mode", default="all", choices=["train", "infer", "all"])
    ap.add_argument("--layout", default="auto", choices=["auto", "linear", "conv1d"])
    ap.add_argument("--foreach", default="auto", choices=["auto", "on", "off"],
                    help="Adam's foreach implementation (auto: PyTorch's default)")
    ap.add_argument("--points", type=int, default=0, help="points per shape (default 1024; 256 with --quick)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--min-repeats", type=int, default=0, help="timed repeats at least (as the bench harness)")
    ap.add_argument("--min-time", type=float, default=-1.0, help="seconds of timed repeats at least")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    n = a.points or (256 if a.quick else 1024)
    foreach = {"auto": None, "on": True, "off": False}[a.foreach]
    variants = ["vanilla", "full"] if a.variant == "all" else [a.variant]
    modes = ["train", "infer"] if a.mode == "all" else [a.mode]
    for v in variants:
        for m in modes:
            layout = a.layout
            if layout == "auto":  # brief trial of both layouts, keep the faster
                trial = {l: run_case(v, m, l, n, True, foreach)["median_ms"] for l in ("linear", "conv1d")}
                layout = min(trial, key=trial.get)
                sys.stderr.write(f"pytorch_pointnet: {v}.{m} layout trial (ms) {trial} -> {layout}\n")
            st = run_case(v, m, layout, n, a.quick, foreach, a.min_repeats, a.min_time)
            flops = 2.0 * forward_macs(v, n) * (3.0 if m == "train" else 1.0)
            row = {"bench": "pytorch_pointnet", "case": f"pointnet.{v}.{'train_step' if m == 'train' else 'infer'}",
                   "device": "cpu", "dtype": "float32", "shape": f"[{BATCH},{n},3]->{CLASSES}", **st,
                   "gflops": flops / (st["median_ms"] * 1e-3) / 1e9,
                   "shapes_per_s": BATCH / (st["median_ms"] * 1e-3), "batch": BATCH, "points": n,
                   **run_fields(layout)}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
