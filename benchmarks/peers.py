"""The peers of the continuous optimum: Gurobi and SCIP on the MINLP, and Adam.

For an n-w-1 ReLU net with every parameter in [-B, B] (hidden unit j: a_j in R^n, b_j;
output: v_j, c), the empirical risk minimisation over the box is the MINLP of issue 12:

* h_dj = relu(a_j.x_d + b_j) by big-M with a binary delta_dj:
  h >= a.x + b, h >= 0, h <= a.x + b + M_d (1 - delta), h <= M_d delta,
  with M_d = B (||x_d||_1 + 1), valid for every (a, b) in the box;
* the output o_d = sum_j v_j h_dj + c, bilinear (nonconvex: Gurobi with NonConvex = 2,
  SCIP natively, both by spatial branch-and-bound);
* absolute loss: epigraph variables e_d >= |o_d - y_d|, minimise mean e_d;
  quadratic loss: residuals r_d = o_d - y_d, minimise mean r_d^2.

Both solvers run with relative gap 1e-4, absolute gap 1e-6, one thread and a time limit.
They know nothing of the network's structure (no symmetry breaking, no bound
tightening of ours): this is what a user of a general global solver writes.

``objective`` is always the risk of the solver's parameters *recomputed here* on the data
(clipped to the box first), not the solver's own figure, which can be optimistic by its
feasibility tolerance; ``lower_bound`` is the solver's dual bound (as rigorous as the
solver's floating point, no more).

Needs the ``bench`` extra (gurobipy, pyscipopt) and torch for :func:`adam`; every import
is lazy, so the module imports without them.
"""

from __future__ import annotations

import time

import numpy as np

GAP = 1e-4
ABS_GAP = 1e-6


def risk(params, X, Y, widths, loss):
    """Mean loss of an n-w-1 ReLU net on (X, Y); params in canonical order.

    Canonical order: per hidden unit j, a_j[0..n-1], b_j; then v_0..v_{w-1}, c.
    """
    n, w = int(widths[0]), int(widths[1])
    p = np.asarray(params, dtype=float)
    A = p[: w * (n + 1)].reshape(w, n + 1)
    v = p[w * (n + 1): w * (n + 1) + w]
    c = p[w * (n + 1) + w]
    X = np.asarray(X, dtype=float).reshape(len(X), n)
    H = np.maximum(X @ A[:, :n].T + A[:, n], 0.0)
    z = H @ v + c
    d = z - np.asarray(Y, dtype=float).reshape(-1)
    return float(np.mean(np.abs(d)) if loss == "absolute" else np.mean(d * d))


def _check(X, Y, widths, loss):
    widths = [int(t) for t in widths]
    if len(widths) != 3 or widths[2] != 1:
        raise ValueError("peers handle n-w-1 ReLU nets only")
    if loss not in ("absolute", "quadratic"):
        raise ValueError("loss must be 'absolute' or 'quadratic'")
    X = np.asarray(X, dtype=float).reshape(-1, widths[0])
    Y = np.asarray(Y, dtype=float).reshape(-1)
    if len(X) != len(Y):
        raise ValueError("X and Y differ in length")
    return X, Y, widths


def _result(status, params, X, Y, widths, loss, box, lower_bound, seconds, nodes, **extra):
    if params is None:
        obj = float("nan")
    else:
        params = np.clip(np.asarray(params, dtype=float), -box, box)
        obj = risk(params, X, Y, widths, loss)
    lb = float(lower_bound) if lower_bound is not None else float("nan")
    return dict(status=status, objective=obj, lower_bound=lb, seconds=float(seconds),
                nodes=int(nodes), params=params, **extra)


def _big_m(X, box):
    return box * (np.abs(X).sum(axis=1) + 1.0)


def gurobi_solve(X, Y, widths, loss, box=1.0, time_limit=300.0, gap=GAP, abs_gap=ABS_GAP, clock="wall"):
    """Solve the MINLP with Gurobi (NonConvex = 2, one thread).

    ``clock="cpu"`` makes ``time_limit`` this process's CPU seconds (a callback stops the
    search), which is what one thread gets done on a loaded machine; ``"wall"`` is
    Gurobi's own wall-clock TimeLimit.

    Returns
    -------
    dict
        ``status`` ("optimal" | "time_limit" | "licence limit" | other Gurobi status),
        ``objective`` (the returned parameters' risk, recomputed), ``lower_bound``
        (ObjBound), ``seconds`` (wall time of ``optimize``), ``cpu_seconds`` (this
        process's CPU time over it: the fair figure on a loaded machine), ``nodes``, ``params``.
    """
    import gurobipy as gp
    from gurobipy import GRB

    X, Y, widths = _check(X, Y, widths, loss)
    n, w = widths[0], widths[1]
    D = len(X)
    M = _big_m(X, box)
    env = gp.Env(empty=True)
    env.setParam("OutputFlag", 0)
    env.start()
    m = gp.Model("relu_minlp", env=env)
    try:
        a = m.addVars(w, n, lb=-box, ub=box, name="a")
        b = m.addVars(w, lb=-box, ub=box, name="b")
        v = m.addVars(w, lb=-box, ub=box, name="v")
        c = m.addVar(lb=-box, ub=box, name="c")
        h = m.addVars(D, w, lb=0.0, name="h")
        dl = m.addVars(D, w, vtype=GRB.BINARY, name="delta")
        for d in range(D):
            for j in range(w):
                pre = gp.quicksum(a[j, i] * X[d, i] for i in range(n)) + b[j]
                h[d, j].UB = M[d]
                m.addConstr(h[d, j] >= pre)
                m.addConstr(h[d, j] <= pre + M[d] * (1 - dl[d, j]))
                m.addConstr(h[d, j] <= M[d] * dl[d, j])
        r = m.addVars(D, lb=-GRB.INFINITY, name="r")
        for d in range(D):
            m.addQConstr(r[d] == gp.quicksum(v[j] * h[d, j] for j in range(w)) + c - Y[d])
        if loss == "absolute":
            e = m.addVars(D, lb=0.0, name="e")
            for d in range(D):
                m.addConstr(e[d] >= r[d])
                m.addConstr(e[d] >= -r[d])
            m.setObjective(gp.quicksum(e[d] for d in range(D)) * (1.0 / D), GRB.MINIMIZE)
        else:
            m.setObjective(gp.quicksum(r[d] * r[d] for d in range(D)) * (1.0 / D), GRB.MINIMIZE)
        m.Params.NonConvex = 2
        m.Params.Threads = 1
        m.Params.MIPGap = gap
        m.Params.MIPGapAbs = abs_gap
        t0, c0 = time.perf_counter(), time.process_time()
        cb = None
        if clock == "cpu":
            def cb(model, where):
                if time.process_time() - c0 > time_limit:
                    model.terminate()
        else:
            m.Params.TimeLimit = float(time_limit)
        try:
            m.optimize(cb)
        except gp.GurobiError as exc:
            if "size-limited" in str(exc) or getattr(exc, "errno", None) == 10010:
                return _result("licence limit", None, X, Y, widths, loss, box, None,
                               time.perf_counter() - t0, 0, cpu_seconds=time.process_time() - c0,
                               message=str(exc))
            raise
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        status = {GRB.OPTIMAL: "optimal", GRB.TIME_LIMIT: "time_limit",
                  GRB.INTERRUPTED: "time_limit"}.get(m.Status, f"gurobi status {m.Status}")
        params = None
        if m.SolCount > 0:
            params = []
            for j in range(w):
                params += [a[j, i].X for i in range(n)] + [b[j].X]
            params += [v[j].X for j in range(w)] + [c.X]
        return _result(status, params, X, Y, widths, loss, box, m.ObjBound, dt, m.NodeCount, cpu_seconds=cpu,
                       reported=float(m.ObjVal) if m.SolCount > 0 else float("nan"))
    finally:
        m.dispose()
        env.dispose()


def scip_solve(X, Y, widths, loss, box=1.0, time_limit=300.0, gap=GAP, abs_gap=ABS_GAP, clock="wall"):
    """Solve the same MINLP with SCIP (bilinear terms handled natively, one thread).

    ``clock`` as in :func:`gurobi_solve` (SCIP's ``timing/clocktype``). Returns the same
    dict as :func:`gurobi_solve`.
    """
    from pyscipopt import Model, quicksum

    X, Y, widths = _check(X, Y, widths, loss)
    n, w = widths[0], widths[1]
    D = len(X)
    M = _big_m(X, box)
    m = Model("relu_minlp")
    m.hideOutput()
    a = {(j, i): m.addVar(f"a_{j}_{i}", lb=-box, ub=box) for j in range(w) for i in range(n)}
    b = {j: m.addVar(f"b_{j}", lb=-box, ub=box) for j in range(w)}
    v = {j: m.addVar(f"v_{j}", lb=-box, ub=box) for j in range(w)}
    c = m.addVar("c", lb=-box, ub=box)
    h, dl = {}, {}
    for d in range(D):
        for j in range(w):
            h[d, j] = m.addVar(f"h_{d}_{j}", lb=0.0, ub=float(M[d]))
            dl[d, j] = m.addVar(f"delta_{d}_{j}", vtype="B")
            pre = quicksum(a[j, i] * float(X[d, i]) for i in range(n)) + b[j]
            m.addCons(h[d, j] >= pre)
            m.addCons(h[d, j] <= pre + float(M[d]) * (1 - dl[d, j]))
            m.addCons(h[d, j] <= float(M[d]) * dl[d, j])
    r = {}
    for d in range(D):
        r[d] = m.addVar(f"r_{d}", lb=None, ub=None)
        m.addCons(r[d] == quicksum(v[j] * h[d, j] for j in range(w)) + c - float(Y[d]))
    if loss == "absolute":
        e = {d: m.addVar(f"e_{d}", lb=0.0) for d in range(D)}
        for d in range(D):
            m.addCons(e[d] >= r[d])
            m.addCons(e[d] >= -r[d])
        m.setObjective(quicksum(e[d] for d in range(D)) * (1.0 / D), "minimize")
    else:
        t = m.addVar("t", lb=0.0)
        m.addCons(quicksum(r[d] * r[d] for d in range(D)) * (1.0 / D) <= t)
        m.setObjective(t, "minimize")
    m.setParam("limits/gap", gap)
    m.setParam("limits/absgap", abs_gap)
    m.setParam("limits/time", float(time_limit))
    m.setParam("timing/clocktype", 1 if clock == "cpu" else 2)
    m.setParam("lp/threads", 1)
    m.setParam("parallel/maxnthreads", 1)
    t0, c0 = time.perf_counter(), time.process_time()
    m.optimize()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    st = m.getStatus()
    status = {"optimal": "optimal", "gaplimit": "optimal", "timelimit": "time_limit"}.get(st, f"scip {st}")
    params = None
    if m.getNSols() > 0:
        s = m.getBestSol()
        params = []
        for j in range(w):
            params += [m.getSolVal(s, a[j, i]) for i in range(n)] + [m.getSolVal(s, b[j])]
        params += [m.getSolVal(s, v[j]) for j in range(w)] + [m.getSolVal(s, c)]
    return _result(status, params, X, Y, widths, loss, box, m.getDualbound(), dt, m.getNTotalNodes(),
                   cpu_seconds=cpu, reported=float(m.getPrimalbound()) if params is not None else float("nan"))


def adam(X, Y, widths, loss, restarts=20, steps=3000, seed=0, box=1.0, lr=0.01):
    """Best risk of full-batch Adam from ``restarts`` random starts, projected to the box.

    All restarts train at once as one batch of independent networks (Adam is
    coordinate-wise, so this is exactly ``restarts`` separate runs). Initial parameters
    are uniform in the box; after every step they are clipped to it. Returns the least
    risk seen at any step of any restart (every iterate lies in the box), recomputed in
    numpy for the best iterate.

    Returns
    -------
    dict
        ``objective`` (best risk), ``seconds``, ``cpu_seconds``, ``params``.
    """
    import torch

    X, Y, widths = _check(X, Y, widths, loss)
    n, w = widths[0], widths[1]
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(int(seed))
    R = int(restarts)

    def uni(*shape):
        return ((torch.rand(*shape, generator=g, dtype=torch.float64) * 2 - 1) * box).requires_grad_(True)

    A, b, v, c = uni(R, w, n), uni(R, w), uni(R, w), uni(R)
    Xt = torch.tensor(X, dtype=torch.float64)
    Yt = torch.tensor(Y, dtype=torch.float64)
    opt = torch.optim.Adam([A, b, v, c], lr=lr)
    best, best_params = np.inf, None
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(int(steps)):
        H = torch.relu(torch.einsum("dn,rwn->rdw", Xt, A) + b[:, None, :])
        z = (H * v[:, None, :]).sum(-1) + c[:, None]
        res = z - Yt[None, :]
        per = res.abs().mean(1) if loss == "absolute" else (res * res).mean(1)
        k = int(torch.argmin(per))
        if per[k].item() < best:
            best = per[k].item()
            best_params = np.concatenate([np.column_stack([A[k].detach().numpy(), b[k].detach().numpy()]).ravel(),
                                          v[k].detach().numpy(), [c[k].item()]])
        opt.zero_grad()
        per.sum().backward()
        opt.step()
        with torch.no_grad():
            for p in (A, b, v, c):
                p.clamp_(-box, box)
    with torch.no_grad():
        H = torch.relu(torch.einsum("dn,rwn->rdw", Xt, A) + b[:, None, :])
        res = (H * v[:, None, :]).sum(-1) + c[:, None] - Yt[None, :]
        per = res.abs().mean(1) if loss == "absolute" else (res * res).mean(1)
        k = int(torch.argmin(per))
        if float(per[k]) < best:
            best_params = np.concatenate([np.column_stack([A[k].numpy(), b[k].numpy()]).ravel(),
                                          v[k].numpy(), [c[k].item()]])
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    return dict(objective=risk(best_params, X, Y, widths, loss), seconds=dt, cpu_seconds=cpu, params=best_params)
