#!/usr/bin/env python3
"""PyTorch counterpart of bench/bench_samplenet_train.cpp: one SampleNet classification training step.

NOT a dependency of pointgrad. PyTorch is needed only to run this comparison script; nothing in
the build, the tests or the library imports it. Install it separately, e.g. on Debian/Ubuntu
`apt-get install -y python3-torch` (then run with /usr/bin/python3), or `pip install torch`.

The model mirrors what `pg train samplenet --task cls` trains (models/zoo/samplenet.h,
simplify_net.h, sampler_task.h; METHODS.md §1.1, §5), paper-intent settings:
  simplification network: per point 3→64→64→64→128→128 (1×1 conv + BN + ReLU), max pool,
      FC 128→256→256→256 (+ BN + ReLU), FC 256→3m linear (no BN), read as m rows of (x, y, z);
      Xavier-uniform weights, zero biases, BN ε = 1e-3, momentum 0.5 (the TF decay schedule's
      first value).
  soft projection: the k = 7 nearest input points of every generated point (torch.cdist + topk,
      no gradient, as pointgrad's kNN), d = squared distances recomputed with gradient,
      w = softmax(−d/σ), R = Σ w·p, σ = t² with t a learned scalar initialised to 1, no floor.
  loss: CE(frozen PointNet(R), labels) + 30·Lsimplify(Q, P) + 1·σ, with
      Lsimplify = La(Q,P) + β·Lm(Q,P) + (γ + δ·m)·La(P,Q), β = γ = 1, δ = 0: squared nearest-
      neighbour distances, La a mean over all points of the batch, Lm the per-cloud max averaged
      over the batch. The distance matrix is |q|² + |p|² − 2·q·pᵀ (one bmm), clamped at 0.
  frozen task network: the vanilla PointNet of pytorch_pointnet.py (40 classes, TF settings) in
      eval mode with requires_grad False on all its parameters (running BN statistics, no
      dropout; its input still gets a gradient).
  optimizer: Adam lr 0.01 on the simplification network and t.
Both networks use one layout (--layout): `linear` = channels-last [B, N, C] with nn.Linear and
BatchNorm1d on the [B·N, C] view; `conv1d` = [B, C, N] Conv1d(k=1). `auto` (default) times both
briefly and keeps the faster per case. Other "best effort" choices: as pytorch_pointnet.py
(in-place ReLU where safe, torch.max with indices, zero_grad(set_to_none=True)).

Timing policy = bench/harness.h (time_fn of pytorch_pointnet.py). Inputs rotate between 4 random
batches. Output: one JSON line per case on stdout with the fields of bench_samplenet_train
(bench, case, device, dtype, shape, median_ms, min_ms, p90_ms, repeats, gflops, shapes_per_s,
batch, points, m, fwd_ms, bwd_ms, opt_ms, trainable_params, loss_after_3_steps, threads, load1,
date, host) plus torch_version and layout.

  /usr/bin/python3 tools/compare/pytorch_samplenet.py --threads 2 [--m 32,64,128]
      [--layout auto|linear|conv1d] [--foreach auto|on|off] [--quick] [--min-repeats N] [--min-time S]
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# The frozen classifier, the shared layer and the timing policy come from the PointNet comparison
# (it also prints the install hint and exits when PyTorch is missing).
from pytorch_pointnet import CLASSES, PointNet, max_points, mlp, run_fields, time_fn, xavier  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

BATCH = 32
POINTS = 1024
SETS = 4
K = 7
ALPHA, BETA, GAMMA, DELTA, LAMBDA = 30.0, 1.0, 1.0, 0.0, 1.0
LR = 0.01


# ----------------------------------------------------------------------------------- model

class SimplifyNet(nn.Module):
    def __init__(self, m, layout):
        super().__init__()
        self.m, self.layout = m, layout
        self.encoder = mlp([3, 64, 64, 64, 128, 128], layout, True)
        self.fc = mlp([128, 256, 256, 256], layout, False)
        self.out = xavier(nn.Linear(256, 3 * m))
        # The momentum of the sampler's BN: 0.5, the TF schedule's first value (pg's trainer).
        for mod in self.modules():
            if isinstance(mod, nn.BatchNorm1d):
                mod.momentum = 0.5

    def forward(self, points):  # [B, N, 3] → Q [B, m, 3]
        x = points.transpose(1, 2).contiguous() if self.layout == "conv1d" else points
        code = max_points(self.encoder(x), self.layout)
        return self.out(self.fc(code)).view(points.shape[0], self.m, 3)


def soft_projection(q, p, t, k):
    """R [B, M, 3] and σ: softmax(−d/σ)-weighted mean of the k nearest points of every query."""
    b = p.shape[0]
    with torch.no_grad():
        idx = torch.cdist(q, p).topk(k, dim=2, largest=False, sorted=True)[1]  # [B, M, k]
    nb = torch.gather(p, 1, idx.reshape(b, -1, 1).expand(-1, -1, 3)).view(b, q.shape[1], k, 3)
    sigma = t * t
    d = ((q.unsqueeze(2) - nb) ** 2).sum(-1)  # [B, M, k]
    w = torch.softmax(-d / sigma, dim=2)
    return (w.unsqueeze(-1) * nb).sum(2), sigma


def sq_dists(q, p):
    """Squared distances [B, M, N] = |q|² + |p|² − 2·q·pᵀ, clamped at 0."""
    d = (q * q).sum(-1, keepdim=True) + (p * p).sum(-1).unsqueeze(1) - 2.0 * torch.bmm(q, p.transpose(1, 2))
    return d.clamp_min(0.0)


def simplify_loss(q, p):
    d = sq_dists(q, p)
    qp = d.min(dim=2)[0]  # [B, M]: each generated point to the cloud
    pq = d.min(dim=1)[0]  # [B, N]: each input point to the generated set
    return qp.mean() + BETA * qp.max(dim=1)[0].mean() + (GAMMA + DELTA * q.shape[1]) * pq.mean()


class SampleNet(nn.Module):
    def __init__(self, m, layout, task):
        super().__init__()
        self.net = SimplifyNet(m, layout)
        self.temperature = nn.Parameter(torch.tensor(1.0))
        self.task = task  # frozen: eval mode, no parameter gradients
        for prm in task.parameters():
            prm.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        self.task.eval()  # the frozen classifier stays in eval mode
        return self

    def loss(self, points, labels):
        q = self.net(points)
        r, sigma = soft_projection(q, points, self.temperature, K)
        logits, _ = self.task(r)
        task = F.cross_entropy(logits, labels)
        return task + ALPHA * simplify_loss(q, points) + LAMBDA * sigma


def step_flops(m):
    """GEMM flops of one step, counted as bench_samplenet_train does."""
    def chain(w):
        return sum(w[i] * w[i + 1] for i in range(len(w) - 1))
    sampler = BATCH * POINTS * chain([3, 64, 64, 64, 128, 128]) + BATCH * chain([128, 256, 256, 256, 3 * m])
    task = BATCH * m * chain([3, 64, 64, 64, 128, 1024]) + BATCH * chain([1024, 512, 256, CLASSES])
    return 2.0 * (3.0 * sampler + 2.0 * task)


# ---------------------------------------------------------------------------------- timing

def make_batches(seed):
    g = torch.Generator().manual_seed(seed)
    pts = [torch.rand(BATCH, POINTS, 3, generator=g) * 2 - 1 for _ in range(SETS)]
    labels = [torch.randint(0, CLASSES, (BATCH,), generator=g) for _ in range(SETS)]
    return pts, labels


def make_trainer(m, layout, foreach, seed):
    torch.manual_seed(seed)
    task = PointNet("vanilla", layout)
    model = SampleNet(m, layout, task)
    model.train()
    opt = torch.optim.Adam([prm for prm in model.parameters() if prm.requires_grad], lr=LR, foreach=foreach)
    phases = {"fwd": [], "bwd": [], "opt": []}

    def step(pts, labels, record=True):
        t0 = time.perf_counter()
        loss = model.loss(pts, labels)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if record:
            phases["fwd"].append((t1 - t0) * 1e3)
            phases["bwd"].append((t2 - t1) * 1e3)
            phases["opt"].append((t3 - t2) * 1e3)
        return loss

    return model, step, phases


def run_case(m, layout, quick, foreach, min_repeats=0, min_time=-1.0):
    pts, labels = make_batches(11)
    model, step, phases = make_trainer(m, layout, foreach, 1)
    st = time_fn(lambda rep: step(pts[rep % SETS], labels[rep % SETS]), quick, min_repeats, min_time)
    n = st["repeats"]
    for key in ("fwd", "bwd", "opt"):  # the timed repeats are the last n calls
        st[key + "_ms"] = statistics.median(phases[key][-n:])
    st["trainable_params"] = sum(prm.numel() for prm in model.parameters() if prm.requires_grad)
    # As the pg bench: a fresh trainer, 3 steps, the loss on the first batch without gradient.
    a_model, a_step, _ = make_trainer(m, layout, foreach, 5)
    for s in range(3):
        a_step(pts[s], labels[s], record=False)
    with torch.no_grad():
        st["loss_after_3_steps"] = a_model.loss(pts[0], labels[0]).item()
    return st


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave the default)")
    ap.add_argument("--m", default="", help="comma-separated m values (default 32,64,128; 32 with --quick)")
    ap.add_argument("--layout", default="auto", choices=["auto", "linear", "conv1d"])
    ap.add_argument("--foreach", default="auto", choices=["auto", "on", "off"],
                    help="Adam's foreach implementation (auto: PyTorch's default)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--min-repeats", type=int, default=0, help="timed repeats at least (as the bench harness)")
    ap.add_argument("--min-time", type=float, default=-1.0, help="seconds of timed repeats at least")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    ms = [int(v) for v in a.m.split(",")] if a.m else ([32] if a.quick else [32, 64, 128])
    for m in ms:
        if m < 1 or m > POINTS:
            sys.exit(f"pytorch_samplenet.py: m must be in 1..{POINTS}, got {m}")
    foreach = {"auto": None, "on": True, "off": False}[a.foreach]
    for m in ms:
        layout = a.layout
        if layout == "auto":  # brief trial of both layouts, keep the faster
            trial = {l: run_case(m, l, True, foreach)["median_ms"] for l in ("linear", "conv1d")}
            layout = min(trial, key=trial.get)
            sys.stderr.write(f"pytorch_samplenet: m={m} layout trial (ms) {trial} -> {layout}\n")
        st = run_case(m, layout, a.quick, foreach, a.min_repeats, a.min_time)
        row = {"bench": "pytorch_samplenet", "case": f"samplenet.cls.m{m}.train_step", "device": "cpu",
               "dtype": "float32", "shape": f"[{BATCH},{POINTS},3]->m={m}", **st,
               "gflops": step_flops(m) / (st["median_ms"] * 1e-3) / 1e9,
               "shapes_per_s": BATCH / (st["median_ms"] * 1e-3), "batch": BATCH, "points": POINTS, "m": m,
               **run_fields(layout)}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
