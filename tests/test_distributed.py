"""The dask path: the same optimum as one machine, on a LocalCluster and at a scheduler address."""

import json

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from lptrain.arch import Architecture  # noqa: E402
from lptrain.certificate import check  # noqa: E402
from lptrain.cli import main  # noqa: E402
from lptrain.face import Face  # noqa: E402
from lptrain.grid import Grid  # noqa: E402
from lptrain.polytope import Polytope  # noqa: E402
from lptrain.solvers import get_solver  # noqa: E402
from lptrain.solvers.distributed import DaskSolver  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield c
    c.close()


@pytest.mark.parametrize("spec,bits,loss", [("1-2-1", 2, "absolute"), ("1-1-1-1", 2, "quadratic"),
                                            ("1-2-2", 1, "cross_entropy")])
def test_same_grid_point_as_one_machine(cluster, spec, bits, loss, rng, monkeypatch):
    monkeypatch.setenv("LPTRAIN_SCHEDULER", cluster.scheduler_address)
    a = Architecture.parse(spec)
    D = 40
    face = Face(Polytope(a, loss, Grid(bits), D), rng.uniform(-1, 1, (D, 1)), rng.uniform(-1, 1, (D, a.n_outputs)))
    s = DaskSolver().solve(face, 1 << 30)
    r = get_solver("structured").solve(face, 1 << 30)
    assert s.objective == pytest.approx(r.objective, rel=1e-12) and s.grid_index == r.grid_index
    assert s.info["workers"] == 2 and check(face, s, 1 << 30).valid


def test_cli_local_cluster(tmp_path):
    d = tmp_path / "d.csv"
    d.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in np.random.default_rng(0).uniform(-1, 1, (20, 2))))
    assert main(["train", str(d), "--arch", "1-2-1", "--bits", "2", "--workers", "2",
                 "--json", str(tmp_path / "r.json")]) == 0
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["solver"] == "dask" and r["certificate"]["valid"]
    assert main(["train", str(d), "--arch", "1-2-1", "--bits", "2", "--json", str(tmp_path / "s.json")]) == 0
    assert json.loads((tmp_path / "s.json").read_text())["objective"] == r["objective"]
