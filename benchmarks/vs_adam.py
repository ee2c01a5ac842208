"""The grid optimum against what users run instead: PyTorch, Adam, random restarts.

Same data, same architecture, same loss. Adam trains full-batch from several random
initializations, with weights clamped to [-1, 1] after every step (the paper's parameter
domain). We report the best training loss on the original (unrounded) data and the total
time, next to the grid optimum's training loss (lptrain, bits 2, 3, 4) and its time.
Needs torch (``pip install ".[torch]"``).

    python benchmarks/vs_adam.py
"""

from __future__ import annotations

import time

import numpy as np


def adam(spec, act, x, y, restarts=10, steps=2000, lr=0.02, seed=0):
    import torch

    torch.manual_seed(seed)
    widths = [int(w) for w in spec.split("-")]
    X = torch.tensor(x, dtype=torch.float64)
    Y = torch.tensor(y, dtype=torch.float64)
    f = {"relu": torch.relu, "tanh": torch.tanh}[act]
    best = np.inf
    t0 = time.perf_counter()
    for _ in range(restarts):
        layers = [torch.nn.Linear(a, b).double() for a, b in zip(widths, widths[1:])]
        params = [p for lyr in layers for p in lyr.parameters()]
        with torch.no_grad():
            for p in params:
                p.uniform_(-1, 1)
        opt = torch.optim.Adam(params, lr=lr)
        for _ in range(steps):
            z = X
            for i, lyr in enumerate(layers):
                z = lyr(z)
                if i < len(layers) - 1:
                    z = f(z)
            loss = ((z - Y) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                for p in params:
                    p.clamp_(-1, 1)
        best = min(best, float(loss.detach()))
    return best, time.perf_counter() - t0


def main():
    from lptrain import api
    from lptrain.data import make_dataset

    rng = np.random.default_rng(0)
    cases = [("1-2-1", "relu", lambda x: 0.5 * np.abs(x) - 0.3),
             ("1-3-1", "relu", lambda x: 0.8 * np.maximum(x, 0) - 0.4 * np.maximum(-x - 0.5, 0) - 0.2),
             ("2-2-1", "relu", lambda x: 0.5 * np.maximum(x[:, :1] + x[:, 1:], 0) - 0.25)]
    print(f"# {time.strftime('%Y-%m-%d')}; quadratic loss, D = 200, noise 0.05; Adam: 10 restarts x 2000 steps, "
          "lr 0.02, clamped to [-1, 1]")
    print("| arch | method | train loss (original data) | objective (rounded data) | seconds |")
    print("|---|---|---|---|---|")
    for spec, act, fn in cases:
        n = int(spec.split("-")[0])
        x = rng.uniform(-1, 1, (200, n))
        y = np.clip(fn(x if n > 1 else x) + rng.normal(0, 0.05, (200, 1)), -1, 1)
        ds = make_dataset(np.column_stack([x, y]), n)
        for bits in (2, 3, 4):
            if spec != "1-2-1" and bits == 4:
                continue
            t0 = time.perf_counter()
            r = api.train(ds, spec, loss="quadratic", bits=bits, activation=act, solver="structured", certify=False)
            dt = time.perf_counter() - t0
            print(f"| {spec} | lptrain grid optimum, {bits} bits | {r.report['train_loss']:.5f} | "
                  f"{r.report['objective']:.5f} | {dt:.2f} |", flush=True)
        best, dt = adam(spec, act, x, y)
        print(f"| {spec} | PyTorch Adam, best of 10 | {best:.5f} | — | {dt:.2f} |", flush=True)


if __name__ == "__main__":
    main()
