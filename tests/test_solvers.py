"""Every solver against the brute-force oracle, on many small random cases."""

import numpy as np
import pytest

from lptrain import api
from lptrain.arch import Architecture
from lptrain.certificate import check
from lptrain.data import make_dataset
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.polytope import Polytope
from lptrain.solvers import get_solver, installed_solvers
from oracle import brute_force

# (widths, bits): small enough for the plain-Python oracle
SHAPES = [((1, 1), 2), ((1, 1, 1), 1), ((1, 1, 1), 2), ((2, 1, 1), 1), ((1, 2, 1), 1),
          ((1, 1, 1, 1), 1), ((1, 1, 2), 1), ((2, 1), 2)]
LOSSES = ["absolute", "quadratic", "hinge", "cross_entropy"]
ACTS = ["relu", "leaky_relu", "elu", "tanh"]


def random_case(rng, i):
    widths, bits = SHAPES[i % len(SHAPES)]
    loss = LOSSES[(i // len(SHAPES)) % len(LOSSES)]
    if loss == "cross_entropy" and widths[-1] == 1:  # constant with one output: refused
        widths = widths[:-1] + (2,)
    act = ACTS[i % len(ACTS)]
    D = int(rng.integers(1, 31))
    n, m = widths[0], widths[-1]
    x = rng.uniform(-1, 1, (D, n))
    y = rng.uniform(-1, 1, (D, m))
    if i % 3 == 0:  # duplicates, exact grid values and the ends of the range
        x[: D // 2] = x[0]
        y[:: 2] = Grid(bits).round(y[:: 2])
        x[-1] = 1.0
        y[0] = -1.0
    return widths, bits, loss, act, x, y


@pytest.mark.parametrize("i", range(32))
def test_solvers_match_brute_force(i):
    rng = np.random.default_rng(1000 + i)
    widths, bits, loss, act, x, y = random_case(rng, i)
    arch = Architecture.layered(widths, act)
    P = Polytope(arch, loss, Grid(bits), len(x))
    face = Face(P, x, y)
    ref, ref_params = brute_force(widths, act, loss, bits, x.tolist(), y.tolist())
    objs = {}
    for name in [s for s in installed_solvers() if s != "dask"]:  # dask: tests/test_distributed.py
        sol = get_solver(name).solve(face, 1 << 30)
        objs[name] = sol.objective
        assert sol.objective == pytest.approx(ref, rel=1e-9, abs=1e-12), name
        # the returned parameters attain the optimum on the rounded data
        z = arch.forward(face.x_rounded(), sol.params[None, :])[0]
        attained = P.loss.evaluate(z, face.y_rounded()).mean()
        assert attained == pytest.approx(ref, rel=1e-9, abs=1e-12)
        cert = check(face, sol, 1 << 30)
        assert cert.valid, (name, cert)
    assert set(objs) >= {"highs", "structured"}


@pytest.mark.parametrize("reg", ["l1", "l2"])
def test_regularized_matches_brute_force(reg, rng):
    x = rng.uniform(-1, 1, (12, 1))
    y = rng.uniform(-1, 1, (12, 1))
    P = Polytope(Architecture.parse("1-1-1"), "quadratic", Grid(2), 12, reg=reg, lam=0.05)
    face = Face(P, x, y)
    ref, _ = brute_force((1, 1, 1), "relu", "quadratic", 2, x.tolist(), y.tolist(), reg, 0.05)
    for name in ("highs", "structured"):
        sol = get_solver(name).solve(face, 1 << 30)
        assert sol.objective == pytest.approx(ref, rel=1e-9)
        assert check(face, sol).valid


@pytest.mark.parametrize("seed", range(6))
def test_literal_and_compact_forms_agree(seed):
    rng = np.random.default_rng(seed)
    D = int(rng.integers(1, 12))
    m = 2 if LOSSES[seed % 4] == "cross_entropy" else 1
    x = rng.uniform(-1, 1, (D, 1))
    y = rng.uniform(-1, 1, (D, m))
    arch = Architecture.parse(f"1-1-{m}", ["relu", "tanh"][seed % 2])
    out = {}
    for form in ("compact", "literal"):
        P = Polytope(arch, LOSSES[seed % 4], Grid(1 + seed % 2), D, form)
        face = Face(P, x, y)
        for name in ("highs", "structured"):
            sol = get_solver(name).solve(face, 1 << 30)
            assert check(face, sol).valid
            out[form, name] = sol.objective
    vals = list(out.values())
    assert max(vals) - min(vals) <= 1e-9 * (1 + abs(vals[0]))


def test_one_polytope_many_data_sets_without_reevaluating(rng, monkeypatch):
    arch = Architecture.parse("1-1-1")
    P = Polytope(arch, "absolute", Grid(2), 10).build()
    calls = []
    orig = arch.forward
    monkeypatch.setattr(arch, "forward", lambda *a, **k: calls.append(1) or orig(*a, **k))
    for _ in range(4):
        x = rng.uniform(-1, 1, (10, 1))
        y = rng.uniform(-1, 1, (10, 1))
        face = Face(P, x, y)
        ref, _ = brute_force((1, 1, 1), "relu", "absolute", 2, x.tolist(), y.tolist())
        for name in ("highs", "structured"):
            sol = get_solver(name).solve(face, 1 << 30)
            assert sol.objective == pytest.approx(ref, rel=1e-9)
    assert calls == []  # the table was evaluated once, at build time


def test_auto_picks_structured_for_large_faces(rng):
    ds = make_dataset(np.column_stack([rng.uniform(-1, 1, 40), rng.uniform(-1, 1, 40)]), 1)
    res = api.train(ds, "1-2-1", loss="quadratic", bits=2)
    assert res.report["solver"] == "structured" and "structured" in res.report["solver_note"]
    small = make_dataset(np.column_stack([rng.uniform(-1, 1, 5), rng.uniform(-1, 1, 5)]), 1)
    assert api.train(small, "1-1-1", bits=1).report["solver"] == "highs"


def test_deterministic(rng):
    x = rng.uniform(-1, 1, (20, 2))
    y = rng.uniform(-1, 1, (20, 1))
    P = Polytope(Architecture.parse("2-1-1"), "absolute", Grid(2), 20)
    for name in ("highs", "structured"):
        a = get_solver(name).solve(Face(P, x, y), 1 << 30)
        b = get_solver(name).solve(Face(P, x, y), 1 << 30)
        assert a.objective == b.objective and a.grid_index == b.grid_index
        assert np.array_equal(a.dual_u, b.dual_u)


def test_options_are_passed_in_and_checked(rng):
    """get_solver(name, **options) configures one instance; unknown options are refused."""
    from lptrain.exceptions import InputError
    from lptrain.solvers.registry import SOLVERS, solver_options

    for name in SOLVERS:
        with pytest.raises(InputError, match=f"solver '{name}' has no option bogus"):
            get_solver(name, bogus=1)
    ds = make_dataset(np.column_stack([rng.uniform(-1, 1, (5, 1))] * 2), 1)
    with pytest.raises(InputError, match="solver_options= need a named solver"):
        api.train(ds, "1-1", bits=1, solver_options={"plain": True})
    assert solver_options("highs") == ("method",) and solver_options("dask") == ("scheduler", "workers")
    assert solver_options("structured") == ("plain", "force_fused") and solver_options("gpu") == ()


def test_options_live_on_instances_and_every_solver_shows_progress(monkeypatch, rng):
    """Two solvers of one class never share options; with progress and a terminal on stderr
    every solver draws a bar, without progress none does."""
    import io
    import sys

    a, b = get_solver("bnb", depth_first=False), get_solver("bnb")
    assert (a.depth_first, b.depth_first) == (False, True)
    assert get_solver("structured", plain=True).plain and not get_solver("structured").plain

    class Tty(io.StringIO):
        def isatty(self):
            return True

    arch = Architecture.parse("1-1-1")
    x, y = rng.uniform(-1, 1, (6, 1)), rng.uniform(-1, 1, (6, 1))
    face = Face(Polytope(arch, "quadratic", Grid(2), 6), x, y)
    for name in [s for s in installed_solvers() if s != "dask"]:  # dask: test_distributed.py
        for progress in (True, False):
            err = Tty()
            monkeypatch.setattr(sys, "stderr", err)
            get_solver(name).solve(face, 1 << 30, progress)
            monkeypatch.undo()
            assert ("%" in err.getvalue()) == progress, (name, progress, err.getvalue())
