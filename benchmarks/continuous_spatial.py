"""Spatial branch-and-bound on every kind of network: what it certifies within a time limit.

Data as in issue 12: x uniform in [-1, 1]^n, y from a small net + N(0, 0.05^2), clipped.
Each row: the final status, the certified interval [lower_bound, objective], nodes, LP
solves, solve wall and CPU seconds (CPU: this process, every thread), and check seconds (the
check replays every leaf independently).  ``--workers K``: threads solving the boxes' LPs.

    python benchmarks/continuous_spatial.py [--time-limit S] [--workers K]
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from lptrain.arch import Architecture
from lptrain.architectures import conv1d, resnet
from lptrain.continuous import check_continuous, solve_continuous


def data(n, m, D, seed=0, loss="quadratic"):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, n))
    s = x.sum(1, keepdims=True)
    y = 0.8 * np.maximum(0.9 * s - 0.2, 0) - 0.6 * np.maximum(-0.7 * s + 0.1, 0) + 0.1
    y = np.clip(y + rng.normal(0, 0.05, (D, 1)), -1, 1)
    if loss == "hinge":
        return x, np.where(y > 0.1, 1.0, -1.0)
    if loss == "cross_entropy":
        lab = (y[:, 0] > 0.1).astype(int)
        return x, np.eye(m)[lab]
    return x, np.repeat(y, m, axis=1)


CASES = [
    ("1-1 (affine)", Architecture.parse("1-1"), "absolute", None, 50),
    ("1-1 (affine)", Architecture.parse("1-1"), "quadratic", None, 50),
    ("1-1-1 relu", Architecture.parse("1-1-1"), "absolute", None, 10),
    ("1-1-1 relu", Architecture.parse("1-1-1"), "quadratic", None, 10),
    ("1-1-1 tanh, l2", Architecture.parse("1-1-1", "tanh"), "quadratic", "l2", 10),
    ("1-1-1 elu", Architecture.parse("1-1-1", "elu"), "hinge", None, 10),
    ("1-2-1 relu", Architecture.parse("1-2-1"), "absolute", None, 10),
    ("1-2-1 leaky_relu", Architecture.parse("1-2-1", "leaky_relu"), "quadratic", None, 10),
    ("1-1-2 relu", Architecture.parse("1-1-2"), "cross_entropy", None, 10),
    ("conv1d 3x2 (shared)", conv1d(3, 2), "absolute", None, 10),
    ("resnet 1-1-1-1 (skip)", resnet([1, 1, 1, 1]), "quadratic", None, 10),
]


def main():
    tl = 30.0
    if "--time-limit" in sys.argv:
        tl = float(sys.argv[sys.argv.index("--time-limit") + 1])
    workers = None
    if "--workers" in sys.argv:
        workers = int(sys.argv[sys.argv.index("--workers") + 1])
    print(f"time limit {tl:g} s, workers {workers or 'default'}, load average {os.getloadavg()}")
    print(f"{'case':<22} {'loss':<13} {'N':>3} {'D':>3} {'status':<10} {'lower':>10} {'objective':>10} "
          f"{'gap':>9} {'nodes':>6} {'LPs':>6} {'solve s':>8} {'cpu s':>7} {'check s':>8} cert")
    for name, arch, loss, reg, D in CASES:
        x, y = data(arch.n_inputs, arch.n_outputs, D, loss=loss)
        lam = 0.01 if reg else 0.0
        t0, c0 = time.perf_counter(), time.process_time()
        r = solve_continuous(arch, loss, x, y, reg=reg, lam=lam, time_limit=tl, method="spatial",
                             workers=workers)
        ts, cs = time.perf_counter() - t0, time.process_time() - c0
        c = check_continuous(r, arch, loss, x, y, reg=reg, lam=lam)
        print(f"{name:<22} {loss:<13} {arch.n_params:>3} {D:>3} {r.status:<10} {r.lower_bound:>10.4g} "
              f"{r.objective:>10.4g} {r.gap:>9.2g} {r.nodes:>6} {r.info.get('lp_solves', 0):>6} "
              f"{ts:>8.3g} {cs:>7.3g} {c.seconds:>8.3g} {'valid' if c.valid else 'INVALID ' + c.reason}",
              flush=True)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
