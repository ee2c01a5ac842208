"""The checker is independent of the solvers and rejects tampered certificates."""

import dataclasses

import numpy as np
import pytest

from lptrain.arch import Architecture
from lptrain.certificate import check, check_explicit, check_implicit
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.polytope import Polytope
from lptrain.solvers import get_solver


@pytest.fixture
def case(rng):
    D = 9
    P = Polytope(Architecture.parse("1-1-1"), "quadratic", Grid(2), D)
    face = Face(P, rng.uniform(-1, 1, (D, 1)), rng.uniform(-1, 1, (D, 1)))
    return face


@pytest.mark.parametrize("name", ["highs", "structured"])
def test_valid_both_ways(case, name):
    sol = get_solver(name).solve(case, 1 << 30)
    assert check(case, sol).valid
    assert check_implicit(case, sol).valid or name == "highs"


@pytest.mark.parametrize("name", ["highs", "structured"])
def test_tampered_duals_primal_objective_are_rejected(case, name, rng):
    sol = get_solver(name).solve(case, 1 << 30)
    lp = case.lp()
    x, y = sol.explicit(case, lp)
    for _ in range(20):
        y2 = y.copy()
        y2[rng.integers(len(y2))] += rng.choice([-1, 1]) * rng.uniform(0.01, 1)
        c = check_explicit(lp, x, y2, sol.objective)
        assert not c.valid
    x2 = x.copy()
    x2[lp.cols["L"].start] += 0.1
    assert not check_explicit(lp, x2, y, sol.objective).valid
    assert not check_explicit(lp, x, y, sol.objective + 0.01).valid


def test_structured_certificate_with_wrong_point_is_rejected(case):
    sol = get_solver("structured").solve(case, 1 << 30)
    costs = case.rows()[case.inverse].sum(axis=0)
    worse = int(np.argmax(costs))
    bad = dataclasses.replace(sol, grid_index=worse, dual_u=case.rows()[case.inverse, worse] / case.samples,
                              objective=costs[worse] / case.samples)
    assert not check(case, bad).valid
    assert not check_implicit(case, bad).valid
    lower = dataclasses.replace(sol, objective=sol.objective - 1e-3, dual_u=sol.dual_u - 1e-3 / case.samples)
    assert not check_implicit(case, lower).valid


def test_implicit_used_when_explicit_does_not_fit(case):
    sol = get_solver("structured").solve(case, 1 << 30)
    c = check(case, sol, memory=1000)
    assert c.method == "implicit" and c.valid


def test_checks_take_one_argument_order():
    import inspect

    from lptrain.certificate import check, check_binary

    want = ["face", "solution", "memory", "tol"]
    for f in (check, check_implicit, check_binary):
        assert list(inspect.signature(f).parameters)[:4] == want, f.__name__
