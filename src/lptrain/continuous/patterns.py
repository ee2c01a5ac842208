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
within a sign, thresholds nondecreasing within a (sign, orientation) group.

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
from .result import ContinuousResult

LOSSES = ("absolute", "quadratic", "hinge")
TANGENT_OFFSETS = (-3e-2, -1e-2, -1e-4, 0.0, 1e-4, 1e-2, 3e-2)
QP_MAX_UNDECIDED = 24
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


def _fast_risk(loss, xs, ys, s, u, c):
    out = c + sum(s[j] * np.maximum(s[j] * (u[j, 0] * xs + u[j, 1]), 0.0) for j in range(len(s)))
    if loss == "absolute":
        return float(np.mean(np.abs(out - ys)))
    if loss == "quadratic":
        return float(np.mean((out - ys) ** 2))
    return float(np.mean(np.maximum(1.0 - ys * out, 0.0)))


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
        Threads bounding nodes concurrently (default: every core).  n >= 2 inputs only: the
        n = 1 search still runs in one thread.
    scheduler : str or None
        A dask.distributed scheduler address: nodes are bounded on that cluster (n >= 2).
    batch : int or None
        Open nodes expanded per synchronous batch (default: one per worker); for a fixed
        batch the result does not depend on the workers or their timing (n >= 2).

    Returns
    -------
    ContinuousResult
        ``method="patterns"``; ``proof`` is replayed by
        :func:`lptrain.continuous.check_patterns.verify`.
    """
    from ._patterns_lp import NodeLP

    if not applies(arch, loss_name, reg) or (lam or 0.0) != 0.0:
        raise InputError("the pattern method covers 1-w-1 ReLU nets with absolute, quadratic "
                         "or hinge loss and no regularizer")
    from ._parallel import check_workers

    check_workers(workers)
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
    eng = NodeLP(xs, ys, w, loss_name, B)
    quad = loss_name == "quadratic"

    best = {"obj": np.inf, "params": None}

    def offer(params):
        val = risk(arch, loss_name, X, Y, params)
        if val < best["obj"]:
            best["obj"], best["params"] = val, params
        return val

    def offer_u(s, u, c):
        if _fast_risk(loss_name, xs, ys, s, u, c) < best["obj"]:
            offer(split_params(arch, s, u, c, B))

    if incumbent is not None:
        inc = np.asarray(incumbent, dtype=np.float64).reshape(-1)
        if inc.shape == (arch.n_params,) and np.all(np.abs(inc) <= B):
            offer(inc)
    offer(np.zeros(arch.n_params))

    def tol():
        return max(abs_gap, gap * abs(best["obj"]))

    tree = {}
    counter = itertools.count()
    heap = []
    stats = {"nodes": 0, "pruned": 0, "exact": 0, "empty": 0}

    if quad:
        from ._patterns_lp import CompactQP

        engq = NodeLP(xs, ys, w, loss_name, B, tangents=TANGENTS)
        cqp = CompactQP(eng)
        cert_basis = [None]

    def certify(lp, x, y, node):
        """(bound, dual, tangents) of a leaf.

        Quadratic loss: the LP with r^2 >= max_k (2 tau_k r - tau_k^2) for tau in
        r + TANGENT_OFFSETS, r the QP's residuals (or the tangent LP already solved).
        """
        if not quad:
            bound, y = eng.ns_bound(lp, y, eng.cost, 0.0)
            return bound - 1e-9 * (1.0 + abs(bound)), y, None
        s, o, klo, khi, r, tan = node
        if lp is None:
            tan = r[:, None] + np.asarray(TANGENT_OFFSETS)[None, :]
            lp = engq.build(s, o, klo, khi, tan)
            ok, obj, _, y, nb = engq.solve(lp, cert_basis[0])
            if not ok:
                ok, obj, _, y, nb = engq.solve(lp, None)
            if ok:
                cert_basis[0] = nb
        bound, y = engq.ns_bound(lp, y, engq.cost, 0.0)
        return bound - 1e-9 * (1.0 + abs(bound)), y, tan

    def make_leaf(nid, lp, x, y, node):
        bound, y, t = certify(lp, x, y, node)
        nz = np.nonzero(y)[0]
        tree[nid] = {"kind": "leaf", "bound": bound, "yi": nz.astype(np.int32), "yv": y[nz],
                     "t": t}

    def solve_lp(e, lp, basis):
        ok, obj, x, yd, nb = e.solve(lp, basis)
        if not ok:
            ok, obj, x, yd, nb = e.solve(lp, None)
            stats["retries"] = stats.get("retries", 0) + 1
        if not ok:
            raise RuntimeError(f"node relaxation not solved to optimality: {e.h.getModelStatus()}")
        return obj, x, yd, nb

    def relax(s, o, klo, khi, basis, t_in, use_qp):
        """Solve the node relaxation: (obj, x, dual, basis, lp, residuals, tangents)."""
        if use_qp:
            ok, obj, x = cqp.solve(s, o, klo, khi)
            if not ok:
                lp = eng.build(s, o, klo, khi)
                obj, x, yd, nb = solve_lp(eng, lp, None)
            return obj, x, None, None, None, x[eng.io : eng.io + D] - ys, None
        if quad:
            # many undecided pairs: the tangent LP around the parent's residuals (a valid bound)
            tan = t_in[:, None] + np.asarray(TANGENT_OFFSETS)[None, :]
            lp = engq.build(s, o, klo, khi, tan)
            obj, x, yd, nb = solve_lp(engq, lp, basis)
            return obj, x, yd, nb, lp, x[eng.io : eng.io + D] - ys, tan
        lp = eng.build(s, o, klo, khi)
        obj, x, yd, nb = solve_lp(eng, lp, basis)
        return obj, x, yd, nb, lp, None, None

    def process(nid, s, o, klo, khi, depth, basis, t_in):
        use_qp = quad and sum(b - a for a, b in zip(klo, khi)) <= QP_MAX_UNDECIDED
        while True:
            obj, x, yd, nb, lp, r, tan = relax(s, o, klo, khi, basis, t_in, use_qp)
            stats["nodes"] += 1
            u = x[: 2 * w].reshape(w, 2)
            c = x[eng.ic]
            offer_u(s, u, c)
            t = u[eng.jj, 0] * xs[eng.rr] + u[eng.jj, 1]
            g = x[eng.ig : eng.ig + w * D]
            sv = np.asarray(s, dtype=np.float64)[eng.jj]
            viol = np.abs(g - sv * np.maximum(sv * t, 0.0))
            # the QP value is certified by a tangent LP a little below it
            pruned = obj >= best["obj"] - (0.5 if use_qp else 0.9) * tol()
            exact = viol.max() <= 1e-9
            if quad and exact and not pruned and not use_qp:
                use_qp = True  # a realised tangent-LP point is not the node's optimum
                continue
            break
        node = (s, o, klo, khi, r, tan)
        if pruned or exact:
            make_leaf(nid, lp, x, yd, node)
            stats["exact" if exact and not pruned else "pruned"] += 1
            return
        tree[nid] = {"kind": "open"}
        # small heap entries: the LP and its dual are rebuilt if the node ends open
        per_unit = np.bincount(eng.jj, weights=viol, minlength=w)
        heapq.heappush(heap, (obj, -depth, nid, s, o, klo, khi, x[: 2 * w].copy(), per_unit, nb, r,
                              t_in, use_qp))

    roots = []
    for s, o in root_combos(w):
        nid = next(counter)
        roots.append(nid)
        klo, khi = propagate(s, o, (0,) * w, (D,) * w)
        process(nid, s, o, klo, khi, 0, None, np.zeros(D))

    status = "optimal"
    last_print = time.perf_counter()
    while heap:
        if heap[0][0] >= best["obj"] - 0.5 * tol():
            break
        if time_limit is not None and time.perf_counter() - t0 > time_limit:
            status = "time_limit"
            break
        obj, negd, nid, s, o, klo, khi, x, per_unit, nb, r, t_in, use_qp = heapq.heappop(heap)
        # branch: the unit with the largest relaxation error, split its window
        widths = np.asarray(khi) - np.asarray(klo)
        per_unit = np.where(widths > 0, per_unit, -1.0)
        j = int(np.argmax(per_unit))
        if per_unit[j] <= 0:
            j = int(np.argmax(widths))
        mid = (klo[j] + khi[j] - 1) // 2
        u = x[2 * j : 2 * j + 2]
        ranks = np.arange(klo[j], khi[j])
        act = s[j] * (u[0] * xs[ranks] + u[1]) > 0
        k_lp = klo[j] + int(np.sum(~act)) if o[j] > 0 else klo[j] + int(np.sum(act))
        m = min(max(k_lp, klo[j]), khi[j] - 1)
        if abs(m - mid) > max(1, (khi[j] - klo[j]) // SPLIT_SLACK):
            m = mid
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
                process(cid, s, o, prop[0], prop[1], -negd + 1, nb, r)
        tree[nid] = {"kind": "split", "unit": j, "m": m, "kids": kids}
        if progress and time.perf_counter() - last_print > 5:
            last_print = time.perf_counter()
            print(f"[patterns] nodes {stats['nodes']} open {len(heap)} "
                  f"lb {heap[0][0] if heap else obj:.8g} obj {best['obj']:.8g}", flush=True)
    for item in heap:
        _, _, nid, s, o, klo, khi, _, _, nb, _, t_in, use_qp = item
        obj, x, yd, nb, lp, r, tan = relax(s, o, klo, khi, nb, t_in, use_qp)
        make_leaf(nid, lp, x, yd, (s, o, klo, khi, r, tan))
    heap.clear()

    leaf_bounds = [nd["bound"] for nd in tree.values() if nd["kind"] == "leaf"]
    lower = min(min(leaf_bounds) if leaf_bounds else np.inf, best["obj"])
    proof = _encode_proof(tree, roots, root_combos(w), perm, loss_name, B, D, w, lower)
    obj = best["obj"]
    if status == "optimal" and obj - lower > max(abs_gap, gap * abs(obj)) * (1 + 1e-9):
        status = "time_limit"
    return ContinuousResult(
        status=status, objective=float(obj), lower_bound=float(lower),
        params=np.asarray(best["params"], dtype=np.float64), nodes=stats["nodes"],
        solve_seconds=time.perf_counter() - t0, method="patterns", proof=proof,
        info={"lps": eng.lps + (engq.lps + cqp.qps if quad else 0), "pruned": stats["pruned"],
              "exact_leaves": stats["exact"], "retries": stats.get("retries", 0),
              "empty_children": stats["empty"], "roots": len(roots)},
    )


def _solve_nd(arch, loss_name, X, Y, B, gap, abs_gap, time_limit, incumbent, progress, t0,
              workers, scheduler, batch):
    """n >= 2 inputs: pair branching (:mod:`._patterns_nd`)."""
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
        if loss_name == "absolute":
            val = float(np.mean(np.abs(out - ys)))
        elif loss_name == "quadratic":
            val = float(np.mean((out - ys) ** 2))
        else:
            val = float(np.mean(np.maximum(1.0 - ys * out, 0.0)))
        if val < best["obj"]:
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
