"""Whole ``lptrain train`` commands with the independent check on: solve vs check time.

Runs the three cases of issue 11 on seeded data with many distinct points (x uniform in
[-1, 1]^n, y = 0.5 |sum x| - 0.3 + N(0, 0.05^2), clipped to [-1, 1]: the "structured"
targets of ``benchmarks/solvers.py``) and prints, per
case, ``solve_seconds`` and ``check_seconds`` from the command's JSON, the whole command's
wall time, and the ratio wall / solve.  The target is wall <= 3 solve + 2 s.  Each case runs
twice: the first run may compile numba kernels (cold; ``--cold`` deletes the checker's cached
kernels first so that it does), the second loads them from numba's cache (warm).

    python benchmarks/check.py [--runs 2] [--cases a,b,c] [--cold]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

CASES = {
    "2-3-1-b2-D1000": (["--arch", "2-3-1", "--bits", "2"], 2, 1000),
    "1-3-1-b3-D10": (["--arch", "1-3-1", "--bits", "3"], 1, 10),
    "bnb-2-2-1-b4-D100": (["--arch", "2-2-1", "--bits", "4", "--solver", "bnb", "--loss", "absolute"], 2, 100),
}


def make_data(path, n, D, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, n))
    y = np.clip(0.5 * np.abs(x.sum(1)) - 0.3 + rng.normal(0, 0.05, D), -1, 1)
    head = ",".join([f"x{i + 1}" for i in range(n)] + ["y"])
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=head, comments="", fmt="%.6f")


def run(case, tmp, python=sys.executable):
    extra, n, D = CASES[case]
    data = os.path.join(tmp, f"{case}.csv")
    if not os.path.exists(data):
        make_data(data, n, D)
    out = os.path.join(tmp, f"{case}.json")
    cmd = [python, "-m", "lptrain.cli", "train", data, *extra, "--json", out]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"{case}: exit {r.returncode}: {r.stderr.strip()}")
    rep = json.load(open(out))
    return rep["solve_seconds"], rep.get("check_seconds"), wall, rep["certificate"]["valid"], \
        rep["certificate"]["method"], rep["distinct_points"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--cold", action="store_true",
                    help="first delete the checker's cached numba kernels, so the first run compiles them")
    a = ap.parse_args(argv)
    if a.cold:
        import glob

        import lptrain

        for f in glob.glob(os.path.join(os.path.dirname(lptrain.__file__), "__pycache__", "_verify_kernels*.nb[ic]")):
            os.remove(f)
    print(f"{'case':<20} {'run':>4} {'distinct':>8} {'solve s':>8} {'check s':>8} {'wall s':>8} "
          f"{'wall/solve':>10} {'target s':>9} {'ok':>3} {'method':>9} valid")
    with tempfile.TemporaryDirectory() as tmp:
        for case in a.cases.split(","):
            for k in range(a.runs):
                s, c, w, valid, method, dist = run(case, tmp)
                target = 3 * s + 2
                print(f"{case:<20} {('cold' if k == 0 else 'warm'):>4} {dist:>8} {s:8.2f} "
                      f"{(c if c is not None else float('nan')):8.2f} {w:8.2f} {w / s:10.2f} "
                      f"{target:9.2f} {'yes' if w <= target else 'NO':>3} {method:>9} {valid}", flush=True)


if __name__ == "__main__":
    main()
