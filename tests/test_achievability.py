"""Remark 3.3: achievability answers agree with independent references; certificates check."""

import json

import numpy as np
import pytest
from scipy.optimize import linprog

from lptrain import achievability as ach
from lptrain.arch import Architecture
from lptrain.cli import main
from lptrain.face import Face
from lptrain.grid import Grid
from lptrain.polytope import Polytope
from oracle import brute_force


def face_of(seed, D=6, spec="1-1-1", loss="absolute", bits=2):
    rng = np.random.default_rng(seed)
    P = Polytope(Architecture.parse(spec), loss, Grid(bits), D)
    x, y = rng.uniform(-1, 1, (D, 1)), rng.uniform(-1, 1, (D, 1))
    return Face(P, x, y), x, y, rng


@pytest.mark.parametrize("seed", range(6))
def test_average_against_brute_force(seed):
    face, x, y, rng = face_of(seed)
    opt, _ = brute_force((1, 1, 1), "relu", "absolute", 2, x.tolist(), y.tolist())
    for T in (opt - 0.05, opt - 1e-6, opt, opt + 0.1):
        r = ach.average(face, T)
        assert r.achievable == (T >= opt - 1e-12)
        assert r.checked
        if not r.achievable:
            assert r.certificate["farkas"]["valid"]


def feasible_by_linprog(face, t):
    """Second solver: scipy's linprog on the un-aggregated (per data point) system."""
    L = face.rows()[face.inverse]  # (D, K)
    K = L.shape[1]
    res = linprog(np.zeros(K), A_ub=L, b_ub=t, A_eq=np.ones((1, K)), b_eq=[1.0], bounds=(0, None),
                  method="highs-ds")
    return res.status == 0


@pytest.mark.parametrize("seed", range(10))
def test_loss_vectors_against_linprog(seed):
    face, x, y, rng = face_of(seed)
    K = face.param_points
    L = face.rows()[face.inverse]
    cases = [rng.uniform(0, 1.5, face.samples)]
    a, b = rng.integers(K, size=2)
    cases.append(0.5 * L[:, a] + 0.5 * L[:, b])  # a mixture of two networks: achievable
    cases.append(L[:, a] - 1e-3)  # just below one network everywhere: usually not
    for t in cases:
        r = ach.losses(face, t)
        assert r.checked, r
        assert r.achievable == feasible_by_linprog(face, t + 1e-9 * r.achievable)
        if not r.achievable:
            ok, margin = ach.check_weights(face, r.certificate["weights"], t)
            assert ok and margin > 0


def test_tampered_certificate_rejected():
    face, x, y, rng = face_of(3)
    t = np.full(face.samples, -1.0)
    r = ach.losses(face, t)
    assert not r.achievable and r.checked
    w = np.array(r.certificate["weights"])
    assert not ach.check_weights(face, -w, t)[0]
    assert not ach.check_weights(face, w, t + 100)[0]


def test_cli(tmp_path, capsys, rng):
    P = tmp_path / "P.npz"
    assert main(["build", "--arch", "1-1-1", "--loss", "absolute", "--bits", "2", "--samples", "5",
                 "--out", str(P)]) == 0
    d = tmp_path / "d.csv"
    d.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in rng.uniform(-1, 1, (5, 2))))
    assert main(["achievable", str(P), str(d), "--average", "5", "--json", str(tmp_path / "a.json")]) == 0
    r = json.loads((tmp_path / "a.json").read_text())
    assert r["achievable"] and r["witness"] and r["checked"]
    assert main(["achievable", str(P), str(d), "--average", "-1", "--json", str(tmp_path / "b.json")]) == 0
    r = json.loads((tmp_path / "b.json").read_text())
    assert not r["achievable"] and r["certificate"] and r["checked"]
    lf = tmp_path / "l.csv"
    lf.write_text("loss\n" + "0.1\n" * 5)
    assert main(["achievable", str(P), str(d), "--losses", str(lf), "--json", str(tmp_path / "c.json")]) == 0
    lf.write_text("loss\n0.1\n")
    capsys.readouterr()
    assert main(["achievable", str(P), str(d), "--losses", str(lf)]) != 0
    assert "5 finite numbers" in capsys.readouterr().err
