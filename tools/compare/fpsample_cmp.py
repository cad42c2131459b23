#!/usr/bin/env python3
"""pointgrad's CPU FPS against fpsample's bucket FPS (QuickFPS, bucket_fps_kdline_sampling), same
cloud, same start, same run.

NOT a dependency of pointgrad: fpsample/NumPy are needed only to run this comparison. Throwaway venv:
    python3 -m venv /tmp/venv_cmp && /tmp/venv_cmp/bin/pip install fpsample==1.0.2
Build the driver with the benches:
    cmake --build build-cpu --target fps_compare_io
then
    /tmp/venv_cmp/bin/python tools/compare/fpsample_cmp.py [--pg-bin build-cpu/bench/fps_compare_io]
        [--cases 1000000:100000 100000:25000] [--shapes cube sphere] [--rounds 3] [--heights 7 9]
        [--threads 1] [--check 20000:2000] [--seed 14]

Per case N:M and shape, the script draws one cloud (NumPy, seeded; cube: uniform [0, 1]^3, sphere:
unit-sphere surface), float32, writes it to a temporary file that bench/fps_compare_io.cpp loads,
and times, in alternated rounds, pg's fps(points, M, start s) (wall clock of the op call inside
the driver) and fpsample.bucket_fps_kdline_sampling(points, M, h, start_idx=0) for every tree
height h of --heights, where s is fpsample's own first pick (fpsample 1.0.2 does not honour
start_idx=0 in this function; from its first pick on its picks are textbook FPS). Printed: median times, the median per-round ratio pg / fpsample for each h
and against the fastest h (< 1: pointgrad is faster), and how many of the M picks agree (same
position in the sequence, and as sets) with fpsample's last run.
--check N:M first compares pg's picks with a NumPy textbook FPS (float32 field, the same
((dx·dx + dy·dy) + dz·dz) rounding, lowest index on ties, start 0) on a cube and on a cloud with
duplicated points; a difference exits with status 1.
--threads sets OMP_NUM_THREADS (pg) and fpsample's pool (it is single-threaded for one cloud).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--pg-bin", default="build-cpu/bench/fps_compare_io")
ap.add_argument("--cases", nargs="+", default=["1000000:100000", "100000:25000"])
ap.add_argument("--shapes", nargs="+", default=["cube", "sphere"], choices=["cube", "sphere"])
ap.add_argument("--rounds", type=int, default=3)
ap.add_argument("--heights", type=int, nargs="+", default=[7, 9])
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--check", default="20000:2000")
ap.add_argument("--seed", type=int, default=14)
args = ap.parse_args()
os.environ["OMP_NUM_THREADS"] = str(args.threads)

import fpsample  # noqa: E402
import numpy as np  # noqa: E402
from line_driver import LineDriver  # noqa: E402


def cloud(rng, shape, n):
    if shape == "sphere":
        v = rng.standard_normal((n, 3))
        v /= np.linalg.norm(v, axis=1, keepdims=True)
    else:
        v = rng.random((n, 3))
    return np.ascontiguousarray(v, dtype=np.float32)


def textbook_fps(p, m):
    d = np.full(len(p), np.inf, dtype=np.float32)
    out = np.empty(m, dtype=np.int64)
    last = 0
    out[0] = 0
    for i in range(1, m):
        q = p - p[last]
        dd = (q[:, 0] * q[:, 0] + q[:, 1] * q[:, 1]) + q[:, 2] * q[:, 2]
        np.minimum(d, dd, out=d)
        last = int(np.argmax(d))  # first maximum: lowest index on ties
        out[i] = last
    return out


class Driver(LineDriver):
    def __init__(self, path):
        super().__init__(path, "fpsample_cmp.py")

    def ask(self, line):
        return self.ask_words(line)

    def load(self, path, p):
        p.tofile(path)
        self.ask(f"load {path} {len(p)}")

    def fps(self, out, m, start=0):
        ms = float(self.ask(f"fps {out} {m} {start}")[1])
        return ms, np.fromfile(out, dtype=np.int64)


def main():
    rng = np.random.default_rng(args.seed)
    tmp = tempfile.mkdtemp(prefix="pg_fpsample_")
    path, out = os.path.join(tmp, "cloud.bin"), os.path.join(tmp, "idx.bin")
    drv = Driver(args.pg_bin)
    ok = True
    print(f"# fpsample {getattr(fpsample, '__version__', '?')}, numpy {np.__version__}, threads {args.threads}, "
          f"seed {args.seed}, load1 at start {os.getloadavg()[0]:.2f}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if args.check:
        n, m = (int(v) for v in args.check.split(":"))
        dup = cloud(rng, "cube", n // 4)
        for name, p in (("cube", cloud(rng, "cube", n)), ("duplicates x4", np.concatenate([dup] * 4))):
            drv.load(path, p)
            _, got = drv.fps(out, m)
            same = np.array_equal(got, textbook_fps(p, m))
            print(f"# textbook check {name} {len(p)} -> {m}: {'identical picks' if same else 'DIFFERENT picks'}")
            ok = ok and same
    hs = args.heights
    print("| shape | N → M | pg ms | " + " | ".join(f"fpsample h={h} ms" for h in hs) + " | "
          + " | ".join(f"pg ÷ h={h}" for h in hs) + " | pg ÷ best fpsample | same picks |")
    print("|---" * (4 + 2 * len(hs) + 1) + "|")
    for case in args.cases:
        n, m = (int(v) for v in case.split(":"))
        for shape in args.shapes:
            p = cloud(rng, shape, n)
            drv.load(path, p)
            # fpsample 1.0.2's bucket_fps_kdline_sampling does not start at start_idx=0 (it picks its
            # own first point; from there its picks are textbook FPS): pg starts at that point.
            start = int(fpsample.bucket_fps_kdline_sampling(p, min(m, 10), h=hs[-1], start_idx=0)[0])
            drv.fps(out, min(m, 1000), start)  # warm-up
            pg, fs = [], {h: [] for h in hs}
            ratios = {h: [] for h in hs}
            best = []
            same = common = 0
            for _ in range(args.rounds):
                ms, idx = drv.fps(out, m, start)
                pg.append(ms)
                for h in hs:
                    t0 = time.perf_counter()
                    ref = fpsample.bucket_fps_kdline_sampling(p, m, h=h, start_idx=0)
                    fs[h].append(1e3 * (time.perf_counter() - t0))
                    ratios[h].append(ms / fs[h][-1])
                    ref = np.asarray(ref, dtype=np.int64)
                    same = int(np.sum(ref == idx))
                    common = len(np.intersect1d(ref, idx))
                best.append(ms / min(fs[h][-1] for h in hs))
            print(f"| {shape} | {n} → {m} | {statistics.median(pg):.0f} | "
                  + " | ".join(f"{statistics.median(fs[h]):.0f}" for h in hs) + " | "
                  + " | ".join(f"{statistics.median(ratios[h]):.2f}" for h in hs)
                  + f" | {statistics.median(best):.2f} | {same}/{m} ({common} in common) |", flush=True)
    drv.close()
    print(f"# load1 at end {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
