#!/usr/bin/env python3
"""Issue 14's first table ("Large clouds, fast"), re-measured in one run on this machine.

Runs the comparison scripts of tools/compare/ one after another, each with its alternated rounds,
and prints issue 14's rows with the ratio the issue started from and today's (pointgrad ÷ peer,
median of the per-round ratios; < 1: pointgrad faster), 1 thread on both sides:

  kNN K=16       1 × 8192 × 8192 (cube, sphere)   SciPy cKDTree        scipy_knn.py --ops knn
  kNN K=16       32 × 1024 × 1024                 cKDTree per cloud    scipy_knn.py --ops knn_b32
  Chamfer        1 × 8192 × 8192 (cube, sphere)   cKDTree both ways    scipy_knn.py --ops chamfer
  auction EMD    n = 1024, 4096 (sphere, cube)    SciPy exact (LSA)    scipy_emd.py
  FPS            100000 → 25000 (cube, sphere)    fpsample bucket      fpsample_cmp.py
  kNN K=16       8192² (cube)                     faiss-cpu flat,      flat_knn.py
                                                  torch cdist+topk     (a missing peer: "unavailable")

Not a project dependency. Throwaway venv and the drivers:
    python3 -m venv /tmp/venv_cmp && /tmp/venv_cmp/bin/pip install scipy fpsample faiss-cpu
    cmake --build build-cpu --target bench_knn bench_chamfer emd_compare_io fps_compare_io
    /tmp/venv_cmp/bin/python tools/compare/issue14_table.py [--build-dir build-cpu] [--rounds 3]
--rounds goes to every script (3: about a minute on a quiet 2-vCPU machine). The sub-scripts'
own tables are echoed (prefixed "  ") before the summary; the load average is printed at the
start and the end. Exit status 1 if a sub-script fails (its output is shown).
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run(script, *args):
    cmd = [sys.executable, os.path.join(HERE, script), *args]
    print(f"# {' '.join(cmd[1:])}", flush=True)
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        print("  " + line)
    print(f"# ({time.time() - t0:.0f} s)", flush=True)
    if p.returncode != 0:
        print(p.stderr, file=sys.stderr)
        sys.exit(f"issue14_table: {script} failed (status {p.returncode})")
    return tables(p.stdout)


def tables(text):
    """Rows of every markdown table in text, as dicts keyed by the header cells."""
    rows, header = [], None
    for line in text.splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
        elif not all(re.fullmatch(r"-+", c) for c in cells):
            rows.append(dict(zip(header, cells)))
    return rows


def col(row, prefix):
    for k, v in row.items():
        if k.startswith(prefix):
            return v
    raise KeyError(prefix)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build-cpu")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    b, r = args.build_dir, str(args.rounds)
    for exe in ("bench/bench_knn", "bench/bench_chamfer", "bench/emd_compare_io", "bench/fps_compare_io"):
        if not os.path.exists(os.path.join(b, exe)):
            sys.exit(f"issue14_table: {b}/{exe} missing: cmake --build {b} --target "
                     "bench_knn bench_chamfer emd_compare_io fps_compare_io")
    start = time.time()
    load0 = os.getloadavg()
    print(f"# issue 14 table, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"load average at start {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}", flush=True)
    out = []  # (op, size, peer, issue ratio, today, note)

    knn = run("scipy_knn.py", "--build-dir", b, "--ops", "knn,chamfer", "--sizes", "8192", "--clouds", "cube,sphere",
              "--rounds", r)
    for row in knn:
        if row["op"] == "kNN K=16":
            out.append(("kNN K=16", f"1 × 8192 × 8192 {row['cloud']}", "SciPy cKDTree", "2.36–2.60",
                        col(row, "pg ÷ cKDTree"), "target ≤ 0.7"))
    b32 = run("scipy_knn.py", "--build-dir", b, "--ops", "knn_b32", "--rounds", r)
    for row in b32:
        out.append(("kNN K=16", "32 × 1024 × 1024", "cKDTree", "1.04", col(row, "pg ÷ cKDTree"),
                    "no regression at small sizes"))
    for row in knn:
        if row["op"].startswith("Chamfer"):
            out.append(("Chamfer", f"1 × 8192 × 8192 {row['cloud']}", "cKDTree (both directions)", "1.76–1.89",
                        col(row, "pg ÷ cKDTree"), "target ≤ 0.7"))
    emd = run("scipy_emd.py", "--pg-bin", os.path.join(b, "bench/emd_compare_io"), "--sizes", "1024", "4096",
              "--shapes", "sphere", "cube", "--rounds", r, "--dense-check", "0", "--big", "0")
    for row in emd:
        n = row["n"]
        before = "1.24 (sphere)" if n == "1024" else "0.36–0.41"
        out.append(("auction EMD", f"n = {n} {row['shape']}", "SciPy exact assignment", before,
                    row["pg ÷ SciPy"], f"target ≤ 0.2; rel. error {row['pg rel. cost error']} (≤ 1e-4)"))
    fps = run("fpsample_cmp.py", "--pg-bin", os.path.join(b, "bench/fps_compare_io"), "--cases", "100000:25000",
              "--shapes", "cube", "sphere", "--rounds", r)
    for row in fps:
        out.append(("FPS", f"100,000 → 25,000 {row['shape']}", "fpsample bucket (kdline)", "0.93–1.15",
                    col(row, "pg ÷ best fpsample"), f"same picks {row['same picks']}"))
    flat = run("flat_knn.py", "--build-dir", b, "--rounds", r)
    for peer, before in (("faiss-cpu IndexFlatL2", "0.16"), ("torch cdist+topk", "0.14")):
        row = next((x for x in flat if x["peer"] == peer), None)
        if row is None:
            out.append(("kNN K=16", "8192² cube", peer, before, "unavailable", "peer not importable: skipped"))
        else:
            out.append(("kNN K=16", "8192² cube", peer, before, col(row, "pg Auto ÷ peer"),
                        f"brute force ÷ peer {col(row, 'pg brute ÷ peer')}"))

    load1 = os.getloadavg()
    print(f"\n# issue 14's table today ({time.time() - start:.0f} s; load average at end "
          f"{load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}); pointgrad ÷ peer, median (min … max) of {r} rounds")
    print("| op | size | vs peer | issue 14 | today | note |")
    print("|---|---|---|---|---|---|")
    for o in out:
        print("| " + " | ".join(o) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
