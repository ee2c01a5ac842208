"""The n >= 2 pattern search on data whose input points repeat (review finding R7-6).

Exact copies of a point are decided together by a split and their contributions are tied in
the node LP; the checker finds the copies itself (exactly equal rows of X).  References share
no code with the search: an enumeration of every (sign, activation pattern of the distinct
points) per unit with one scipy LP (absolute, hinge) or SLSQP (quadratic) each, closed forms
for a single repeated point, and random points of the box.
"""

import warnings
from itertools import combinations_with_replacement, product

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from lptrain.arch import Architecture
from lptrain.continuous import _patterns_nd, check_patterns, patterns
from oracle import mean_loss  # noqa: E402




def _random_risks(arch, X, Y, loss, count=20_000, seed=1):
    """Risks of random networks of the box (own forward pass)."""
    P = np.random.default_rng(seed).uniform(-1, 1, (count, arch.n_params))
    ia, ib, iv, ic = patterns._param_index(arch)
    out = P[:, ic][:, None] * np.ones((1, len(X)))
    for j in range(arch.widths[1]):
        out = out + P[:, iv[j], None] * np.maximum(P[:, ia[j]] @ X.T + P[:, ib[j], None], 0.0)
    return mean_loss(out, Y[:, 0][None, :], loss)


def _enumerate(X, y, w, loss, B=1.0):
    """min over every (sign, pattern of the distinct points) per unit of the pattern's exact
    risk: each closed pattern set holds u = 0, and together they hold every net."""
    D, n = X.shape
    Z = np.hstack([X, np.ones((D, 1))])
    _, first, inv = np.unique(X, axis=0, return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    k = len(first)
    choices = [(s, np.array(bits)[inv]) for s in (1, -1) for bits in product((True, False), repeat=k)]
    nu, nv = n + 1, w * (n + 1) + 1
    best = np.inf
    for combo in combinations_with_replacement(choices, w):
        A_ub = np.zeros((w * D, nv))
        M = np.zeros((D, nv))
        M[:, -1] = 1.0
        for j, (s, act) in enumerate(combo):
            A_ub[j * D : (j + 1) * D, j * nu : (j + 1) * nu] = np.where(act, -s, s)[:, None] * Z
            M[act, j * nu : (j + 1) * nu] = Z[act]
        bounds = [(-B * B, B * B)] * (w * nu) + [(-B, B)]
        if loss == "quadratic":
            r = minimize(lambda z: np.mean((M @ z - y) ** 2), np.zeros(nv), method="SLSQP",
                         bounds=bounds, constraints=[{"type": "ineq", "fun": lambda z: -A_ub @ z}],
                         options={"ftol": 1e-15, "maxiter": 1000})
            if np.all(A_ub @ r.x <= 1e-9):
                best = min(best, r.fun)
            continue
        c = np.r_[np.zeros(nv), np.full(D, 1.0 / D)]
        A = [np.c_[A_ub, np.zeros((w * D, D))]]
        b = [np.zeros(w * D)]
        if loss == "absolute":
            A += [np.c_[M, -np.eye(D)], np.c_[-M, -np.eye(D)]]
            b += [y, -y]
        else:
            A += [np.c_[-y[:, None] * M, -np.eye(D)]]
            b += [-np.ones(D)]
        r = linprog(c, A_ub=np.vstack(A), b_ub=np.concatenate(b),
                    bounds=bounds + [(0, None)] * D, method="highs")
        if r.status == 0:
            best = min(best, r.fun)
    return best


def _copies(X):
    lead = _patterns_nd.copy_leaders(X)
    return np.nonzero(lead != np.arange(len(X)))[0]


def _tree_limit(arch, X):
    """Copies are decided together: a path splits each (unit, distinct point) at most once."""
    w, k = arch.widths[1], len(np.unique(X, axis=0))
    return (w + 1) * (2 ** (w * k + 1) - 1)


def _check(res, arch, loss, X, Y):
    ok, msg = check_patterns.verify(res.proof, arch, loss, X, Y, box=1.0, reg=None, lam=0.0,
                                    lower_bound=res.lower_bound, params=res.params,
                                    objective=res.objective)
    assert ok, msg


def _repeated(n, k, copies, seed, loss):
    rng = np.random.default_rng(seed)
    X = np.tile(rng.uniform(-1, 1, (k, n)), (copies, 1))
    X = X[rng.permutation(len(X))]
    Y = rng.uniform(-1, 1, (len(X), 1))
    if loss == "hinge":
        Y = np.where(Y > 0, 1.0, -1.0)
    return X, Y


def test_search_and_checker_find_the_same_copies():
    rng = np.random.default_rng(0)
    for _ in range(20):
        D, n = int(rng.integers(1, 30)), int(rng.integers(2, 4))
        X = rng.integers(-1, 2, (D, n)).astype(np.float64)  # many repeats
        X[rng.random((D, n)) < 0.2] *= -1.0  # -0.0 and 0.0 are the same point
        lead = _patterns_nd.copy_leaders(X)
        ref = np.array([min(e for e in range(D) if np.array_equal(X[e], X[d])) for d in range(D)])
        assert np.array_equal(lead, ref)
        cp, ld = check_patterns._nd_copies(X)
        assert np.array_equal(cp, np.nonzero(ref != np.arange(D))[0]) and np.array_equal(ld, ref[cp])
    # nearly equal is not equal
    X = np.array([[0.3, 0.1], [np.nextafter(0.3, 1.0), 0.1], [0.3, 0.1]])
    assert list(_patterns_nd.copy_leaders(X)) == [0, 1, 0]
    assert [list(a) for a in check_patterns._nd_copies(X)] == [[2], [0]]


@pytest.mark.parametrize("loss", ["absolute", "quadratic", "hinge"])
@pytest.mark.parametrize("n", [2, 3])
def test_one_point_repeated_has_the_closed_form_optimum(n, loss):
    """Every net is constant on one point: the optimum is that of the best constant."""
    X, Y = _repeated(n, 1, 5, 3, loss)
    y = Y[:, 0]
    arch = Architecture.parse(f"{n}-2-1")
    res = patterns.solve(arch, loss, X, Y, workers=1, time_limit=60)
    if loss == "quadratic":
        ref = np.var(y)
    elif loss == "absolute":
        ref = np.mean(np.abs(y - np.median(y)))
    else:  # o in [-1, 1] is reachable; the hinge sum is convex and linear between +-1
        ref = 2.0 * min(np.sum(y > 0), np.sum(y < 0)) / len(y)
    assert res.status == "optimal" and res.nodes <= _tree_limit(arch, X)
    assert res.lower_bound <= ref + 1e-12
    assert ref - 1e-12 <= res.objective <= ref + max(1e-6, 1e-4 * ref)
    _check(res, arch, loss, X, Y)


@pytest.mark.parametrize("spec,k,copies,loss,seed", [
    ("2-2-1", 3, 2, "quadratic", 0), ("2-2-1", 3, 2, "quadratic", 1),
    ("2-2-1", 2, 3, "quadratic", 2), ("2-2-1", 3, 2, "absolute", 3),
    ("2-2-1", 3, 2, "hinge", 4), ("3-1-1", 4, 2, "quadratic", 5),
    ("3-2-1", 3, 2, "quadratic", 6), ("3-2-1", 3, 2, "absolute", 7)])
def test_repeated_points_against_enumeration(spec, k, copies, loss, seed):
    X, Y = _repeated(int(spec[0]), k, copies, seed, loss)
    arch = Architecture.parse(spec)
    ref = _enumerate(X, Y[:, 0], arch.widths[1], loss)
    res = patterns.solve(arch, loss, X, Y, workers=1, time_limit=120)
    tol = 1e-8  # the reference's own accuracy
    assert res.status == "optimal" and res.nodes <= _tree_limit(arch, X)
    assert res.lower_bound <= ref + tol
    assert ref - tol <= res.objective <= ref + max(1e-6, 1e-4 * ref) + tol
    _check(res, arch, loss, X, Y)
    assert res.lower_bound <= _random_risks(arch, X, Y, loss, count=5000).min()


@pytest.mark.parametrize("loss", ["absolute", "quadratic"])
def test_repeated_rows_among_distinct_points(loss):
    """Rounded features: 12 rows, 7 distinct points; the bound stays below random nets."""
    rng = np.random.default_rng(8)
    X = np.round(rng.uniform(-1, 1, (12, 2)) * 1.5) / 2  # a 5 x 5 grid: repeats
    Y = np.clip(0.5 * X[:, :1] * X[:, 1:] + rng.normal(0, 0.1, (12, 1)), -1, 1)
    assert len(np.unique(X, axis=0)) < len(X)
    arch = Architecture.parse("2-2-1")
    res = patterns.solve(arch, loss, X, Y, workers=1, time_limit=60)
    assert res.status == "optimal"
    _check(res, arch, loss, X, Y)
    assert res.lower_bound <= _random_risks(arch, X, Y, loss).min()


@pytest.mark.parametrize("eps", [1e-12, 1e-9, 1e-6])
def test_nearly_equal_points_stay_correct(eps):
    """Copies moved by eps are distinct points: slower, but every answer certifies."""
    rng = np.random.default_rng(0)
    X = np.tile(rng.uniform(-1, 1, (3, 2)), (2, 1))
    Y = rng.uniform(-1, 1, (6, 1))
    X[3:] += eps * rng.uniform(-1, 1, (3, 2))
    arch = Architecture.parse("2-2-1")
    for loss in ("absolute", "quadratic"):
        res = patterns.solve(arch, loss, X, Y, workers=1, time_limit=2)
        _check(res, arch, loss, X, Y)
        assert res.lower_bound <= _random_risks(arch, X, Y, loss, count=5000).min()


def test_a_split_on_an_already_decided_copy_is_refused():
    X, Y = _repeated(2, 2, 2, 9, "absolute")
    arch = Architecture.parse("2-1-1")
    res = patterns.solve(arch, "absolute", X, Y, workers=1)
    _check(res, arch, "absolute", X, Y)
    lead = _patterns_nd.copy_leaders(X)
    d = int(_copies(X)[0])
    p = dict(res.proof)
    # every root: split unit 0 at lead[d], then at its copy d below the first child
    roots = len(p["roots_signs"])
    p["code"] = np.tile(np.array([1, 1, 0, 0, 0], dtype=np.int8), roots)
    p["unit"] = np.tile(np.array([0, 0, -1, -1, -1], dtype=np.int32), roots)
    p["point"] = np.tile(np.array([lead[d], d, 0, 1, 2], dtype=np.int64), roots)
    ok, msg = check_patterns.verify(p, arch, "absolute", X, Y, box=1.0, reg=None, lam=0.0,
                                    lower_bound=res.lower_bound)
    assert not ok and "invalid split" in msg


def test_copy_rows_duals_are_checked():
    """Duals on the rows tying copies, scaled or moved to rows that do not exist: refused."""
    X, Y = _repeated(2, 3, 2, 10, "absolute")
    arch = Architecture.parse("2-2-1")
    res = patterns.solve(arch, "absolute", X, Y, workers=1)
    _check(res, arch, "absolute", X, Y)
    p = res.proof
    lp = check_patterns._nd_leaf_lp(X, Y[:, 0], "absolute", 1.0, 2, (1, 1),
                                    np.zeros((2, len(X)), np.int8), hull=p["hull"])
    first_copy_row = lp[0].shape[0] - 2 * 3
    used = p["y_index"] >= first_copy_row
    assert used.any()  # the certificates use the copy rows
    for f in (lambda v: v * 3.0 + 1.0, lambda v: -v - 1.0):
        q = dict(p)
        q["y_value"] = np.where(used, f(p["y_value"]), p["y_value"])
        ok, _ = check_patterns.verify(q, arch, "absolute", X, Y, box=1.0, reg=None, lam=0.0,
                                      lower_bound=res.lower_bound)
        assert not ok
    q = dict(p)
    q["y_index"] = np.where(used, p["y_index"] + 6, p["y_index"])
    assert not check_patterns.verify(q, arch, "absolute", X, Y, box=1.0, reg=None, lam=0.0,
                                     lower_bound=res.lower_bound)[0]
    # the same proof for data whose copies are moved apart: the checker finds no copies
    X2 = X.copy()
    X2[_copies(X)] += 1e-3
    assert not check_patterns.verify(p, arch, "absolute", X2, Y, box=1.0, reg=None, lam=0.0,
                                     lower_bound=res.lower_bound)[0]


@pytest.mark.parametrize("kind", ["collinear", "duplicates", "line plus points", "zeros"])
def test_hull_rows_on_degenerate_points(kind):
    """No numpy warning on collinear or repeated points, and the checker accepts the hull rows."""
    rng = np.random.default_rng(11)
    t = rng.uniform(-1, 1, 9)
    X = {"collinear": np.c_[t, 0.5 * t - 0.2],
         "duplicates": np.repeat(rng.uniform(-1, 1, (3, 2)), 3, axis=0),
         "line plus points": np.r_[np.c_[t, t][:6], rng.uniform(-1, 1, (3, 2))],
         "zeros": np.zeros((9, 2))}[kind]
    Y = rng.uniform(-1, 1, (9, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tri = _patterns_nd.hull_triangles(X)
        _patterns_nd.hull_lambdas(np.hstack([X, np.ones((9, 1))]), tri)
    arch = Architecture.parse("2-1-1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = patterns.solve(arch, "absolute", X, Y, workers=1, time_limit=60)
    assert res.status == "optimal"
    _check(res, arch, "absolute", X, Y)
    if kind == "line plus points":
        assert len(res.proof["hull"]) > 0
