#!/usr/bin/env python3
"""pointgrad's auction EMD (bijective mode) against SciPy's exact assignment, same clouds, same run.

NOT a dependency of pointgrad: SciPy/NumPy are needed only to run this comparison. Throwaway venv:
    python3 -m venv /tmp/venv_cmp && /tmp/venv_cmp/bin/pip install scipy==1.17.1
(numpy comes with it). Build the driver with the benches:
    cmake --build build-cpu --target emd_compare_io
then
    /tmp/venv_cmp/bin/python tools/compare/scipy_emd.py [--pg-bin build-cpu/bench/emd_compare_io]
        [--sizes 1024 2048 4096 8192] [--shapes sphere cube] [--rounds 3] [--threads 1]
        [--dense-check 2048] [--big 100000] [--leaf 1024] [--seed 14]

For every shape and size n the script draws x1, x2 [n, 3] with NumPy (seeded; sphere: unit-sphere
surface, normalised Gaussians; cube: uniform [0, 1]^3), rounds them to float32 (pointgrad runs on
float32 clouds, so both sides solve exactly the same problem), and writes them to a temporary file
that bench/emd_compare_io.cpp loads. Then, in alternated rounds (pg, SciPy, pg, SciPy, ...):
  pg:    emd(x1, x2, EmdOptions::bijective()) with the automatic CPU path, wall clock of the whole
         op call (inside the driver process, after the load);
  SciPy: cdist(x1, x2) (float64 Euclidean) + linear_sum_assignment, wall clock of both.
Printed per case: median times, the median of the per-round ratios pg / SciPy (< 1: pointgrad is
faster), the objects pg evaluated per bid (n for a dense scan), and pg's relative cost
error (Σ‖x1_j − x2_a(j)‖ − optimum) / optimum against SciPy's optimum (float64 sums). Up to
--dense-check points the dense path also runs once and its assignment must equal the sparse one
(the sparse bids are exact, kernels/cpu/emd_sparse.h).
--big N: one cloud pair per shape at n = N (too large for SciPy): pg's auction time and cost, and
EM-kD (k-d leaves of --leaf points, bijective leaf auctions): its time and how far its value is
from the whole-cloud auction's ((EM-kD − auction) / auction).
Exit status 1 when a pg assignment is not a permutation or the dense check differs.
Threads: --threads sets OMP_NUM_THREADS for the driver and the BLAS/OpenMP pools of this process.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--pg-bin", default="build-cpu/bench/emd_compare_io")
ap.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096, 8192])
ap.add_argument("--shapes", nargs="+", default=["sphere", "cube"], choices=["sphere", "cube"])
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--dense-check", type=int, default=2048)
ap.add_argument("--big", type=int, default=0)
ap.add_argument("--leaf", type=int, default=1024)
ap.add_argument("--seed", type=int, default=14)
args = ap.parse_args()

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import numpy as np  # noqa: E402  (after the thread variables)
import scipy  # noqa: E402
from scipy.optimize import linear_sum_assignment  # noqa: E402
from scipy.spatial.distance import cdist  # noqa: E402
from line_driver import LineDriver  # noqa: E402


def cloud(rng, shape, n):
    if shape == "sphere":
        v = rng.standard_normal((n, 3))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
    else:
        v = rng.random((n, 3))
    return v.astype(np.float32).astype(np.float64)


class Driver(LineDriver):
    """Answers are "key value key value ..." pairs."""

    def __init__(self, path):
        super().__init__(path, "scipy_emd.py")

    def ask(self, line):
        w = self.ask_words(line)
        return {w[i]: float(w[i + 1]) for i in range(0, len(w) - 1, 2)}


def cost(x1, x2, a):
    return float(np.linalg.norm(x1 - x2[a], axis=1).sum())


def read_assignment(path, n):
    a = np.fromfile(path, dtype=np.int64)
    if a.shape != (n,) or not np.array_equal(np.sort(a), np.arange(n)):
        sys.exit(f"scipy_emd.py: pg's assignment in {path} is not a permutation of {n} points")
    return a


def main():
    rng = np.random.default_rng(args.seed)
    tmp = tempfile.mkdtemp(prefix="pg_scipy_emd_")
    clouds, aout = os.path.join(tmp, "clouds.bin"), os.path.join(tmp, "a.bin")
    drv = Driver(args.pg_bin)
    load1 = os.getloadavg()[0]
    print(f"# scipy {scipy.__version__}, numpy {np.__version__}, threads {args.threads}, "
          f"seed {args.seed}, load1 at start {load1:.2f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| shape | n | pg auction ms | SciPy ms (cdist + LSA) | pg ÷ SciPy | objects per bid | pg rel. cost error |")
    print("|---|---|---|---|---|---|---|")
    ok = True
    for shape in args.shapes:
        for n in args.sizes:
            x1, x2 = cloud(rng, shape, n), cloud(rng, shape, n)
            np.concatenate([x1, x2]).tofile(clouds)
            drv.ask(f"load {clouds} {n}")
            drv.ask(f"emd {aout} auto")  # warm-up (page faults, thread pool)
            pg_ms, sp_ms, ratios, per_bid = [], [], [], 0.0
            opt = None
            for _ in range(args.rounds):
                r = drv.ask(f"emd {aout} auto")
                pg_ms.append(r["ms"])
                per_bid = r["pairs"] / max(1.0, r["bids"])
                t0 = time.perf_counter()
                c = cdist(x1, x2)
                rows, cols = linear_sum_assignment(c)
                sp_ms.append(1e3 * (time.perf_counter() - t0))
                opt = float(c[rows, cols].sum())
                del c
                ratios.append(pg_ms[-1] / sp_ms[-1])
            a = read_assignment(aout, n)
            rel = (cost(x1, x2, a) - opt) / opt
            print(f"| {shape} | {n} | {statistics.median(pg_ms):.1f} | {statistics.median(sp_ms):.1f} | "
                  f"{statistics.median(ratios):.3f} | {per_bid:.0f} | {rel:.2e} |", flush=True)
            if n <= args.dense_check:
                drv.ask(f"emd {aout}.dense dense")
                if not np.array_equal(read_assignment(aout + ".dense", n), a):
                    print(f"# MISMATCH: dense and sparse assignments differ ({shape}, n = {n})")
                    ok = False
    if args.big > 0:
        n = args.big
        print(f"\n| shape | n | pg auction ms | objects per bid | auction cost | EM-kD (leaf {args.leaf}) ms | "
              "EM-kD − auction (rel.) |")
        print("|---|---|---|---|---|---|---|")
        for shape in args.shapes:
            x1, x2 = cloud(rng, shape, n), cloud(rng, shape, n)
            np.concatenate([x1, x2]).tofile(clouds)
            drv.ask(f"load {clouds} {n}")
            r = drv.ask(f"emd {aout} auto")
            ca = cost(x1, x2, read_assignment(aout, n))
            per_bid = r["pairs"] / max(1.0, r["bids"])
            k = drv.ask(f"emkd {aout} {args.leaf}")
            ck = cost(x1, x2, read_assignment(aout, n))
            print(f"| {shape} | {n} | {r['ms']:.0f} | {per_bid:.0f} | {ca:.6g} | {k['ms']:.0f} | "
                  f"{(ck - ca) / ca:+.3e} |", flush=True)
    drv.close()
    print(f"# load1 at end {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
