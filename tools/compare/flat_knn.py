#!/usr/bin/env python3
"""pointgrad kNN K=16 at 1 x 8192 x 8192 against the brute-force peers faiss-cpu (IndexFlatL2) and
PyTorch (cdist + topk), same clouds, 1 thread (issue 14's last table row).

Not a project dependency: run it from a throwaway virtual environment, e.g.

    python3 -m venv /tmp/venv_cmp && /tmp/venv_cmp/bin/pip install numpy faiss-cpu
    cmake --build build-cpu --target bench_knn
    /tmp/venv_cmp/bin/python tools/compare/flat_knn.py --build-dir build-cpu

A peer that is not importable (faiss, torch) is reported as unavailable and skipped; the script
fails only when none is. Alternated rounds (order flipped every round): one pointgrad round is
bench_knn's case knn.large.cube.8192 (--threads 1, the harness median of --repeats calls), which
times Auto (the k-d tree at this size) and, interleaved, the tiled brute force, and writes the
clouds it used (PG_BENCH_DUMP_DIR); one peer round loads those very clouds and takes the median
of --repeats timed calls after one warm-up:
  faiss: IndexFlatL2(3).add(ref); search(query, 16)  (omp_set_num_threads(1));
  torch: topk(cdist(query, ref), 16, largest=False)   (torch.set_num_threads(1)).
Printed: per peer, the medians over rounds and the median (min … max) of the per-round ratios
pointgrad ÷ peer, for pointgrad's Auto and for its tiled brute force (brute force against brute
force). < 1: pointgrad faster.
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

CASE = "knn.large.cube.8192"
K = 16


def pg_round(build_dir, repeats, dump_dir):
    binary = os.path.join(build_dir, "bench", "bench_knn")
    env = dict(os.environ, PG_BENCH_DUMP_DIR=dump_dir, OMP_NUM_THREADS="1")
    cmd = [binary, "--device", "cpu", "--threads", "1", "--filter", CASE + "/", "--min-repeats", str(repeats),
           "--min-time", "0"]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    rows = [r for r in rows if r.get("case") == CASE]
    if len(rows) != 1:
        sys.exit(f"flat_knn: {' '.join(cmd)} gave {len(rows)} rows for {CASE}")
    return rows[0]["median_ms"], rows[0]["baseline_ms"]


def peers():
    found = {}
    try:
        import faiss

        faiss.omp_set_num_threads(1)

        def run_faiss(q, r):
            index = faiss.IndexFlatL2(3)
            index.add(r)
            return index.search(q, K)

        found["faiss-cpu IndexFlatL2"] = run_faiss
    except ImportError as e:
        print(f"# faiss-cpu unavailable ({e}): row skipped", file=sys.stderr)
    try:
        import torch

        torch.set_num_threads(1)

        def run_torch(q, r):
            with torch.no_grad():
                return torch.topk(torch.cdist(torch.from_numpy(q), torch.from_numpy(r)), K, largest=False)

        found["torch cdist+topk"] = run_torch
    except ImportError as e:
        print(f"# torch unavailable ({e}): row skipped", file=sys.stderr)
    return found


def timed(fn, repeats):
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="build-cpu")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    found = peers()
    if not found:
        sys.exit("flat_knn: neither faiss nor torch is importable")
    res = {name: ([], [], [], [], []) for name in found}  # pg auto, pg tiled, peer, ratio auto, ratio tiled
    with tempfile.TemporaryDirectory() as dump:
        for rnd in range(args.rounds):
            order = ["pg"] + list(found) if rnd % 2 == 0 else list(found) + ["pg"]
            got = {}
            for side in order:
                if side == "pg":
                    got["pg"] = pg_round(args.build_dir, args.repeats, dump)
                else:
                    q = np.fromfile(os.path.join(dump, CASE + ".query.f32"), dtype=np.float32).reshape(-1, 3)
                    r = np.fromfile(os.path.join(dump, CASE + ".ref.f32"), dtype=np.float32).reshape(-1, 3)
                    got[side] = timed(lambda: found[side](q, r), args.repeats)
            for name in found:
                auto, tiled = got["pg"]
                v = res[name]
                v[0].append(auto), v[1].append(tiled), v[2].append(got[name])
                v[3].append(auto / got[name]), v[4].append(tiled / got[name])
    print(f"| peer | pg Auto ms | pg tiled brute force ms | peer ms | pg Auto ÷ peer | pg brute ÷ peer "
          f"(median, min … max of {args.rounds} rounds) |")
    print("|---|---|---|---|---|---|")
    for name, v in res.items():
        med = [statistics.median(x) for x in v]
        print(f"| {name} | {med[0]:.2f} | {med[1]:.2f} | {med[2]:.2f} | {med[3]:.3f} ({min(v[3]):.3f} … "
              f"{max(v[3]):.3f}) | {med[4]:.3f} ({min(v[4]):.3f} … {max(v[4]):.3f}) |")


if __name__ == "__main__":
    main()
