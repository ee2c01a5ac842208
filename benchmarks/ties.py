"""bnb's tie phase on exact fits: many grid points at objective 0 (issue 11).

Each case trains with ``--solver bnb`` in-process (kernels loaded by a warm-up solve first)
and prints whether the smallest-index rule was resolved, the boxes of the optimum's search,
of its coarse seeds (their tie phases included) and of the tie phase, and the seconds.
Cases: x = (-0.75, -0.5, 0.25, 0.5) with y = 0.5 relu(x) (the issue's example; 1-2-1 fits it
only with both units), and targets computed by a net on the grid (1-2-1, 1-3-1).

    python benchmarks/ties.py [--bits 6,8] [--cases relu2,net121,net131] [--budget N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

X = np.array([-0.75, -0.5, 0.25, 0.5])
NETS = {  # (hidden widths, parameters in the layered order: per unit w, b; then v..., c)
    "net121": ([1, 2, 1], [0.5, -0.25, -0.5, 0.0, 0.75, 0.5, -0.25]),
    "net131": ([1, 3, 1], [-0.5, 0.0, 0.5, -0.25, 0.25, 0.25, 0.5, -0.5, 0.5, 0.0]),
}


def case(name):
    """(widths, x, y) of one case."""
    if name == "relu2":
        return [1, 2, 1], X, 0.5 * np.maximum(X, 0.0)
    widths, p = NETS[name]
    w = widths[1]
    h = np.maximum(np.outer(X, p[0:2 * w:2]) + np.array(p[1:2 * w:2]), 0.0)
    return widths, X, h @ np.array(p[2 * w:3 * w]) + p[3 * w]


def run(name, bits, budget):
    from lptrain.arch import Architecture
    from lptrain.face import Face
    from lptrain.grid import Grid
    from lptrain.polytope import Polytope
    from lptrain.solvers.bnb import BranchAndBound

    widths, x, y = case(name)
    face = Face(Polytope(Architecture.layered(widths, "relu"), "absolute", Grid(bits), len(x)), x[:, None],
                y[:, None])
    kw = {} if budget is None else {"tie_budget": budget}
    t = time.perf_counter()
    sol = BranchAndBound(**kw).solve(face, 1 << 31)
    dt = time.perf_counter() - t
    i = sol.info
    return (name, "-".join(map(str, widths)), bits, i.get("tie_break", "-"), i["boxes"], i["seed_boxes"],
            i.get("tie_boxes", 0), dt, sol.objective)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bits", default="6,8")
    ap.add_argument("--cases", default="relu2,net121,net131")
    ap.add_argument("--budget", type=int, default=None, help="tie_budget (default: bnb's)")
    a = ap.parse_args()
    run("relu2", 2, None)  # load the kernels
    print("| case | arch | bits | tie_break | boxes | seed boxes | tie boxes | s | objective |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in a.cases.split(","):
        for bits in map(int, a.bits.split(",")):
            r = run(name, bits, a.budget)
            print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:,} | {r[5]:,} | {r[6]:,} | {r[7]:.2f} | {r[8]:.3g} |",
                  flush=True)


if __name__ == "__main__":
    main()
