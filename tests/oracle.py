"""An independent reference for the tests: brute force over the grid in plain Python.

Nothing here imports lptrain's evaluation, face or solver code: the network, the
losses, the rounding and the grid are re-implemented from the paper's formulas.
"""

import itertools
import math


def grid_values(bits):
    G = 2**bits
    return [-1 + 2 * j / G for j in range(G)]


def round_down(r, bits):
    vals = grid_values(bits)
    best = vals[0]
    for v in vals:
        if v <= r:
            best = v
    return best


def act(name, t):
    if name == "relu":
        return max(t, 0.0)
    if name == "leaky_relu":
        return t if t >= 0 else 0.01 * t
    if name == "elu":
        return t if t > 0 else math.exp(t) - 1
    if name == "tanh":
        return math.tanh(t)
    raise ValueError(name)


def forward(widths, activation, params, x):
    """Layered net, parameters per layer per neuron: weights then bias (docs/design.md §9)."""
    k = 0
    z = list(x)
    L = len(widths) - 1
    for layer in range(1, L + 1):
        out = []
        for _ in range(widths[layer]):
            s = 0.0
            for v in z:
                s += params[k] * v
                k += 1
            s += params[k]
            k += 1
            out.append(s if layer == L else act(activation, s))
        z = out
    assert k == len(params)
    return z


def loss(name, z, y):
    if name == "absolute":
        return sum(abs(a - b) for a, b in zip(z, y))
    if name == "quadratic":
        return sum((a - b) ** 2 for a, b in zip(z, y))
    if name == "hinge":
        return max(1 - sum(a * b for a, b in zip(z, y)), 0.0)
    if name == "cross_entropy":
        mx = max(z)
        lse = mx + math.log(sum(math.exp(a - mx) for a in z))
        return -sum(b * (a - lse) for a, b in zip(z, y))
    raise ValueError(name)


def n_params(widths):
    return sum(widths[i] * (widths[i - 1] + 1) for i in range(1, len(widths)))


def brute_force(widths, activation, lossname, bits, X, Y, reg=None, lam=0.0):
    """min over all grid parameter vectors of the mean loss on the rounded data."""
    Xr = [[round_down(v, bits) for v in row] for row in X]
    Yr = [[round_down(v, bits) for v in row] for row in Y]
    best, arg = math.inf, None
    for params in itertools.product(grid_values(bits), repeat=n_params(widths)):
        tot = 0.0
        for x, y in zip(Xr, Yr):
            tot += loss(lossname, forward(widths, activation, params, x), y)
        val = tot / len(Xr)
        if reg == "l1":
            val += lam * sum(abs(p) for p in params)
        elif reg == "l2":
            val += lam * sum(p * p for p in params)
        if val < best - 1e-12:
            best, arg = val, params
    return best, arg


def dag_param_names(spec):
    """Distinct parameter names in order of first appearance (weights, then bias, per node)."""
    names = []
    for nd in spec["nodes"]:
        for w in nd["weights"] + ([nd["bias"]] if nd.get("bias") else []):
            if w not in names:
                names.append(w)
    return names


def dag_forward(spec, params, x):
    """Evaluate an architecture-file DAG with a dict of parameter values by name."""
    val = {f"x{i + 1}": v for i, v in enumerate(x)}
    for nd in spec["nodes"]:
        s = sum(params[w] * val[u] for u, w in zip(nd["from"], nd["weights"]))
        if nd.get("bias"):
            s += params[nd["bias"]]
        val[nd["name"]] = act(nd["activation"], s) if nd.get("activation") else s
    return [val[o] for o in spec["outputs"]]


def brute_force_dag(spec, lossname, bits, X, Y):
    names = dag_param_names(spec)
    Xr = [[round_down(v, bits) for v in row] for row in X]
    Yr = [[round_down(v, bits) for v in row] for row in Y]
    best = math.inf
    for values in itertools.product(grid_values(bits), repeat=len(names)):
        p = dict(zip(names, values))
        tot = sum(loss(lossname, dag_forward(spec, p, x), y) for x, y in zip(Xr, Yr))
        best = min(best, tot / len(Xr))
    return best


def bnn_brute_force(widths, X, Y):
    """Binarized layered net: min over {-1,1}^N of the mean number of wrong output bits."""
    N = n_params(widths)
    best = math.inf
    for params in itertools.product((-1, 1), repeat=N):
        wrong = 0
        for x, y in zip(X, Y):
            k, z = 0, list(x)
            for layer in range(1, len(widths)):
                out = []
                for _ in range(widths[layer]):
                    s = sum(params[k + i] * z[i] for i in range(len(z)))
                    k += len(z)
                    out.append(1 if s > params[k] else 0)
                    k += 1
                z = out
            wrong += sum(abs(a - b) for a, b in zip(z, y))
        best = min(best, wrong / len(X))
    return best


def mean_loss(out, y, loss):
    """Mean absolute / quadratic / hinge loss over the last axis (numpy arrays; the
    continuous tests' reference risk, written from the definitions)."""
    import numpy as np

    if loss == "absolute":
        return np.abs(out - y).mean(axis=-1)
    if loss == "quadratic":
        return ((out - y) ** 2).mean(axis=-1)
    return np.maximum(1.0 - out * y, 0.0).mean(axis=-1)
