"""The checker verifies the answer it certifies (issue 11, items 2 and 3).

Regression tests, one per defect: a NaN residual passed; an overflowing lam was solved and
certified; a certificate never recomputed that the returned network attains the objective;
the --bnn implicit check compared an array with its own minimum; bnb assumed monotone
activations; bnb's proof replay reused the search's bounder.  References are brute force
over the grid written here (``_brute``), not the checker's or the solvers' code.
"""

import dataclasses
import itertools
import json

import numpy as np
import pytest

from lptrain import activations, api, bnn
from lptrain.arch import Architecture
from lptrain.certificate import check, check_binary, check_explicit
from lptrain.cli import main
from lptrain.data import Dataset
from lptrain.exceptions import InputError, SizeError
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.polytope import Polytope
from lptrain.replay import replay
from lptrain.solvers import bnb as bnb_mod
from lptrain.solvers import get_solver


def _face(spec="1-2-1", loss="absolute", bits=2, D=12, seed=0, act="relu", reg=None, lam=0.0):
    rng = np.random.default_rng(seed)
    a = Architecture.parse(spec, act)
    x = rng.uniform(-1, 1, (D, a.n_inputs))
    y = np.clip(0.5 * np.abs(x.sum(1, keepdims=True)) - 0.3 + rng.normal(0, 0.05, (D, 1)), -1, 1)
    return Face(Polytope(a, loss, Grid(bits), D, reg=reg, lam=lam), x, y)


def _brute(face):
    """min over the grid of the mean loss on the rounded data, by plain loops."""
    G, N = face.grid.size, face.polytope.N
    vals = [-1 + 2 * j / G for j in range(G)]

    def rnd(r):
        return max(v for v in vals if v <= r)

    pts = [([rnd(v) for v in x], [rnd(v) for v in y]) for x, y in zip(face.x, face.y)]
    arch = face.polytope.arch
    best = np.inf
    for phi in itertools.product(vals, repeat=N):
        tot = 0.0
        for x, y in pts:
            s = {f"x{i + 1}": v for i, v in enumerate(x)}
            for nd in arch.nodes:
                t = (phi[nd.bias] if nd.bias is not None else 0.0) + sum(phi[w] * s[q] for q, w in zip(nd.sources, nd.weights))
                s[nd.name] = activations.get_activation(nd.activation)(np.float64(t)) if nd.activation else t
            z = [s[o] for o in arch.outputs]
            tot += sum(abs(a - b) for a, b in zip(z, y))
        best = min(best, tot / len(pts))
    return best


# -- NaN and non-finite --------------------------------------------------------------------

def test_nan_residual_is_invalid():
    face = _face()
    sol = get_solver("highs").solve(face, 1 << 30)
    lp = face.lp()
    x, y = sol.explicit(face, lp)
    x = x.copy()
    x[0] = np.nan
    c = check_explicit(lp, x, y, sol.objective)
    assert not c.valid and "not finite" in c.reason
    from lptrain.certificate import _within

    assert not _within(float("nan"), 1.0) and not _within(float("inf"), 1.0) and _within(0.5, 1.0)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_objective_is_invalid(value):
    face = _face()
    sol = get_solver("structured").solve(face, 1 << 30)
    bad = dataclasses.replace(sol, objective=value)
    for memory in (1 << 30, 1000):
        c = check(face, bad, memory)
        assert not c.valid and "not finite" in c.reason


# -- lam that overflows ----------------------------------------------------------------------

def test_overflowing_lam_is_refused_before_solving():
    rng = np.random.default_rng(0)
    ds = Dataset(rng.uniform(-1, 1, (4, 1)), rng.uniform(-1, 1, (4, 1)), ["x", "y"])
    for solver in ("bnb", "structured", "highs"):
        with pytest.raises((InputError, SizeError), match="overflow"):
            api.train(ds, "1-1-1", loss="quadratic", bits=2, reg="l2", lam=1e308, solver=solver)
    res = api.train(ds, "1-1-1", loss="quadratic", bits=2, reg="l2", lam=1e6, solver="bnb")
    assert res.certificate.valid and np.isfinite(res.report["objective"])


def test_cli_overflowing_lam_one_line(tmp_path, capsys):
    p = tmp_path / "d.csv"
    p.write_text("x,y\n0.1,0.2\n-0.5,0.3\n")
    out = tmp_path / "o.json"
    rc = main(["train", str(p), "--arch", "1-1-1", "--reg", "l2", "--lam", "1e308", "--solver", "bnb",
               "--json", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc != 0 and len(err) == 1 and "overflow" in err[0] and not out.exists()


# -- the answer itself -------------------------------------------------------------------------

@pytest.mark.parametrize("solver", ["highs", "structured", "bnb"])
@pytest.mark.parametrize("memory", [1 << 30, 1000])
def test_params_not_attaining_the_objective_are_invalid(solver, memory):
    face = _face()
    sol = get_solver(solver).solve(face, 1 << 30)
    assert check(face, sol, memory).valid
    G = face.grid.size
    j = np.rint((sol.params + 1) * G / 2).astype(int)
    j[0] = (j[0] + 1) % G
    other = -1 + 2 * j / G
    # a different network reported with the optimum's objective and certificate
    c = check(face, dataclasses.replace(sol, params=other), memory)
    assert not c.valid and "grid point" in c.reason
    # ... and with its own grid index too: it does not attain the objective
    a = int(np.ravel_multi_index(tuple(j), (G,) * len(j)))
    c = check(face, dataclasses.replace(sol, params=other, grid_index=a), memory)
    assert not c.valid and "objective on the rounded data" in c.reason


def test_recomputed_objective_matches_brute_force():
    face = _face(bits=1, D=8)
    sol = get_solver("structured").solve(face, 1 << 30)
    c = check(face, sol, 1000)
    assert c.valid and c.method == "implicit"
    assert abs(c.recomputed_objective - _brute(face)) < 1e-12


def test_implicit_check_finds_a_better_point():
    face = _face(bits=2)
    sol = get_solver("structured").solve(face, 1 << 30)
    worse = int(np.argmax(face.rows()[face.inverse].sum(0)))
    u = face.rows()[face.inverse, worse] / face.samples
    bad = dataclasses.replace(sol, grid_index=worse, params=face.params(worse), dual_u=u, objective=float(u.sum()))
    c = check(face, bad, 1000)
    assert not c.valid and "dual violation" in c.reason


# -- --bnn -------------------------------------------------------------------------------------

def _bnn_face(seed=0, D=12):
    rng = np.random.default_rng(seed)
    a = Architecture.parse("2-2-1")
    x = rng.integers(0, 2, (D, 2)).astype(float)
    y = rng.integers(0, 2, (D, 1)).astype(float)
    return bnn.BinaryFace(a, x, y)


@pytest.mark.parametrize("memory", [1 << 30, 10])
def test_bnn_check_verifies_the_answer(memory):
    face = _bnn_face()
    sol, _ = bnn.solve(face, "structured", 1 << 30, certify=False)
    cert = check_binary(face, sol, memory)
    assert cert.valid and cert.method == ("explicit" if memory > 10 else "implicit")
    # brute force here
    best = min(sum(abs(bnn.forward(face.arch, face.x, np.array(s)[None])[0, d, 0] - face.y[d, 0])
                   for d in range(face.samples)) for s in itertools.product([-1.0, 1.0], repeat=face.arch.n_params))
    assert abs(sol.objective - best / face.samples) < 1e-12
    worst = int(np.argmax(face.rows()[face.inverse].sum(0)))
    u = face.rows()[face.inverse, worst] / face.samples
    bad = dataclasses.replace(sol, grid_index=worst, params=face.params(worst), dual_u=u, objective=float(u.sum()))
    assert not check_binary(face, bad, memory).valid
    liar = dataclasses.replace(sol, params=-sol.params)
    assert not check_binary(face, liar, memory).valid
    lower = dataclasses.replace(sol, objective=sol.objective - 0.01, dual_u=sol.dual_u - 0.01 / face.samples)
    assert not check_binary(face, lower, memory).valid


# -- activations bnb cannot bound ------------------------------------------------------------------

def _abs_bound(lo, hi):
    inside = (lo <= 0) & (hi >= 0)
    return np.where(inside, 0.0, np.minimum(np.abs(lo), np.abs(hi))), np.maximum(np.abs(lo), np.abs(hi))


@pytest.fixture
def abs_activation():
    yield "absval"
    activations.unregister("absval")


def _abs_face():
    # y = 0.5 |x| is fit exactly by 1-1-1 with |t|: w = -1, b = 0, v = 0.5, c = 0
    x = np.array([[-0.5], [0.0], [0.5], [-0.5], [0.5]])
    a = Architecture.parse("1-1-1", "absval")
    return Face(Polytope(a, "absolute", Grid(2), len(x)), x, 0.5 * np.abs(x))


def test_non_monotone_activation_with_interval_bound(abs_activation):
    activations.register(abs_activation, np.abs, bound=_abs_bound)
    face = _abs_face()
    st = get_solver("structured").solve(face, 1 << 30)
    assert st.objective == 0.0 == _brute(face)
    for compiled in (True, False):
        s = get_solver("bnb", compiled=compiled)
        sol = s.solve(face, 1 << 30)
        assert sol.objective == 0.0
        assert check(face, sol, 1000).valid and check(face, sol, 1000).method == "proof"


def test_activation_without_bound_is_refused(abs_activation):
    activations.register(abs_activation, np.abs)
    face = _abs_face()
    assert get_solver("structured").solve(face, 1 << 30).objective == 0.0
    with pytest.raises(InputError, match="cannot bound activation 'absval'"):
        get_solver("bnb").solve(face, 1 << 30)
    from lptrain.solvers.gpu import _require_builtin_activations

    with pytest.raises(InputError, match="absval"):
        _require_builtin_activations(face.polytope.arch)


def test_replacing_a_function_voids_its_declaration(abs_activation):
    activations.register(abs_activation, np.abs, monotone=True)
    assert activations.boundable(abs_activation)
    activations.ACTIVATIONS[abs_activation] = np.negative
    assert not activations.boundable(abs_activation)


def test_false_monotone_declaration_is_caught(abs_activation):
    """|t| declared monotone: bnb's bounds are wrong and it returns a worse point; the explicit
    check finds the better point, and the proof replay refutes the declaration."""
    activations.register(abs_activation, np.abs, monotone=True)
    x = np.array([[-0.5], [-0.5], [-1.0]])
    face = Face(Polytope(Architecture.parse("1-1-1", abs_activation), "absolute", Grid(2), 3), x,
                np.array([[-0.5], [-0.5], [0.0]]))
    assert get_solver("structured").solve(face, 1 << 30).objective == 0.0 == _brute(face)
    s = get_solver("bnb", compiled=False)
    sol = s.solve(face, 1 << 30)
    assert sol.objective > 0.0  # the wrong answer the declaration leads to
    assert not check(face, sol, 1 << 30).valid
    c = check(face, sol, 1000)
    assert not c.valid and "declared bound" in c.reason


# -- the replay does not trust the search's bounder -------------------------------------------------

def test_wrong_bounder_in_the_search_is_caught(monkeypatch):
    face = _face("1-2-1", "absolute", bits=3, D=20, seed=3)
    honest = get_solver("bnb", compiled=False)
    good = honest.solve(face, 1 << 30)
    assert replay(face, good)[0]
    real = bnb_mod.Bounder.bounds

    def inflated(self, lo, hi):
        b, j = real(self, lo, hi)
        single = np.all(lo == hi, axis=1)
        return np.where(single, b, b + 0.5 * face.samples), j

    monkeypatch.setattr(bnb_mod.Bounder, "bounds", inflated)
    s = get_solver("bnb", compiled=False)
    sol = s.solve(face, 1 << 30)
    ok, why, _ = replay(face, sol)
    assert not ok and "below the optimum" in why
    assert not bnb_mod.verify_proof(face, sol)[0]
    c = check(face, sol, 1000)
    assert not c.valid and c.method == "proof"


def test_replay_rejects_a_partition_that_misses_a_box():
    face = _face("1-2-1", "absolute", bits=2, D=10, seed=1)
    sol = get_solver("bnb").solve(face, 1 << 30)
    pr = sol.info["proof"]
    keep = np.arange(len(pr["kind"])) != 0
    cut = {k: v[keep] for k, v in pr.items()}
    ok, why, _ = replay(face, dataclasses.replace(sol, info={**sol.info, "proof": cut}))
    assert not ok and "cover" in why


def test_json_reports_check_seconds(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("x,y\n0.1,0.2\n-0.5,0.3\n0.7,-0.2\n")
    out = tmp_path / "o.json"
    assert main(["train", str(p), "--arch", "1-1-1", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert rep["check_seconds"] >= 0 and rep["solve_seconds"] >= 0
    assert rep["certificate"]["recomputed_objective"] == pytest.approx(rep["objective"], abs=1e-12)


@pytest.mark.parametrize("solver", ["structured", "bnb"])
def test_lam_from_zero_to_1e308_is_answered_or_refused(solver):
    rng = np.random.default_rng(7)
    ds = Dataset(rng.uniform(-1, 1, (6, 1)), rng.uniform(-1, 1, (6, 1)), ["x", "y"])
    for lam in [0.0, 1e-300, 1e-3, 1.0, 1e3, 1e100, 1e290, 1e297, 1e298, 1e300, 1e307, 1e308]:
        for reg in ("l1", "l2"):
            try:
                res = api.train(ds, "1-1-1", loss="absolute", bits=2, reg=reg, lam=lam, solver=solver)
            except (InputError, SizeError) as e:
                assert "overflow" in str(e) and lam * 4 * 6 > 1e300
                continue
            assert res.certificate.valid and np.isfinite(res.report["objective"])
            assert res.report["objective"] == pytest.approx(res.certificate.recomputed_objective, rel=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_checker_scans_match_brute_force(seed, abs_activation):
    """Each of the checker's scans (one-hidden-layer units, any DAG compiled, numpy for user
    activations) against plain loops, with shared weights and two outputs among the cases."""
    from lptrain import verify

    activations.register(abs_activation, np.abs)
    rng = np.random.default_rng(seed)
    shared = Architecture(2, [{"name": "h", "from": ["x1", "x2"], "weights": ["w", "w"], "bias": "b",
                               "activation": "tanh"},
                              {"name": "o", "from": ["h", "x1"], "weights": ["v", "w"], "bias": "c"}], ["o"])
    archs = [Architecture.parse("1-2-1", "relu"), Architecture.parse("1-2-1", abs_activation),
             Architecture.parse("1-1-2", "elu"), shared, Architecture.parse("1-1-1-1", "leaky_relu")]
    arch = archs[seed % len(archs)]
    D = int(rng.integers(1, 7))
    x = rng.uniform(-1, 1, (D, arch.n_inputs))
    y = rng.uniform(-1, 1, (D, arch.n_outputs))
    face = Face(Polytope(arch, "absolute", Grid(2 if arch.n_params <= 5 else 1), D), x, y)
    want = _brute(face)
    for small in (None, 0):  # numpy, then the compiled scans
        assert verify.scan_minimum(face, small=small) == pytest.approx(want, rel=1e-12, abs=1e-12)
    sol = get_solver("structured").solve(face, 1 << 30)
    assert check(face, sol, 1000).valid


# -- review R1: forged or malformed answers ---------------------------------------------------------

def test_bnn_forged_dual_with_cancelling_components_is_invalid():
    """A suboptimal sign vector with a dual whose huge cancelling entries (u_1 + K, u_D - K)
    shrink every relative residual: the explicit check alone called it valid."""
    face = _bnn_face()
    sol, _ = bnn.solve(face, "structured", 1 << 30, certify=False)
    rows = face.rows()[face.inverse] / face.samples
    S = rows.sum(0)
    worst = int(np.argmax(S))
    assert S[worst] > S.min() + 0.1
    u = rows[:, worst].copy()
    u[0] += 1e12
    u[-1] -= 1e12
    forged = dataclasses.replace(sol, grid_index=worst, params=face.params(worst), dual_u=u,
                                 objective=float(S[worst]))
    assert not check_binary(face, forged, 1 << 30).valid
    assert not check_binary(face, forged, 10).valid


@pytest.mark.parametrize("memory", [1 << 30, 1000])
@pytest.mark.parametrize("solver", ["highs", "structured", "bnb"])
def test_malformed_answers_are_invalid_not_errors(solver, memory):
    face = _face("1-2-1", "absolute", bits=2, D=12)
    sol = get_solver(solver).solve(face, 1 << 30)
    assert check(face, sol, memory).valid
    G = face.param_points
    R = dataclasses.replace
    bad = [R(sol, grid_index=g) for g in (G, G + sol.grid_index, 2**70, -2**70, -1, float("nan"),
                                          sol.grid_index + 0.5, float(sol.grid_index), "0", None)]
    if sol.primal is None and check(face, sol, memory).method != "proof":  # a proof reads no u
        bad.append(R(sol, dual_u=np.asarray(sol.dual_u)[:-1]))
    elif check(face, sol, memory).method == "explicit":  # the implicit check reads no LP vectors
        bad += [R(sol, primal=sol.primal[:-1]), R(sol, dual=sol.dual[:-1])]
    for s in bad:
        assert not check(face, s, memory).valid


def test_replay_refuses_symmetric_leaves_when_hidden_activations_differ():
    """Units with different activations are not interchangeable: a forged proof that marks
    every unsorted box symmetric must not certify the best *sorted* point."""
    spec = {"inputs": 1, "nodes": [
        {"name": "h1", "from": ["x1"], "weights": ["a1"], "bias": "b1", "activation": "relu"},
        {"name": "h2", "from": ["x1"], "weights": ["a2"], "bias": "b2", "activation": "tanh"},
        {"name": "o", "from": ["h1", "h2"], "weights": ["v1", "v2"], "bias": "c"}], "outputs": ["o"]}
    arch = Architecture.from_dict(spec)
    G, N = 4, arch.n_params
    vals = np.array([-1 + 2 * j / G for j in range(G)])
    idx = np.array(list(itertools.product(range(G), repeat=N)))
    rng = np.random.default_rng(0)
    for _ in range(50):
        x = rng.uniform(-1, 1, (8, 1))
        y = np.clip(np.maximum(x, 0) * rng.uniform(-1, 1) + np.tanh(x) * rng.uniform(-1, 1)
                    + 0.3 * rng.normal(size=x.shape), -1, 1)
        xr = vals[np.clip(np.searchsorted(vals, x[:, 0], side="right") - 1, 0, G - 1)]
        yr = vals[np.clip(np.searchsorted(vals, y[:, 0], side="right") - 1, 0, G - 1)]
        a1, b1, a2, b2, v1, v2, c = (vals[idx[:, k]][:, None] for k in range(N))
        z = v1 * np.maximum(a1 * xr + b1, 0) + v2 * np.tanh(a2 * xr + b2) + c
        S = ((z - yr) ** 2).mean(1)
        srt = [tuple(i[[0, 1]]) <= tuple(i[[2, 3]]) for i in idx]
        if S[srt].min() > S.min() + 1e-6:
            break
    face = Face(Polytope(arch, "quadratic", Grid(2), 8), x, y)
    best_sorted = int(np.flatnonzero(np.array(srt) & (S == S[srt].min()))[0])
    lo, hi, kind = [], [], []
    for combo in itertools.product(range(G), repeat=N - 1):  # c (last) is swept, never split
        lo.append(list(combo) + [0])
        hi.append(list(combo) + [G - 1])
        kind.append(1 if tuple(combo[:2]) > tuple(combo[2:4]) else 2)
    sol = get_solver("structured").solve(face, 1 << 30)
    assert sol.objective == pytest.approx(S.min(), abs=1e-12)
    forged = dataclasses.replace(sol, objective=float(S[best_sorted]), grid_index=best_sorted,
                                 params=vals[idx[best_sorted]], dual_u=None, primal=None, dual=None,
                                 info={"proof": {"lo": np.array(lo), "hi": np.array(hi), "kind": np.array(kind)}})
    assert not replay(face, forged)[0]
    assert not check(face, forged, 1000).valid


def test_checker_kernels_do_not_depend_on_the_chunking(abs_activation):
    """The chunked scans and the replay's kernels give the same answers for any number of
    chunks (more chunks than grid points included) and threads, against the numpy scan."""
    import numba

    from lptrain import _verify_kernels as k
    from lptrain import verify

    rng = np.random.default_rng(3)
    arch = Architecture.parse("1-1-1-1", "leaky_relu")
    x, y = rng.uniform(-1, 1, (5, 1)), rng.uniform(-1, 1, (5, 1))
    face = Face(Polytope(arch, "quadratic", Grid(2), 5, reg="l1", lam=0.1), x, y)
    data, g = verify.Data(face), verify.Graph(arch)
    G, N = data.G, arch.n_params
    want = verify._scan_numpy(g, data, "quadratic", "l1", 0.5, N, G)
    threads = numba.get_num_threads()
    try:
        for t in sorted({1, threads}):
            numba.set_num_threads(t)
            for nch in (1, 3, 64, G ** N + 5):
                got = k.scan_all(G ** N, N, G, data.gv, data.X, data.Y, data.cnt, g.start, g.src, g.par, g.bias,
                                 g.act, g.out, 1, 1, 0.5, activations.LEAKY_SLOPE, nch)
                assert got == pytest.approx(want, rel=1e-12)
    finally:
        numba.set_num_threads(threads)
    lo = rng.integers(0, G, (40, N))
    hi = np.minimum(G - 1, lo + rng.integers(0, 2, (40, N)))
    args = (data.gv, data.X, data.Y, data.cnt, g.start, g.src, g.par, g.bias, g.act, g.out, 1, 1, 0.5,
            activations.LEAKY_SLOPE, -1)
    b1 = k.leaf_bounds(lo, hi, *args, nchunks=1)
    for nch in (7, 100):
        assert np.array_equal(k.leaf_bounds(lo, hi, *args, nchunks=nch), b1)
        assert all(np.array_equal(a, b) for a, b in zip(k.canonical_paths(lo, hi, G, -1, 128, nchunks=nch),
                                                        k.canonical_paths(lo, hi, G, -1, 128, nchunks=1)))
    assert k.volumes_sum(lo, hi) == sum(int(np.prod(h - l + 1)) for l, h in zip(lo, hi))


@pytest.mark.parametrize("loss,reg,lam", [("quadratic", None, 0.0), ("quadratic", "l2", 0.3),
                                          ("hinge", "l1", 0.1), ("absolute", None, 0.0)])
@pytest.mark.parametrize("spec", ["1-1-1", "1-2-1", "1-3-1"])
def test_units_scan_kernels_match_the_numpy_scan(spec, loss, reg, lam):
    """Both kernels of the units' scan (the quadratic loss from the moments for w >= 2, the
    bias swept otherwise) against the checker's numpy scan of every grid point."""
    from lptrain import verify

    rng = np.random.default_rng(len(spec) + len(loss))
    arch = Architecture.parse(spec, "relu")
    D = 7
    x = rng.uniform(-1, 1, (D, 1))
    y = np.sign(rng.uniform(-1, 1, (D, 1))) if loss == "hinge" else rng.uniform(-1, 1, (D, 1))
    face = Face(Polytope(arch, loss, Grid(2 if arch.n_params <= 7 else 1), D, reg=reg, lam=lam), x, y)
    data = verify.Data(face)
    assert verify._unit_layout(verify.Graph(arch), arch) is not None
    want = verify.scan_minimum(face, data, small=1 << 40)  # numpy
    assert verify.scan_minimum(face, data, small=0) == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_best_c_far_vertex():
    """The parabola's vertex far off the grid (|q1/q0| beyond int64 steps): the nearest grid end wins."""
    import numpy as np
    from lptrain._verify_kernels import _best_c
    gc = np.linspace(-1.0, 1.0, 5)
    rc = np.zeros(5)
    for q1 in (-1e30, 1e30, -1e19, 1e19, -5.0, 5.0, 0.3):
        ref = min(2.0 * c * q1 + c * c for c in gc)
        assert _best_c(0.0, q1, 1.0, gc, rc, 0.0, 0.0) == ref
