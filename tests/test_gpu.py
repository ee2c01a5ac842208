"""The gpu solver's code, checked against the CPU: on CUDA when present, else on torch's CPU
device (LPTRAIN_GPU_DEVICE=cpu).  Skipped without torch."""

import pytest

torch = pytest.importorskip("torch")

from lptrain.arch import Architecture  # noqa: E402
from lptrain.certificate import check  # noqa: E402
from lptrain.face import Face  # noqa: E402
from lptrain.grid import Grid  # noqa: E402
from lptrain.polytope import Polytope  # noqa: E402
from lptrain.solvers import get_solver  # noqa: E402
from lptrain.solvers.gpu import GpuSolver  # noqa: E402


@pytest.fixture(autouse=True)
def some_device(monkeypatch):
    if not torch.cuda.is_available():
        monkeypatch.setenv("LPTRAIN_GPU_DEVICE", "cpu")


CASES = [("1-2-1", 2, "quadratic", "relu", None), ("1-3-1", 2, "absolute", "tanh", None),
         ("2-2-1", 2, "hinge", "relu", None), ("1-2-2", 1, "cross_entropy", "elu", None),
         ("1-1-1-1", 2, "absolute", "leaky_relu", None), ("1-2-1", 1, "quadratic", "relu", "l1")]


@pytest.mark.parametrize("spec,bits,loss,act,reg", CASES)
def test_gpu_equals_cpu(spec, bits, loss, act, reg, rng):
    a = Architecture.parse(spec, act)
    D = 30
    x, y = rng.uniform(-1, 1, (D, a.n_inputs)), rng.uniform(-1, 1, (D, a.n_outputs))
    face = Face(Polytope(a, loss, Grid(bits), D, reg=reg, lam=0.05 if reg else 0.0), x, y)
    g = GpuSolver().solve(face, 1 << 30)
    c = get_solver("structured").solve(face, 1 << 30)
    assert g.objective == pytest.approx(c.objective, rel=1e-12, abs=1e-14)
    assert check(face, g, 1 << 30).valid


def test_gpu_benchmark_script_agrees(tmp_path):
    """benchmarks/gpu.py --quick on torch's CPU device: exit 0 means every optimum was identical."""
    import json
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(__file__))
    out = tmp_path / "g.json"
    env = dict(os.environ)
    if not torch.cuda.is_available():
        env["LPTRAIN_GPU_DEVICE"] = "cpu"
    r = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "gpu.py"), "--quick", "--out", str(out)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = json.loads(out.read_text())
    assert len(rows) == 3 and all(row["same"] and row["flop_rate"] > 0 for row in rows)
    assert "| same optimum |" in r.stdout
