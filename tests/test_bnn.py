"""App. C: binarized networks trained exactly, against brute force over {-1,1}^N."""

import json

import numpy as np
import pytest

from lptrain import bnn
from lptrain.arch import Architecture
from lptrain.cli import main
from lptrain.exceptions import InputError
from lptrain.network import Network
from oracle import bnn_brute_force

SHAPES = [(1, 1), (2, 1), (2, 1, 1), (1, 2, 1), (2, 2, 1), (2, 1, 2), (3, 1)]


@pytest.mark.parametrize("i", range(14))
def test_exact_against_brute_force(i):
    rng = np.random.default_rng(i)
    widths = SHAPES[i % len(SHAPES)]
    D = int(rng.integers(1, 16))
    x = rng.integers(0, 2, (D, widths[0]))
    y = rng.integers(0, 2, (D, widths[-1]))
    ref = bnn_brute_force(widths, x.tolist(), y.tolist())
    face = bnn.BinaryFace(Architecture.layered(widths), x, y, ["compact", "literal"][i % 2])
    for solver in ("structured", "highs"):
        sol, cert = bnn.solve(face, solver)
        assert sol.objective == pytest.approx(ref, abs=1e-9)
        assert cert.valid
        z = bnn.forward(face.arch, x, sol.params[None])[0]
        assert np.abs(z - y).sum(axis=1).mean() == pytest.approx(ref)


@pytest.mark.parametrize("form", ["compact", "literal"])
def test_highs_follows_the_tie_rule(form):
    """Several sign vectors tie: HiGHS's vertex may be any of them, the answer is the smallest
    index (lptrain.ties), the same as the scan's, and it still checks."""
    x = np.array([[1, 0], [0, 1], [0, 1], [0, 0]])
    y = np.array([[1], [1], [0], [0]])
    face = bnn.BinaryFace(Architecture.layered((2, 1, 1)), x, y, form)
    s = (face.rows() * face.counts[:, None]).sum(axis=0)
    first = int(np.flatnonzero(s == s.min())[0])
    for solver in ("structured", "highs"):
        sol, cert = bnn.solve(face, solver)
        assert sol.grid_index == first and cert.valid
        assert sol.objective == pytest.approx(s.min() / len(x), abs=1e-12)


def test_sizes_and_thm_c1_figure():
    s = bnn.sizes(Architecture.parse("2-2-1"), 10)
    assert s["evaluations"] == 2 ** (2 + 1 + 9)
    assert s["variables"] == 10 * 2**12 + 10 and s["thm_c1_size"] == 4 * 5 * 10
    assert s["variables"] <= s["bound_variables"]


def test_rejects_non_binary_data():
    with pytest.raises(InputError, match="0/1"):
        bnn.BinaryFace(Architecture.parse("1-1"), np.array([[0.5]]), np.array([[1]]))


def test_cli_xor(tmp_path, capsys):
    d = tmp_path / "xor.csv"
    d.write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    m = tmp_path / "m.json"
    assert main(["train", str(d), "--arch", "2-2-1", "--bnn", "--model", str(m),
                 "--json", str(tmp_path / "r.json")]) == 0
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["objective"] == 0 and r["certificate"]["valid"] and r["binarized"]
    net = Network.load(m)
    assert net.predict(np.array([[0, 0], [0, 1], [1, 0], [1, 1]]))[:, 0].tolist() == [0, 1, 1, 0]
    capsys.readouterr()
    assert main(["train", str(d), "--arch", "2-2-1", "--bnn", "--bits", "2"]) != 0
    assert "do not apply" in capsys.readouterr().err


def test_api_train_bnn_returns_the_pipeline_types():
    from lptrain import api
    from lptrain.api import TrainResult
    from lptrain.data import Dataset
    from lptrain.report import Report

    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
    y = np.array([[0], [1], [1], [0]], float)
    res = api.train_bnn(Dataset(x, y, ["a", "b", "y"]), "2-2-1")
    assert isinstance(res, TrainResult) and isinstance(res.report, Report)
    assert res.report.objective == 0 and res.certificate.valid and res.report["binarized"]
    assert res.network.predict(x)[:, 0].tolist() == [0, 1, 1, 0]
    assert api.train_bnn(Dataset(x, y, ["a", "b", "y"]), "2-2-1", certify=False).certificate is None
    for bad in ({"bits": 2}, {"epsilon": 0.1}, {"reg": "l1"}, {"scale": True}):
        with pytest.raises(InputError, match="do not apply"):
            api.train_bnn(Dataset(x, y, ["a", "b", "y"]), "2-2-1", **bad)
    with pytest.raises(InputError, match="absolute loss"):
        api.train_bnn(Dataset(x, y, ["a", "b", "y"]), "2-2-1", loss="hinge")
