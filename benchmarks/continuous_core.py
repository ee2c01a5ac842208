"""The pattern method (exact continuous optimum of 1-w-1 ReLU nets) on the issue's cases.

Data as in the issue: x uniform in [-1, 1]^n, y = 0.8 relu(0.9x - 0.2) - 0.6 relu(-0.7x + 0.1)
+ 0.1 ("relu") or 0.7 sin(2x) ("sin") for n = 1, 0.5 x1 x2 for n = 2 ("x1x2"), noise
N(0, 0.05^2), clipped to [-1, 1]; seed = D (+1 for "sin"); "uniform": x and y uniform in
[-1, 1], seed 0 (review R7-1).  A case may end in ``:xscale:box`` (x multiplied, box B);
else B = 1.  Gap 1e-4 relative / 1e-6 absolute, one thread.  The proof of every run is
replayed by the independent checker (``check s``).  Load average printed: the machine is
shared.

    python benchmarks/continuous_core.py                # the default cases
    python benchmarks/continuous_core.py 1-3-1:100:quadratic:relu ...
    python benchmarks/continuous_core.py --time-limit=60 2-2-1:100:absolute:x1x2
    python benchmarks/continuous_core.py --workers=2 2-2-1:100:quadratic:x1x2   # 2 threads
    python benchmarks/continuous_core.py 1-2-1:8:quadratic:uniform:1e3:1   # x*1e3, box 1

``--workers=K`` bounds the search's nodes on K threads (default 1 here, the library's default
is every core); ``--batch=K`` fixes the nodes expanded per batch (default: one per worker).
"""

import os
import sys
import time

import numpy as np

from lptrain.arch import Architecture
from lptrain.continuous import check_patterns, patterns

DEFAULT = [
    "1-2-1:10:absolute:relu", "1-2-1:10:quadratic:relu", "1-2-1:10:absolute:sin",
    "1-2-1:10:quadratic:sin", "1-3-1:10:absolute:relu", "1-3-1:10:quadratic:relu",
    "1-3-1:10:absolute:sin", "1-3-1:10:quadratic:sin", "1-2-1:25:absolute:relu",
    "1-3-1:25:absolute:relu", "1-2-1:100:absolute:relu", "1-2-1:100:quadratic:relu",
    "1-3-1:100:absolute:relu", "1-3-1:100:quadratic:relu",
    "2-2-1:10:absolute:x1x2", "2-2-1:10:quadratic:x1x2", "2-2-1:100:absolute:x1x2",
    "2-2-1:100:quadratic:x1x2",
]


def data(n, D, kind):
    if kind == "uniform":  # review R7-1's cases: x and y uniform in [-1, 1], seed 0
        rng = np.random.default_rng(0)
        return rng.uniform(-1, 1, (D, n)), rng.uniform(-1, 1, (D, 1))
    rng = np.random.default_rng(D + (1 if kind == "sin" else 0))
    x = rng.uniform(-1, 1, (D, n))
    if n == 2:
        y = 0.5 * x[:, :1] * x[:, 1:2]
    elif kind == "sin":
        y = 0.7 * np.sin(2 * x)
    else:
        y = 0.8 * np.maximum(0.9 * x - 0.2, 0) - 0.6 * np.maximum(-0.7 * x + 0.1, 0) + 0.1
    return x, np.clip(y + rng.normal(0, 0.05, y.shape), -1, 1)


def main(cases, time_limit=600.0, workers=1, batch=None):
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f} at start, workers {workers}, batch {batch or workers}")
    print("| case | target | D | loss | nodes | LPs/QPs | solve s | cpu s | objective | lower bound "
          "| gap | check s | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for case in cases:
        spec, D, loss, kind, *rest = case.split(":")
        D = int(D)
        scale, box = (float(rest[0]) if rest else 1.0), (float(rest[1]) if len(rest) > 1 else 1.0)
        arch = Architecture.parse(spec)
        X, Y = data(arch.widths[0], D, kind)
        X = X * scale
        if rest:
            kind = f"{kind} x*{scale:g} box {box:g}"
        if not patterns.applies(arch, loss, None):
            print(f"| {spec} | {kind} | {D} | {loss} | not covered | | | | | | | | |")
            continue
        t, c = time.perf_counter(), time.process_time()
        res = patterns.solve(arch, loss, X, Y, box=box, time_limit=time_limit, workers=workers,
                             batch=batch)
        ts, cs = time.perf_counter() - t, time.process_time() - c
        t = time.perf_counter()
        ok, msg = check_patterns.verify(res.proof, arch, loss, X, Y, box=box, reg=None, lam=0.0,
                                        lower_bound=res.lower_bound, params=res.params,
                                        objective=res.objective)
        tc = time.perf_counter() - t
        status = "" if res.status == "optimal" else f" ({res.status})"
        print(f"| {spec} | {kind} | {D} | {loss} | {res.nodes} | {res.info['lps']} | {ts:.2f}{status} "
              f"| {cs:.1f} | {res.objective:.9g} | {res.lower_bound:.9g} | {res.gap:.2g} "
              f"| {tc:.2f}{'' if ok else ' INVALID'} | {os.getloadavg()[0]:.1f} |", flush=True)


if __name__ == "__main__":
    opts = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--")}
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(args or DEFAULT, float(opts.get("--time-limit", 600.0)), int(opts.get("--workers", 1)),
         int(opts["--batch"]) if "--batch" in opts else None)
