"""Whole commands, as a user runs them: ``lptrain train`` with each solver on the same data.

Wall-clock time of the complete process (imports, reading, rounding, solving, certificate
check, writing JSON), best of three, for the issue's target case 1-2-1, D = 200, bits 2,
and a few more.  Objectives are checked to agree.

    python benchmarks/commands.py
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

CASES = [("1-2-1", 2, 200, "quadratic"), ("1-2-1", 2, 1000, "absolute"), ("2-2-1", 2, 20000, "quadratic")]
SOLVERS = ("highs", "structured", "bnb")


def main():
    rng = np.random.default_rng(0)
    tmp = tempfile.mkdtemp()
    print(f"# {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; best of 3 whole `lptrain train` runs")
    print("| arch | bits | D | " + " | ".join(SOLVERS) + " | highs / structured |")
    print("|" + "---|" * (len(SOLVERS) + 4))
    for spec, bits, D, loss in CASES:
        n = int(spec.split("-")[0])
        data = os.path.join(tmp, f"d{D}.csv")
        x = rng.uniform(-1, 1, (D, n))
        y = np.clip(0.5 * np.abs(x[:, :1]) - 0.3 + rng.normal(0, 0.1, (D, 1)), -1, 1)
        with open(data, "w") as fh:
            fh.write(",".join([f"x{i}" for i in range(n)] + ["y"]) + "\n")
            np.savetxt(fh, np.column_stack([x, y]), delimiter=",")
        times, objs = {}, {}
        for s in SOLVERS:
            if s == "highs" and D * 4 ** 9 > 3e6 and spec != "1-2-1":
                times[s] = None
                continue
            best = None
            for _ in range(3):
                js = os.path.join(tmp, "r.json")
                t0 = time.perf_counter()
                r = subprocess.run([sys.executable, "-m", "lptrain.cli", "train", data, "--arch", spec, "--bits",
                                    str(bits), "--loss", loss, "--solver", s, "--json", js], capture_output=True)
                dt = time.perf_counter() - t0
                if r.returncode != 0:
                    break
                objs[s] = json.load(open(js))["objective"]
                best = dt if best is None else min(best, dt)
            times[s] = best
        vals = list(objs.values())
        assert max(vals) - min(vals) <= 1e-9 * (1 + abs(min(vals))), objs
        cells = [f"{times[s]:.2f} s" if times[s] else "—" for s in SOLVERS]
        ratio = f"{times['highs'] / times['structured']:.0f}x" if times.get("highs") else "—"
        print(f"| {spec} | {bits} | {D} | " + " | ".join(cells) + f" | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
