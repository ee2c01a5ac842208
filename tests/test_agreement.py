"""Every solver gives the same answer: the brute-force grid optimum on random small problems,
and the same JSON and model file on every run (issue 8)."""

import json
import os

import numpy as np
import pytest

from lptrain.arch import Architecture
from lptrain.architectures import conv1d
from lptrain.certificate import check
from lptrain.cli import main
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.polytope import Polytope
from lptrain.solvers import get_solver, installed_solvers
from oracle import brute_force_dag

SKIP = {"inputs": 1, "nodes": [
    {"name": "h", "from": ["x1"], "weights": ["a"], "bias": "b", "activation": "relu"},
    {"name": "o1", "from": ["h", "x1"], "weights": ["c", "s"]}], "outputs": ["o1"]}
SHAPES = [("1-1", 2), ("1-1-1", 1), ("1-1-1", 2), ("2-1-1", 1), ("1-2-1", 1), ("1-1-2", 1),
          ("1-2", 2), ("2-1", 2), ("conv", 1), ("skip", 1), ("skip", 2)]
N_CASES = int(os.environ.get("LPTRAIN_PROPERTY_CASES", "100"))


def make_case(i):
    rng = np.random.default_rng(7919 * i)
    shape, bits = SHAPES[rng.integers(len(SHAPES))]
    act = ["relu", "leaky_relu", "elu", "tanh"][rng.integers(4)]
    if shape == "conv":
        spec = conv1d(3, 2, activation=act).dag_dict()
    elif shape == "skip":
        spec = json.loads(json.dumps(SKIP))
        spec["nodes"][0]["activation"] = act
    else:
        spec = Architecture.parse(shape, act).dag_dict()
    arch = Architecture.from_dict(spec)
    loss = ["absolute", "quadratic", "hinge", "cross_entropy"][rng.integers(4)]
    D = int(rng.integers(1, 21))
    n, m = arch.n_inputs, arch.n_outputs
    if loss == "cross_entropy" and m == 1:  # constant there, refused (losses.check_outputs)
        loss = "hinge"
    g = Grid(bits).values()
    x = rng.uniform(-1, 1, (D, n))
    y = rng.uniform(-1, 1, (D, m))
    kind = rng.integers(4)
    if kind == 1:  # duplicates
        x[:] = x[rng.integers(0, D, D)]
    elif kind == 2:  # exactly on grid values, and the ends of the range
        x = rng.choice(np.append(g, 1.0), (D, n))
        y = rng.choice(np.append(g, [1.0, -1.0]), (D, m))
    elif kind == 3:
        x[0] = 1.0
        y[-1] = -1.0
    return spec, loss, bits, x, y


def _agree(i):
    spec, loss, bits, x, y = make_case(i)
    ref = brute_force_dag(spec, loss, bits, x.tolist(), y.tolist())
    P = Polytope(Architecture.from_dict(spec), loss, Grid(bits), len(x))
    face = Face(P, x, y)
    for name in [s for s in installed_solvers() if s != "dask"]:  # dask: tests/test_distributed.py
        sol = get_solver(name).solve(face, 1 << 30)
        assert abs(sol.objective - ref) <= 1e-9 * (1 + abs(ref)), (i, name, sol.objective, ref)
        cert = check(face, sol, 1 << 30)
        assert cert.valid, (i, name, cert)


@pytest.mark.parametrize("i", range(N_CASES))
def test_every_solver_equals_brute_force(i):
    _agree(i)


@pytest.mark.slow
@pytest.mark.parametrize("i", range(N_CASES, N_CASES + 1000))
def test_every_solver_equals_brute_force_long(i):
    _agree(i)


# -- determinism ---------------------------------------------------------------------------

TIMING = {"solve_seconds", "build_seconds", "check_seconds"}


@pytest.mark.parametrize("solver", ["highs", "structured"])
def test_same_inputs_same_json(tmp_path, solver, rng):
    d = tmp_path / "d.csv"
    d.write_text("a,b,y\n" + "".join(f"{u},{v},{w}\n" for u, v, w in rng.uniform(-1, 1, (15, 3))))
    outs = []
    for k in range(2):
        assert main(["train", str(d), "--arch", "2-1-1", "--bits", "2", "--solver", solver,
                     "--json", str(tmp_path / f"{k}.json"), "--model", str(tmp_path / f"{k}.m")]) == 0
        rep = json.loads((tmp_path / f"{k}.json").read_text())
        outs.append({k2: v for k2, v in rep.items() if k2 not in TIMING and k2 != "model"})
    assert outs[0] == outs[1]
    assert (tmp_path / "0.m").read_bytes() == (tmp_path / "1.m").read_bytes()
