"""Independent recomputation of a face's objective: the checker's own arithmetic.

A certificate is only worth the arithmetic behind it, so this module shares no code with the
solvers nor with the table they read (``arch.forward``, ``losses.py``, ``evaluation.py``,
``face.py``'s rounding and flat indices): it rounds the raw data itself, groups equal rounded
points itself (rows of per-coordinate indices, no flat index), runs its own forward pass of
the DAG and its own loss formulas, and scans the parameter grid in its own compiled kernels
(numba, ``cache=True``, chunks of the grid on a thread pool over the cores).

For a data point (x, y) rounded down onto the grid (docs/design.md §1) and a grid point a,
S(a) = sum_p count_p l(f(x_p, a), y_p) + D lam R(a), and the face's optimum is min_a S(a) / D
(docs/design.md §4).  The scans:

* small grids (grid points x distinct points <= :data:`SMALL`): numpy, in blocks;
* any DAG with built-in activations: every grid point, decoded digit by digit;
* one hidden layer with one output (``n-w-1``): write unit j as the pair
  u_j = (t_j, v_j) of its own parameters t_j (n weights and a bias) and its output weight
  v_j.  Then f(x, a) = sum_j v_j act(t_j . (x, 1)) + c and R(a) = sum_j (R(t_j) + R(v_j)) + R(c):
  both are sums over units, so S is unchanged when the units are permuted, and
  min_a S(a) = min over c and over *nondecreasing* tuples u_1 <= ... <= u_w of units (every
  tuple of units is a permutation of a nondecreasing one).  Each unit's contribution
  v act(t . (x_p, 1)) to every point is tabulated once; the output bias c is swept (for
  the quadratic loss from the moments of the residual: sum_p cnt_p (e_p + c)^2 is a parabola
  in c, least at the grid values next to its vertex when there is no regularizer).

Activations that are not built in are evaluated through the registered function (the only
definition there is): in the units' table, or for other nets in a (slow) numpy scan.
"""

from __future__ import annotations

import math
import os

import numpy as np

from . import activations as _acts

MAX_SCAN = 1 << 62
SMALL = 200_000
_ACT = {"relu": 1, "leaky_relu": 2, "elu": 3, "tanh": 4, "identity": 5}
_LOSS = {"absolute": 0, "quadratic": 1, "hinge": 2, "cross_entropy": 3}


# -- data and network, the checker's own way ------------------------------------------------

def grid_values(G):
    """-1 + 2 j / G for j = 0..G-1 (exact dyadic values)."""
    return np.array([-1.0 + 2.0 * j / G for j in range(G)]) if G <= 4096 else -1.0 + 2.0 * np.arange(G) / G


def round_down(values, r):
    """Index of the largest grid value <= r (eq. 7; r = 1 gives the top point)."""
    j = np.searchsorted(values, np.asarray(r, dtype=np.float64), side="right") - 1
    return np.clip(j, 0, len(values) - 1)


class Data:
    """A face's data rounded and grouped by the checker: distinct points X (P, n), Y (P, m),
    their counts, and for each sample d its point ``which[d]``."""

    def __init__(self, face):
        G = face.grid.size
        self.G = G
        self.gv = grid_values(G)
        x = np.asarray(face.x, dtype=np.float64)
        y = np.asarray(face.y, dtype=np.float64)
        self.n, self.m, self.D = x.shape[1], y.shape[1], x.shape[0]
        idx = np.concatenate([round_down(self.gv, x), round_down(self.gv, y)], axis=1)
        pts, which, cnt = np.unique(idx, axis=0, return_inverse=True, return_counts=True)
        self.which = np.asarray(which).reshape(-1)
        self.X = np.ascontiguousarray(self.gv[pts[:, : self.n]])
        self.Y = np.ascontiguousarray(self.gv[pts[:, self.n:]])
        self.cnt = cnt.astype(np.float64)


class Graph:
    """The architecture as slot arrays: inputs are slots 0..n-1, node k is slot n + k."""

    def __init__(self, arch):
        self.arch = arch
        n = arch.n_inputs
        slot = {f"x{i + 1}": i for i in range(n)}
        self.n, self.N = n, arch.n_params
        start, src, par, bias, act, names = [0], [], [], [], [], []
        for k, nd in enumerate(arch.nodes):
            for s, w in zip(nd.sources, nd.weights):
                src.append(slot[s])
                par.append(w)
            start.append(len(src))
            bias.append(-1 if nd.bias is None else nd.bias)
            names.append(nd.activation)
            act.append(0 if nd.activation is None else _builtin_code(nd.activation))
            slot[nd.name] = n + k
        self.start = np.array(start, np.int64)
        self.src = np.array(src, np.int64)
        self.par = np.array(par, np.int64)
        self.bias = np.array(bias, np.int64)
        self.act = np.array(act, np.int64)
        self.act_names = names
        self.out = np.array([slot[o] for o in arch.outputs], np.int64)
        self.compiled = bool(np.all(self.act >= 0))

    def outputs(self, X, params):
        """f(X, params) for one parameter vector: (P, m), node by node, edge by edge."""
        return self.batch_outputs(X, np.asarray(params, dtype=np.float64)[None, :])[0]

    def batch_outputs(self, X, params):
        """f(X, phi) for parameter vectors params (C, N): (C, P, m)."""
        C, P = params.shape[0], X.shape[0]
        val = np.zeros((C, P, self.n + len(self.bias)))
        val[:, :, : self.n] = X[None]
        for k in range(len(self.bias)):
            z = np.zeros((C, P)) + (params[:, self.bias[k], None] if self.bias[k] >= 0 else 0.0)
            for e in range(self.start[k], self.start[k + 1]):
                z = z + params[:, self.par[e], None] * val[:, :, self.src[e]]
            val[:, :, self.n + k] = _np_act(self.act_names[k], z)
        return val[:, :, self.out]


def _builtin_code(name):
    fn = _acts.get_activation(name)
    if name in _ACT and fn is getattr(_acts, name, None):
        return _ACT[name]
    return -1


def _np_act(name, z):
    if name is None or name == "identity" and _builtin_code(name) > 0:
        return z
    code = _builtin_code(name)
    if code == 1:
        return np.where(z > 0.0, z, 0.0)
    if code == 2:
        return np.where(z < 0.0, _acts.LEAKY_SLOPE * z, z)
    if code == 3:
        return np.where(z > 0.0, z, np.expm1(np.where(z > 0.0, 0.0, z)))
    if code == 4:
        return np.tanh(z)
    return np.asarray(_acts.get_activation(name)(z), dtype=np.float64)


def point_losses(loss, Z, Y):
    """The loss of each output row Z[..., p, :] against Y[p] (the formulas of Sec. 4.3): (..., P)."""
    if loss == "absolute":
        return np.sum(np.abs(Y - Z), axis=-1)
    if loss == "quadratic":
        return np.sum((Y - Z) ** 2, axis=-1)
    if loss == "hinge":
        return np.maximum(0.0, 1.0 - np.sum(Y * Z, axis=-1))
    top = np.max(Z, axis=-1)
    logz = top + np.log(np.sum(np.exp(Z - top[..., None]), axis=-1))
    return np.sum(Y, axis=-1) * logz - np.sum(Y * Z, axis=-1)


def penalty(reg, params):
    params = np.asarray(params, dtype=np.float64)
    if reg is None:
        return 0.0
    return float(np.sum(np.abs(params))) if reg == "l1" else float(np.sum(params * params))


def per_sample_costs(face, params, data=None):
    """(c_d = (l(f(x~_d, params), y~_d) + lam R(params)) / D for every sample d (the face LP's
    costs, docs/design.md §4), and the objective sum_d c_d = mean loss + lam R)."""
    p = face.polytope
    data = data or Data(face)
    ell = point_losses(p.loss.name, Graph(p.arch).outputs(data.X, params), data.Y)
    lam = p.lam if p.reg else 0.0
    pen = lam * penalty(p.reg, params) if lam else 0.0
    c = (ell[data.which] + pen) / data.D
    return c, float(np.sum(ell * data.cnt) / data.D + pen)


def grid_digits(a, N, G):
    """Base-G digits of grid index a, most significant first, in exact integer arithmetic."""
    a = int(a)
    out = [0] * N
    for k in range(N - 1, -1, -1):
        a, out[k] = divmod(a, G)
    return out, a == 0


# -- the exhaustive scan --------------------------------------------------------------------

def scan_minimum(face, data=None, small=None):
    """min over the whole parameter grid of S(a) / D (the face's optimum), by the checker's
    own scan; None when the grid is too large to scan.  Grids with at most ``small`` grid x
    distinct points (default :data:`SMALL`) are scanned in numpy."""
    p = face.polytope
    data = data or Data(face)
    G, N = data.G, p.N
    if G ** N > MAX_SCAN:
        return None
    g = Graph(p.arch)
    lamD = (p.lam if p.reg else 0.0) * data.D
    reg = {None: 0, "l1": 1, "l2": 2}[p.reg]
    units = _unit_layout(g, p.arch)
    if G ** N * len(data.X) <= (SMALL if small is None else small):  # cheaper than loading compiled kernels
        S = _scan_numpy(g, data, p.loss.name, p.reg, lamD, N, G)
    elif units is not None:  # the hidden units' table is numpy, so any activation works
        S = _scan_units(g, data, units, p.loss.name, reg, lamD)
    elif g.compiled:
        from . import _verify_kernels as k

        S = k.scan_all(G ** N, N, G, data.gv, data.X, data.Y, data.cnt, g.start, g.src, g.par, g.bias,
                       g.act, g.out, _LOSS[p.loss.name], reg, lamD, _acts.LEAKY_SLOPE, _chunks())
    else:
        S = _scan_numpy(g, data, p.loss.name, p.reg, lamD, N, G)
    return S / data.D


def _chunks():
    try:
        import numba

        t = numba.get_num_threads()
    except ImportError:  # pragma: no cover
        t = os.cpu_count() or 1
    return 8 * max(1, t)


def _unit_layout(g, arch):
    """For n-w-1 (one hidden layer, one affine output, no parameter shared): per unit j its
    own parameter positions (n weights, bias) and its output weight position; the output
    bias position.  None for other architectures."""
    n = g.n
    nodes = arch.nodes
    if arch.n_outputs != 1 or len(nodes) < 2:
        return None
    hidden, out = nodes[:-1], nodes[-1]
    if arch.outputs[0] != out.name or out.bias is None:
        return None
    inputs = tuple(f"x{i + 1}" for i in range(n))
    if any(nd.sources != inputs or nd.bias is None or nd.activation != hidden[0].activation
           or nd.activation is None for nd in hidden):
        return None
    if tuple(out.sources) != tuple(nd.name for nd in hidden):
        return None
    own = [list(nd.weights) + [nd.bias] for nd in hidden]
    vpos = list(out.weights)
    used = [q for o in own for q in o] + vpos + [out.bias]
    if len(set(used)) != len(used) or len(used) != arch.n_params:
        return None
    return np.array(own, np.int64), np.array(vpos, np.int64), int(out.bias)


def _scan_units(g, data, units, loss, reg, lamD):
    from . import _verify_kernels as k

    own, vpos, cpos = units
    G, gv, n = data.G, data.gv, g.n
    K = G ** (n + 1)
    T = gv[np.indices((G,) * (n + 1)).reshape(n + 1, -1).T]  # (K, n+1): weights, bias
    pre = data.X @ T[:, :n].T + T[:, n][None, :]  # (P, K)
    H = _np_act(g.act_names[0], pre).T  # (K, P)
    contrib = (gv[None, :, None] * H[:, None, :]).reshape(K * G, -1)  # unit (t, v) -> v H[t]
    rt = np.abs(T).sum(1) if reg == 1 else (T * T).sum(1) if reg == 2 else np.zeros(K)
    rv = np.abs(gv) if reg == 1 else gv * gv if reg == 2 else np.zeros(G)
    ru = (rt[:, None] + rv[None, :]).reshape(-1)
    return k.scan_units(np.ascontiguousarray(contrib), np.ascontiguousarray(ru), len(own),
                        np.ascontiguousarray(data.Y[:, 0]), data.cnt, gv, np.ascontiguousarray(rv),
                        _LOSS[loss], float(lamD), _chunks())


def _scan_numpy(g, data, loss, reg, lamD, N, G, block_bytes=32 << 20):
    """The whole grid in blocks of parameter vectors, vectorized (small grids, user activations)."""
    best = np.inf
    total = G ** N
    per = 8 * max(1, len(data.X)) * (g.n + len(g.bias) + 4)
    step = max(1, min(total, block_bytes // per))
    for a0 in range(0, total, step):
        a = np.arange(a0, min(total, a0 + step), dtype=np.int64)
        dig = np.stack([(a // G ** (N - 1 - k)) % G for k in range(N)], axis=1)
        phi = data.gv[dig]
        s = point_losses(loss, g.batch_outputs(data.X, phi), data.Y[None]) @ data.cnt
        if reg is not None and lamD:
            s = s + lamD * (np.abs(phi).sum(1) if reg == "l1" else (phi * phi).sum(1))
        best = min(best, float(np.min(s)))
    return best


def is_finite(*xs) -> bool:
    return all(math.isfinite(float(x)) for x in xs)


# -- binarized networks (App. C) --------------------------------------------------------------

def binary_wrong_bits(arch, X, Y, signs):
    """Wrong output bits of BiU networks: points X (P, n), Y (P, m) in {0, 1}, parameter
    vectors ``signs`` (C, N) in {-1, 1}; node v outputs 1 when sum_u phi_uv s_u - b_v > 0.
    Returns (C, P)."""
    g = Graph(arch)
    C, P = signs.shape[0], X.shape[0]
    val = np.zeros((C, P, g.n + len(g.bias)))
    val[:, :, : g.n] = X[None]
    for k in range(len(g.bias)):
        t = np.zeros((C, P))
        for e in range(g.start[k], g.start[k + 1]):
            t = t + signs[:, g.par[e], None] * val[:, :, g.src[e]]
        val[:, :, g.n + k] = (t - signs[:, g.bias[k], None] > 0).astype(np.float64)
    return np.abs(val[:, :, g.out] - Y[None]).sum(axis=2)


def binary_minimum(arch, X, Y, cnt, block=1 << 12):
    """min over all 2^N sign vectors of sum_p cnt_p wrong_bits_p, by the checker's own scan."""
    N = arch.n_params
    best = np.inf
    for a0 in range(0, 2**N, block):
        a = np.arange(a0, min(2**N, a0 + block))
        bits = (a[:, None] >> np.arange(N - 1, -1, -1)[None]) & 1
        best = min(best, float(np.min(binary_wrong_bits(arch, X, Y, 2.0 * bits - 1.0) @ cnt)))
    return best
