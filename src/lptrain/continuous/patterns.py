"""Exact continuous optimum of one-hidden-layer ReLU nets n-w-1 by pattern branch-and-bound.

For n >= 2 inputs the search branches on single (unit, point) activity decisions instead of
threshold windows (:mod:`._patterns_nd`); what follows describes n = 1.

docs/design.md §10: unit j contributes v_j relu(a_j x + b_j) = s_j relu(s_j u_j.z) with
u_j = v_j (a_j, b_j), s_j = sign(v_j), z = (x, 1); the box is exactly ||u_j||_inf <= B^2,
|c| <= B.  With every unit's sign and activation pattern fixed the risk is an LP (absolute,
hinge) or a convex QP (quadratic).  For n = 1 a unit's pattern on the sorted data is a
threshold k with an orientation (the active points are a suffix or a prefix), so the search
branches on windows of thresholds per unit (:mod:`._patterns_lp`).  A node is bounded by an
LP over (u, c, contributions g): the ReLU triangle for every (unit, point) pair over its exact
range on the node's region (exact once the pair is decided), and, because each unit's
contribution is a monotone convex (s = +1) or concave (s = -1) function of x with slopes
between 0 and u_j0, monotonicity, slope and convexity rows between neighbouring points.
Those couple the undecided points of a window and cut the tree 4-10x.  Quadratic loss: a
node with few undecided pairs is bounded by a compact QP (HiGHS), certified by the LP with
r^2 replaced by the maximum of its tangents around the QP's residuals; a node with many by
that tangent LP directly (warm-started).  Best-first; every node's relaxed solution is read
back as a real network (the incumbent); a node is closed when its relaxation is realised by a
network.  Hidden units are interchangeable: signs sorted (+ first), orientations sorted
within a sign, thresholds nondecreasing within a (sign, orientation) group.  Nodes are
bounded in synchronous batches, concurrently (:mod:`._parallel`, :mod:`._patterns_1d`).

A leaf claims the Neumaier-Shcherbina bound of its LP's dual less an estimate of what the
checker's rigorous replay loses to rounding (:mod:`._lp_claim`; large with a large box or data
far from 0), and a node is closed only when that claim reaches ``incumbent - 0.95 tol``
(else it is branched), so the final interval meets the tolerance.

The proof (``result.proof``) lists the search tree (splits, symmetry-empty children and
leaves) and per leaf a dual vector of its LP (quadratic: with the tangent points);
:func:`lptrain.continuous.check_patterns.verify` replays it independently and rigorously.
"""

from __future__ import annotations

import heapq
import itertools
import time

import numpy as np

from ..exceptions import InputError, SizeError
from ._patterns_1d import QP_MAX_UNDECIDED, TANGENT_OFFSETS
from .result import ContinuousResult

LOSSES = ("absolute", "quadratic", "hinge")
MAX_PAIRS = 100_000
MAX_POINTS_ND = 2_000
SPLIT_SLACK = 2  # split at the relaxation's own threshold unless farther than width/2 from the middle
TANGENTS = len(TANGENT_OFFSETS)


def applies(arch, loss_name: str, reg) -> bool:
    """True for a layered n-w-1 ReLU net, absolute/quadratic/hinge loss, no regularizer."""
    widths = arch.widths
    if widths is None or len(widths) != 3 or widths[0] < 1 or widths[2] != 1:
        return False
    spec = arch.spec or {}
    if spec.get("activation", "relu") != "relu":
        return False
    return loss_name in LOSSES and reg is None


def _param_index(arch):
    """Indices of a_j (a list of n per unit), b_j, v_j and c in the canonical parameter vector."""
    names = list(arch.param_names)
    w, n = arch.widths[1], arch.widths[0]
    ia = [[names.index(f"W1[{j + 1},{i + 1}]") for i in range(n)] for j in range(w)]
    ib = [names.index(f"b1[{j + 1}]") for j in range(w)]
    iv = [names.index(f"W2[1,{j + 1}]") for j in range(w)]
    ic = names.index("b2[1]")
    return ia, ib, iv, ic


def split_params(arch, s, u, c, B):
    """Canonical parameters of the network with unit contributions s_j relu(s_j u_j.z).

    |v_j| = ||u_j||_inf / B, (a_j, b_j) = u_j / v_j: inside the box when ||u_j||_inf <= B^2.
    """
    ia, ib, iv, ic = _param_index(arch)
    phi = np.zeros(arch.n_params)
    for j in range(len(s)):
        m = float(np.max(np.abs(u[j])))
        if m <= 0.0:
            continue
        v = s[j] * min(m / B, B)
        ab = np.clip(u[j] / v, -B, B)
        phi[ia[j]], phi[ib[j]], phi[iv[j]] = ab[:-1], ab[-1], v
    phi[ic] = float(np.clip(c, -B, B))
    return phi


def risk(arch, loss_name, X, Y, params) -> float:
    """Mean loss of ``params`` on the data (the architecture's own forward pass)."""
    from ..losses import get_loss

    out = arch.predict(np.asarray(X, dtype=np.float64), params)
    return float(np.mean(get_loss(loss_name).evaluate(out, np.asarray(Y, dtype=np.float64))))


def root_combos(w):
    """Sign vectors sorted (+1 first) and orientations sorted within each sign group."""
    out = []
    for npos in range(w, -1, -1):
        s = [1] * npos + [-1] * (w - npos)
        for ip in range(npos + 1):
            for ineg in range(w - npos + 1):
                o = [1] * ip + [-1] * (npos - ip) + [1] * ineg + [-1] * (w - npos - ineg)
                out.append((tuple(s), tuple(o)))
    return out


def propagate(s, o, klo, khi):
    """Tighten windows by k_j <= k_{j+1} within a (sign, orientation) group; None if empty."""
    klo, khi = list(klo), list(khi)
    w = len(s)
    for j in range(w - 1):
        if s[j] == s[j + 1] and o[j] == o[j + 1]:
            klo[j + 1] = max(klo[j + 1], klo[j])
    for j in range(w - 2, -1, -1):
        if s[j] == s[j + 1] and o[j] == o[j + 1]:
            khi[j] = min(khi[j], khi[j + 1])
    if any(a > b for a, b in zip(klo, khi)):
        return None
    return tuple(klo), tuple(khi)


def solve(arch, loss_name, X, Y, *, box=1.0, reg=None, lam=0.0, gap=1e-4, abs_gap=1e-6,
          time_limit=None, incumbent=None, progress=False, workers=None, scheduler=None,
          batch=None) -> ContinuousResult:
    """Certified global minimum of the empirical risk of an n-w-1 ReLU net over [-box, box]^N.

    Parameters
    ----------
    arch : Architecture
        A layered ``n-w-1`` ReLU network (see :func:`applies`).
    loss_name : {"absolute", "quadratic", "hinge"}
    X, Y : array_like (D, n), (D, 1)
        Original data (not rounded).
    box : float
        B: every parameter in [-B, B].
    reg, lam : must be None / 0 (regularizers are not covered).
    gap, abs_gap : float
        Stop when objective - lower_bound <= max(abs_gap, gap * |objective|).
    time_limit : float or None
        Seconds; on expiry the proven interval is returned with status ``time_limit``.
    incumbent : array_like (N,) or None
        Parameters of a known network (inside the box) to start from.
    progress : bool
        Print a line now and then.
    workers : int or None
        Threads bounding nodes concurrently (default: every core).
    scheduler : str or None
        A dask.distributed scheduler address: nodes are bounded on that cluster.
    batch : int or None
        Open nodes expanded per synchronous batch (default: one per worker); for a fixed
        batch the result (interval, network, proof) does not depend on the workers or their
        timing, and ``batch=1`` is the serial best-first search.

    Returns
    -------
    ContinuousResult
        ``method="patterns"``; ``proof`` is replayed by
        :func:`lptrain.continuous.check_patterns.verify`.
    """
    if not applies(arch, loss_name, reg) or (lam or 0.0) != 0.0:
        raise InputError("the pattern method covers 1-w-1 ReLU nets with absolute, quadratic "
                         "or hinge loss and no regularizer")
    from ._parallel import check_workers

    check_workers(workers)
    if batch is not None and (isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1):
        raise InputError(f"batch={batch!r}: expected a positive integer")
    t0 = time.perf_counter()
    n_in = arch.widths[0]
    X = np.asarray(X, dtype=np.float64).reshape(-1, n_in)
    Y = np.asarray(Y, dtype=np.float64).reshape(-1, 1)
    if X.shape[0] != Y.shape[0] or X.shape[0] < 1:
        raise InputError("X and Y need the same positive number of rows")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise InputError("data must be finite")
    B = float(box)
    if not (B > 0 and np.isfinite(B)):
        raise InputError("box must be positive")
    D = X.shape[0]
    w = arch.widths[1]
    if w * D > MAX_PAIRS:
        raise SizeError(f"{D} points x {w} hidden units: the node LPs would have about "
                        f"{10 * w * D} rows; the pattern method takes at most {MAX_PAIRS} "
                        "(unit, point) pairs")
    if n_in >= 2:
        if D > MAX_POINTS_ND:
            raise SizeError(f"{D} points with {n_in} inputs: the pair search's range bounds take "
                            f"memory quadratic in D; it takes at most {MAX_POINTS_ND} points")
        return _solve_nd(arch, loss_name, X, Y, B, gap, abs_gap, time_limit, incumbent, progress,
                         t0, workers, scheduler, batch)
    perm = np.argsort(X[:, 0], kind="stable")
    xs, ys = X[perm, 0].copy(), Y[perm, 0].copy()
    return _solve_1d(arch, loss_name, X, Y, xs, ys, perm, B, gap, abs_gap, time_limit, incumbent,
                     progress, t0, workers, scheduler, batch)


def _solve_1d(arch, loss_name, X, Y, xs, ys, perm, B, gap, abs_gap, time_limit, incumbent,
              progress, t0, workers, scheduler, batch):
    """n = 1: threshold-window branching, nodes bounded in synchronous batches.

    The driver keeps the heap, the tree, the incumbent and the proof; nodes are evaluated by
    :class:`._patterns_1d.NodeWork` (on threads or a Dask cluster, :mod:`._parallel`), and
    every decision that uses the incumbent is made here from the results in task order.  With
    ``batch=1`` this is the plain serial best-first search.
    """
    from ._parallel import NodePool
    from ._patterns_1d import NodeWork, close_level, prune_level

    D = len(xs)
    w = arch.widths[1]
    quad = loss_name == "quadratic"
    best = {"obj": np.inf, "params": None}

    def offer(params):
        val = risk(arch, loss_name, X, Y, params)
        if val < best["obj"]:
            best["obj"], best["params"] = val, params

    if incumbent is not None:
        inc = np.asarray(incumbent, dtype=np.float64).reshape(-1)
        if inc.shape == (arch.n_params,) and np.all(np.abs(inc) <= B):
            offer(inc)
    offer(np.zeros(arch.n_params))

    def stop_level():
        return best["obj"] - 0.5 * max(abs_gap, gap * abs(best["obj"]))

    tree = {}
    counter = itertools.count()
    heap = []
    stats = {"nodes": 0, "pruned": 0, "exact": 0, "empty": 0, "lps": 0, "retries": 0,
             "batches": 0, "short": 0}
    pool = NodePool(NodeWork, (xs, ys, w, loss_name, B), workers=workers, scheduler=scheduler)
    k_batch = pool.workers if batch is None else max(1, int(batch))
    work = pool.local()  # the driver's engines: what a task skipped but the driver needs

    def take(nid, node, depth, t_in, res):
        """Replay one node's evaluation against the current incumbent (task order)."""
        s, o, klo, khi = node
        stats["lps"] += res["lps"]
        stats["retries"] += res["retries"]
        stages = res["stages"]
        i = 0
        while True:
            st = stages[i]
            stats["nodes"] += 1
            if st["risk"] < best["obj"]:
                offer(split_params(arch, s, st["u"], st["c"], B))
            pruned = st["obj"] >= prune_level(best["obj"], gap, abs_gap, st["use_qp"])
            if not (quad and st["exact"] and not pruned and not st["use_qp"]):
                break
            i += 1
            if i == len(stages):  # the task judged the QP not needed: solve it here
                more = work.evaluate(s, o, klo, khi, None, st["tbasis"], st["r"], True, best["obj"],
                                     gap, abs_gap)
                stats["lps"] += more["lps"]
                stats["retries"] += more["retries"]
                stages = stages + more["stages"]
        if pruned or st["exact"]:
            cert = st.get("cert")
            if cert is None:
                cert = work.certify_qp(s, o, klo, khi, st["r"], st["tbasis"])
                stats["lps"] += 1
            if cert["bound"] < close_level(best["obj"], gap, abs_gap) and klo != khi:
                # the certificate falls short of the level the node was closed at: branch it
                stats["short"] += 1
                tree[nid] = {"kind": "open"}
                heapq.heappush(heap, (cert["bound"], -depth, nid, s, o, klo, khi, st["u"],
                                      st["per_unit"], st["basis"], st["tbasis"], st["r"], t_in,
                                      st["use_qp"]))
                return
            tree[nid] = cert
            stats["exact" if st["exact"] and not pruned else "pruned"] += 1
            return
        tree[nid] = {"kind": "open"}
        heapq.heappush(heap, (st["obj"], -depth, nid, s, o, klo, khi, st["u"], st["per_unit"],
                              st["basis"], st["tbasis"], st["r"], t_in, st["use_qp"]))

    def args(task, inc):
        _, node, _, basis, tb, t_in = task
        use_qp = quad and sum(b - a for a, b in zip(node[2], node[3])) <= QP_MAX_UNDECIDED
        return (*node, basis, tb, t_in, use_qp, inc, gap, abs_gap)

    def run(tasks):
        """Bound ``tasks`` = [(nid, (s, o, klo, khi), depth, basis, tbasis, t_in)] concurrently.

        A task sees the incumbent at the batch's start (one worker: the current one, so it
        skips exactly the work the search will not need); the result is the same either way.
        """
        stats["batches"] += 1
        if pool.serial:
            for task in tasks:
                take(task[0], task[1], task[2], task[5], work.evaluate(*args(task, best["obj"])))
            return
        inc = best["obj"]
        for task, res in zip(tasks, pool.map("evaluate", [args(t, inc) for t in tasks])):
            take(task[0], task[1], task[2], task[5], res)

    status = "optimal"
    combos = root_combos(w)
    roots = []
    try:
        tasks = []
        for s, o in combos:
            nid = next(counter)
            roots.append(nid)
            klo, khi = propagate(s, o, (0,) * w, (D,) * w)
            tasks.append((nid, (s, o, klo, khi), 0, None, None, np.zeros(D)))
        run(tasks)
        last_print = time.perf_counter()
        while True:
            while heap:
                if heap[0][0] >= stop_level():
                    break
                if time_limit is not None and time.perf_counter() - t0 > time_limit:
                    status = "time_limit"
                    break
                tasks = []
                for _ in range(k_batch):
                    if not heap or heap[0][0] >= stop_level():
                        break
                    _, negd, nid, s, o, klo, khi, u, per_unit, nb, tb, r, _, _ = heapq.heappop(heap)
                    j, m = _split(xs, s, o, klo, khi, u, per_unit)
                    kids = []
                    for lo_, hi_ in ((klo[j], m), (m + 1, khi[j])):
                        a, b = list(klo), list(khi)
                        a[j], b[j] = lo_, hi_
                        prop = propagate(s, o, a, b)
                        cid = next(counter)
                        kids.append(cid)
                        if prop is None:
                            tree[cid] = {"kind": "empty"}
                            stats["empty"] += 1
                        else:
                            tasks.append((cid, (s, o, prop[0], prop[1]), -negd + 1, nb, tb, r))
                    tree[nid] = {"kind": "split", "unit": j, "m": m, "kids": kids}
                run(tasks)
                if progress and time.perf_counter() - last_print > 5:
                    last_print = time.perf_counter()
                    print(f"[patterns] nodes {stats['nodes']} open {len(heap)} "
                          f"lb {heap[0][0] if heap else best['obj']:.8g} obj {best['obj']:.8g}",
                          flush=True)
            # open nodes left (bounded at or above the stop level): their certificates; one
            # that falls short of the close level (HiGHS's QP value can be too high on badly
            # scaled nodes) goes back to be branched
            items = sorted(heap, key=lambda it: it[2])
            heap.clear()
            closed = pool.map("close", [(s, o, klo, khi, nb, tb, t_in, use_qp)
                                        for _, _, _, s, o, klo, khi, _, _, nb, tb, _, t_in, use_qp
                                        in items])
            for item, (cert, lps) in zip(items, closed):
                stats["lps"] += lps
                if status == "optimal" and item[5] != item[6] and \
                        cert["bound"] < close_level(best["obj"], gap, abs_gap):
                    stats["short"] += 1
                    heapq.heappush(heap, (cert["bound"], *item[1:]))
                else:
                    tree[item[2]] = cert
            if not heap:
                break
    finally:
        pool.close()

    leaf_bounds = [nd["bound"] for nd in tree.values() if nd["kind"] == "leaf"]
    lower = min(min(leaf_bounds) if leaf_bounds else np.inf, best["obj"])
    proof = _encode_proof(tree, roots, combos, perm, loss_name, B, D, w, lower)
    obj = best["obj"]
    if status == "optimal" and obj - lower > max(abs_gap, gap * abs(obj)) * (1 + 1e-9):
        status = "time_limit"
    return ContinuousResult(
        status=status, objective=float(obj), lower_bound=float(lower),
        params=np.asarray(best["params"], dtype=np.float64), nodes=stats["nodes"],
        solve_seconds=time.perf_counter() - t0, method="patterns", proof=proof,
        info={"lps": stats["lps"], "pruned": stats["pruned"], "exact_leaves": stats["exact"],
              "retries": stats["retries"], "empty_children": stats["empty"], "roots": len(roots),
              "workers": pool.workers, "batch": k_batch, "batches": stats["batches"],
              "short_certificates": stats["short"]},
    )


def _split(xs, s, o, klo, khi, u, per_unit):
    """Branching: (unit, m) -- the unit with the largest relaxation error, its window split at
    the relaxation's own threshold unless that is far from the middle."""
    widths = np.asarray(khi) - np.asarray(klo)
    per_unit = np.where(widths > 0, per_unit, -1.0)
    j = int(np.argmax(per_unit))
    if per_unit[j] <= 0:
        j = int(np.argmax(widths))
    mid = (klo[j] + khi[j] - 1) // 2
    ranks = np.arange(klo[j], khi[j])
    act = s[j] * (u[j, 0] * xs[ranks] + u[j, 1]) > 0
    k_lp = klo[j] + int(np.sum(~act)) if o[j] > 0 else klo[j] + int(np.sum(act))
    m = min(max(k_lp, klo[j]), khi[j] - 1)
    if abs(m - mid) > max(1, (khi[j] - klo[j]) // SPLIT_SLACK):
        m = mid
    return j, m


def _solve_nd(arch, loss_name, X, Y, B, gap, abs_gap, time_limit, incumbent, progress, t0,
              workers, scheduler, batch):
    """n >= 2 inputs: pair branching (:mod:`._patterns_nd`)."""
    from ._patterns_1d import mean_risk
    from ._patterns_nd import search

    Z = np.hstack([X, np.ones((X.shape[0], 1))])
    ys = Y[:, 0]
    best = {"obj": np.inf, "params": None}

    def offer_params(params):
        val = risk(arch, loss_name, X, Y, params)
        if val < best["obj"]:
            best["obj"], best["params"] = val, params

    def offer(s, U, c):
        out = c + sum(s[j] * np.maximum(s[j] * (Z @ U[j]), 0.0) for j in range(len(s)))
        if mean_risk(loss_name, out, ys) < best["obj"]:
            offer_params(split_params(arch, s, U, c, B))

    if incumbent is not None:
        inc = np.asarray(incumbent, dtype=np.float64).reshape(-1)
        if inc.shape == (arch.n_params,) and np.all(np.abs(inc) <= B):
            offer_params(inc)
    offer_params(np.zeros(arch.n_params))
    status, lower, nodes, proof, info = search(
        X, Y, arch.widths[1], loss_name, B, gap=gap, abs_gap=abs_gap,
        time_limit=None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - t0)),
        offer=offer, best=lambda: best["obj"], progress=progress, workers=workers,
        scheduler=scheduler, batch=batch)
    obj = best["obj"]
    if status == "optimal" and obj - lower > max(abs_gap, gap * abs(obj)) * (1 + 1e-9):
        status = "time_limit"
    return ContinuousResult(
        status=status, objective=float(obj), lower_bound=float(lower),
        params=np.asarray(best["params"], dtype=np.float64), nodes=nodes,
        solve_seconds=time.perf_counter() - t0, method="patterns", proof=proof, info=info)


def _encode_proof(tree, roots, combos, perm, loss_name, B, D, w, lower):
    """Preorder encoding of the tree: per node a code (0 leaf, 1 split, 2 empty)."""
    code, unit, mval, leaf_bound, yi_parts, yv_parts, y_start, t_parts = [], [], [], [], [], [], [0], []

    def walk(nid):
        stack = [nid]
        while stack:
            k = stack.pop()
            nd = tree[k]
            if nd["kind"] == "split":
                code.append(1)
                unit.append(nd["unit"])
                mval.append(nd["m"])
                stack.extend(reversed(nd["kids"]))
            elif nd["kind"] == "empty":
                code.append(2)
                unit.append(-1)
                mval.append(-1)
            else:
                code.append(0)
                unit.append(-1)
                mval.append(len(leaf_bound))
                leaf_bound.append(nd["bound"])
                yi_parts.append(nd["yi"])
                yv_parts.append(nd["yv"])
                y_start.append(y_start[-1] + len(nd["yi"]))
                if nd["t"] is not None:
                    t_parts.append(np.asarray(nd["t"], dtype=np.float64).ravel())

    for r in roots:
        walk(r)
    proof = {
        "format": "lptrain-patterns-proof",
        "version": 1,
        "loss": loss_name,
        "box": float(B),
        "D": int(D),
        "width": int(w),
        "perm": np.asarray(perm, dtype=np.int64),
        "roots_signs": np.asarray([c[0] for c in combos], dtype=np.int8),
        "roots_orient": np.asarray([c[1] for c in combos], dtype=np.int8),
        "code": np.asarray(code, dtype=np.int8),
        "unit": np.asarray(unit, dtype=np.int32),
        "m": np.asarray(mval, dtype=np.int64),
        "leaf_bound": np.asarray(leaf_bound, dtype=np.float64),
        "y_index": np.concatenate(yi_parts) if yi_parts else np.zeros(0, np.int32),
        "y_value": np.concatenate(yv_parts) if yv_parts else np.zeros(0),
        "y_start": np.asarray(y_start, dtype=np.int64),
        "lower_bound": float(lower),
    }
    if t_parts:
        proof["t"] = np.concatenate(t_parts)
        proof["tangents"] = TANGENTS
    return proof
