#!/usr/bin/env python3
"""pointgrad kNN / Chamfer against SciPy's cKDTree on the same clouds, 1 thread (issue 14).

Not a project dependency: run it from a throwaway virtual environment, e.g.

    python3 -m venv /tmp/venv_cmp && /tmp/venv_cmp/bin/pip install numpy scipy
    cmake --build build-cpu --target bench_knn bench_chamfer
    /tmp/venv_cmp/bin/python tools/compare/scipy_knn.py --build-dir build-cpu

For every (op, cloud, N) it alternates rounds (the order flips every round): one pointgrad round
is the bench binary (bench_knn / bench_chamfer, case knn.large.* / chamfer.large.*, --threads 1,
its median over --repeats timed calls after its warm-up: the harness policy at N <= 8192, one
call from 10^5), which also writes the clouds it used
(PG_BENCH_DUMP_DIR); one SciPy round loads those very clouds and takes the median of --repeats
timed calls (after one warm-up call) of
  kNN K=16:  cKDTree(ref) build + tree.query(query, k=16, workers=1), squared distances;
  Chamfer:   cKDTree(b) + query(a, k=1) and cKDTree(a) + query(b, k=1), workers=1, the mean
             squared distances of both directions summed (what pg::chamfer returns).
  kNN K=16 B=32 (--ops knn_b32: the small-size "no regression" row of issue 14; --sizes and
             --clouds do not apply): bench_knn's case knn.T-KNN-2, 32 clouds of 1024 points
             uniform in [-1, 1]^3 (pointgrad's Auto at this size: the tiled brute force or the
             tree per its rule; its median rotates over several such cloud sets), against one
             cKDTree build + query(k=16, workers=1) per cloud of the first set.
Trees are built inside the timed call on both sides (pointgrad builds its index per call).
The table gives both medians over rounds and the median (min … max) of the per-round ratios
pointgrad ÷ cKDTree (< 1: pointgrad faster). The machine may be shared: say so next to figures.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy.spatial import cKDTree


def pg_round(build_dir, op, case, repeats, dump_dir):
    binary = os.path.join(build_dir, "bin", "bench_" + op)
    if not os.path.exists(binary):
        binary = os.path.join(build_dir, "bench", "bench_" + op)
    env = dict(os.environ, PG_BENCH_DUMP_DIR=dump_dir, OMP_NUM_THREADS="1")
    cmd = [binary, "--device", "cpu", "--threads", "1", "--filter", case + "/",
           "--min-repeats", str(repeats), "--min-time", "0"]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    rows = [r for r in rows if r.get("case") == case]
    if len(rows) != 1:
        sys.exit(f"scipy_knn: {' '.join(cmd)} gave {len(rows)} rows for {case}")
    return rows[0]["median_ms"]


def load(dump_dir, name):
    path = os.path.join(dump_dir, name + ".f32")
    return np.fromfile(path, dtype=np.float32).reshape(-1, 3)


def scipy_knn(q, r, k):
    tree = cKDTree(r)
    d, i = tree.query(q, k=k, workers=1)
    return d * d, i


def scipy_knn_batched(q, r, k):
    return [scipy_knn(q[b], r[b], k) for b in range(q.shape[0])]


def scipy_chamfer(a, b):
    da, _ = cKDTree(b).query(a, k=1, workers=1)
    db, _ = cKDTree(a).query(b, k=1, workers=1)
    return float(np.mean(da * da) + np.mean(db * db))


def scipy_round(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="build-cpu")
    ap.add_argument("--sizes", default="8192,100000,1000000")
    ap.add_argument("--clouds", default="cube,sphere")
    ap.add_argument("--ops", default="knn,chamfer", help="comma list of knn, chamfer, knn_b32")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=0,
                    help="timed calls per round and side (default: 10 at N <= 8192, 5 to 10^5, 3 above)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as dump:
        for op in args.ops.split(","):
            batched = op == "knn_b32"
            for cloud in (["cube"] if batched else args.clouds.split(",")):
                for n in ([1024] if batched else (int(s) for s in args.sizes.split(","))):
                    case = "knn.T-KNN-2" if batched else f"{op}.large.{cloud}.{n}"
                    reps = args.repeats or (10 if n <= 8192 else 5 if n <= 100000 else 3)
                    pg_ms, sp_ms, ratios = [], [], []
                    for rnd in range(args.rounds):
                        # round 0 runs pointgrad first: it writes the clouds SciPy loads
                        order = ("pg", "sp") if rnd % 2 == 0 else ("sp", "pg")
                        got = {}
                        for side in order:
                            if side == "pg":
                                got["pg"] = pg_round(args.build_dir, "knn" if batched else op, case, reps, dump)
                            else:
                                if batched:
                                    q = load(dump, case + ".query").reshape(32, 1024, 3)
                                    r = load(dump, case + ".ref").reshape(32, 1024, 3)
                                    fn = lambda: scipy_knn_batched(q, r, 16)
                                elif op == "knn":
                                    q, r = load(dump, case + ".query"), load(dump, case + ".ref")
                                    fn = lambda: scipy_knn(q, r, 16)
                                else:
                                    a, b = load(dump, case + ".a"), load(dump, case + ".b")
                                    fn = lambda: scipy_chamfer(a, b)
                                got["sp"] = scipy_round(fn, reps)
                        pg_ms.append(got["pg"])
                        sp_ms.append(got["sp"])
                        ratios.append(got["pg"] / got["sp"])
                    rows.append((op, cloud, n, statistics.median(pg_ms), statistics.median(sp_ms),
                                 statistics.median(ratios), min(ratios), max(ratios)))
                    r = rows[-1]
                    print(f"# {op} {cloud} N={n}: pg {r[3]:.2f} ms, cKDTree {r[4]:.2f} ms, "
                          f"ratio {r[5]:.3f} ({r[6]:.3f} … {r[7]:.3f})", file=sys.stderr, flush=True)
    print(f"| op | cloud | N | pointgrad ms | cKDTree ms | pg ÷ cKDTree, median (min … max) of {args.rounds} rounds |")
    print("|---|---|---|---|---|---|")
    for op, cloud, n, p, s, rm, rlo, rhi in rows:
        label = {"knn": "kNN K=16", "knn_b32": "kNN K=16, B=32"}.get(op, "Chamfer (both directions)")
        print(f"| {label} | {cloud} | {n} | {p:.2f} | {s:.2f} | {rm:.3f} ({rlo:.3f} … {rhi:.3f}) |")


if __name__ == "__main__":
    main()
