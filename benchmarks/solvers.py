"""Solvers side by side: highs (explicit face LP, simplex and IPM), structured, bnb, and a
plain vectorized brute force over the grid (no deduplication, no structure).

Every (architecture, bits, D, contender) runs in a fresh Python process, so the peak
memory reported is that process's own high-water mark (VmHWM); a case over its time limit
is reported as such.  Inputs are uniform on [-1, 1] (many distinct points); targets are
independent of them (``--data random``, the default) or a noisy function the nets can fit
(``--data structured``).  numba kernels are loaded before the timing starts.  The
objectives of all contenders that finish are checked to agree (1e-9 relative).

evals/s is the work done per second: each contender's ``evaluations`` (losses computed:
distinct points x grid points evaluated; bnb: exact points plus box bounds, each times
the distinct points; plain: D x G^N, it does not de-duplicate), not the nominal D x G^N
(also recorded, as ``nominal``).  Uniform inputs keep nearly every data point distinct.

    python benchmarks/solvers.py [--quick] [--only structured,bnb] [--archs 1-3-1:absolute]
        [--bits 2,3] [--samples 100,1000] [--data structured] [--limit SECONDS] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

CONTENDERS = ("plain", "highs-simplex", "highs-ipm", "structured", "bnb")


def data(spec, D, seed=0, kind="random"):
    """x uniform on [-1, 1]; y independent of x ("random") or 0.5 |sum x| - 0.3 + noise
    ("structured": a target the nets can fit, where few grid points are near-optimal)."""
    widths = [int(w) for w in spec.split("-")]
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, widths[0]))
    if kind == "structured":
        y = 0.5 * np.abs(x.sum(1, keepdims=True)) - 0.3 + rng.normal(0, 0.05, (D, widths[-1]))
    else:
        y = 0.5 * np.abs(rng.uniform(-1, 1, (D, widths[-1]))) - 0.3
    return x, np.clip(y, -1, 1)


def plain_brute_force(P, x, y):
    """The baseline users would write: every grid point against every data point, in numpy blocks."""
    ev = P.evaluator
    xr, yr = P.grid.round(x), P.grid.round(y)
    best = np.inf
    step = max(1, (32 << 20) // (8 * len(x) * (len(P.arch.nodes) + 3)))
    for a0 in range(0, P.param_points, step):
        a1 = min(P.param_points, a0 + step)
        s = ev.block(xr, yr, a0, a1).sum(axis=0)
        best = min(best, float(s.min()))
    return best / len(x)


def one(spec, bits, D, contender, loss, kind="random"):
    from lptrain.arch import Architecture
    from lptrain.face import Face
    from lptrain.grid import Grid
    from lptrain.polytope import Polytope
    from lptrain.solvers import get_solver

    x, y = data(spec, D, kind=kind)
    P = Polytope(Architecture.parse(spec), loss, Grid(bits), D)
    if contender in ("structured", "bnb"):  # load the numba kernels (compiled, or from the cache) untimed
        tiny = Face(Polytope(P.arch, loss, Grid(2), 1), x[:1], y[:1])
        get_solver(contender).solve(tiny, 1 << 30)
        if contender == "structured" and len(P.arch.widths) == 3:
            from lptrain.solvers import fused

            fused.solve(tiny)
    t0 = time.perf_counter()
    extra = {}
    work = P.param_points * D
    if contender == "plain":
        obj = plain_brute_force(P, x, y)
    else:
        face = Face(P, x, y)
        if contender.startswith("highs"):
            sol = get_solver("highs", method=contender.split("-")[1]).solve(face, 64 << 30)
        else:
            sol = get_solver(contender).solve(face, 8 << 30)
            if contender == "bnb":
                extra["evaluated_fraction"] = sol.info["evaluated_fraction"]
        obj = sol.objective
        work = sol.evaluations
        extra["distinct"] = len(face.distinct)
    dt = time.perf_counter() - t0
    hwm = int(re.search(r"VmHWM:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024
    print(json.dumps({"objective": obj, "seconds": dt, "peak_bytes": hwm,
                      "evals": work, "nominal": P.param_points * D, **extra}))


def feasible(spec, bits, D, contender):
    widths = [int(w) for w in spec.split("-")]
    N = sum(widths[i] * (widths[i - 1] + 1) for i in range(1, len(widths)))
    K = 2 ** (bits * N)
    if contender.startswith("highs"):
        return D * K <= 3_000_000, "face LP over 3M columns"
    if contender == "plain":
        return K * D <= 3e10, "over 3e10 evaluations"
    return True, ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--limit", type=float, default=120.0)
    ap.add_argument("--out")
    ap.add_argument("--one", nargs=6)
    ap.add_argument("--only", help="comma-separated contenders to run (default: all)")
    ap.add_argument("--archs", help="comma-separated spec:loss (default: 1-2-1:quadratic,2-2-1:absolute,1-3-1:absolute)")
    ap.add_argument("--bits", help="comma-separated bits (default: 1,2,3)")
    ap.add_argument("--samples", help="comma-separated D (default: 10,...,100000)")
    ap.add_argument("--data", choices=["random", "structured"], default="random")
    a = ap.parse_args()
    if a.one:
        spec, bits, D, contender, loss, kind = a.one
        return one(spec, int(bits), int(D), contender, loss, kind)
    archs = ([tuple(t.split(":")) for t in a.archs.split(",")] if a.archs else
             [("1-2-1", "quadratic"), ("2-2-1", "absolute"), ("1-3-1", "absolute")])
    Ds = ([int(v) for v in a.samples.split(",")] if a.samples else
          [10, 100, 1000] if a.quick else [10, 100, 1000, 10_000, 100_000])
    bitss = [int(v) for v in a.bits.split(",")] if a.bits else [1, 2] if a.quick else [1, 2, 3]
    rows = []
    for spec, loss in archs:
        for bits in bitss:
            for D in Ds:
                res = {}
                for c in CONTENDERS:
                    if a.only and c not in a.only.split(","):
                        res[c] = {"skipped": "not selected"}
                        continue
                    ok, why = feasible(spec, bits, D, c)
                    if not ok:
                        res[c] = {"skipped": why}
                        continue
                    try:
                        out = subprocess.run([sys.executable, __file__, "--one", spec, str(bits), str(D), c, loss, a.data],
                                             capture_output=True, text=True, timeout=a.limit)
                        res[c] = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else {
                            "failed": out.stderr.strip().splitlines()[-1][:80]}
                    except subprocess.TimeoutExpired:
                        res[c] = {"timeout": a.limit}
                objs = [r["objective"] for r in res.values() if "objective" in r]
                agree = max(objs) - min(objs) <= 1e-9 * (1 + abs(min(objs))) if objs else True
                rows.append({"arch": spec, "loss": loss, "bits": bits, "D": D, "results": res, "agree": agree})
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(f"# {os.uname().nodename}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}, limit {a.limit:g} s per run, "
          f"{a.data} targets")
    print("| arch | bits | D | " + " | ".join(CONTENDERS) + " | structured vs plain | structured vs best highs | agree |")
    print("|" + "---|" * (len(CONTENDERS) + 6))
    for r in rows:
        cells = []
        for c in CONTENDERS:
            v = r["results"][c]
            if "seconds" in v:
                cell = f"{v['seconds']:.3g} s, {v['peak_bytes'] / 2**20:.0f} MiB, {v['evals'] / max(v['seconds'], 1e-9):.2g}/s"
                if "evaluated_fraction" in v:
                    cell += f", {100 * v['evaluated_fraction']:.2g}% evaluated"
            elif "timeout" in v:
                cell = f"> {v['timeout']:g} s"
            else:
                cell = "— (" + (v.get("skipped") or v.get("failed", "")) + ")"
            cells.append(cell)
        st = r["results"]["structured"].get("seconds")
        pl = r["results"]["plain"].get("seconds")
        hs = [r["results"][c].get("seconds") for c in ("highs-simplex", "highs-ipm")]
        hs = [h for h in hs if h]
        rp = f"{pl / st:.0f}x" if st and pl else "—"
        rh = f"{min(hs) / st:.0f}x" if st and hs else "—"
        print(f"| {r['arch']} | {r['bits']} | {r['D']} | " + " | ".join(cells) + f" | {rp} | {rh} | {r['agree']} |")
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
