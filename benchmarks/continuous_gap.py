"""The paper's a-priori epsilon beside the measured a-posteriori gap (docs/paper-checks.md).

For each case: the grid optimum (lptrain train --bits B) and its training loss on the
original data; the certified lower bound of the continuous optimum over [-1, 1]^N
(lptrain train --continuous); their difference, the *a-posteriori* gap, is how far the grid
network is from the best network there is -- next to 2 epsilon, the paper's guarantee
(Lemma 3.5).  Worst case over the seeds.

    python benchmarks/continuous_gap.py [--quick]
"""

from __future__ import annotations

import sys
import time

import numpy as np

from lptrain import api
from lptrain.data import make_dataset


def lemma35_data(seed, D=50):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, 1))
    y = np.clip(0.5 * x - 0.2 + rng.normal(0, 0.1, (D, 1)), -1, 1)
    return x, y


def issue_data(seed, D=10):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, 1))
    y = 0.8 * np.maximum(0.9 * x - 0.2, 0) - 0.6 * np.maximum(-0.7 * x + 0.1, 0) + 0.1
    return x, np.clip(y + rng.normal(0, 0.05, (D, 1)), -1, 1)


def row(arch, loss, bits, datas, time_limit):
    worst, worst_rel, eps, t_cont, status = -np.inf, -np.inf, None, 0.0, set()
    for x, y in datas:
        ds = make_dataset(np.column_stack([x, y]), x.shape[1])
        g = api.train(ds, arch, loss=loss, bits=bits)
        eps = g.report["epsilon"]
        t0 = time.perf_counter()
        c = api.train_continuous(ds, arch, loss=loss, time_limit=time_limit,
                                 incumbent=np.clip(g.network.params, -1, 1))
        t_cont += time.perf_counter() - t0
        assert c.report["certificate"]["valid"]
        status.add(c.report["status"])
        gap = g.report["train_loss"] - c.report["lower_bound"]
        worst = max(worst, gap)
        worst_rel = max(worst_rel, gap / max(c.report["objective"], 1e-12))
    return eps, worst, worst_rel, t_cont / len(datas), "/".join(sorted(status))


def main():
    quick = "--quick" in sys.argv
    seeds = range(2 if quick else 5)
    print(f"{'case':<26} {'loss':<10} {'bits':>4} {'2 eps':>8} {'a-posteriori gap':>17} "
          f"{'gap / 2 eps':>12} {'gap / optimum':>13} {'status':>18} {'s/solve':>8}")
    cases = [("1-1", l, b, [lemma35_data(s) for s in seeds], "Lemma 3.5 table, D=50")
             for l in ("absolute", "quadratic") for b in (2, 3, 5)]
    cases += [("1-2-1", l, b, [issue_data(s) for s in seeds], "issue 12 data, D=10")
              for l in ("absolute", "quadratic") for b in (2, 3)]
    for arch, loss, bits, datas, name in cases:
        tl = 20.0 if arch == "1-2-1" else 10.0
        eps, gap, rel, t, st = row(arch, loss, bits, datas, tl)
        print(f"{arch + ' (' + name + ')':<26} {loss:<10} {bits:>4} {2 * eps:>8.3g} {gap:>17.3g} "
              f"{gap / (2 * eps):>12.2g} {rel:>13.3g} {st:>18} {t:>8.2g}", flush=True)


if __name__ == "__main__":
    main()
