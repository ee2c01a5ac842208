"""Spatial branch-and-bound over parameter boxes: the continuous optimum for every network.

min over phi in [-B, B]^N of (1/D) sum_d l(f(x_d, phi), y_d) + lam R(phi), on the original
data (docs/design.md §10, "other nets").  Every architecture, activation, loss and regularizer that
``train`` supports is covered.  A box of parameters is bounded twice: by an interval forward
pass per data point (every registered activation is nondecreasing, so its range over an
interval is the image of the end points) with the exact minimum of the loss over the output
boxes; and, for the absolute, quadratic and hinge losses, by the LP relaxation of
:mod:`lptrain.continuous.spatial_lp`, which shares the parameters across the data (McCormick
envelopes, activation envelopes, exact once a box fixes a ReLU's regime).  Best-first search
splits the box whose bound is lowest at its midpoint, along the parameter that causes most of
the relaxation's error at its solution (else the one whose split raises the smaller child's
interval bound most).  The incumbent comes from local descent (scipy) from the box centre and
random points, from the centres of the boxes and the relaxation's solutions, and from descents
started in the most promising boxes (each time the tree's size doubles).

The relaxations are solved concurrently (:mod:`._parallel`, the design of the pattern
search): every step pops the ``batch`` best open boxes, chooses their splits, and bounds the
children's relaxations on ``workers`` threads (HiGHS releases the GIL while it solves) or on
the Dask cluster at ``scheduler``, each task a pure function of the data and its box
(:class:`BoxWork`); the results are taken back in task order, so for one ``batch`` the tree,
the interval and the proof do not depend on which worker ran what, or when.

Stops when ``objective - lower_bound <= max(abs_gap, gap * |objective|)`` (``optimal``) or at
the time limit (``time_limit``), with the interval proven so far (anytime).

Proof: the search tree as splits (parent, dimension, value), children of split k get the ids
2k+1 (lower half) and 2k+2 (upper half); its leaves with their bounds.  The returned
``lower_bound`` is the least leaf bound minus a margin for this module's floating point,
which :mod:`lptrain.continuous.check_spatial` replays with outward rounding.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import sys
import time

import numpy as np

from ..activations import ACTIVATIONS
from ..evaluation import regularizer
from ..exceptions import InputError, SizeError
from ..losses import get_loss
from .result import ContinuousResult
from .spatial_lp import Relaxation, _new_highs

MONOTONE = ("relu", "leaky_relu", "elu", "tanh", "identity")
BATCH = 32
LP_BATCH = 4
DESCENT_NODES = 128
MIN_WIDTH = 1e-12
INTERVAL_CHUNK = 256  # boxes per interval-bound task (fixed, whatever runs the tasks)
MAX_OPEN = 2_000_000
WORK_CHUNK = 2_000_000
FLOAT_MARGIN = 1e-9
FORMAT = "lptrain-spatial-proof"
VERSION = 1


def supports(arch, loss_name, reg=None):
    """``(True, "")`` when spatial branch-and-bound handles this problem, else the reason."""
    for nd in arch.nodes:
        if nd.activation is not None and nd.activation not in MONOTONE:
            return False, f"activation {nd.activation!r} is not known to be monotone"
    if reg not in (None, "l1", "l2"):
        return False, f"unknown regularizer {reg!r}"
    get_loss(loss_name)
    return True, ""


class _Bounder:
    """Interval bounds of the risk over batches of boxes (K, N), vectorized over the data."""

    def __init__(self, arch, loss_name, X, Y, reg, lam):
        self.arch, self.loss_name = arch, loss_name
        self.X = np.asarray(X, dtype=np.float64)
        self.Y = np.asarray(Y, dtype=np.float64)
        self.reg, self.lam = reg, float(lam)
        self.P = len(self.X)
        self.acts = {nd.name: ACTIVATIONS[nd.activation] for nd in arch.nodes if nd.activation}
        self.inputs = {name: i for i, name in enumerate(arch.input_names)}

    def outputs(self, lo, hi, keep=None):
        """Intervals of the outputs: (K, P, m) lower and upper.

        ``keep``: a dict that receives every node's pre- and post-activation intervals.
        """
        K = lo.shape[0]
        vals = {}
        for nd in self.arch.nodes:
            if nd.bias is None:
                al = np.zeros((K, self.P))
                au = np.zeros((K, self.P))
            else:
                al = np.repeat(lo[:, nd.bias, None], self.P, 1)
                au = np.repeat(hi[:, nd.bias, None], self.P, 1)
            for s, w in zip(nd.sources, nd.weights):
                wl, wu = lo[:, w, None], hi[:, w, None]
                if s in self.inputs:
                    x = self.X[None, :, self.inputs[s]]
                    p, q = wl * x, wu * x
                    al += np.minimum(p, q)
                    au += np.maximum(p, q)
                else:
                    sl, su = vals[s]
                    p1, p2, p3, p4 = wl * sl, wl * su, wu * sl, wu * su
                    al += np.minimum(np.minimum(p1, p2), np.minimum(p3, p4))
                    au += np.maximum(np.maximum(p1, p2), np.maximum(p3, p4))
            pre = (al, au)
            if nd.activation is not None:
                f = self.acts[nd.name]
                al, au = f(al), f(au)
            vals[nd.name] = (al, au)
            if keep is not None:
                keep[nd.name] = (pre[0], pre[1], al, au)
        zl = np.stack([vals[o][0] for o in self.arch.outputs], axis=-1)
        zu = np.stack([vals[o][1] for o in self.arch.outputs], axis=-1)
        return zl, zu

    def loss_lower(self, zl, zu):
        """min of the loss over z in [zl, zu] per point: (K, P)."""
        y = self.Y[None]
        name = self.loss_name
        if name in ("absolute", "quadratic"):
            d = np.maximum(np.maximum(zl - y, y - zu), 0.0)
            return d.sum(-1) if name == "absolute" else (d * d).sum(-1)
        if name == "hinge":
            best = np.maximum(zl * y, zu * y).sum(-1)
            return np.maximum(1.0 - best, 0.0)
        # cross-entropy: sum_i y_i (log sum_j exp(z_j - z_i)); each term monotone in each z
        m = zl.shape[-1]
        off = ~np.eye(m, dtype=bool)
        low = np.log1p(np.where(off, np.exp(zl[..., None, :] - zu[..., :, None]), 0.0).sum(-1))
        up = np.log1p(np.where(off, np.exp(zu[..., None, :] - zl[..., :, None]), 0.0).sum(-1))
        return np.where(y >= 0, y * low, y * up).sum(-1)

    def reg_lower(self, lo, hi):
        if self.reg is None or not self.lam:
            return np.zeros(lo.shape[0])
        d = np.maximum(np.maximum(lo, -hi), 0.0)
        r = d.sum(1) if self.reg == "l1" else (d * d).sum(1)
        return self.lam * r

    def bounds(self, lo, hi):
        """Lower bounds of the risk over each box: (K,)."""
        K = lo.shape[0]
        per = max(1, WORK_CHUNK // max(1, self.P * (len(self.arch.nodes) + 4 * self.arch.n_outputs ** 2)))
        out = np.empty(K)
        for a in range(0, K, per):
            b = min(K, a + per)
            zl, zu = self.outputs(lo[a:b], hi[a:b])
            out[a:b] = self.loss_lower(zl, zu).mean(axis=1) + self.reg_lower(lo[a:b], hi[a:b])
        return out


class _Risk:
    """The risk of parameter vectors on the data (upper bounds): (C, N) -> (C,)."""

    def __init__(self, arch, loss_name, X, Y, reg, lam):
        self.arch, self.loss = arch, get_loss(loss_name)
        self.X, self.Y, self.reg, self.lam = X, Y, reg, float(lam)

    def __call__(self, params):
        params = np.atleast_2d(params)
        out = np.empty(len(params))
        per = max(1, WORK_CHUNK // max(1, len(self.X) * (len(self.arch.nodes) + 2)))
        for a in range(0, len(params), per):
            ph = params[a:a + per]
            z = self.arch.forward(self.X, ph)
            v = self.loss.evaluate(z, self.Y[None]).mean(axis=1)
            if self.reg is not None and self.lam:
                v = v + self.lam * regularizer(ph, self.reg)
            out[a:a + per] = v
        return out


class BoxWork:
    """One worker's engines for a problem: bounds a box by the LP relaxation.

    Built from the data alone (the architecture as its JSON description, so that the engine
    cache of :mod:`._parallel` tells problems apart and a Dask worker can rebuild it);
    :meth:`bound` is a pure function of its box, so the search does not depend on which
    thread or process ran it.
    """

    def __init__(self, arch_json, loss_name, X, Y, reg, lam):
        from ..arch import Architecture

        arch = Architecture.from_dict(json.loads(arch_json))
        reg = reg or None
        self.N = arch.n_params
        self.bounder = _Bounder(arch, loss_name, X, Y, reg, lam)
        self._problem = (arch, loss_name, X, Y, reg, lam)
        self._relax = None

    @property
    def relax(self):
        """The LP relaxation, built on first use (interval-only searches never need it)."""
        if self._relax is None:
            self._relax = Relaxation(*self._problem)
        return self._relax

    def intervals(self, lo, hi):
        """Interval bounds of the boxes [lo_k, hi_k] (rows): :meth:`_Bounder.bounds`."""
        return self.bounder.bounds(lo, hi)

    def bound(self, lo, hi):
        """``(value, multipliers, point, dim)`` for the box [lo, hi].

        ``value``: the relaxation's Lagrangian bound (-inf when it failed); ``multipliers``:
        its dual (n_rows,) or None; ``point``: the relaxation's parameters clipped to the box
        (a candidate network) or None; ``dim``: the parameter whose width causes most of the
        relaxation's error at its solution, or -1.
        """
        enc = {}
        self.bounder.outputs(lo[None], hi[None], keep=enc)
        e = {k: tuple(a[0] for a in v) for k, v in enc.items()}
        self.relax.last_x = None
        val, y = self.relax.bound(lo, hi, e)
        x = self.relax.last_x
        point, dim = None, -1
        if x is not None:
            point = np.clip(x[: self.N], lo, hi)
            sc = self.relax.branch_scores(x, lo, hi)
            if np.max(sc) > 0:
                dim = int(np.argmax(sc))
        return float(val), y, point, dim


def _output_only_biases(arch):
    """Parameters used only as biases of output nodes."""
    outs = set(arch.outputs)
    used_else = set()
    out_bias = set()
    for nd in arch.nodes:
        used_else.update(nd.weights)
        if nd.bias is not None:
            (out_bias if nd.name in outs else used_else).add(nd.bias)
    return sorted(out_bias - used_else)


class _OutOfTime(Exception):
    pass


def local_descent(risk, x0, box, maxiter=200, polish=False, deadline=None):
    """A local minimum of the risk in [-box, box]^N from x0 (L-BFGS-B; then Powell to polish).

    Stops at ``deadline`` (perf_counter seconds) with the best point evaluated so far."""
    from scipy.optimize import minimize

    bounds = [(-box, box)] * len(x0)
    best = [np.clip(x0, -box, box), np.inf]

    def f(p):
        if deadline is not None and time.perf_counter() > deadline and np.isfinite(best[1]):
            raise _OutOfTime
        p = np.clip(p, -box, box)
        v = float(risk(p[None, :])[0])
        if v < best[1]:
            best[0], best[1] = p.copy(), v
        return v

    f(best[0])
    for method in ("L-BFGS-B", "Powell") if polish else ("L-BFGS-B",):
        try:
            minimize(f, best[0].copy(), method=method, bounds=bounds, options={"maxiter": maxiter})
        except _OutOfTime:
            break
        except (ValueError, FloatingPointError):  # pragma: no cover - scipy edge cases
            continue
    return best[0], best[1]


def branch_batch(N, batch, memory):
    """Boxes per strong-branching step: its two (k, N, 2, N) float64 arrays within ``memory``."""
    return int(max(0, min(batch, memory // (32 * N * N))))


def solve(arch, loss_name, X, Y, *, box=1.0, reg=None, lam=0.0, gap=1e-4, abs_gap=1e-6,
          time_limit=None, incumbent=None, progress=False, batch=None, seed=0,
          max_open=MAX_OPEN, lp=True, memory=2 << 30, workers=None, scheduler=None) -> ContinuousResult:
    """Certified interval for the continuous ERM over [-box, box]^N by spatial branch-and-bound.

    Parameters
    ----------
    arch : Architecture
    loss_name : str
        ``absolute``, ``quadratic``, ``hinge`` or ``cross_entropy``.
    X, Y : ndarray (D, n), (D, m)
        The original data (not rounded).
    box : float
        B: every parameter lies in [-B, B].
    reg, lam : regularizer ``l1``/``l2`` (App. B) and its weight.
    gap, abs_gap : float
        Stop when objective - lower_bound <= max(abs_gap, gap * |objective|).
    time_limit : float or None
        Seconds; the proven interval is returned when it runs out.
    incumbent : array (N,) or None
        A starting network (e.g. the grid optimum); it is polished by local descent.
    progress : bool
        One updating line on stderr when it is a terminal.
    memory : int
        Bytes for the open boxes and the stored multipliers; the search stops (status
        ``time_limit``, with the interval proven) before it would exceed them.
    workers : int or None
        Threads solving the boxes' relaxations concurrently (default: every core).  Without
        a relaxation (cross-entropy) the interval bounds stay in this thread.
    scheduler : str or None
        A dask.distributed scheduler address: the relaxations (without one: the interval
        bounds, in fixed chunks) are computed on that cluster.
    batch : int or None
        Open boxes split per synchronous step (default: 32 without the relaxation; with it
        4, or half the workers when more); for a fixed batch the result does not depend on
        the workers or their timing (without a time limit).

    Returns
    -------
    ContinuousResult
        ``method="spatial"``; ``proof`` holds the search tree and its leaf bounds.
    """
    from ._parallel import check_workers

    t0 = time.perf_counter()
    ok, why = supports(arch, loss_name, reg)
    if not ok:
        raise InputError(f"spatial branch-and-bound: {why}")
    workers = check_workers(workers)
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1):
        raise InputError(f"batch={batch!r}: expected a positive integer")
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    N = arch.n_params
    B = float(box)
    if branch_batch(N, 1, memory) < 1:
        raise SizeError(f"spatial branch-and-bound: {N:,} parameters need {32 * N * N / 2**30:.3g} GiB "
                        f"per strong-branching step (memory {memory / 2**30:.3g} GiB); use fewer parameters")
    bounder = _Bounder(arch, loss_name, X, Y, reg, lam)
    risk = _Risk(arch, loss_name, X, Y, reg, lam)
    rng = np.random.default_rng(seed)
    deadline = None if time_limit is None else t0 + float(time_limit)
    show = progress and sys.stderr.isatty()

    # incumbent: local descent from the centre, the given network and a few random points
    starts = [np.zeros(N)]
    if incumbent is not None:
        starts.append(np.clip(np.asarray(incumbent, dtype=np.float64), -B, B))
    # the best of a few hundred random points starts one more descent
    cloud = rng.uniform(-B, B, size=(512, N))
    vals = np.full(len(cloud), np.inf)
    for a in range(0, len(cloud), 32):
        if a and deadline is not None and time.perf_counter() > deadline:
            break
        vals[a:a + 32] = risk(cloud[a:a + 32])
    starts.append(cloud[int(np.argmin(vals))])
    starts += list(rng.uniform(-B, B, size=(2, N)))
    ub_x, ub = None, np.inf
    for k, s in enumerate(starts):
        if k > 1 and deadline is not None and time.perf_counter() > t0 + 0.1 * (deadline - t0):
            break
        x, f = local_descent(risk, s, B, deadline=deadline)
        if f < ub:
            ub_x, ub = x, f
    ub_x, ub = local_descent(risk, ub_x, B, maxiter=1000 if deadline is None else 300, polish=True,
                             deadline=deadline)

    relax = Relaxation(arch, loss_name, X, Y, reg, lam) if lp else None
    if relax is not None and not relax.applies():
        relax = None
    pool = None
    # without an LP (cross-entropy) only a cluster takes the interval bounds: local threads
    # gain nothing on them (measured slower, the numpy passes are short)
    if relax is not None or scheduler:
        from ._parallel import NodePool

        if relax is not None:
            _new_highs()  # HiGHS's banner, swallowed once before any thread starts
        pool = NodePool(BoxWork, (json.dumps(arch.dag_dict(), sort_keys=True), loss_name, X, Y,
                                  reg or "", float(lam)), workers=workers, scheduler=scheduler)
        workers = pool.workers
    if batch is None:
        batch = BATCH if relax is None else max(LP_BATCH, -(-workers // 2))
    batch = branch_batch(N, batch, memory)
    descents = len(starts)
    with contextlib.ExitStack() as stack:
        if pool is not None:
            stack.callback(pool.close)
        mult = {}
        row_count = relax.n_rows if relax is not None else 0
        prefer_dim = {}
        lp_points = []
        lp_solves = 0
        branchable = np.ones(N, dtype=bool)
        if relax is not None:  # output biases are exact in the relaxation: split them last
            for k in _output_only_biases(arch):
                branchable[k] = False

        def intervals(los, his):
            """Interval bounds of many boxes; without the LP in fixed chunks (on the cluster
            when there is one), so the values do not depend on what computes them."""
            if relax is not None:
                return bounder.bounds(los, his)
            chunks = [(los[a:a + INTERVAL_CHUNK], his[a:a + INTERVAL_CHUNK])
                      for a in range(0, len(los), INTERVAL_CHUNK)]
            parts = (pool.map("intervals", chunks) if pool is not None
                     else [bounder.bounds(a, b) for a, b in chunks])
            return np.concatenate(parts)

        def lp_bounds(cids, los, his, interval_lbs):
            """The children's bounds: their relaxations, solved by the pool, taken in task order."""
            nonlocal lp_solves
            out = []
            for cid, lo, hi, ilb, (val, y, point, dim) in zip(
                    cids, los, his, interval_lbs, pool.map("bound", [(lo, hi) for lo, hi in zip(los, his)])):
                lp_solves += 1
                if point is not None:
                    lp_points.append(point)
                    if dim >= 0:
                        prefer_dim[cid] = dim
                if y is not None and np.isfinite(val) and np.all(np.isfinite(y)) and val > ilb:
                    mult[cid] = y
                    out.append(val)
                else:
                    out.append(ilb)
            return out

        root_lo, root_hi = np.full(N, -B), np.full(N, B)
        lb0 = float(bounder.bounds(root_lo[None], root_hi[None])[0])
        if relax is not None and (deadline is None or time.perf_counter() < deadline):
            lb0 = lp_bounds([0], [root_lo], [root_hi], [lb0])[0]
        boxes = {0: (root_lo, root_hi)}
        bound = {0: lb0}
        heap = [(lb0, 0)]
        stuck = []
        split_parent, split_dim, split_value = [], [], []
        evaluated = 1
        status = "time_limit"
        reason = ""
        last_show = 0.0
        next_descent = DESCENT_NODES

        def tol():
            return max(abs_gap, gap * abs(ub))

        while True:
            if not heap:
                status = "optimal" if not stuck else "time_limit"
                reason = "" if not stuck else "boxes too small to split"
                break
            if heap[0][0] >= ub - tol():
                status = "optimal"
                break
            now = time.perf_counter()
            if deadline is not None and now >= deadline:
                reason = "time limit"
                break
            if len(heap) > max_open or len(boxes) * 16 * N + len(mult) * 8 * row_count > memory:
                reason = f"memory limit ({len(boxes):,} boxes)"
                break
            if show and now - last_show > 0.5:
                lbg = min(heap[0][0], min((bound[i] for i in stuck), default=np.inf))
                sys.stderr.write(f"\rspatial b&b: {2 * len(split_parent) + 1:,} nodes, "
                                 f"lower {lbg:.6g}, best {ub:.6g}, gap {ub - lbg:.3g}   ")
                sys.stderr.flush()
                last_show = now
            ids = []
            while heap and len(ids) < batch and heap[0][0] < ub - tol():
                _, i = heapq.heappop(heap)
                lo, hi = boxes[i]
                if np.max(hi - lo) <= MIN_WIDTH:
                    stuck.append(i)
                    continue
                ids.append(i)
            if not ids:
                continue
            lo = np.stack([boxes[i][0] for i in ids])
            hi = np.stack([boxes[i][1] for i in ids])
            k = len(ids)
            mid = 0.5 * (lo + hi)
            # strong branching: bound both halves along every dimension
            clo = np.repeat(lo[:, None, None, :], 2, 2).repeat(N, 1)  # (k, N, 2, N)
            chi = np.repeat(hi[:, None, None, :], 2, 2).repeat(N, 1)
            dims = np.arange(N)
            chi[:, dims, 0, dims] = mid
            clo[:, dims, 1, dims] = mid
            lbs = intervals(clo.reshape(-1, N), chi.reshape(-1, N)).reshape(k, N, 2)
            evaluated += 2 * k * N
            width = hi - lo
            score = np.minimum(lbs[..., 0], lbs[..., 1]) + 1e-9 * width / max(B, 1e-300)
            ok = width > MIN_WIDTH
            prefer = ok & branchable[None, :]
            ok = np.where(prefer.any(axis=1, keepdims=True), prefer, ok)
            score = np.where(ok, score, -np.inf)
            best = np.argmax(score, axis=1)
            for r, i in enumerate(ids):
                d = prefer_dim.pop(i, None)
                if d is not None and width[r, d] > MIN_WIDTH and np.isfinite(lbs[r, d]).all():
                    best[r] = d
            if relax is not None:
                r_idx = np.arange(k)
                blo, bhi = clo[r_idx, best].reshape(-1, N), chi[r_idx, best].reshape(-1, N)
                lbs_b = lbs[r_idx, best].reshape(-1)
                todo = np.flatnonzero(lbs_b < ub - tol())
                if len(todo):
                    cids = [2 * (len(split_parent) + c // 2) + 1 + c % 2 for c in todo]
                    lbs_b[todo] = lp_bounds(cids, blo[todo], bhi[todo], lbs_b[todo])
                lbs[r_idx, best] = lbs_b.reshape(k, 2)
            for r, i in enumerate(ids):
                d = int(best[r])
                split_parent.append(i)
                split_dim.append(d)
                split_value.append(float(mid[r, d]))
                base = 2 * len(split_parent) - 1
                del boxes[i]
                mult.pop(i, None)
                for h in (0, 1):
                    cid = base + h
                    blo, bhi = clo[r, d, h].copy(), chi[r, d, h].copy()
                    boxes[cid] = (blo, bhi)
                    bound[cid] = float(lbs[r, d, h])
                    heapq.heappush(heap, (bound[cid], cid))
            # upper bounds: the centres of the new boxes, and now and then a local descent
            cen = 0.5 * (clo[np.arange(k), best] + chi[np.arange(k), best]).reshape(-1, N)
            if lp_points:
                cen = np.vstack([cen] + lp_points)
                lp_points.clear()
            vals = risk(cen)
            j = int(np.argmin(vals))
            if vals[j] < ub:
                ub, ub_x = float(vals[j]), cen[j].copy()
            if heap and 2 * len(split_parent) + 1 >= next_descent:  # by the tree's size: deterministic
                i = heap[0][1]
                x, f = local_descent(risk, 0.5 * (boxes[i][0] + boxes[i][1]), B, maxiter=100, polish=True,
                                     deadline=deadline)
                descents += 1
                if f < ub:
                    ub, ub_x = f, x
                next_descent *= 2

    if show:
        sys.stderr.write("\r" + " " * 90 + "\r")
        sys.stderr.flush()
    leaf_ids = np.array(sorted(boxes), dtype=np.int64)
    leaf_bound = np.array([bound[i] for i in leaf_ids])
    least = float(leaf_bound.min())
    lower = least - FLOAT_MARGIN * (1.0 + abs(least))
    if loss_name != "cross_entropy" or np.all(Y >= 0):
        lower = max(lower, 0.0)  # every term of the risk is >= 0
    objective = float(risk(ub_x[None])[0])
    if status == "optimal" and objective - lower > max(abs_gap, gap * abs(objective)) * (1 + 1e-6) + 2 * FLOAT_MARGIN * (1 + abs(least)):
        status = "time_limit"  # pragma: no cover - tolerance bookkeeping
    proof = {
        "format": FORMAT,
        "version": VERSION,
        "box": B,
        "split_parent": np.array(split_parent, dtype=np.int64),
        "split_dim": np.array(split_dim, dtype=np.int64),
        "split_value": np.array(split_value, dtype=np.float64),
        "leaf_id": leaf_ids,
        "leaf_bound": leaf_bound,
        "leaf_kind": np.array([1 if i in mult else 0 for i in leaf_ids], dtype=np.int8),
        "leaf_multipliers": (np.stack([mult[i] for i in leaf_ids if i in mult]) if mult
                             else np.zeros((0, relax.n_rows if relax else 0))),
    }
    info = {"boxes_bounded": int(evaluated), "leaves": int(len(leaf_ids)),
            "local_descents": int(descents), "stop_reason": reason, "lp_solves": int(lp_solves),
            "lp_leaves": int(len(mult)),
            "float_margin": FLOAT_MARGIN, "workers": int(workers), "batch": int(batch)}
    return ContinuousResult(status=status, objective=objective, lower_bound=lower,
                            params=np.asarray(ub_x, dtype=np.float64),
                            nodes=2 * len(split_parent) + 1,
                            solve_seconds=time.perf_counter() - t0, method="spatial",
                            proof=proof, info=info)
