"""The peers' MINLP (benchmarks/peers.py) against an independent enumeration.

For an n = 1 net with one hidden ReLU layer, fixing every unit's sign and activation
pattern (a prefix or suffix of the sorted data) makes the empirical risk an LP (absolute)
or a convex QP (quadratic) in u_j = v_j (a_j, b_j), ||u_j||_inf <= B^2, |c| <= B; the best
over all patterns is the global optimum. That enumeration, written here with scipy alone,
checks the MINLP that Gurobi and SCIP solve in the benchmark, and SCIP's optimum checks
lptrain's continuous interval when lptrain has one. Skips cleanly without the ``bench``
extra.
"""

from __future__ import annotations

import itertools
import os
import sys

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

peers = pytest.importorskip("peers")


def _data(D, seed, n=1):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (D, n))
    y = 0.8 * np.maximum(0.9 * X[:, 0] - 0.2, 0) - 0.6 * np.maximum(-0.7 * X[:, 0] + 0.1, 0) + 0.1
    return X, np.clip(y + rng.normal(0, 0.05, D), -1, 1)


def _patterns(x):
    order = np.argsort(x)
    D = len(x)
    sets = {frozenset(order[:k].tolist()) for k in range(D + 1)}
    sets |= {frozenset(order[D - k:].tolist()) for k in range(D + 1)}
    return [(s, S) for S in sorted(sets, key=sorted) for s in (1, -1)]


def _rows(x, combo, pats, w):
    """Output matrix (D, 2w+1) over (alpha_j, beta_j, c) and the pattern constraints G u <= 0."""
    D = len(x)
    out = np.zeros((D, 2 * w + 1))
    out[:, 2 * w] = 1.0
    G = []
    for j, k in enumerate(combo):
        s, S = pats[k]
        for d in range(D):
            z = np.zeros(2 * w + 1)
            z[2 * j], z[2 * j + 1] = x[d], 1.0
            if d in S:
                out[d] += z
            G.append(-s * z if d in S else s * z)
    return out, np.array(G)


def enumerate_optimum(X, Y, w, loss, box=1.0):
    """Global optimum of the n = 1, w-unit ReLU net's risk over the box, by patterns."""
    x = np.asarray(X, float).reshape(-1)
    Y = np.asarray(Y, float)
    D = len(x)
    pats = _patterns(x)
    bounds = [(-box * box, box * box)] * (2 * w) + [(-box, box)]
    best = np.inf
    for combo in itertools.combinations_with_replacement(range(len(pats)), w):
        out, G = _rows(x, combo, pats, w)
        if loss == "absolute":
            nv = 2 * w + 1 + D
            A = np.block([[out, -np.eye(D)], [-out, -np.eye(D)], [G, np.zeros((len(G), D))]])
            b = np.concatenate([Y, -Y, np.zeros(len(G))])
            cost = np.concatenate([np.zeros(2 * w + 1), np.full(D, 1.0 / D)])
            r = linprog(cost, A_ub=A, b_ub=b, bounds=bounds + [(0, None)] * D, method="highs")
            assert r.status in (0, 2), r.message
            if r.status == 0:
                best = min(best, r.fun)
        else:
            # Feasibility first (an LP), then the convex QP from a feasible point.
            r = linprog(np.zeros(2 * w + 1), A_ub=G, b_ub=np.zeros(len(G)), bounds=bounds, method="highs")
            if r.status != 0:
                continue
            q = minimize(lambda u: np.mean((out @ u - Y) ** 2), r.x,
                         jac=lambda u: 2.0 / D * out.T @ (out @ u - Y),
                         constraints=[{"type": "ineq", "fun": lambda u: -G @ u, "jac": lambda u: -G}],
                         bounds=bounds, method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
            assert np.all(G @ q.x <= 1e-7)
            best = min(best, q.fun)
    return best


GAP = 1e-3  # looser than the benchmark's 1e-4: the solvers' last digits cost most of their time


def _check_against(res, opt):
    """A certified interval [lb, obj] (relative gap GAP) around the enumerated optimum."""
    assert res["status"] == "optimal"
    tol = 1e-7 + 1e-6 * abs(opt)
    assert res["objective"] >= opt - tol          # nobody beats the global optimum
    assert res["lower_bound"] <= opt + tol        # nor certifies above it
    assert res["objective"] - opt <= 1e-6 + 2 * GAP * abs(opt)


def test_risk_matches_forward_pass(rng):
    X, Y = _data(7, 3, n=2)
    p = rng.uniform(-1, 1, 3 * 3 + 3 + 1)
    A, v, c = p[:9].reshape(3, 3), p[9:12], p[12]
    z = np.array([sum(v[j] * max(A[j, 0] * x[0] + A[j, 1] * x[1] + A[j, 2], 0) for j in range(3)) + c for x in X])
    assert peers.risk(p, X, Y, [2, 3, 1], "absolute") == pytest.approx(np.mean(np.abs(z - Y)), abs=1e-12)
    assert peers.risk(p, X, Y, [2, 3, 1], "quadratic") == pytest.approx(np.mean((z - Y) ** 2), abs=1e-12)


def test_enumeration_attains_a_realizable_optimum():
    """Noise-free data from a net whose units fit the box: the enumeration gives 0."""
    X = np.linspace(-1, 1, 6).reshape(-1, 1)
    Y = 0.5 * np.maximum(0.8 * X[:, 0] - 0.1, 0) - 0.3 * np.maximum(-0.6 * X[:, 0] + 0.2, 0) + 0.05
    assert enumerate_optimum(X, Y, 2, "absolute") == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("w,loss", [(1, "absolute"), (1, "quadratic")])
def test_scip_minlp_agrees_with_enumeration(w, loss):
    pytest.importorskip("pyscipopt")
    X, Y = _data(5, 21 + w)
    opt = enumerate_optimum(X, Y, w, loss)
    _check_against(peers.scip_solve(X, Y, [1, w, 1], loss, time_limit=60, gap=GAP), opt)


def test_scip_minlp_respects_a_smaller_box():
    pytest.importorskip("pyscipopt")
    X, Y = _data(5, 7)
    opt = enumerate_optimum(X, Y, 1, "absolute", box=0.5)
    res = peers.scip_solve(X, Y, [1, 1, 1], "absolute", box=0.5, time_limit=60, gap=GAP)
    _check_against(res, opt)
    assert np.all(np.abs(res["params"]) <= 0.5)


def test_gurobi_minlp_agrees_with_enumeration():
    gp = pytest.importorskip("gurobipy")
    X, Y = _data(5, 23)
    opt = enumerate_optimum(X, Y, 1, "absolute")
    try:
        res = peers.gurobi_solve(X, Y, [1, 1, 1], "absolute", time_limit=60, gap=GAP)
    except gp.GurobiError as exc:  # no usable licence on this machine
        pytest.skip(f"gurobi: {exc}")
    _check_against(res, opt)


def test_adam_never_below_the_optimum():
    pytest.importorskip("torch")
    X, Y = _data(5, 22)
    opt = enumerate_optimum(X, Y, 1, "quadratic")
    res = peers.adam(X, Y, [1, 1, 1], "quadratic", restarts=4, steps=300, seed=1)
    assert res["objective"] >= opt - 1e-9
    assert np.all(np.abs(res["params"]) <= 1.0)


def test_lptrain_interval_contains_scip_optimum():
    pytest.importorskip("pyscipopt")
    try:
        from lptrain.continuous import solve_continuous
    except ImportError:
        pytest.skip("lptrain.continuous.solve_continuous not on this branch")
    from lptrain import api

    X, Y = _data(5, 24)
    for loss in ("absolute", "quadratic"):
        sc = peers.scip_solve(X, Y, [1, 1, 1], loss, time_limit=60, gap=GAP)
        assert sc["status"] == "optimal"
        res = solve_continuous(api.architecture("1-1-1"), loss, X, Y.reshape(-1, 1), box=1.0,
                               gap=1e-4, abs_gap=1e-6, time_limit=60)
        tol = 1e-7 + 1e-6 * abs(sc["objective"])
        assert res.lower_bound <= sc["objective"] + tol
        assert sc["lower_bound"] <= res.objective + tol
        assert peers.risk(res.params, X, Y, [1, 1, 1], loss) == pytest.approx(res.objective, abs=1e-9)
