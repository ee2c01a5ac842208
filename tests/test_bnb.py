"""Branch-and-bound: exact optimum, a proof that replays, pruning that really prunes."""

import dataclasses

import numpy as np
import pytest

from lptrain.arch import Architecture
from lptrain.certificate import check
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.polytope import Polytope
from lptrain.solvers import get_solver
from lptrain.solvers.bnb import Bounder, loss_lower_bound, no_sorted_point, verify_proof
from oracle import brute_force

CASES = [("1-1-1", 2, "quadratic", "relu"), ("1-2-1", 1, "absolute", "tanh"), ("2-1-1", 2, "hinge", "elu"),
         ("1-1-2", 1, "cross_entropy", "relu"), ("1-2", 2, "hinge", "relu"), ("1-1-1-1", 1, "absolute", "leaky_relu"),
         ("1-2-1", 2, "quadratic", "relu")]


@pytest.mark.parametrize("spec,bits,loss,act", CASES)
@pytest.mark.parametrize("seed", range(3))
def test_bnb_exact_with_valid_proof(spec, bits, loss, act, seed):
    rng = np.random.default_rng(seed)
    widths = tuple(int(w) for w in spec.split("-"))
    D = int(rng.integers(1, 25))
    x, y = rng.uniform(-1, 1, (D, widths[0])), rng.uniform(-1, 1, (D, widths[-1]))
    face = Face(Polytope(Architecture.parse(spec, act), loss, Grid(bits), D), x, y)
    sol = get_solver("bnb").solve(face, 1 << 30)
    ref, _ = brute_force(widths, act, loss, bits, x.tolist(), y.tolist())
    assert sol.objective == pytest.approx(ref, rel=1e-9, abs=1e-12)
    assert verify_proof(face, sol) == (True, "")
    assert check(face, sol, 1 << 30).valid
    assert 0 < sol.info["evaluated"] <= 2 * face.param_points


def _with_proof(sol, **changes):
    proof = {k: v.copy() for k, v in sol.info["proof"].items()}
    for k, fn in changes.items():
        proof[k] = fn(proof[k])
    return dataclasses.replace(sol, info={**sol.info, "proof": proof})


@pytest.mark.parametrize("compiled", [True, False])
def test_tampered_proofs_are_rejected(rng, compiled):
    x, y = rng.uniform(-1, 1, (30, 1)), rng.uniform(-1, 1, (30, 1))
    face = Face(Polytope(Architecture.parse("1-2-1"), "absolute", Grid(2), 30), x, y)
    solver = get_solver("bnb", compiled=compiled)
    sol = solver.solve(face, 1 << 30)
    assert sol.info["implementation"] == ("compiled" if compiled else "numpy")
    assert verify_proof(face, sol) == (True, "")
    kinds = sol.info["proof"]["kind"]
    # drop a leaf: coverage fails
    assert not verify_proof(face, _with_proof(sol, lo=lambda a: a[1:], hi=lambda a: a[1:],
                                              kind=lambda a: a[1:], bound=lambda a: a[1:]))[0]
    # record a leaf twice
    dup = {k: (lambda a: np.concatenate([a, a[:1]])) for k in ("lo", "hi", "kind", "bound")}
    assert "twice" in verify_proof(face, _with_proof(sol, **dup))[1]
    # claim a better objective than the truth: some recorded leaf's bound is below it, or not attained
    worse = dataclasses.replace(sol, objective=sol.objective - 0.05)
    assert not verify_proof(face, worse)[0]
    # a lie about symmetry: a pruned box that holds a sorted point, relabelled symmetric
    blocks = [[0, 1], [2, 3]]
    liars = [i for i in np.flatnonzero(kinds == 0)
             if not no_sorted_point(sol.info["proof"]["lo"][i], sol.info["proof"]["hi"][i], blocks)]
    assert liars
    def relabel(a):
        a[liars[0]] = 1
        return a
    assert "symmetric" in verify_proof(face, _with_proof(sol, kind=relabel))[1]


@pytest.mark.parametrize("spec,bits,loss,act,reg", [
    ("1-2-1", 2, "quadratic", "relu", None), ("2-1-1", 2, "hinge", "elu", None),
    ("1-1-2", 2, "cross_entropy", "tanh", None), ("1-1-3", 1, "cross_entropy", "relu", None),
    ("1-2-2", 1, "absolute", "leaky_relu", None), ("1-1-1-1", 2, "absolute", "relu", None),
    ("1-2-1", 1, "quadratic", "tanh", "l1"), ("1-1-1", 2, "absolute", "relu", "l2"),
    ("1-1-2", 1, "hinge", "relu", "l1")])
@pytest.mark.parametrize("seed", range(4))
def test_compiled_equals_numpy_and_brute_force(spec, bits, loss, act, reg, seed):
    rng = np.random.default_rng(100 + seed)
    widths = tuple(int(w) for w in spec.split("-"))
    D = int(rng.integers(1, 20))
    x, y = rng.uniform(-1, 1, (D, widths[0])), rng.uniform(-1, 1, (D, widths[-1]))
    face = Face(Polytope(Architecture.parse(spec, act), loss, Grid(bits), D, reg=reg, lam=0.03 if reg else 0.0),
                x, y)
    sols = {}
    for compiled, depth_first in ((True, True), (True, False), (False, False)):
        s = get_solver("bnb", compiled=compiled, depth_first=depth_first)
        sol = sols[compiled, depth_first] = s.solve(face, 1 << 30)
        assert sol.info["implementation"] == ("compiled" if compiled else "numpy")
        assert (sol.info["seed_evaluated"] > 0) == (depth_first and bits > 1)
        assert verify_proof(face, sol) == (True, "")
    ref = get_solver("structured").solve(face, 1 << 30).objective
    if reg is None:
        ref2, _ = brute_force(widths, act, loss, bits, x.tolist(), y.tolist())
        assert ref == pytest.approx(ref2, rel=1e-9, abs=1e-12)
    for sol in sols.values():
        assert sol.objective == pytest.approx(ref, rel=1e-9, abs=1e-12)
        assert check(face, sol, 1 << 30).valid


def test_output_bias_shared_with_a_weight_is_not_swept(rng):
    """A DAG whose output bias is also a hidden weight: sweeping it alone would be wrong."""
    spec = {"inputs": 1, "nodes": [
        {"name": "h", "from": ["x1"], "weights": ["c"], "bias": "b", "activation": "relu"},
        {"name": "o", "from": ["h"], "weights": ["v"], "bias": "c"}], "outputs": ["o"]}
    arch = Architecture.from_dict(spec)
    x, y = rng.uniform(-1, 1, (12, 1)), rng.uniform(-1, 1, (12, 1))
    face = Face(Polytope(arch, "absolute", Grid(2), 12), x, y)
    assert Bounder(face).c_index is None
    ref = get_solver("highs").solve(face, 1 << 30).objective
    for compiled in (True, False):
        s = get_solver("bnb", compiled=compiled)
        sol = s.solve(face, 1 << 30)
        assert sol.objective == pytest.approx(ref, rel=1e-9, abs=1e-12)
        assert verify_proof(face, sol) == (True, "")


def test_queue_over_memory_is_a_size_error(rng):
    from lptrain.exceptions import SizeError

    x, y = rng.uniform(-1, 1, (40, 1)), rng.uniform(-1, 1, (40, 1))
    face = Face(Polytope(Architecture.parse("1-3-1"), "absolute", Grid(2), 40), x, y)
    for compiled in (True, False):
        s = get_solver("bnb", compiled=compiled)
        with pytest.raises(SizeError, match="raise memory="):
            s.solve(face, 20_000)


def test_pruning_prunes_and_symmetry_agrees(rng):
    x = rng.uniform(-1, 1, (60, 1))
    y = np.clip(0.5 * np.abs(x) - 0.3 + rng.normal(0, 0.1, (60, 1)), -1, 1)
    face = Face(Polytope(Architecture.parse("1-3-1"), "quadratic", Grid(2), 60), x, y)
    a = get_solver("bnb").solve(face, 1 << 30)
    nosym = get_solver("bnb", symmetry=False)
    b = nosym.solve(face, 1 << 30)
    assert a.objective == pytest.approx(b.objective, rel=1e-12)
    assert a.info["evaluated_fraction"] < 0.1 and a.info["evaluated"] < b.info["evaluated"]


@pytest.mark.parametrize("loss", ["absolute", "quadratic", "hinge", "cross_entropy"])
def test_loss_bounds_are_lower_bounds(loss, rng):
    for _ in range(200):
        m = int(rng.integers(1, 4))
        zl = rng.uniform(-3, 3, m)
        zh = zl + rng.uniform(0, 2, m)
        y = rng.uniform(-1, 1, m)
        lb = loss_lower_bound(loss, zl, zh, y)
        from lptrain.losses import get_loss

        zs = rng.uniform(zl, zh, (500, m))
        assert np.all(get_loss(loss).evaluate(zs, y[None]) >= lb - 1e-12)
        assert loss_lower_bound(loss, zl, zl, y) == pytest.approx(get_loss(loss).evaluate(zl[None], y[None])[0])


def test_box_bounds_below_every_point_inside(rng):
    x, y = rng.uniform(-1, 1, (10, 2)), rng.uniform(-1, 1, (10, 1))
    face = Face(Polytope(Architecture.parse("2-2-1", "tanh"), "absolute", Grid(2), 10), x, y)
    bd = Bounder(face)
    for _ in range(30):
        lo = rng.integers(0, 4, bd.N)
        hi = np.minimum(lo + rng.integers(0, 3, bd.N), 3)
        b, _ = bd.bounds(lo[None], hi[None])
        pts = rng.integers(lo, hi + 1, (50, bd.N))
        assert np.all(bd.evaluate_points(pts) >= b[0] - 1e-9)


def test_leaky_slope_reaches_the_compiled_search(monkeypatch, rng):
    """The slope is an argument of the kernels (solvers/codes.py), not compiled in: another
    slope gives the compiled search the optimum the numpy scan finds with that slope."""
    from lptrain import activations

    monkeypatch.setattr(activations, "LEAKY_SLOPE", 0.3)
    x, y = rng.uniform(-1, 1, (12, 1)), rng.uniform(-1, 1, (12, 1))
    face = Face(Polytope(Architecture.parse("1-2-1", "leaky_relu"), "absolute", Grid(2), 12), x, y)
    sol = get_solver("bnb").solve(face, 1 << 30)
    ref = get_solver("structured", plain=True).solve(face, 1 << 30)
    assert sol.info["implementation"] == "compiled"
    assert sol.objective == pytest.approx(ref.objective, rel=1e-12) and sol.grid_index == ref.grid_index
