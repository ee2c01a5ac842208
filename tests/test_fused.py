"""The fused kernel: exact, the same optimum as the plain scan and brute force."""

import itertools

import numpy as np
import pytest

from lptrain.arch import Architecture
from lptrain.certificate import check
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.polytope import Polytope
from lptrain.solvers import fused, get_solver
from lptrain.solvers.structured import StructuredSolver
from oracle import brute_force

pytestmark = pytest.mark.skipif(not fused.available(), reason="numba not installed")


@pytest.mark.parametrize("K,w", [(1, 1), (3, 1), (4, 2), (5, 3), (7, 2), (2, 4)])
def test_unranking_matches_itertools(K, w):
    fill, _, _ = fused.kernels()
    ref = list(itertools.combinations_with_replacement(range(K), w))
    assert fused.n_combos(K, w) == len(ref)
    for start, count in [(0, len(ref)), (1, len(ref) - 1), (len(ref) // 2, len(ref) - len(ref) // 2)]:
        out = np.empty((count, w), np.int64)
        fill(start, count, K, w, out)
        assert [tuple(r) for r in out] == ref[start:start + count]


def Plain():
    return StructuredSolver(plain=True)


def Fused():
    return StructuredSolver(force_fused=True)


CASES = [("1-2-1", 2, "quadratic", "relu"), ("1-2-1", 2, "absolute", "tanh"), ("2-2-1", 2, "hinge", "elu"),
         ("1-3-1", 2, "absolute", "leaky_relu"), ("1-2-2", 1, "cross_entropy", "relu"),
         ("1-2-2", 1, "quadratic", "tanh"), ("2-1-2", 2, "hinge", "relu"), ("1-1-2", 2, "cross_entropy", "relu"),
         ("2-3-1", 1, "quadratic", "relu")]


@pytest.mark.parametrize("spec,bits,loss,act", CASES)
@pytest.mark.parametrize("reg", [None, "l1", "l2"])
def test_fused_equals_plain_scan(spec, bits, loss, act, reg, rng):
    arch = Architecture.parse(spec, act)
    D = int(rng.integers(1, 40))
    x = rng.uniform(-1, 1, (D, arch.n_inputs))
    y = rng.uniform(-1, 1, (D, arch.n_outputs))
    P = Polytope(arch, loss, Grid(bits), D, reg=reg, lam=0.07 if reg else 0.0)
    face = Face(P, x, y)
    a = Fused().solve(face, 1 << 30)
    b = Plain().solve(face, 1 << 30)
    assert a.info["kernel"] == "fused" and b.info["kernel"] == "blocks"
    assert a.objective == pytest.approx(b.objective, rel=1e-9, abs=1e-12)
    # the fused argmin is a real minimizer: its loss, evaluated independently, is the optimum
    z = arch.forward(face.x_rounded(), a.params[None])[0]
    val = P.loss.evaluate(z, face.y_rounded()).mean()
    if reg:
        val += P.lam * (np.abs(a.params).sum() if reg == "l1" else (a.params ** 2).sum())
    assert val == pytest.approx(b.objective, rel=1e-9, abs=1e-12)
    assert check(face, a, 1 << 30).valid


@pytest.mark.parametrize("seed", range(5))
def test_fused_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-1, 1, (9, 1)), rng.uniform(-1, 1, (9, 1))
    P = Polytope(Architecture.parse("1-2-1"), "absolute", Grid(1), 9)
    sol = Fused().solve(Face(P, x, y), 1 << 30)
    ref, _ = brute_force((1, 2, 1), "relu", "absolute", 1, x.tolist(), y.tolist())
    assert sol.objective == pytest.approx(ref, rel=1e-9)


def test_fused_is_deterministic(rng):
    x, y = rng.uniform(-1, 1, (30, 2)), rng.uniform(-1, 1, (30, 1))
    P = Polytope(Architecture.parse("2-2-1"), "quadratic", Grid(2), 30)
    a = Fused().solve(Face(P, x, y), 1 << 30)
    b = Fused().solve(Face(P, x, y), 1 << 30)
    assert a.grid_index == b.grid_index and a.objective == b.objective
