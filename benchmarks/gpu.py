"""The gpu solver against the CPU (``structured``) on the same faces, side by side.

For each case: seconds, evaluations per second on the work done (each solver's
``evaluations``: distinct points x grid points it scored; the nominal K·D is recorded too),
the GPU's achieved FLOP rate (the solver's own ``info["flops"]`` count) as a fraction of
the device's FP32 peak, and whether both solvers returned *the same* optimum bit for bit
(identical objective float and identical grid point).  The gpu solver computes in float64,
so the FP32 fraction is a conservative figure (H100 float64 peak is half its FP32 peak).

Needs torch with CUDA (``pip install -e ".[torch]"``); ``--device cpu`` runs the same code
on torch's CPU device, to check the script without a GPU.

    python benchmarks/gpu.py [--device cpu] [--quick] [--peak-tflops T] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from solvers import data  # noqa: E402  (the benchmarks' shared data sets)

# FP32 (non-tensor) peak TFLOP/s by device name fragment, from the vendors' data sheets.
FP32_PEAK_TFLOPS = {"H200": 67.0, "H100 PCIe": 51.2, "H100": 67.0, "A100": 19.5, "L40S": 91.6,
                    "A10G": 31.2, "V100": 15.7, "T4": 8.1}

CASES = [("2-3-1", "absolute", 2, 1000), ("1-3-1", "absolute", 2, 10_000),
         ("2-2-1", "quadratic", 2, 100_000), ("1-3-1", "absolute", 3, 100),
         ("1-2-1", "quadratic", 3, 10_000), ("1-4-1", "absolute", 2, 1000),
         ("1-2-1-1", "absolute", 2, 100)]
QUICK = [("1-2-1", "quadratic", 2, 100), ("2-2-1", "absolute", 1, 100), ("1-1-1-1", "absolute", 2, 30)]


def peak_tflops(name):
    for frag, t in FP32_PEAK_TFLOPS.items():
        if frag in name:
            return t
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", help="torch device for the gpu solver (default: cuda)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--peak-tflops", type=float, help="FP32 peak of the device, when not in the table")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.device:
        os.environ["LPTRAIN_GPU_DEVICE"] = a.device
    try:
        import torch
    except ImportError:
        sys.exit("benchmarks/gpu.py needs torch: pip install -e '.[torch]'")
    from lptrain.arch import Architecture
    from lptrain.face import Face
    from lptrain.grid import Grid
    from lptrain.polytope import Polytope
    from lptrain.solvers import get_solver
    from lptrain.solvers.gpu import device

    dev = device()
    if dev is None:
        sys.exit("no CUDA device: run on a GPU machine, or pass --device cpu to check the script")
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "torch CPU device"
    peak = a.peak_tflops or (peak_tflops(name) if dev.type == "cuda" else None)
    gpu, cpu = get_solver("gpu"), get_solver("structured")
    warm = Face(Polytope(Architecture.parse("1-2-1"), "absolute", Grid(1), 2), np.zeros((2, 1)), np.zeros((2, 1)))
    gpu.solve(warm, 1 << 30)  # CUDA context, kernels and numba's cache outside the timings
    cpu.solve(warm, 1 << 30)
    rows = []
    for spec, loss, bits, D in (QUICK if a.quick else CASES):
        x, y = data(spec, D, kind="structured")
        face = Face(Polytope(Architecture.parse(spec), loss, Grid(bits), D), x, y)
        res = {}
        for label, solver in (("structured", cpu), ("gpu", gpu)):
            t0 = time.perf_counter()
            sol = solver.solve(face, 8 << 30)
            res[label] = {"seconds": time.perf_counter() - t0, "objective": sol.objective,
                          "grid_index": int(sol.grid_index), "flops": sol.info.get("flops"),
                          "evaluations": sol.evaluations}
        evals = face.param_points * D
        g, c = res["gpu"], res["structured"]
        row = {"arch": spec, "loss": loss, "bits": bits, "D": D, "evals": evals,
               "cpu_s": c["seconds"], "gpu_s": g["seconds"],
               "cpu_rate": c["evaluations"] / c["seconds"], "gpu_rate": g["evaluations"] / g["seconds"],
               "flop_rate": g["flops"] / g["seconds"],
               "same": g["objective"] == c["objective"] and g["grid_index"] == c["grid_index"]}
        row["peak_fraction"] = row["flop_rate"] / (peak * 1e12) if peak else None
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(f"# {name}; CPU: {os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}; "
          f"FP32 peak {peak if peak else 'unknown'} TFLOP/s; torch {torch.__version__}")
    print("| arch | loss | bits | D | K·D | structured (CPU) | gpu | evals/s CPU | evals/s GPU | GPU vs CPU "
          "| GPU FLOP/s | of FP32 peak | same optimum |")
    print("|" + "---|" * 13)
    for r in rows:
        frac = f"{100 * r['peak_fraction']:.2g}%" if r["peak_fraction"] is not None else "—"
        print(f"| {r['arch']} | {r['loss']} | {r['bits']} | {r['D']} | {r['evals']:.2g} | {r['cpu_s']:.3g} s "
              f"| {r['gpu_s']:.3g} s | {r['cpu_rate']:.2g} | {r['gpu_rate']:.2g} | {r['cpu_s'] / r['gpu_s']:.2g}x "
              f"| {r['flop_rate']:.2g} | {frac} | {r['same']} |")
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(rows, fh, indent=1)
    return 0 if all(r["same"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
