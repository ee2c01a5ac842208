"""Core growth: build and solve time and sizes against D and bits (Thm 3.1: linear in D).

Runs, for a few architectures, ``build`` (one table of G^(n+m+N) evaluations, then the
explicit LP's exact sizes), and solving one random data set on its face with ``highs``
(explicit face LP, where it fits in the budget) and ``structured``; prints one table
and the ratio highs/structured of the same case.  Usage:

    python benchmarks/core_growth.py [--quick]
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time

import numpy as np

from lptrain.arch import Architecture
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.polytope import Polytope
from lptrain.solvers import get_solver

HIGHS_MAX_COLUMNS = 2_000_000


def case(spec, bits, D, loss, rng):
    arch = Architecture.parse(spec)
    P = Polytope(arch, loss, Grid(bits), D)
    t0 = time.perf_counter()
    P.build()
    t_build = time.perf_counter() - t0
    s = P.sizes()
    x = rng.uniform(-1, 1, (D, arch.n_inputs))
    y = rng.uniform(-1, 1, (D, arch.n_outputs))
    face = Face(P, x, y)
    res = {"arch": spec, "bits": bits, "D": D, "vars": s["variables"], "cons": s["constraints"],
           "nnz": s["nonzeros"], "evals": s["evaluations"], "build_s": t_build}
    t0 = time.perf_counter()
    st = get_solver("structured").solve(face, 4 << 30)
    res["structured_s"] = time.perf_counter() - t0
    res["obj"] = st.objective
    cols = face.lp_sizes()["variables"]
    if cols <= HIGHS_MAX_COLUMNS:
        t0 = time.perf_counter()
        hs = get_solver("highs").solve(face, 16 << 30)
        res["highs_s"] = time.perf_counter() - t0
        assert abs(hs.objective - st.objective) <= 1e-9 * (1 + abs(st.objective))
    else:
        res["highs_s"] = None
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    Ds = [10, 100, 1000] if args.quick else [10, 100, 1000, 10000]
    rows = []
    for spec, bits, loss in [("1-1-1", 2, "quadratic"), ("1-2-1", 2, "quadratic"), ("2-1-1", 3, "absolute")]:
        for D in Ds:
            rows.append(case(spec, bits, D, loss, rng))
    for spec, bits in [("1-1-1", 1), ("1-1-1", 2), ("1-1-1", 3), ("1-1-1", 4)]:
        rows.append(case(spec, bits, 100, "quadratic", rng))
    print(f"# {platform.node()} {platform.processor() or platform.machine()}, python {sys.version.split()[0]}, "
          f"{time.strftime('%Y-%m-%d')}")
    hdr = ("arch", "bits", "D", "variables", "constraints", "nonzeros", "evals(f,l)", "build s",
           "highs s", "structured s", "highs/structured")
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for r in rows:
        ratio = f"{r['highs_s'] / r['structured_s']:.0f}x" if r["highs_s"] else "—"
        hs = f"{r['highs_s']:.3f}" if r["highs_s"] else "too large"
        print(f"| {r['arch']} | {r['bits']} | {r['D']} | {r['vars']:,} | {r['cons']:,} | {r['nnz']:,} | "
              f"{r['evals']:,} | {r['build_s']:.3f} | {hs} | {r['structured_s']:.4f} | {ratio} |")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
