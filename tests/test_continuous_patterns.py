"""The pattern method for 1-w-1 ReLU nets: exactness against independent references, proofs.

References here share no code with the search: a full enumeration of (sign, activation
pattern) per unit with one scipy LP each (absolute, hinge) or SLSQP (quadratic); random
points of the box; the grid optimum; realizable data.
"""

from itertools import combinations_with_replacement, product

import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from lptrain import make_dataset, train
from lptrain.arch import Architecture
from lptrain.continuous import check_patterns, patterns
from oracle import mean_loss  # noqa: E402


def _data(D, seed, w_true=None):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, 1))
    y = 0.8 * np.maximum(0.9 * x - 0.2, 0) - 0.6 * np.maximum(-0.7 * x + 0.1, 0) + 0.1
    y = np.clip(y + rng.normal(0, 0.05, y.shape), -1, 1)
    return x, y


def _forward_many(P, x, w):
    """Outputs (C, D) of 1-w-1 nets for parameter rows P in canonical order."""
    out = P[:, 3 * w][:, None] * np.ones((1, len(x)))
    for j in range(w):
        a, b, v = P[:, 2 * j, None], P[:, 2 * j + 1, None], P[:, 2 * w + j, None]
        out = out + v * np.maximum(a * x[None, :] + b, 0.0)
    return out




def _enumerate(x, y, w, loss, B=1.0):
    """min over every ordered (sign, prefix/suffix pattern) per unit of the exact risk."""
    D = len(x)
    order = np.argsort(x)
    pats = set()
    for k in range(D + 1):
        pre = np.zeros(D, bool)
        pre[order[:k]] = True
        pats.add(tuple(pre))
        pats.add(tuple(~pre))
    choices = [(s, np.array(p)) for s in (1, -1) for p in pats]
    Z = np.stack([x, np.ones(D)], axis=1)
    best = np.inf
    for combo in product(choices, repeat=w):
        # variables: u (2w), c
        nv = 2 * w + 1
        A_ub, b_ub = [], []
        M = np.zeros((D, nv))
        M[:, 2 * w] = 1.0
        for j, (s, act) in enumerate(combo):
            for d in range(D):
                row = np.zeros(nv)
                row[2 * j : 2 * j + 2] = -s * Z[d] if act[d] else s * Z[d]
                A_ub.append(row)
                b_ub.append(0.0)
            M[act, 2 * j : 2 * j + 2] = Z[act]
        bounds = [(-B * B, B * B)] * (2 * w) + [(-B, B)]
        if loss == "quadratic":
            cons = [{"type": "ineq", "fun": (lambda z, A=np.array(A_ub): -A @ z)}]
            best_local = np.inf
            for z0 in (np.full(nv, 0.05),):
                r = minimize(lambda z: np.mean((M @ z - y) ** 2), z0, method="SLSQP",
                             bounds=bounds, constraints=cons, options={"ftol": 1e-14, "maxiter": 500})
                if r.success and np.all(np.array(A_ub) @ r.x <= 1e-9):
                    best_local = min(best_local, r.fun)
            best = min(best, best_local)
            continue
        # LP with e_d
        nt = nv + D
        c = np.r_[np.zeros(nv), np.full(D, 1.0 / D)]
        A = [np.r_[a, np.zeros(D)] for a in A_ub]
        b = list(b_ub)
        for d in range(D):
            e = np.zeros(D)
            e[d] = -1.0
            if loss == "absolute":
                A.append(np.r_[M[d], e]); b.append(y[d])
                A.append(np.r_[-M[d], e]); b.append(-y[d])
            else:
                A.append(np.r_[-y[d] * M[d], e]); b.append(-1.0)
        bnds = bounds + [(0, None)] * D
        r = linprog(c, A_ub=np.array(A), b_ub=np.array(b), bounds=bnds, method="highs")
        if r.status == 0:
            best = min(best, r.fun)
    return best


def _check(res, arch, loss, X, Y, B=1.0):
    ok, msg = check_patterns.verify(res.proof, arch, loss, X, Y, box=B, reg=None, lam=0.0,
                                    lower_bound=res.lower_bound, params=res.params,
                                    objective=res.objective)
    assert ok, msg
    assert res.lower_bound <= res.objective + 1e-12
    assert np.all(np.abs(res.params) <= B)


def test_applies():
    assert patterns.applies(Architecture.parse("1-3-1"), "absolute", None)
    assert not patterns.applies(Architecture.parse("1-3-1"), "absolute", "l2")
    assert not patterns.applies(Architecture.parse("1-3-1"), "cross_entropy", None)
    assert not patterns.applies(Architecture.parse("1-2-2-1"), "absolute", None)
    assert not patterns.applies(Architecture.parse("1-2-2"), "absolute", None)
    assert not patterns.applies(Architecture.parse("1-2-1", "tanh"), "absolute", None)
    assert patterns.applies(Architecture.parse("2-2-1"), "quadratic", None)


@pytest.mark.parametrize("loss", ["absolute", "quadratic"])
def test_realizable_data_has_optimum_zero(loss):
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (9, 1))
    Y = 0.9 * np.maximum(0.8 * X - 0.3, 0) - 0.5 * np.maximum(-0.6 * X + 0.2, 0) + 0.05
    arch = Architecture.parse("1-2-1")
    res = patterns.solve(arch, loss, X, Y)
    assert res.status == "optimal"
    assert res.objective <= 1e-6
    assert -1e-6 <= res.lower_bound <= res.objective
    _check(res, arch, loss, X, Y)


@pytest.mark.parametrize("w,D,loss,seed", [(1, 6, "absolute", 0), (1, 6, "hinge", 1),
                                           (1, 5, "quadratic", 2), (2, 5, "absolute", 3),
                                           (2, 5, "hinge", 4), (2, 4, "quadratic", 5)])
def test_against_full_enumeration(w, D, loss, seed):
    X, Y = _data(D, seed)
    if loss == "hinge":
        Y = np.where(Y > 0.05, 1.0, -1.0)
    arch = Architecture.parse(f"1-{w}-1")
    ref = _enumerate(X[:, 0], Y[:, 0], w, loss)
    res = patterns.solve(arch, loss, X, Y, gap=1e-9, abs_gap=1e-9)
    tol = 1e-6 if loss == "quadratic" else 1e-8
    assert res.lower_bound <= ref + tol
    assert res.objective <= ref + max(tol, 1e-9 + 1e-9 * ref)
    assert res.objective >= ref - tol
    _check(res, arch, loss, X, Y)


@pytest.mark.parametrize("seed", range(4))
def test_random_tiny_cases_against_enumeration(seed):
    rng = np.random.default_rng(100 + seed)
    D = int(rng.integers(2, 6))
    X = rng.uniform(-1, 1, (D, 1))
    if seed == 0:
        X[1] = X[0]  # tied inputs
    Y = rng.uniform(-1, 1, (D, 1))
    arch = Architecture.parse("1-1-1")
    for loss in ("absolute", "hinge"):
        ref = _enumerate(X[:, 0], Y[:, 0], 1, loss)
        res = patterns.solve(arch, loss, X, Y, gap=1e-9, abs_gap=1e-9)
        assert res.lower_bound <= ref + 1e-8 and abs(res.objective - ref) <= 1e-7
        _check(res, arch, loss, X, Y)


def test_box_scales():
    X, Y = _data(6, 7)
    arch = Architecture.parse("1-1-1")
    for B in (0.5, 2.0):
        res = patterns.solve(arch, "absolute", X, Y, box=B, gap=1e-9, abs_gap=1e-9)
        ref = _enumerate(X[:, 0], Y[:, 0], 1, "absolute", B=B)
        assert abs(res.objective - ref) < 1e-7 and res.lower_bound <= ref + 1e-9
        _check(res, arch, "absolute", X, Y, B)


@pytest.mark.parametrize("loss", ["absolute", "quadratic"])
def test_bound_below_random_points_and_grid_optimum(loss):
    X, Y = _data(10, 11)
    arch = Architecture.parse("1-2-1")
    res = patterns.solve(arch, loss, X, Y)
    _check(res, arch, loss, X, Y)
    P = np.random.default_rng(0).uniform(-1, 1, (10_000, arch.n_params))
    vals = mean_loss(_forward_many(P, X[:, 0], 2), Y[:, 0][None, :], loss)
    assert res.lower_bound <= vals.min()
    ds = make_dataset(np.hstack([X, Y]), 1)
    grid = train(ds, arch, loss=loss, bits=2, solver="structured")
    phi = np.asarray(grid.network.params, dtype=np.float64)
    assert np.all(np.abs(phi) <= 1.0)
    grid_risk = mean_loss(_forward_many(phi[None, :], X[:, 0], 2), Y[:, 0][None, :], loss)[0]
    assert res.lower_bound <= grid_risk
    assert res.objective <= grid_risk + 1e-12


def test_incumbent_is_used_and_checked():
    X, Y = _data(8, 13)
    arch = Architecture.parse("1-2-1")
    first = patterns.solve(arch, "absolute", X, Y)
    again = patterns.solve(arch, "absolute", X, Y, incumbent=first.params)
    assert again.objective <= first.objective + 1e-12
    _check(again, arch, "absolute", X, Y)


def test_time_limit_returns_a_valid_interval():
    X, Y = _data(30, 17)
    arch = Architecture.parse("1-3-1")
    res = patterns.solve(arch, "absolute", X, Y, time_limit=0.0)
    assert res.status == "time_limit"
    _check(res, arch, "absolute", X, Y)


@pytest.fixture(scope="module")
def solved():
    X, Y = _data(10, 21)
    arch = Architecture.parse("1-2-1")
    res = patterns.solve(arch, "absolute", X, Y)
    return arch, X, Y, res


def _verify(arch, X, Y, res, proof=None, lower=None, params=None):
    return check_patterns.verify(proof if proof is not None else res.proof, arch, "absolute", X, Y,
                                 box=1.0, reg=None, lam=0.0,
                                 lower_bound=res.lower_bound if lower is None else lower,
                                 params=res.params if params is None else params,
                                 objective=res.objective)


def _copy(proof):
    return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in proof.items()}


def test_tampered_proofs_are_rejected(solved):
    arch, X, Y, res = solved
    assert _verify(arch, X, Y, res)[0]
    # a raised lower bound
    assert not _verify(arch, X, Y, res, lower=res.lower_bound + 1e-4)[0]
    # a leaf dropped from the tree
    p = _copy(res.proof)
    leaf = int(np.nonzero(p["code"] == 0)[0][-1])
    p["code"] = np.delete(p["code"], leaf)
    p["unit"] = np.delete(p["unit"], leaf)
    p["m"] = np.delete(p["m"], leaf)
    assert not _verify(arch, X, Y, res, proof=p)[0]
    # a root's orientation flipped (a sign/orientation vector left uncovered)
    p = _copy(res.proof)
    p["roots_orient"][0] = -p["roots_orient"][0]
    assert not _verify(arch, X, Y, res, proof=p)[0]
    # a split turned into a leaf-less empty child
    p = _copy(res.proof)
    split = int(np.nonzero(p["code"] == 1)[0][0])
    p["code"][split] = 2
    assert not _verify(arch, X, Y, res, proof=p)[0]
    # dual values scaled: the bound no longer holds
    p = _copy(res.proof)
    p["y_value"] = p["y_value"] * 0.5
    assert not _verify(arch, X, Y, res, proof=p)[0]
    # a permutation that does not sort the data
    p = _copy(res.proof)
    p["perm"] = p["perm"][::-1].copy()
    assert not _verify(arch, X, Y, res, proof=p)[0]
    # data changed under the proof
    Y2 = Y.copy()
    Y2[0] += 0.3
    ok, _ = check_patterns.verify(res.proof, arch, "absolute", X, Y2, box=1.0, reg=None, lam=0.0,
                                  lower_bound=res.lower_bound)
    assert not ok
    # a network outside the box, or with a risk other than the claimed one
    bad = res.params.copy()
    bad[0] = 1.5
    assert not _verify(arch, X, Y, res, params=bad)[0]
    other = res.params.copy()
    other[-1] += 0.1
    assert not _verify(arch, X, Y, res, params=other)[0]


def test_bad_input():
    from lptrain.exceptions import InputError, SizeError

    arch = Architecture.parse("1-2-1")
    with pytest.raises(InputError):
        patterns.solve(arch, "absolute", np.zeros((3, 1)), np.zeros((2, 1)))
    with pytest.raises(InputError):
        patterns.solve(arch, "absolute", np.zeros((3, 1)), np.zeros((3, 1)), reg="l2", lam=0.1)
    with pytest.raises(SizeError):
        patterns.solve(Architecture.parse("1-2-1"), "absolute", np.zeros((60_000, 1)),
                       np.zeros((60_000, 1)))
    with pytest.raises(SizeError):
        patterns.solve(Architecture.parse("2-2-1"), "absolute", np.zeros((3000, 2)),
                       np.zeros((3000, 1)))


def test_a_search_bug_cannot_certify_itself(monkeypatch):
    """Ranges of u.z shrunk in the search (an invalid relaxation): the checker, which derives
    its own ranges, refuses the proof."""
    from lptrain.continuous import _patterns_lp

    orig = _patterns_lp.clip_square
    monkeypatch.setattr(_patterns_lp, "clip_square", lambda B2, n: orig(B2, n) * 0.6)
    X, Y = _data(10, 21)
    arch = Architecture.parse("1-2-1")
    res = patterns.solve(arch, "absolute", X, Y)
    ok, _ = check_patterns.verify(res.proof, arch, "absolute", X, Y, box=1.0, reg=None, lam=0.0,
                                  lower_bound=res.lower_bound)
    assert not ok


# -- n >= 2 inputs (pair branching) -----------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_nd_range_bounds_are_valid(seed):
    """Range bounds from several decided rows (search, and the checker's rigorous evaluation
    of the same multipliers) never exceed the exact minimum of u.z over the region (scipy LP),
    and are at least as good as the best single row."""
    from lptrain.continuous import _patterns_nd

    rng = np.random.default_rng(seed)
    D, k = 30, 3 + 3 * seed
    X = rng.uniform(-1, 1, (D, 2))
    Z = np.hstack([X, np.ones((D, 1))])
    u = rng.uniform(-1, 1, 3)
    dec = rng.choice(D, k, replace=False)
    W = np.where(Z[dec] @ u >= 0, 1.0, -1.0)[:, None] * Z[dec]
    und = np.setdiff1d(np.arange(D), dec)
    B2 = 0.7 ** 2
    b, idx, val = _patterns_nd.cone_bound(Z[und], W, B2)
    single = _patterns_nd.single_row_ranges(Z[und], W, B2)
    Wm = np.where(idx[:, :, None] >= 0, W[np.maximum(idx, 0)], 0.0)
    rig = check_patterns._nd_mult_bound(Z[und], Wm, val, B2)
    assert np.all(val >= 0) and np.all(rig <= b + 1e-12)
    for q, z in enumerate(Z[und]):
        r = linprog(z, A_ub=-W, b_ub=np.zeros(k), bounds=[(-B2, B2)] * 3, method="highs")
        assert b[q] <= r.fun + 1e-9 and rig[q] <= r.fun + 1e-12
    # z inside the cone of the rows: the bound is 0 (the sign of u.z is implied)
    z_in = W[:3].T @ np.array([0.3, 0.2, 0.5])
    assert abs(_patterns_nd.cone_bound(z_in[None, :], W, B2)[0][0]) <= 1e-12
    assert np.mean(np.maximum(b, single)) >= np.mean(single)



def _data2(D, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (D, 2))
    y = np.clip(0.5 * x[:, :1] * x[:, 1:2] + rng.normal(0, 0.05, (D, 1)), -1, 1)
    return x, y


def _cells(Z, B=1.0):
    """Full-dimensional cells of the arrangement {u.z_d = 0} as boolean sign patterns,
    found by brute force over all 2^D patterns with a margin LP each."""
    D, nu = Z.shape
    out = []
    for bits in product((True, False), repeat=D):
        sg = np.where(bits, 1.0, -1.0)
        # max t: sg_d u.z_d >= t, |u| <= 1, t <= 1
        A = np.hstack([-sg[:, None] * Z, np.ones((D, 1))])
        r = linprog(np.r_[np.zeros(nu), -1.0], A_ub=A, b_ub=np.zeros(D),
                    bounds=[(-1, 1)] * nu + [(None, 1)], method="highs")
        if r.status == 0 and -r.fun > 1e-9:
            out.append(np.array(bits))
    return out


def _enumerate_nd(X, y, w, loss, B=1.0):
    """min over every (sign, cell) per unit of the pattern-fixed LP (absolute, hinge) or QP
    (quadratic, SLSQP): exact, as each cell's closed cone holds every net of that pattern."""
    D, n = X.shape
    Z = np.hstack([X, np.ones((D, 1))])
    nu = n + 1
    choices = [(s, c) for s in (1, -1) for c in _cells(Z)]
    best = np.inf
    for combo in combinations_with_replacement(choices, w):  # units are interchangeable
        nv = w * nu + 1
        A_ub = []
        M = np.zeros((D, nv))
        M[:, -1] = 1.0
        for j, (s, act) in enumerate(combo):
            for d in range(D):
                row = np.zeros(nv)
                row[j * nu : (j + 1) * nu] = -s * Z[d] if act[d] else s * Z[d]
                A_ub.append(row)
            M[act, j * nu : (j + 1) * nu] = Z[act]
        A_ub = np.array(A_ub)
        bounds = [(-B * B, B * B)] * (w * nu) + [(-B, B)]
        if loss == "quadratic":
            cons = [{"type": "ineq", "fun": lambda z, A=A_ub: -A @ z}]
            r = minimize(lambda z: np.mean((M @ z - y) ** 2), np.zeros(nv), method="SLSQP",
                         bounds=bounds, constraints=cons,
                         options={"ftol": 1e-15, "maxiter": 500})
            if np.all(A_ub @ r.x <= 1e-9):
                best = min(best, r.fun)
            continue
        c = np.r_[np.zeros(nv), np.full(D, 1.0 / D)]
        A = [np.r_[a, np.zeros(D)] for a in A_ub]
        b = [0.0] * len(A_ub)
        for d in range(D):
            e = np.zeros(D)
            e[d] = -1.0
            if loss == "absolute":
                A.append(np.r_[M[d], e]); b.append(y[d])
                A.append(np.r_[-M[d], e]); b.append(-y[d])
            else:
                A.append(np.r_[-y[d] * M[d], e]); b.append(-1.0)
        r = linprog(c, A_ub=np.array(A), b_ub=np.array(b), bounds=bounds + [(0, None)] * D,
                    method="highs")
        if r.status == 0:
            best = min(best, r.fun)
    return best


@pytest.mark.parametrize("spec,loss", [("2-1-1", "absolute"), ("2-2-1", "absolute"),
                                       ("2-2-1", "quadratic")])
def test_nd_realizable_data_has_optimum_zero(spec, loss):
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (9, 2))
    Y = 0.9 * np.maximum(X @ [0.8, -0.5] - 0.1, 0) + 0.05
    if spec == "2-2-1":
        Y = Y - 0.6 * np.maximum(X @ [-0.4, 0.7] + 0.2, 0)
    Y = Y[:, None]
    arch = Architecture.parse(spec)
    res = patterns.solve(arch, loss, X, Y)
    assert res.status == "optimal"
    assert res.objective <= 1e-6
    assert -1e-6 <= res.lower_bound <= res.objective
    _check(res, arch, loss, X, Y)


@pytest.mark.parametrize("spec,D,loss,seed", [("2-1-1", 6, "absolute", 0),
                                              ("2-1-1", 5, "hinge", 1),
                                              ("2-1-1", 5, "quadratic", 2),
                                              ("2-2-1", 5, "absolute", 3),
                                              ("2-2-1", 4, "quadratic", 4)])
def test_nd_against_cell_enumeration(spec, D, loss, seed):
    X, Y = _data2(D, seed)
    if loss == "hinge":
        Y = np.where(Y > 0.0, 1.0, -1.0)
    arch = Architecture.parse(spec)
    ref = _enumerate_nd(X, Y[:, 0], arch.widths[1], loss)
    res = patterns.solve(arch, loss, X, Y, gap=1e-9, abs_gap=1e-9)
    tol = 1e-6 if loss == "quadratic" else 1e-8
    assert res.lower_bound <= ref + tol
    assert abs(res.objective - ref) <= tol + 1e-9 * abs(ref)
    _check(res, arch, loss, X, Y)


@pytest.mark.parametrize("loss", ["absolute", "quadratic"])
def test_nd_bound_below_random_points(loss):
    X, Y = _data2(10, 11)
    arch = Architecture.parse("2-2-1")
    res = patterns.solve(arch, loss, X, Y)
    _check(res, arch, loss, X, Y)
    P = np.random.default_rng(1).uniform(-1, 1, (10_000, arch.n_params))
    idx = patterns._param_index(arch)
    out = P[:, idx[3]][:, None] * np.ones((1, len(X)))
    for j in range(2):
        a = P[:, idx[0][j]]  # (C, 2)
        out = out + P[:, idx[2][j], None] * np.maximum(a @ X.T + P[:, idx[1][j], None], 0.0)
    vals = mean_loss(out, Y[:, 0][None, :], loss)
    assert res.lower_bound <= vals.min()
    assert res.objective <= vals.min() + 1e-12


def test_nd_tampered_proofs_are_rejected():
    X, Y = _data2(8, 23)
    arch = Architecture.parse("2-2-1")
    res = patterns.solve(arch, "absolute", X, Y, workers=1)

    def ver(proof=None, lower=None, Yv=Y):
        return check_patterns.verify(res.proof if proof is None else proof, arch, "absolute",
                                     X, Yv, box=1.0, reg=None, lam=0.0,
                                     lower_bound=res.lower_bound if lower is None else lower,
                                     params=res.params, objective=res.objective)[0]

    assert ver()
    assert not ver(lower=res.lower_bound + 1e-4)
    p = _copy(res.proof)
    leaf = int(np.nonzero(p["code"] == 0)[0][-1])
    for k in ("code", "unit", "point"):
        p[k] = np.delete(p[k], leaf)
    assert not ver(proof=p)
    p = _copy(res.proof)
    p["roots_signs"] = p["roots_signs"][1:]
    assert not ver(proof=p)
    p = _copy(res.proof)
    split = int(np.nonzero(p["code"] == 1)[0][0])
    p["point"][split] = (p["point"][split] + 1) % len(X)  # another split: leaves do not match
    assert not ver(proof=p)
    p = _copy(res.proof)
    p["y_value"] = p["y_value"] * 0.5
    assert not ver(proof=p)
    # range multipliers: negative, on an undecided row, for a decided pair, blocks shifted
    assert len(res.proof["range_pair"]) > 0
    p = _copy(res.proof)
    p["range_mu"][0, 0] = -abs(p["range_mu"][0, 0]) - 1.0
    assert not ver(proof=p)
    p = _copy(res.proof)
    p["range_mu"][0, 0] = np.nan
    assert not ver(proof=p)
    p = _copy(res.proof)
    p["range_point"][0, 0] = p["range_pair"][0] % len(X)  # the pair's own (undecided) point
    assert not ver(proof=p)
    p = _copy(res.proof)
    p["range_point"][0, 0] = len(X)
    assert not ver(proof=p)
    p = _copy(res.proof)
    p["range_start"] = p["range_start"][:-1]
    assert not ver(proof=p)
    p = _copy(res.proof)
    p["range_side"][0] = 2
    assert not ver(proof=p)
    p = _copy(res.proof)
    p["hull"] = p["hull"].copy()
    p["hull"][0, 1] = len(X)  # a point that does not exist
    assert not ver(proof=p)
    p = _copy(res.proof)
    p["hull"] = p["hull"][1:]  # rows shifted: the duals no longer fit
    assert not ver(proof=p)
    Y2 = Y.copy()
    Y2[0] += 0.3
    assert not ver(Yv=Y2)
    # a 1-input proof is not accepted for 2 inputs
    assert not check_patterns.verify(res.proof, Architecture.parse("1-2-1"), "absolute",
                                     X[:, :1], Y, box=1.0, reg=None, lam=0.0,
                                     lower_bound=res.lower_bound)[0]


def test_nd_search_bug_cannot_certify_itself(monkeypatch):
    """Ranges of u.z shrunk in the search: the checker, with its own ranges, refuses."""
    from lptrain.continuous import _patterns_nd

    orig = _patterns_nd.single_row_ranges
    monkeypatch.setattr(_patterns_nd, "single_row_ranges", lambda Z, W, B2: orig(Z, W, B2) * 0.5)
    cone = _patterns_nd.cone_bound

    def shrunk(Zq, Wr, B2):  # the multipliers kept, the bounds they give halved
        b, idx, val = cone(Zq, Wr, B2)
        return b * 0.5, idx, val

    monkeypatch.setattr(_patterns_nd, "cone_bound", shrunk)
    X, Y = _data2(10, 21)
    arch = Architecture.parse("2-2-1")
    res = patterns.solve(arch, "absolute", X, Y)
    ok, _ = check_patterns.verify(res.proof, arch, "absolute", X, Y, box=1.0, reg=None, lam=0.0,
                                  lower_bound=res.lower_bound)
    assert not ok
